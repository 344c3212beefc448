#include "fleetd/store/liveness_store.hpp"

#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

namespace fleet::store {
namespace {

// Newer times only (another replica may have written a later one); the state change bumps the resourceVersion as
// every visible change does, and is what brings an unreachable cluster back.
constexpr const char* kWriteHeartbeatTimes =
    "UPDATE clusters c SET last_heartbeat = v.ts, "
    "resource_version = CASE WHEN c.state IN ('registering', 'unreachable') "
    "  THEN nextval('resource_version_seq') ELSE c.resource_version END, "
    "updated_at = CASE WHEN c.state IN ('registering', 'unreachable') THEN now() ELSE c.updated_at END, "
    "state = CASE WHEN c.state IN ('registering', 'unreachable') THEN 'ready' ELSE c.state END "
    "FROM (SELECT x.name, to_timestamp(x.ts) AS ts, decode(x.credential, 'hex') AS credential "
    "FROM jsonb_to_recordset($1::jsonb) AS x(name text, ts float8, credential text)) v "
    "WHERE c.name = v.name AND (c.last_heartbeat IS NULL OR c.last_heartbeat < v.ts) "
    "AND EXISTS (SELECT 1 FROM agents a WHERE a.cluster_id = c.id AND a.credential_hash = v.credential)";
// Only `ready` clusters: `registering` ones never heartbeated, `cordoned` and `deleting` are an operator's call.
constexpr const char* kReadyHeardBefore =
    "SELECT name, extract(epoch FROM last_heartbeat)::float8 FROM clusters "
    "WHERE state = 'ready' AND last_heartbeat < to_timestamp($1) ORDER BY last_heartbeat LIMIT $2";
constexpr const char* kMarkUnreachable =
    "UPDATE clusters SET state = 'unreachable', resource_version = nextval('resource_version_seq'), "
    "updated_at = now() WHERE name = ANY (SELECT jsonb_array_elements_text($1::jsonb)) AND state = 'ready' "
    "AND last_heartbeat < to_timestamp($2) RETURNING name";

double epoch_seconds(Clock::WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

Clock::WallTime from_epoch_seconds(double s) {
  return Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(std::chrono::duration<double>(s)));
}

}  // namespace

void write_heartbeat_times(pqxx::transaction_base& txn, const std::vector<HeartbeatTime>& times) {
  if (times.empty()) return;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : times) {
    rows.push_back({{"name", t.cluster}, {"ts", epoch_seconds(t.at)}, {"credential", t.credential_hash}});
  }
  txn.exec_params(kWriteHeartbeatTimes, rows.dump());
}

std::vector<HeartbeatTime> ready_clusters_heard_before(pqxx::transaction_base& txn, Clock::WallTime cutoff, int limit) {
  std::vector<HeartbeatTime> out;
  for (const auto& row : txn.exec_params(kReadyHeardBefore, epoch_seconds(cutoff), limit)) {
    out.push_back({row[0].as<std::string>(), from_epoch_seconds(row[1].as<double>()), ""});
  }
  return out;
}

std::vector<std::string> mark_unreachable(pqxx::transaction_base& txn, const std::vector<std::string>& clusters,
                                          Clock::WallTime cutoff) {
  std::vector<std::string> marked;
  if (clusters.empty()) return marked;
  for (const auto& row : txn.exec_params(kMarkUnreachable, nlohmann::json(clusters).dump(), epoch_seconds(cutoff))) {
    marked.push_back(row[0].as<std::string>());
  }
  return marked;
}

}  // namespace fleet::store
