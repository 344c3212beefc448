#include "fleetd/store/placement_store.hpp"

#include <pqxx/pqxx>

#include "fleetd/store/drain_hold_store.hpp"
#include "placement/decision_json.hpp"

namespace fleet::store {
namespace {

// $1: one cluster's name, or '' for all.
constexpr const char* kLoadClusters =
    "SELECT id::text, name, provider, region, labels::text, taints::text, state FROM clusters "
    "WHERE $1 = '' OR name = $1 ORDER BY name";
constexpr const char* kLoadNodes =
    "SELECT c.name, n.data::text FROM nodes n JOIN clusters c ON c.id = n.cluster_id "
    "WHERE $1 = '' OR c.name = $1 ORDER BY c.name, n.name";
// The fleet with each cluster's inventory generation (-1: no agent yet), then the nodes of the clusters whose
// generation moved. Read committed: a heartbeat committing between the two statements leaves nodes newer than the
// generation recorded with them, which only makes the next round read that cluster once more.
constexpr const char* kLoadClustersWithGeneration =
    "SELECT c.id::text, c.name, c.provider, c.region, c.labels::text, c.taints::text, c.state, "
    "COALESCE(a.inventory_generation, -1) FROM clusters c LEFT JOIN agents a ON a.cluster_id = c.id ORDER BY c.name";
constexpr const char* kLoadNodesOf =
    "SELECT n.cluster_id::text, n.data::text FROM nodes n WHERE n.cluster_id = ANY($1::uuid[]) "
    "ORDER BY n.cluster_id, n.name";
// GPUs per replica: what the decision derived for a workload that names a model (its hints, kept beside it by
// migrations/0020), else the spec's.
constexpr const char* kGpusPerReplica = "COALESCE(p.gpus_per_replica, (w.spec->'resources'->>'gpus')::int, 0)";
const std::string kBoundTakes =
    "SELECT c.name, b.nodes::text, " + std::string(kGpusPerReplica) +
    ", "
    "COALESCE(round((w.spec->'resources'->>'cpu')::numeric * 1000)::bigint, 0), "
    "COALESCE(round((w.spec->'resources'->>'memoryGiB')::numeric * 1073741824)::bigint, 0) "
    "FROM workload_bindings b JOIN workloads w ON w.id = b.workload_id JOIN clusters c ON c.id = b.cluster_id "
    "LEFT JOIN workload_placements p ON p.workload_id = w.id "
    "WHERE b.state <> 'Failed' AND ($1 = '' OR c.name = $1)";
constexpr const char* kUpgradingPools =
    "SELECT c.name, a.payload->>'pool' FROM agent_commands a JOIN clusters c ON c.id = a.cluster_id "
    "WHERE a.kind = 'upgrade_node_pool' AND a.state NOT IN ('succeeded', 'failed')";
// New or changed since decided, being deleted, (with $1) not fully placed, or (with $3) bound to a cluster that is
// gone (unreachable past the liveness grace, or being deleted), or bound to nodes of a pool being drained or whose
// drain a disruption budget holds, or to a node of a ready cluster that its GPU probe quarantined or that left the
// inventory (issue #15 item 1), or to a cordoned node of a pool that a blue-green exchange empties (issue #13 item
// 4: the old pool from its Replace on, through the soak, or the new pool a Restore drains). Only those cordons: an
// operator's cordon alone moves nothing, as in Kubernetes, where a cordon does not evict. The $3 checks read every
// binding's nodes, so not every round makes them.
// Row-locked so that two replicas' loops (and a concurrent PUT) never decide the same generation twice; a locked row
// waits for the next round.
constexpr const char* kToPlace =
    "SELECT w.id::text, w.name, w.generation, w.state, w.deletion_requested_at IS NOT NULL, p.generation, "
    "w.spec::text, w.manifests::text FROM workloads w LEFT JOIN workload_placements p ON p.workload_id = w.id "
    "WHERE p.workload_id IS NULL OR p.generation <> w.generation OR w.deletion_requested_at IS NOT NULL "
    "OR ($1 AND w.state IN ('Unplaceable', 'PartiallyPlaced')) "
    "OR ($3 AND EXISTS (SELECT 1 FROM workload_bindings b JOIN clusters c ON c.id = b.cluster_id "
    "WHERE b.workload_id = w.id AND b.state NOT IN ('Deleting', 'Superseded') AND c.state IN ('unreachable', "
    "'deleting'))) "
    "OR ($3 AND EXISTS (SELECT 1 FROM workload_bindings b CROSS JOIN jsonb_array_elements(b.nodes) s "
    "JOIN clusters bc ON bc.id = b.cluster_id "
    "LEFT JOIN nodes n ON n.cluster_id = b.cluster_id AND n.name = s->>'node' "
    "WHERE b.workload_id = w.id AND b.state NOT IN ('Deleting', 'Superseded', 'Failed') AND ("
    "(bc.state = 'ready' AND (n.name IS NULL OR n.data->>'admission' = 'quarantined')) OR "
    "EXISTS (SELECT 1 FROM rollout_drain_holds h WHERE h.cluster_id = b.cluster_id AND h.pool = n.data->>'pool') OR "
    "EXISTS (SELECT 1 FROM agent_commands a WHERE a.cluster_id = b.cluster_id AND a.kind = 'upgrade_node_pool' "
    "AND a.state NOT IN ('succeeded', 'failed') AND a.payload->>'pool' = n.data->>'pool') OR "
    "(bc.state = 'ready' AND NOT n.schedulable AND EXISTS (SELECT 1 FROM agent_commands g "
    "WHERE g.cluster_id = b.cluster_id AND g.kind = 'blue_green_node_pool' AND g.state <> 'failed' "
    "AND n.pool = CASE g.payload->>'phase' WHEN 'Restore' THEN g.payload->>'newPool' ELSE g.payload->>'pool' END))))) "
    "ORDER BY w.created_at, w.name LIMIT $2 FOR UPDATE OF w SKIP LOCKED";
constexpr const char* kBindingColumns =
    "b.seq, c.name, c.id::text, b.replicas, b.nodes::text, b.state, COALESCE(b.command_id, ''), b.generation, "
    "b.revision, b.overrides::text";
const std::string kBindingsOf = std::string("SELECT ") + kBindingColumns +
                                ", b.workload_id::text FROM workload_bindings b JOIN clusters c ON c.id = b.cluster_id "
                                "WHERE b.workload_id = ANY($1::uuid[]) ORDER BY c.name";
constexpr const char* kSavePlacement =
    "INSERT INTO workload_placements (workload_id, generation, decision, decided_at) VALUES ($1::uuid, $2, $3::jsonb, "
    "now()) ON CONFLICT (workload_id) DO UPDATE SET generation = EXCLUDED.generation, decision = EXCLUDED.decision, "
    "decided_at = EXCLUDED.decided_at";
constexpr const char* kSetWorkloadState =
    "UPDATE workloads SET state = $2, resource_version = nextval('resource_version_seq'), updated_at = now() "
    "WHERE id = $1::uuid AND state IS DISTINCT FROM $2";
// upsert_bindings: $3 a JSON array of {clusterId, replicas, nodes, overrides}; a binding that exists is reset to
// Pending with its revision + 1.
constexpr const char* kUpsertBindings =
    "INSERT INTO workload_bindings (workload_id, cluster_id, replicas, nodes, state, generation, overrides, "
    "updated_at) "
    "SELECT $1::uuid, (x->>'clusterId')::uuid, (x->>'replicas')::int, x->'nodes', 'Pending', $2, x->'overrides', now() "
    "FROM jsonb_array_elements($3::jsonb) x "
    "ON CONFLICT (workload_id, cluster_id) DO UPDATE "
    "SET replicas = EXCLUDED.replicas, nodes = EXCLUDED.nodes, state = 'Pending', generation = EXCLUDED.generation, "
    "overrides = EXCLUDED.overrides, "
    "revision = workload_bindings.revision + 1, message = '', updated_at = now() RETURNING cluster_id::text, seq, "
    "revision";
constexpr const char* kSetBindingCommands =
    "UPDATE workload_bindings b SET command_id = x->>1, state = $2, updated_at = now() "
    "FROM jsonb_array_elements($1::jsonb) x WHERE b.seq = (x->>0)::bigint";
constexpr const char* kSetBindingCommand =
    "UPDATE workload_bindings SET command_id = $2, state = $3, updated_at = now() WHERE seq = $1";
constexpr const char* kSetBindingState =
    "UPDATE workload_bindings SET state = $2, message = $3, updated_at = now() WHERE seq = $1";
constexpr const char* kDeleteBinding = "DELETE FROM workload_bindings WHERE seq = $1";
constexpr const char* kDeleteWorkload = "DELETE FROM workloads WHERE id = $1::uuid";
const std::string kFinishedCommands =
    std::string("SELECT ") + kBindingColumns +
    ", b.workload_id::text, a.state, a.message FROM workload_bindings b JOIN clusters c ON c.id = b.cluster_id "
    "JOIN agent_commands a ON a.id = b.command_id "
    "WHERE b.state IN ('Pending', 'Deleting') AND a.state IN ('succeeded', 'failed') ORDER BY b.seq LIMIT $1";
// Superseded bindings whose workload has a Running binding and none still on its way (Pending, Applied) or Failed.
const std::string kSupersededReplaced =
    std::string("SELECT ") + kBindingColumns +
    ", b.workload_id::text, w.name, w.manifests::text FROM workload_bindings b JOIN clusters c ON c.id = b.cluster_id "
    "JOIN workloads w ON w.id = b.workload_id WHERE b.state = 'Superseded' "
    "AND EXISTS (SELECT 1 FROM workload_bindings o WHERE o.workload_id = b.workload_id AND o.state = 'Running') "
    "AND NOT EXISTS (SELECT 1 FROM workload_bindings o WHERE o.workload_id = b.workload_id "
    "AND o.state IN ('Pending', 'Applied', 'Failed')) ORDER BY b.seq LIMIT $1";
const std::string kApplied =
    std::string("SELECT ") + kBindingColumns + ", " + kGpusPerReplica +
    ", "
    "(SELECT COALESCE(jsonb_object_agg(n.name, COALESCE((n.data->'allocated'->>'gpus')::int, 0)), '{}'::jsonb)::text "
    " FROM nodes n WHERE n.cluster_id = b.cluster_id), b.workload_id::text, r.generation, r.state, r.message "
    "FROM workload_bindings b JOIN clusters c ON c.id = b.cluster_id JOIN workloads w ON w.id = b.workload_id "
    "LEFT JOIN workload_placements p ON p.workload_id = w.id "
    "LEFT JOIN workload_status_reports r ON r.cluster_id = b.cluster_id AND r.workload = w.name "
    "AND r.generation >= b.generation "
    "WHERE b.state = 'Applied' OR (b.state = 'Running' AND r.state IN ('Progressing', 'Failed')) "
    "ORDER BY b.seq LIMIT $1";
constexpr const char* kByState = "SELECT state, count(*) FROM workloads GROUP BY state";
constexpr const char* kPlacementOf =
    "SELECT w.id::text, w.state, w.generation, p.generation, p.decision::text, "
    "to_char(p.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
    "FROM workloads w LEFT JOIN workload_placements p ON p.workload_id = w.id WHERE w.name = $1";
const std::string kBindingsWithMessages = std::string("SELECT ") + kBindingColumns +
                                          ", COALESCE(b.message, '') FROM workload_bindings b JOIN clusters c ON "
                                          "c.id = b.cluster_id WHERE b.workload_id = $1::uuid ORDER BY c.name";

std::vector<placement::NodeShare> shares_of(const pqxx::field& f) {
  auto shares = placement::node_shares_from_json(nlohmann::json::parse(f.c_str()));
  return shares ? std::move(*shares) : std::vector<placement::NodeShare>{};
}

StoredBinding binding_from_row(const pqxx::row& r) {
  StoredBinding b;
  b.seq = r[0].as<std::int64_t>();
  b.cluster = r[1].c_str();
  b.cluster_id = r[2].c_str();
  b.replicas = r[3].as<int>();
  b.nodes = shares_of(r[4]);
  b.state = r[5].c_str();
  b.command_id = r[6].c_str();
  b.generation = r[7].as<std::int64_t>();
  b.revision = r[8].as<int>();
  b.overrides = nlohmann::json::parse(r[9].c_str(), nullptr, false);
  if (!b.overrides.is_array()) b.overrides = nlohmann::json::array();
  return b;
}

model::Cluster cluster_from_row(const pqxx::row& r) {
  model::Cluster c;
  c.id = r[0].c_str();
  c.name = r[1].c_str();
  c.provider = r[2].c_str();
  c.region = r[3].c_str();
  const auto labels = nlohmann::json::parse(r[4].c_str());
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (it->is_string()) c.labels[it.key()] = it->get<std::string>();
  }
  const auto taints = nlohmann::json::parse(r[5].c_str());
  for (const auto& t : taints) {
    c.taints.push_back({t.value("key", ""), t.value("value", ""), t.value("effect", "")});
  }
  c.state = r[6].c_str();
  return c;
}

// A stored node, or nullopt (counted) when its JSON does not parse.
std::optional<model::NodeInfo> parse_node(const pqxx::field& data, int& unreadable_nodes) {
  const auto json = nlohmann::json::parse(data.c_str(), nullptr, false);
  auto node = model::node_from_json(json, "node");
  if (!node) {
    ++unreadable_nodes;
    return std::nullopt;
  }
  return std::move(*node);
}

std::vector<ClusterWithNodes> load_clusters(pqxx::transaction_base& txn, const std::string& name,
                                            int& unreadable_nodes) {
  std::vector<ClusterWithNodes> fleet;
  std::vector<std::vector<model::NodeInfo>> nodes;
  std::map<std::string, std::size_t> index;
  for (const auto& r : txn.exec_params(kLoadClusters, name)) {
    index.emplace(r[1].c_str(), fleet.size());
    fleet.push_back({cluster_from_row(r)});
    nodes.emplace_back();
  }
  for (const auto& r : txn.exec_params(kLoadNodes, name)) {
    const auto it = index.find(r[0].c_str());
    if (it == index.end()) continue;
    if (auto node = parse_node(r[1], unreadable_nodes)) nodes[it->second].push_back(std::move(*node));
  }
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    fleet[i].nodes = std::make_shared<const std::vector<model::NodeInfo>>(std::move(nodes[i]));
  }
  return fleet;
}

std::vector<ClusterWithNodes> load_fleet_cached(pqxx::transaction_base& txn, int& unreadable_nodes, FleetCache& cache) {
  std::vector<ClusterWithNodes> fleet;
  std::vector<std::int64_t> generations;
  std::map<std::string, std::size_t> stale;  // cluster id -> index into fleet
  std::map<std::string, FleetCache::Entry> kept;
  for (const auto& r : txn.exec(kLoadClustersWithGeneration)) {
    fleet.push_back({cluster_from_row(r)});
    generations.push_back(r[7].as<std::int64_t>());
    const auto it = cache.by_cluster_id.find(fleet.back().cluster.id);
    if (it != cache.by_cluster_id.end() && it->second.generation == generations.back()) {
      fleet.back().nodes = it->second.nodes;
      unreadable_nodes += it->second.unreadable;
      kept.insert(*it);
    } else {
      stale.emplace(fleet.back().cluster.id, fleet.size() - 1);
    }
  }
  if (!stale.empty()) {
    std::string ids = "{";
    for (const auto& [id, i] : stale) ids += (ids.size() > 1 ? "," : "") + id;
    ids += "}";
    std::map<std::string, std::vector<model::NodeInfo>> read;
    std::map<std::string, int> unreadable;
    for (const auto& r : txn.exec_params(kLoadNodesOf, ids)) {
      int& bad = unreadable[r[0].c_str()];
      if (auto node = parse_node(r[1], bad)) read[r[0].c_str()].push_back(std::move(*node));
    }
    for (const auto& [id, i] : stale) {
      FleetCache::Entry entry;
      entry.generation = generations[i];
      entry.unreadable = unreadable[id];
      entry.nodes = std::make_shared<const std::vector<model::NodeInfo>>(std::move(read[id]));
      fleet[i].nodes = entry.nodes;
      unreadable_nodes += entry.unreadable;
      kept.emplace(id, std::move(entry));
    }
  }
  cache.by_cluster_id = std::move(kept);  // clusters deleted since are forgotten
  return fleet;
}

}  // namespace

std::vector<ClusterWithNodes> load_fleet(pqxx::transaction_base& txn, int& unreadable_nodes, FleetCache& cache) {
  return load_fleet_cached(txn, unreadable_nodes, cache);
}

std::optional<ClusterWithNodes> load_cluster_with_nodes(pqxx::transaction_base& txn, std::string_view name) {
  int unreadable = 0;
  std::vector<ClusterWithNodes> one = load_clusters(txn, std::string(name), unreadable);
  if (one.empty()) return std::nullopt;
  return std::move(one.front());
}

std::vector<NodeTake> bound_node_takes(pqxx::transaction_base& txn, std::string_view cluster) {
  std::vector<NodeTake> takes;
  for (const auto& r : txn.exec_params(kBoundTakes, std::string(cluster))) {
    const int gpus = r[2].as<int>();
    const auto cpu = r[3].as<std::int64_t>();
    const auto memory = r[4].as<std::int64_t>();
    for (const placement::NodeShare& share : shares_of(r[1])) {
      takes.push_back({r[0].c_str(), share.node, gpus * share.replicas, cpu * share.replicas, memory * share.replicas});
    }
  }
  return takes;
}

std::set<std::pair<std::string, std::string>> pools_being_upgraded(pqxx::transaction_base& txn) {
  std::set<std::pair<std::string, std::string>> pools = held_drain_pools(txn);
  for (const auto& r : txn.exec(kUpgradingPools)) {
    if (!r[1].is_null()) pools.emplace(r[0].c_str(), r[1].c_str());
  }
  return pools;
}

std::vector<WorkloadRecord> workloads_to_place(pqxx::transaction_base& txn, bool with_unplaced, bool with_moves,
                                               int limit) {
  std::vector<WorkloadRecord> records;
  std::map<std::string, std::size_t> index;
  std::string ids = "{";
  for (const auto& r : txn.exec_params(kToPlace, with_unplaced, limit, with_moves)) {
    WorkloadRecord w;
    w.id = r[0].c_str();
    w.name = r[1].c_str();
    w.generation = r[2].as<std::int64_t>();
    w.state = r[3].c_str();
    w.deleting = r[4].as<bool>();
    if (!r[5].is_null()) w.decided_generation = r[5].as<std::int64_t>();
    w.spec = nlohmann::json::parse(r[6].c_str(), nullptr, false);
    w.manifests = nlohmann::json::parse(r[7].c_str(), nullptr, false);
    ids += (records.empty() ? "" : ",") + w.id;
    index.emplace(w.id, records.size());
    records.push_back(std::move(w));
  }
  if (records.empty()) return records;
  for (const auto& r : txn.exec_params(kBindingsOf, ids + "}")) {
    records[index.at(r[10].c_str())].bindings.push_back(binding_from_row(r));
  }
  return records;
}

void save_placement(pqxx::transaction_base& txn, const std::string& workload_id, std::int64_t generation,
                    const nlohmann::json& decision, std::string_view state) {
  txn.exec_params(kSavePlacement, workload_id, generation, decision.dump());
  txn.exec_params(kSetWorkloadState, workload_id, std::string(state));
}

std::vector<std::pair<std::int64_t, int>> upsert_bindings(pqxx::transaction_base& txn, const std::string& workload_id,
                                                          std::int64_t generation,
                                                          const std::vector<BindingWrite>& bindings) {
  std::vector<std::pair<std::int64_t, int>> out(bindings.size(), {0, 0});
  if (bindings.empty()) return out;
  nlohmann::json input = nlohmann::json::array();
  std::map<std::string, std::size_t> at;  // cluster id -> its index (one binding per cluster and workload)
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const BindingWrite& b = bindings[i];
    input.push_back(
        {{"clusterId", b.cluster_id}, {"replicas", b.replicas}, {"nodes", b.nodes}, {"overrides", b.overrides}});
    at.emplace(b.cluster_id, i);
  }
  for (const auto& r : txn.exec_params(kUpsertBindings, workload_id, generation, input.dump())) {
    if (const auto it = at.find(r[0].c_str()); it != at.end())
      out[it->second] = {r[1].as<std::int64_t>(), r[2].as<int>()};
  }
  return out;
}

void set_binding_commands(pqxx::transaction_base& txn,
                          const std::vector<std::pair<std::int64_t, std::string>>& commands, std::string_view state) {
  if (commands.empty()) return;
  nlohmann::json input = nlohmann::json::array();
  for (const auto& [seq, id] : commands) input.push_back({seq, id});
  txn.exec_params(kSetBindingCommands, input.dump(), std::string(state));
}

void set_binding_command(pqxx::transaction_base& txn, std::int64_t seq, std::string_view command_id,
                         std::string_view state) {
  txn.exec_params(kSetBindingCommand, seq, std::string(command_id), std::string(state));
}

void set_binding_state(pqxx::transaction_base& txn, std::int64_t seq, std::string_view state,
                       std::string_view message) {
  txn.exec_params(kSetBindingState, seq, std::string(state), std::string(message));
}

void delete_binding(pqxx::transaction_base& txn, std::int64_t seq) {
  txn.exec_params(kDeleteBinding, seq);
}

void delete_workload_row(pqxx::transaction_base& txn, const std::string& workload_id) {
  txn.exec_params(kDeleteWorkload, workload_id);
}

std::vector<FinishedBindingCommand> finished_binding_commands(pqxx::transaction_base& txn, int limit) {
  std::vector<FinishedBindingCommand> out;
  for (const auto& r : txn.exec_params(kFinishedCommands, limit)) {
    out.push_back({binding_from_row(r), r[10].c_str(), r[11].c_str(), r[12].is_null() ? "" : r[12].c_str()});
  }
  return out;
}

std::vector<ReplacedBinding> replaced_bindings(pqxx::transaction_base& txn, int limit) {
  std::vector<ReplacedBinding> out;
  for (const auto& r : txn.exec_params(kSupersededReplaced, limit)) {
    out.push_back({binding_from_row(r), r[10].c_str(), r[11].c_str(), nlohmann::json::parse(r[12].c_str())});
  }
  return out;
}

std::vector<AppliedBinding> applied_bindings(pqxx::transaction_base& txn, int limit) {
  std::vector<AppliedBinding> out;
  for (const auto& r : txn.exec_params(kApplied, limit)) {
    AppliedBinding a;
    a.binding = binding_from_row(r);
    a.gpus_per_replica = r[10].as<int>();
    a.workload_id = r[12].c_str();
    const auto allocated = nlohmann::json::parse(r[11].c_str());
    for (const auto& [node, gpus] : allocated.items()) {
      a.allocated_gpus[node] = gpus.is_number_integer() ? gpus.get<int>() : 0;
    }
    if (!r[13].is_null()) a.read_back = ReadBackStatus{r[13].as<std::int64_t>(), r[14].c_str(), r[15].c_str()};
    out.push_back(std::move(a));
  }
  return out;
}

std::map<std::string, std::int64_t> workloads_by_state(pqxx::transaction_base& txn) {
  std::map<std::string, std::int64_t> counts;
  for (const auto& r : txn.exec(kByState)) counts[r[0].c_str()] = r[1].as<std::int64_t>();
  return counts;
}

std::optional<PlacementView> load_placement(pqxx::transaction_base& txn, std::string_view workload_name) {
  const pqxx::result res = txn.exec_params(kPlacementOf, std::string(workload_name));
  if (res.empty()) return std::nullopt;
  const pqxx::row r = res[0];
  PlacementView view;
  view.workload_state = r[1].c_str();
  view.generation = r[2].as<std::int64_t>();
  if (!r[3].is_null()) view.decided_generation = r[3].as<std::int64_t>();
  if (!r[4].is_null()) view.decision = nlohmann::json::parse(r[4].c_str(), nullptr, false);
  if (!r[5].is_null()) view.decided_at = r[5].c_str();
  for (const auto& b : txn.exec_params(kBindingsWithMessages, std::string(r[0].c_str()))) {
    StoredBinding binding = binding_from_row(b);
    if (!std::string_view(b[10].c_str()).empty()) view.messages[binding.seq] = b[10].c_str();
    view.bindings.push_back(std::move(binding));
  }
  return view;
}

}  // namespace fleet::store
