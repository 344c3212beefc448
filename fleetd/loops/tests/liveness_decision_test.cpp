// The liveness decision and the recorder's write decisions, on a manual clock: no PostgreSQL, no sleeping.
#include "fleetd/loops/liveness_decision.hpp"

#include <catch2/catch.hpp>

#include "common/testing/manual_clock.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"

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

TEST_CASE("liveness recorder: heartbeat times are batched by age, written at once after a silence",
          "[fleetd][liveness]") {
  testing::ManualClock clock;
  DbPoolOptions no_workers;  // nothing here touches a database
  no_workers.connections = 0;
  DbPool pool(no_workers, clock);
  LivenessRecorder recorder(pool, clock, {18000ms, 30000ms, 250ms});

  // Never heard by this replica: the first heartbeat is written at once (it may end an `unreachable`).
  CHECK(recorder.needs_write_now("c1"));
  CHECK(recorder.seen("c1"));
  recorder.written("c1");
  CHECK_FALSE(recorder.needs_write_now("c1"));

  // Heartbeats every 10 s wait for a batch (the flusher is not running here); none is written at once...
  for (int i = 0; i < 2; ++i) {
    clock.advance(10s);
    CHECK_FALSE(recorder.seen("c1"));
  }
  // ...until the written time is 30 s old: then the heartbeat is written at once, whatever the batches do.
  clock.advance(10s);
  CHECK(recorder.seen("c1"));
  // A warm start's time that is recent joins the batches; one older than 30 s is written at once.
  recorder.prime("c2", clock.wall_now() - 5s);
  CHECK_FALSE(recorder.needs_write_now("c2"));
  recorder.prime("c3", clock.wall_now() - 31s);
  CHECK(recorder.needs_write_now("c3"));
  // After 30 s of silence the next heartbeat is written at once again.
  recorder.written("c1");
  clock.advance(30s);
  CHECK(recorder.needs_write_now("c1"));
  CHECK(recorder.seen("c1"));
}

}  // namespace fleet
