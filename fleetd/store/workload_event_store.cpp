#include "fleetd/store/workload_event_store.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "common/time_format.hpp"

namespace fleet::store {

namespace {

// One statement for a round's events, whatever their number: a batch of 10,000 new workloads writes about 30,000.
// The join drops the events of a workload the same round deleted (its last binding removed, then its row): they
// would go with it anyway, and the foreign key would fail the round.
constexpr const char* kAppendWorkloadEvents =
    "INSERT INTO workload_events (workload_id, at, generation, type, cluster, message) "
    "SELECT w.id, $1::timestamptz, x.generation, x.type, x.cluster, x.message "
    "FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (workload text, generation bigint, type text, cluster text, "
    "message text)) WITH ORDINALITY AS x(workload, generation, type, cluster, message, n) "
    "JOIN workloads w ON w.id = x.workload::uuid ORDER BY x.n";
constexpr const char* kListWorkloadEvents =
    "SELECT e.seq, extract(epoch FROM e.at)::float8, e.generation, e.type, e.cluster, e.message "
    "FROM workload_events e JOIN workloads w ON w.id = e.workload_id "
    "WHERE w.name = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3";

}  // namespace

void append_workload_events(pqxx::transaction_base& txn, std::chrono::system_clock::time_point at,
                            const std::vector<PendingWorkloadEvent>& events) {
  if (events.empty()) return;
  nlohmann::json rows = nlohmann::json::array();
  for (const PendingWorkloadEvent& e : events) {
    rows.push_back({{"workload", e.workload_id},
                    {"generation", e.generation},
                    {"type", e.event.type},
                    {"cluster", e.event.cluster},
                    {"message", e.event.message}});
  }
  txn.exec_params(kAppendWorkloadEvents, format_rfc3339(at), rows.dump());
}

std::vector<StoredWorkloadEvent> list_workload_events(pqxx::transaction_base& txn, std::string_view workload_name,
                                                      std::int64_t after_seq, int limit) {
  std::vector<StoredWorkloadEvent> out;
  for (const auto& r : txn.exec_params(kListWorkloadEvents, std::string(workload_name), after_seq, limit)) {
    StoredWorkloadEvent e;
    e.seq = r[0].as<std::int64_t>();
    e.at = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::duration<double>(r[1].as<double>())));
    e.generation = r[2].as<std::int64_t>();
    e.event = {r[3].c_str(), r[4].c_str(), r[5].c_str()};
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace fleet::store
