#include "fleetd/store/inventory_store.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "fleetd/store/prepared_statement.hpp"

namespace fleet::store {
namespace {

constexpr const char* kLockAgent =
    "SELECT a.heartbeat_sequence, c.kubernetes_version, c.node_image_version, a.inventory_generation, "
    "a.agent_version FROM agents a "
    "JOIN clusters c ON c.id = a.cluster_id WHERE c.name = $1 AND a.credential_hash = decode($2, 'hex') "
    "FOR UPDATE OF a";
constexpr const char* kAgentPage =
    "SELECT c.name, COALESCE(encode(a.credential_hash, 'hex'), ''), a.heartbeat_sequence, a.inventory_generation, "
    "a.agent_version, extract(epoch FROM c.last_heartbeat)::float8, "
    "EXISTS (SELECT 1 FROM agent_commands q WHERE q.cluster_id = c.id AND q.state IN ('queued', 'leased', 'running')) "
    "FROM agents a JOIN clusters c ON c.id = a.cluster_id WHERE c.name > $1 ORDER BY c.name LIMIT $2";
constexpr const char* kLoadNodes =
    "SELECT n.data::text FROM nodes n JOIN clusters c ON c.id = n.cluster_id WHERE c.name = $1 ORDER BY n.name";
// Set-based writes: one statement per kind of change, whatever the number of nodes and GPUs, so a full
// inventory of hundreds of nodes costs a handful of round trips. Rows travel as one JSON array each.
constexpr const char* kUpsertNodes =
    "INSERT INTO nodes (cluster_id, name, pool, admission, schedulable, data) "
    "SELECT c.id, x.name, x.pool, x.admission, x.schedulable, x.data FROM clusters c, "
    "jsonb_to_recordset($2::jsonb) AS x(name text, pool text, admission text, schedulable boolean, data jsonb) "
    "WHERE c.name = $1 "
    "ON CONFLICT (cluster_id, name) DO UPDATE SET pool = EXCLUDED.pool, admission = EXCLUDED.admission, "
    "schedulable = EXCLUDED.schedulable, data = EXCLUDED.data, updated_at = now()";
constexpr const char* kDeleteNodes =
    "DELETE FROM nodes n USING clusters c WHERE c.id = n.cluster_id AND c.name = $1 "
    "AND n.name IN (SELECT jsonb_array_elements_text($2::jsonb))";
constexpr const char* kDeleteGpus =
    "DELETE FROM gpus g USING clusters c WHERE c.id = g.cluster_id AND c.name = $1 "
    "AND g.node_name IN (SELECT jsonb_array_elements_text($2::jsonb))";
constexpr const char* kInsertGpus =
    "INSERT INTO gpus (cluster_id, node_name, idx, uuid, model, memory_bytes, driver_version, cuda_version, "
    "mig_mode, health) SELECT c.id, x.node, x.idx, x.uuid, x.model, x.memory_bytes, x.driver_version, "
    "x.cuda_version, x.mig_mode, x.health FROM clusters c, jsonb_to_recordset($2::jsonb) AS x(node text, idx int, "
    "uuid text, model text, memory_bytes bigint, driver_version text, cuda_version text, mig_mode text, "
    "health text) WHERE c.name = $1";
constexpr const char* kUpdateAgent =
    "UPDATE agents a SET heartbeat_sequence = $2, agent_version = $3, last_seen = now(), "
    "inventory_generation = a.inventory_generation + 1 FROM clusters c "
    "WHERE c.id = a.cluster_id AND c.name = $1 AND a.inventory_generation = $4 "
    "AND a.credential_hash = decode($5, 'hex')";
// The cluster row changes on every heartbeat (last_heartbeat); its resourceVersion only when something a user
// sees changed (versions or state), so watchers are not woken by liveness alone.
constexpr const char* kUpdateCluster =
    "UPDATE clusters SET last_heartbeat = GREATEST(last_heartbeat, to_timestamp($4)), "
    "resource_version = CASE WHEN state <> 'ready' OR kubernetes_version <> $2 OR node_image_version <> $3 "
    "  THEN nextval('resource_version_seq') ELSE resource_version END, "
    "updated_at = CASE WHEN state <> 'ready' OR kubernetes_version <> $2 OR node_image_version <> $3 "
    "  THEN now() ELSE updated_at END, "
    "state = CASE WHEN state IN ('registering', 'unreachable') THEN 'ready' ELSE state END, "
    "kubernetes_version = $2, node_image_version = $3 WHERE name = $1";

// Upserts `nodes` and replaces their GPUs.
void write_nodes(pqxx::transaction_base& txn, const std::string& cluster,
                 const std::vector<const model::NodeInfo*>& nodes) {
  if (nodes.empty()) return;
  nlohmann::json node_rows = nlohmann::json::array();
  nlohmann::json names = nlohmann::json::array();
  nlohmann::json gpu_rows = nlohmann::json::array();
  for (const auto* node : nodes) {
    node_rows.push_back({{"name", node->name},
                         {"pool", node->pool},
                         {"admission", model::to_string(node->admission)},
                         {"schedulable", node->schedulable},
                         {"data", model::to_json(*node)}});
    names.push_back(node->name);
    for (const auto& g : node->gpus) {
      gpu_rows.push_back({{"node", node->name},
                          {"idx", g.index},
                          {"uuid", g.uuid},
                          {"model", g.model},
                          {"memory_bytes", g.memory_bytes},
                          {"driver_version", g.driver_version},
                          {"cuda_version", g.cuda_version},
                          {"mig_mode", g.mig_mode},
                          {"health", g.health}});
    }
  }
  exec_prepared_statement(txn, "fleet_upsert_nodes", kUpsertNodes, cluster, node_rows.dump());
  exec_prepared_statement(txn, "fleet_delete_gpus", kDeleteGpus, cluster, names.dump());
  if (!gpu_rows.empty()) exec_prepared_statement(txn, "fleet_insert_gpus", kInsertGpus, cluster, gpu_rows.dump());
}

}  // namespace

std::optional<LoadedInventory> load_inventory(pqxx::transaction_base& txn, std::string_view cluster,
                                              std::string_view credential_hash) {
  auto agent_row =
      exec_prepared_statement(txn, "fleet_lock_agent", kLockAgent, std::string(cluster), std::string(credential_hash));
  if (agent_row.empty()) return std::nullopt;
  LoadedInventory out;
  out.generation = agent_row[0][3].as<std::int64_t>();
  out.agent_version = agent_row[0][4].c_str();
  auto sequence = agent_row[0][0].as<std::int64_t>();
  if (sequence <= 0) return out;
  protocol::StoredInventory stored;
  stored.sequence = static_cast<std::uint64_t>(sequence);
  stored.inventory.kubernetes_version = agent_row[0][1].c_str();
  stored.inventory.node_image_version = agent_row[0][2].c_str();
  for (const auto& row : txn.exec_params(kLoadNodes, std::string(cluster))) {
    auto node = model::node_from_json(nlohmann::json::parse(row[0].c_str()), "node");
    // Rows were written from validated nodes; one that no longer parses makes the base unusable: resync.
    if (!node) return out;
    stored.inventory.nodes.push_back(std::move(node).value());
  }
  model::canonicalize(stored.inventory);
  out.stored = std::move(stored);
  return out;
}

std::vector<AgentSnapshot> load_agent_page(pqxx::transaction_base& txn, const std::string& after, int limit) {
  std::vector<AgentSnapshot> page;
  for (const auto& row : txn.exec_params(kAgentPage, after, limit)) {
    AgentSnapshot a;
    a.cluster = row[0].c_str();
    a.credential_hash = row[1].c_str();
    a.sequence = static_cast<std::uint64_t>(std::max<std::int64_t>(0, row[2].as<std::int64_t>()));
    a.generation = row[3].as<std::int64_t>();
    a.agent_version = row[4].c_str();
    if (!row[5].is_null()) a.last_heartbeat_epoch = row[5].as<double>();
    a.commands_open = row[6].as<bool>();
    page.push_back(std::move(a));
  }
  return page;
}

bool save_heartbeat(pqxx::transaction_base& txn, std::string_view cluster_view, std::string_view credential_hash,
                    const protocol::HeartbeatApplied& applied, std::string_view agent_version, std::int64_t generation,
                    Clock::WallTime heard_at) {
  const std::string cluster(cluster_view);
  // The compare-and-set first: a lost race or an ended credential writes nothing else. The agent row stays locked
  // to the commit, so the credential cannot end between this check and the writes below.
  auto agent = exec_prepared_statement(txn, "fleet_update_agent", kUpdateAgent, cluster,
                                       static_cast<std::int64_t>(applied.stored.sequence), std::string(agent_version),
                                       generation, std::string(credential_hash));
  if (agent.affected_rows() != 1) return false;
  const auto& inv = applied.stored.inventory;
  if (!applied.changes.removed.empty()) {
    txn.exec_params(kDeleteNodes, cluster, nlohmann::json(applied.changes.removed).dump());
  }
  std::vector<const model::NodeInfo*> upserts;
  for (const auto& node : applied.changes.added) upserts.push_back(&node);
  for (const auto& change : applied.changes.changed) {
    if (const auto* node = inv.find_node(change.name)) upserts.push_back(node);
  }
  write_nodes(txn, cluster, upserts);
  exec_prepared_statement(txn, "fleet_update_cluster_heartbeat", kUpdateCluster, cluster, inv.kubernetes_version,
                          inv.node_image_version, std::chrono::duration<double>(heard_at.time_since_epoch()).count());
  return true;
}

}  // namespace fleet::store

namespace fleet::store {
namespace {
constexpr const char* kClusterExists = "SELECT 1 FROM clusters WHERE name = $1";
constexpr const char* kGpuNodesByAdmission =
    "SELECT n.admission, count(*) FROM nodes n WHERE EXISTS (SELECT 1 FROM gpus g WHERE g.cluster_id = n.cluster_id "
    "AND g.node_name = n.name) GROUP BY n.admission";
constexpr const char* kNodeGpus =
    "SELECT (SELECT count(*) FROM gpus g WHERE g.cluster_id = n.cluster_id AND g.node_name = n.name)::int "
    "FROM nodes n JOIN clusters c ON c.id = n.cluster_id WHERE c.name = $1 AND n.name = $2";
// A node's last probe (issue #11), {"verdict", "finishedAt", "reason", "id"}, or NULL (never probed): a scalar subquery
// in the select list, which PostgreSQL evaluates after ORDER BY and LIMIT, so a page costs one index probe per row.
#define FLEET_LAST_PROBE(alias)                                                                               \
  "(SELECT jsonb_build_object('verdict', p.verdict, 'finishedAt', to_char(p.finished_at AT TIME ZONE 'UTC', " \
  "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'reason', p.reason, 'id', p.id::text) FROM probe_results p "         \
  "WHERE p.cluster_id = " alias ".cluster_id AND p.node_name = " alias                                        \
  ".name ORDER BY p.finished_at DESC, p.id DESC "                                                             \
  "LIMIT 1)"
constexpr const char* kNodesOfCluster =
    "SELECT (n.data || jsonb_build_object('lastProbe', " FLEET_LAST_PROBE("n") "))::text "
    "FROM nodes n JOIN clusters c ON c.id = n.cluster_id WHERE c.name = $1 ORDER BY n.name";
// Empty filter values match everything; the keyset starts after ($5, $6, $7) when $8.
constexpr const char* kGpuFilter =
    " FROM gpus g JOIN clusters c ON c.id = g.cluster_id "
    "JOIN nodes n ON n.cluster_id = g.cluster_id AND n.name = g.node_name "
    "WHERE ($1 = '' OR g.model = $1) AND ($2 = '' OR c.name = $2) AND ($3 = '' OR g.health = $3) "
    "AND ($4 = '' OR n.admission = $4)";
const std::string kGpuPage =
    std::string(
        "SELECT c.name, g.node_name, g.idx, g.uuid, g.model, g.memory_bytes, g.driver_version, "
        "g.cuda_version, g.mig_mode, g.health, n.admission, " FLEET_LAST_PROBE("n") "::text") +
    kGpuFilter +
    " AND (NOT $8 OR (c.name, g.node_name, g.idx) > ($5, $6, $7)) ORDER BY c.name, g.node_name, g.idx "
    "LIMIT $9";
#undef FLEET_LAST_PROBE
const std::string kGpuTotals =
    std::string("SELECT g.model, count(*)") + kGpuFilter + " GROUP BY g.model ORDER BY g.model";
}  // namespace

std::optional<std::vector<std::string>> list_node_json(pqxx::transaction_base& txn, std::string_view cluster) {
  if (txn.exec_params(kClusterExists, std::string(cluster)).empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& row : txn.exec_params(kNodesOfCluster, std::string(cluster))) out.emplace_back(row[0].c_str());
  return out;
}

std::optional<int> node_gpu_count(pqxx::transaction_base& txn, std::string_view cluster, std::string_view node) {
  auto rows = txn.exec_params(kNodeGpus, std::string(cluster), std::string(node));
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<int>();
}

std::map<std::string, std::int64_t> gpu_nodes_by_admission(pqxx::transaction_base& txn) {
  std::map<std::string, std::int64_t> out;
  for (const auto& r : txn.exec(kGpuNodesByAdmission)) out[r[0].c_str()] = r[1].as<std::int64_t>();
  return out;
}

GpuPage list_gpus(pqxx::transaction_base& txn, const GpuFilter& f,
                  const std::optional<std::tuple<std::string, std::string, int>>& after, int limit) {
  GpuPage page;
  auto [ac, an, ai] = after.value_or(std::tuple<std::string, std::string, int>{"", "", 0});
  auto rows =
      txn.exec_params(kGpuPage, f.model, f.cluster, f.health, f.admission, ac, an, ai, after.has_value(), limit + 1);
  for (const auto& r : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.more = true;
      break;
    }
    GpuRow row{r[0].c_str(), r[1].c_str(), r[10].c_str(), {}, {}};
    if (!r[11].is_null()) row.last_probe_json = r[11].c_str();
    row.gpu = {r[2].as<int>(), r[3].c_str(), r[4].c_str(), r[5].as<std::int64_t>(),
               r[6].c_str(),   r[7].c_str(), r[8].c_str(), r[9].c_str()};
    page.items.push_back(std::move(row));
  }
  for (const auto& r : txn.exec_params(kGpuTotals, f.model, f.cluster, f.health, f.admission)) {
    page.totals_by_model.emplace_back(r[0].c_str(), r[1].as<std::int64_t>());
  }
  return page;
}

}  // namespace fleet::store
