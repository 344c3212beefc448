#include "fleetd/inventory_store.hpp"

#include <pqxx/pqxx>

namespace fleet::store {
namespace {

constexpr const char* kLockAgent =
    "SELECT a.heartbeat_sequence, c.kubernetes_version, c.node_image_version, a.inventory_generation, "
    "a.agent_version FROM agents a "
    "JOIN clusters c ON c.id = a.cluster_id WHERE c.name = $1 FOR UPDATE OF a";
constexpr const char* kLoadNodes =
    "SELECT n.data::text FROM nodes n JOIN clusters c ON c.id = n.cluster_id WHERE c.name = $1 ORDER BY n.name";
constexpr const char* kUpsertNode =
    "INSERT INTO nodes (cluster_id, name, pool, admission, schedulable, data) "
    "SELECT id, $2, $3, $4, $5, $6::jsonb FROM clusters WHERE name = $1 "
    "ON CONFLICT (cluster_id, name) DO UPDATE SET pool = EXCLUDED.pool, admission = EXCLUDED.admission, "
    "schedulable = EXCLUDED.schedulable, data = EXCLUDED.data, updated_at = now()";
constexpr const char* kDeleteNode =
    "DELETE FROM nodes n USING clusters c WHERE c.id = n.cluster_id AND c.name = $1 AND n.name = $2";
constexpr const char* kDeleteGpus =
    "DELETE FROM gpus g USING clusters c WHERE c.id = g.cluster_id AND c.name = $1 AND g.node_name = $2";
constexpr const char* kInsertGpu =
    "INSERT INTO gpus (cluster_id, node_name, idx, uuid, model, memory_bytes, driver_version, cuda_version, "
    "mig_mode, health) SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM clusters WHERE name = $1";
constexpr const char* kUpdateAgent =
    "UPDATE agents a SET heartbeat_sequence = $2, agent_version = $3, last_seen = now(), "
    "inventory_generation = a.inventory_generation + 1 FROM clusters c "
    "WHERE c.id = a.cluster_id AND c.name = $1 AND a.inventory_generation = $4";
// The cluster row changes on every heartbeat (last_heartbeat); its resourceVersion only when something a user
// sees changed (versions or state), so watchers are not woken by liveness alone.
constexpr const char* kUpdateCluster =
    "UPDATE clusters SET last_heartbeat = now(), "
    "resource_version = CASE WHEN state <> 'ready' OR kubernetes_version <> $2 OR node_image_version <> $3 "
    "  THEN nextval('resource_version_seq') ELSE resource_version END, "
    "updated_at = CASE WHEN state <> 'ready' OR kubernetes_version <> $2 OR node_image_version <> $3 "
    "  THEN now() ELSE updated_at END, "
    "state = CASE WHEN state IN ('registering', 'unreachable') THEN 'ready' ELSE state END, "
    "kubernetes_version = $2, node_image_version = $3 WHERE name = $1";

void write_node(pqxx::transaction_base& txn, const std::string& cluster, const agent::NodeInfo& node) {
  txn.exec_params(kUpsertNode, cluster, node.name, node.pool, std::string(agent::to_string(node.admission)),
                  node.schedulable, agent::to_json(node).dump());
  txn.exec_params(kDeleteGpus, cluster, node.name);
  for (const auto& g : node.gpus) {
    txn.exec_params(kInsertGpu, cluster, node.name, g.index, g.uuid, g.model, g.memory_bytes, g.driver_version,
                    g.cuda_version, g.mig_mode, g.health);
  }
}

}  // namespace

std::optional<LoadedInventory> load_inventory(pqxx::transaction_base& txn, std::string_view cluster) {
  auto agent_row = txn.exec_params(kLockAgent, std::string(cluster));
  if (agent_row.empty()) return std::nullopt;
  LoadedInventory out;
  out.generation = agent_row[0][3].as<std::int64_t>();
  out.agent_version = agent_row[0][4].c_str();
  auto sequence = agent_row[0][0].as<std::int64_t>();
  if (sequence <= 0) return out;
  agent::StoredInventory stored;
  stored.sequence = static_cast<std::uint64_t>(sequence);
  stored.inventory.kubernetes_version = agent_row[0][1].c_str();
  stored.inventory.node_image_version = agent_row[0][2].c_str();
  for (const auto& row : txn.exec_params(kLoadNodes, std::string(cluster))) {
    auto node = agent::node_from_json(nlohmann::json::parse(row[0].c_str()), "node");
    // Rows were written from validated nodes; one that no longer parses makes the base unusable: resync.
    if (!node) return out;
    stored.inventory.nodes.push_back(std::move(node).value());
  }
  agent::canonicalize(stored.inventory);
  out.stored = std::move(stored);
  return out;
}

bool save_heartbeat(pqxx::transaction_base& txn, std::string_view cluster_view, const agent::HeartbeatApplied& applied,
                    std::string_view agent_version, std::int64_t generation) {
  const std::string cluster(cluster_view);
  // The compare-and-set first: a lost race writes nothing else.
  auto agent = txn.exec_params(kUpdateAgent, cluster, static_cast<std::int64_t>(applied.stored.sequence),
                               std::string(agent_version), generation);
  if (agent.affected_rows() != 1) return false;
  const auto& inv = applied.stored.inventory;
  for (const auto& name : applied.changes.removed) txn.exec_params(kDeleteNode, cluster, name);
  for (const auto& node : applied.changes.added) write_node(txn, cluster, node);
  for (const auto& change : applied.changes.changed) {
    if (const auto* node = inv.find_node(change.name)) write_node(txn, cluster, *node);
  }
  txn.exec_params(kUpdateCluster, cluster, inv.kubernetes_version, inv.node_image_version);
  return true;
}

}  // namespace fleet::store

namespace fleet::store {
namespace {
constexpr const char* kClusterExists = "SELECT 1 FROM clusters WHERE name = $1";
constexpr const char* kNodesOfCluster =
    "SELECT n.data::text FROM nodes n JOIN clusters c ON c.id = n.cluster_id WHERE c.name = $1 ORDER BY n.name";
// Empty filter values match everything; the keyset starts after ($5, $6, $7) when $8.
constexpr const char* kGpuFilter =
    " FROM gpus g JOIN clusters c ON c.id = g.cluster_id "
    "JOIN nodes n ON n.cluster_id = g.cluster_id AND n.name = g.node_name "
    "WHERE ($1 = '' OR g.model = $1) AND ($2 = '' OR c.name = $2) AND ($3 = '' OR g.health = $3) "
    "AND ($4 = '' OR n.admission = $4)";
const std::string kGpuPage =
    std::string(
        "SELECT c.name, g.node_name, g.idx, g.uuid, g.model, g.memory_bytes, g.driver_version, "
        "g.cuda_version, g.mig_mode, g.health, n.admission") +
    kGpuFilter +
    " AND (NOT $8 OR (c.name, g.node_name, g.idx) > ($5, $6, $7)) ORDER BY c.name, g.node_name, g.idx "
    "LIMIT $9";
const std::string kGpuTotals =
    std::string("SELECT g.model, count(*)") + kGpuFilter + " GROUP BY g.model ORDER BY g.model";
}  // namespace

std::optional<std::vector<std::string>> list_node_json(pqxx::transaction_base& txn, std::string_view cluster) {
  if (txn.exec_params(kClusterExists, std::string(cluster)).empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& row : txn.exec_params(kNodesOfCluster, std::string(cluster))) out.emplace_back(row[0].c_str());
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
    GpuRow row{r[0].c_str(), r[1].c_str(), r[10].c_str(), {}};
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
