// The liveness decision on a manual clock: no PostgreSQL, no sleeping.
#include "fleetd/loops/liveness_decision.hpp"

#include <catch2/catch.hpp>

#include "common/testing/manual_clock.hpp"

namespace fleet {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> names(const LivenessDecision& d) {
  std::vector<std::string> out;
  for (const auto& u : d.mark) out.push_back(u.name);
  return out;
}

}  // namespace

TEST_CASE("liveness: ready clusters silent for unreachable_after are marked, after the start-up grace",
          "[fleetd][liveness]") {
  testing::ManualClock clock;
  const LivenessPolicy policy{30s, clock.wall_now()};
  auto heard = [&](std::string name, std::chrono::seconds ago) { return HeardCluster{name, clock.wall_now() - ago}; };

  // Right after a start every agent looks silent (fleetd was away): nothing is marked for one whole limit.
  clock.advance(29s);
  CHECK(in_startup_grace(policy, clock.wall_now()));
  CHECK(decide_liveness(policy, clock.wall_now(), {heard("a", 600s)}).mark.empty());

  clock.advance(1s);
  CHECK_FALSE(in_startup_grace(policy, clock.wall_now()));
  const auto d = decide_liveness(policy, clock.wall_now(),
                                 {heard("old", 31s), heard("edge", 30s), heard("fresh", 5s), heard("older", 45s)});
  CHECK(names(d) == std::vector<std::string>{"old", "older"});  // "edge" is exactly at the limit: not yet
  CHECK(d.mark[0].silent_for == 31s);
  CHECK(d.mark[1].silent_for == 45s);
  CHECK(unreachable_cutoff(policy, clock.wall_now()) == clock.wall_now() - 30s);

  // Time moves on: the cluster at the edge goes too.
  const auto edge = heard("edge", 30s);
  clock.advance(1ms);
  CHECK(names(decide_liveness(policy, clock.wall_now(), {edge})) == std::vector<std::string>{"edge"});
}

}  // namespace fleet
