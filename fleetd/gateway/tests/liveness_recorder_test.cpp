// The liveness recorder's write decisions on a manual clock: no PostgreSQL (its pool has no workers), no sleeping.
#include "fleetd/gateway/liveness_recorder.hpp"

#include <catch2/catch.hpp>

#include "common/testing/manual_clock.hpp"
#include "fleetd/db/db_pool.hpp"

namespace fleet {

using namespace std::chrono_literals;

TEST_CASE("liveness recorder: heartbeat times are batched by age, written at once after a silence",
          "[fleetd][liveness]") {
  testing::ManualClock clock;
  DbPoolOptions no_workers;  // nothing here touches a database
  no_workers.connections = 0;
  DbPool pool(no_workers, clock);
  LivenessRecorder recorder(pool, clock, {18000ms, 30000ms, 250ms});

  // Never heard by this replica: the first heartbeat is written at once (it may end an `unreachable`).
  CHECK(recorder.needs_write_now("c1"));
  CHECK(recorder.seen("c1", "h1"));
  recorder.written("c1");
  CHECK_FALSE(recorder.needs_write_now("c1"));

  // Heartbeats every 10 s wait for a batch (the flusher is not running here); none is written at once...
  for (int i = 0; i < 2; ++i) {
    clock.advance(10s);
    CHECK_FALSE(recorder.seen("c1", "h1"));
  }
  // ...until the written time is 30 s old: then the heartbeat is written at once, whatever the batches do.
  clock.advance(10s);
  CHECK(recorder.seen("c1", "h1"));
  // A warm start's time that is recent joins the batches; one older than 30 s is written at once.
  recorder.prime("c2", clock.wall_now() - 5s);
  CHECK_FALSE(recorder.needs_write_now("c2"));
  recorder.prime("c3", clock.wall_now() - 31s);
  CHECK(recorder.needs_write_now("c3"));
  // After 30 s of silence the next heartbeat is written at once again.
  recorder.written("c1");
  clock.advance(30s);
  CHECK(recorder.needs_write_now("c1"));
  CHECK(recorder.seen("c1", "h1"));
}

TEST_CASE("liveness recorder: agents connected within the limit, and the oldest of their heartbeats",
          "[fleetd][liveness][metrics]") {
  testing::ManualClock clock;
  DbPoolOptions no_workers;
  no_workers.connections = 0;
  DbPool pool(no_workers, clock);
  LivenessRecorder recorder(pool, clock, {18000ms, 30000ms, 250ms});

  CHECK(recorder.connected(60s).count == 0);
  recorder.prime("warm-start", clock.wall_now());  // read from the database, not heard: not connected here
  recorder.seen("a", "h");
  clock.advance(20s);
  recorder.seen("b", "h");
  clock.advance(10s);
  recorder.written("c");
  auto connected = recorder.connected(60s);
  CHECK(connected.count == 3);
  CHECK(connected.oldest_seconds == Approx(30.0));
  // "a" falls silent past the limit: it no longer counts, and the oldest is now "b", 45 s ago.
  clock.advance(35s);
  connected = recorder.connected(60s);
  CHECK(connected.count == 2);
  CHECK(connected.oldest_seconds == Approx(45.0));
}

}  // namespace fleet
