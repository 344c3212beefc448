#include "fleetd/store/workload_status_store.hpp"

#include <chrono>
#include <string>

namespace fleet::store {

namespace {

constexpr const char* kUpsertStatus =
    "INSERT INTO workload_status_reports (cluster_id, workload, generation, state, message, reported_at) "
    "SELECT c.id, $2, $3, $4, $5, to_timestamp($6) FROM clusters c WHERE c.name = $1 "
    "AND EXISTS (SELECT 1 FROM workloads w WHERE w.name = $2 AND w.generation >= $3) "
    "ON CONFLICT (cluster_id, workload) DO UPDATE SET generation = EXCLUDED.generation, state = EXCLUDED.state, "
    "message = EXCLUDED.message, reported_at = EXCLUDED.reported_at "
    "WHERE workload_status_reports.generation <= EXCLUDED.generation";

}  // namespace

void save_workload_statuses(pqxx::transaction_base& txn, std::string_view cluster,
                            const std::vector<protocol::WorkloadStatus>& statuses, Clock::WallTime reported_at) {
  const double at = std::chrono::duration<double>(reported_at.time_since_epoch()).count();
  for (const protocol::WorkloadStatus& s : statuses) {
    txn.exec_params(kUpsertStatus, std::string(cluster), s.workload, s.generation, std::string(to_string(s.state)),
                    s.message, at);
  }
}

}  // namespace fleet::store
