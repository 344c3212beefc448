// The command notifier's waiters, in process: no PostgreSQL (no LISTEN thread), no timer thread.
#include "fleetd/gateway/command_notifier.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "common/testing/manual_clock.hpp"

namespace fleet {

using namespace std::chrono_literals;

TEST_CASE(
    "command notifier: a notification wakes the cluster's waiters, and more than two polls of one cluster "
    "push out the oldest",
    "[fleetd][commands]") {
  testing::ManualClock clock;
  CommandNotifier notifier({}, clock);
  std::map<std::string, CommandNotifier::Wake> woken;
  auto park = [&](const std::string& cluster, const std::string& poll) {
    return notifier.park(cluster, notifier.generation(cluster), clock.steady_now() + 30s,
                         [&woken, poll](CommandNotifier::Wake wake) { woken[poll] = wake; });
  };
  REQUIRE(park("c1", "first"));
  REQUIRE(park("c1", "second"));
  REQUIRE(park("c2", "other cluster"));
  CHECK(woken.empty());
  CHECK(notifier.waiters() == 3);

  // A third poll of c1 (a client opening polls for one cluster): the oldest of c1 is answered, c2 keeps its own.
  REQUIRE(park("c1", "third"));
  CHECK(woken == std::map<std::string, CommandNotifier::Wake>{{"first", CommandNotifier::Wake::kSuperseded}});
  CHECK(notifier.waiters() == 3);
  CHECK(notifier.superseded() == 1);
  REQUIRE(park("c1", "fourth"));
  CHECK(woken.at("second") == CommandNotifier::Wake::kSuperseded);

  notifier.notify("c1");
  CHECK(woken.at("third") == CommandNotifier::Wake::kNotified);
  CHECK(woken.at("fourth") == CommandNotifier::Wake::kNotified);
  CHECK_FALSE(woken.contains("other cluster"));
  CHECK(notifier.waiters() == 1);

  // A poll that read the generation before a notification is woken at once.
  const CommandNotifier::Generation seen = notifier.generation("c2");
  notifier.notify("c2");
  CHECK(woken.at("other cluster") == CommandNotifier::Wake::kNotified);
  REQUIRE(notifier.park("c2", seen, clock.steady_now() + 30s,
                        [&woken](CommandNotifier::Wake wake) { woken["late"] = wake; }));
  CHECK(woken.at("late") == CommandNotifier::Wake::kNotified);
  CHECK(notifier.waiters() == 0);
  notifier.stop();
}

TEST_CASE("command notifier: stop answers every waiter and refuses new ones", "[fleetd][commands]") {
  testing::ManualClock clock;
  CommandNotifier notifier({}, clock);
  int shutdowns = 0;
  for (const char* cluster : {"a", "b"}) {
    REQUIRE(notifier.park(cluster, notifier.generation(cluster), clock.steady_now() + 30s,
                          [&shutdowns](CommandNotifier::Wake wake) {
                            if (wake == CommandNotifier::Wake::kShutdown) ++shutdowns;
                          }));
  }
  notifier.stop();
  CHECK(shutdowns == 2);
  CHECK_FALSE(notifier.park("a", notifier.generation("a"), clock.steady_now() + 30s, [](CommandNotifier::Wake) {}));
}

}  // namespace fleet
