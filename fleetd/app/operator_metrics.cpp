#include "fleetd/app/operator_metrics.hpp"

#include <chrono>
#include <cstdint>

#include "fleetd/http/metrics.hpp"

namespace fleet {
namespace {

// One value of every loop's snapshot, by loop name.
template <typename Field>
std::map<std::string, std::int64_t> per_loop(const OperatorSources& sources, Field field) {
  std::map<std::string, std::int64_t> out;
  for (const auto& [name, snapshot] : sources.loops()) {
    if (auto value = field(snapshot)) out[name] = *value;
  }
  return out;
}

void register_loops(Metrics& metrics, const OperatorSources& sources) {
  metrics.add_counter_family("fleetd_loop_runs_total",
                             "Background loop rounds this replica completed (a locked loop: rounds that held the "
                             "lock), by loop.",
                             "loop", [sources] {
                               return per_loop(sources, [](const LoopStats::Snapshot& s) {
                                 return std::optional<std::int64_t>(static_cast<std::int64_t>(s.runs));
                               });
                             });
  metrics.add_counter_family("fleetd_loop_errors_total",
                             "Background loop rounds that failed on this replica (rolled back, retried), by loop.",
                             "loop", [sources] {
                               return per_loop(sources, [](const LoopStats::Snapshot& s) {
                                 return std::optional<std::int64_t>(static_cast<std::int64_t>(s.errors));
                               });
                             });
  metrics.add_gauge_family(
      "fleetd_loop_last_run_timestamp_seconds",
      "When this replica last completed a round of the loop (Unix time); absent before its first. A locked loop runs "
      "on one replica: alert on max by (loop) across replicas.",
      "loop", [sources] {
        return per_loop(sources, [](const LoopStats::Snapshot& s) -> std::optional<std::int64_t> {
          if (!s.last_run) return std::nullopt;
          return std::chrono::duration_cast<std::chrono::seconds>(s.last_run->time_since_epoch()).count();
        });
      });
  metrics.add_histogram_family("fleetd_loop_duration_seconds", "Background loop rounds on this replica, by loop.",
                               "loop", [sources] {
                                 std::map<std::string, DurationHistogram> out;
                                 for (auto& [name, s] : sources.loops()) out.emplace(name, std::move(s.seconds));
                                 return out;
                               });
}

void register_database(Metrics& metrics, const OperatorSources& sources) {
  metrics.add_histogram_family(
      "fleetd_db_queue_wait_seconds", "Time API database jobs waited in the pool's queue for a connection.", "",
      [sources] {
        return std::map<std::string, DurationHistogram>{{"", sources.db_jobs().queue_wait_seconds}};
      });
  metrics.add_histogram_family(
      "fleetd_db_job_seconds",
      "Time API database jobs ran on a connection: their transactions, retries after a conflict included.", "",
      [sources] {
        return std::map<std::string, DurationHistogram>{{"", sources.db_jobs().run_seconds}};
      });
  metrics.add_counter_family(
      "fleetd_db_job_failures_total",
      "API database jobs that failed, by kind: overloaded (waited too long), unavailable (no connection), contention "
      "(conflicts after every retry), internal.",
      "kind", [sources] {
        const DbJobStats stats = sources.db_jobs();
        std::map<std::string, std::int64_t> out;
        for (auto kind : {DbFailure::Kind::kOverloaded, DbFailure::Kind::kUnavailable, DbFailure::Kind::kContention,
                          DbFailure::Kind::kInternal}) {
          out[failure_kind_name(kind)] = static_cast<std::int64_t>(stats.failures.at(static_cast<std::size_t>(kind)));
        }
        return out;
      });
}

}  // namespace

void register_operator_metrics(Metrics& metrics, const OperatorSources& sources) {
  register_loops(metrics, sources);
  register_database(metrics, sources);
  metrics.add_gauge("fleetd_agents_connected",
                    "Agents whose heartbeat reached this replica within the unreachable limit (sum over replicas).",
                    [sources] { return static_cast<double>(sources.agents().count); });
  metrics.add_gauge("fleetd_agent_heartbeat_age_max_seconds",
                    "Seconds since the least recent heartbeat of the agents connected to this replica.",
                    [sources] { return sources.agents().oldest_seconds; });
}

}  // namespace fleet
