#include "fleetd/store/probe_store.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "common/time_format.hpp"

namespace fleet::store {
namespace {

#define FLEET_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// The node's first GPU model (the heartbeat's own when it carries the node, else the stored one): what `model`
// filters on.
constexpr const char* kInsert =
    "INSERT INTO probe_results (cluster_id, probe_id, node_name, gpu_model, trigger, gpu_uuids, started_at, "
    "finished_at, verdict, admitted, reason, failed_checks, probe_version, report) "
    "SELECT c.id, $2, $3, CASE WHEN $14 <> '' THEN $14 ELSE COALESCE((SELECT g.model FROM gpus g "
    "WHERE g.cluster_id = c.id AND g.node_name = $3 ORDER BY g.idx LIMIT 1), '') END, $4, $5::jsonb, to_timestamp($6), "
    "to_timestamp($7), $8, $9, $10, $11::jsonb, "
    "$12, $13::jsonb FROM clusters c WHERE c.name = $1 "
    "ON CONFLICT (cluster_id, probe_id) DO NOTHING";
constexpr const char* kPrune =
    "DELETE FROM probe_results p USING clusters c WHERE c.name = $1 AND p.cluster_id = c.id AND p.node_name = $2 "
    "AND p.id NOT IN (SELECT q.id FROM probe_results q WHERE q.cluster_id = c.id AND q.node_name = $2 "
    "ORDER BY q.finished_at DESC, q.id DESC LIMIT $3)";

const std::string kItem =
    "jsonb_build_object('id', p.id::text, 'cluster', c.name, 'node', p.node_name, 'probeId', p.probe_id, "
    "'model', p.gpu_model, 'trigger', p.trigger, 'gpuUuids', p.gpu_uuids, "
    "'startedAt', " FLEET_RFC3339("p.started_at") ", 'finishedAt', " FLEET_RFC3339(
        "p.finished_at") ", "
                         "'durationSeconds', round(extract(epoch FROM p.finished_at - p.started_at)::numeric, 3), "
                         "'verdict', p.verdict, 'admitted', p.admitted, 'reason', p.reason, 'failedChecks', "
                         "p.failed_checks, 'probeVersion', p.probe_version)";
#undef FLEET_RFC3339

const std::string kList =
    "SELECT (" + kItem +
    " || CASE WHEN $8 AND p.report IS NOT NULL THEN jsonb_build_object('report', p.report) ELSE '{}'::jsonb "
    "END)::text, p.id FROM probe_results p JOIN clusters c ON c.id = p.cluster_id "
    "WHERE ($1 = '' OR c.name = $1) AND ($2 = '' OR p.node_name = $2) AND ($3 = '' OR p.verdict = $3) "
    "AND ($4 = '' OR p.gpu_model = $4) AND ($5 = '' OR p.failed_checks ? $5) "
    "AND ($6::float8 IS NULL OR p.finished_at >= to_timestamp($6::float8)) "
    "AND ($7::bigint IS NULL OR p.id < $7::bigint) ORDER BY p.id DESC LIMIT $9";
const std::string kGet = "SELECT (" + kItem +
                         " || CASE WHEN p.report IS NOT NULL THEN jsonb_build_object('report', p.report) ELSE "
                         "'{}'::jsonb END)::text FROM probe_results p JOIN clusters c ON c.id = p.cluster_id "
                         "WHERE p.id = $1";

double epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

std::vector<std::size_t> insert_probe_results(pqxx::transaction_base& txn, std::string_view cluster_view,
                                              const std::vector<protocol::ProbeResult>& results,
                                              const std::function<std::string(const std::string& node)>& gpu_model_of) {
  const std::string cluster(cluster_view);
  std::vector<std::size_t> inserted;
  std::vector<std::string> nodes;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const protocol::ProbeResult& r = results[i];
    const std::optional<std::string> report = r.report ? std::optional<std::string>(r.report->dump()) : std::nullopt;
    auto done = txn.exec_params(kInsert, cluster, r.probe_id, r.node, r.trigger, nlohmann::json(r.gpu_uuids).dump(),
                                epoch_seconds(r.started_at), epoch_seconds(r.finished_at), r.verdict, r.admitted,
                                r.reason, nlohmann::json(r.failed_checks).dump(), r.probe_version, report,
                                gpu_model_of ? gpu_model_of(r.node) : std::string());
    if (done.affected_rows() == 0) continue;
    inserted.push_back(i);
    if (std::find(nodes.begin(), nodes.end(), r.node) == nodes.end()) nodes.push_back(r.node);
  }
  for (const std::string& node : nodes) txn.exec_params(kPrune, cluster, node, kProbeResultsKeptPerNode);
  return inserted;
}

ProbePage list_probe_results(pqxx::transaction_base& txn, const ProbeFilter& f) {
  ProbePage page;
  auto rows = txn.exec_params(kList, f.cluster, f.node, f.verdict, f.model, f.check, f.since_epoch, f.before_id,
                              f.with_report, f.limit + 1);
  for (const auto& row : rows) {
    if (static_cast<int>(page.items.size()) == f.limit) {
      page.more = true;
      break;
    }
    page.items.emplace_back(row[0].c_str());
    page.last_id = row[1].as<std::int64_t>();
  }
  return page;
}

std::optional<std::string> get_probe_result(pqxx::transaction_base& txn, std::int64_t id) {
  auto rows = txn.exec_params(kGet, id);
  if (rows.empty()) return std::nullopt;
  return std::string(rows[0][0].c_str());
}

}  // namespace fleet::store
