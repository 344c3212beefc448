// The operator metrics of issue #16 (item 2) as /metrics renders them, over fake sources: the exact samples an
// alert or a dashboard reads.
#include "fleetd/app/operator_metrics.hpp"

#include <catch2/catch.hpp>

#include "fleetd/http/metrics.hpp"

namespace fleet {

using namespace std::chrono_literals;

TEST_CASE("loop stats: rounds, failures, the last round and a histogram of round times", "[fleetd][metrics]") {
  LoopStats stats;
  CHECK(stats.snapshot().runs == 0);
  CHECK_FALSE(stats.snapshot().last_run.has_value());
  const Clock::WallTime t0{std::chrono::seconds(1'800'000'000)};
  stats.ran(t0, 0.004);
  stats.failed();
  stats.ran(t0 + 5s, 0.2);
  const LoopStats::Snapshot s = stats.snapshot();
  CHECK(s.runs == 2);
  CHECK(s.errors == 1);
  REQUIRE(s.last_run.has_value());
  CHECK(*s.last_run == t0 + 5s);
  CHECK(s.seconds.count == 2);
  CHECK(s.seconds.sum == Approx(0.204));
  CHECK(s.seconds.counts[2] == 1);  // 0.004 ≤ 5 ms
  CHECK(s.seconds.counts[7] == 1);  // 0.2 ≤ 250 ms
}

TEST_CASE("operator metrics: loops, database jobs and connected agents render as alerts read them",
          "[fleetd][metrics]") {
  LoopStats liveness;
  LoopStats rollouts;
  liveness.ran(Clock::WallTime{std::chrono::seconds(1'800'000'000)}, 0.003);
  liveness.ran(Clock::WallTime{std::chrono::seconds(1'800'000'010)}, 0.02);
  rollouts.failed();  // no round has completed: no last-run sample, so `absent()` or max by (loop) sees it
  DbJobStats db;
  db.queue_wait_seconds.observe(0.0002);
  db.run_seconds.observe(0.003);
  db.run_seconds.observe(0.07);
  db.failures[static_cast<std::size_t>(DbFailure::Kind::kOverloaded)] = 3;

  Metrics metrics;
  register_operator_metrics(metrics, {[&] {
                                        return std::map<std::string, LoopStats::Snapshot>{
                                            {"liveness", liveness.snapshot()}, {"rollouts", rollouts.snapshot()}};
                                      },
                                      [&] { return db; },
                                      [] {
                                        return LivenessRecorder::ConnectedAgents{42, 9.5};
                                      }});
  const std::string out = metrics.render();

  CHECK_THAT(out, Catch::Contains("# TYPE fleetd_loop_runs_total counter\n"
                                  "fleetd_loop_runs_total{loop=\"liveness\"} 2\n"
                                  "fleetd_loop_runs_total{loop=\"rollouts\"} 0\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_loop_errors_total{loop=\"liveness\"} 0\n"
                                  "fleetd_loop_errors_total{loop=\"rollouts\"} 1\n"));
  CHECK_THAT(out, Catch::Contains("# TYPE fleetd_loop_last_run_timestamp_seconds gauge\n"
                                  "fleetd_loop_last_run_timestamp_seconds{loop=\"liveness\"} 1800000010\n"));
  CHECK_THAT(out, !Catch::Contains("fleetd_loop_last_run_timestamp_seconds{loop=\"rollouts\"}"));
  CHECK_THAT(out, Catch::Contains("# TYPE fleetd_loop_duration_seconds histogram\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_loop_duration_seconds_bucket{loop=\"liveness\",le=\"0.005\"} 1\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_loop_duration_seconds_bucket{loop=\"liveness\",le=\"0.025\"} 2\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_loop_duration_seconds_count{loop=\"liveness\"} 2\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_loop_duration_seconds_count{loop=\"rollouts\"} 0\n"));

  CHECK_THAT(out, Catch::Contains("fleetd_db_queue_wait_seconds_bucket{le=\"0.0005\"} 1\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_db_job_seconds_bucket{le=\"0.005\"} 1\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_db_job_seconds_count 2\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_db_job_failures_total{kind=\"contention\"} 0\n"
                                  "fleetd_db_job_failures_total{kind=\"internal\"} 0\n"
                                  "fleetd_db_job_failures_total{kind=\"overloaded\"} 3\n"
                                  "fleetd_db_job_failures_total{kind=\"unavailable\"} 0\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_agents_connected 42\n"));
  CHECK_THAT(out, Catch::Contains("fleetd_agent_heartbeat_age_max_seconds 9.5\n"));
}

}  // namespace fleet
