#pragma once
// What the placement loop (fleetd/loops/placement_loop.hpp) reads and writes: the fleet as the engine sees it
// (clusters, the agents' node inventories, what bindings take, pools being upgraded), the workloads that need a
// decision, and the decisions, bindings and binding states it writes. Tables: migrations/0010_workloads.sql and
// 0011_placement_loop.sql. Functions run inside the caller's transaction; SQL only through parameters.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/cluster.hpp"
#include "model/inventory.hpp"
#include "placement/decision.hpp"

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace fleet::store {

// The channel the loop listens on; payloads "workload", "command", "inventory" (migrations/0011_placement_loop.sql).
inline constexpr const char* kPlacementChannel = "fleet_placements";

struct ClusterWithNodes {
  model::Cluster cluster;  // name, provider, region, state, labels, taints
  // Shared and immutable: FleetCache hands the same parsed nodes to every round until the cluster's inventory
  // changes.
  std::shared_ptr<const std::vector<model::NodeInfo>> nodes = std::make_shared<const std::vector<model::NodeInfo>>();
};

// The parsed nodes of every cluster as of its agent's inventory generation (migrations/0005), kept between the
// placement loop's rounds. Parsing every node's stored JSON took 0.5-1 s a round for 1,000 clusters, which every
// new workload waited for (issue #14's end-to-end benchmark); with the cache a round re-reads only the clusters
// whose inventory changed since the last. Nodes are written only with a heartbeat, which moves the generation in
// the same transaction, so an unchanged generation means unchanged nodes. One thread's (not synchronized).
struct FleetCache {
  struct Entry {
    std::int64_t generation = -1;
    int unreadable = 0;
    std::shared_ptr<const std::vector<model::NodeInfo>> nodes;
  };
  std::map<std::string, Entry> by_cluster_id;
};

// Every cluster with its nodes, by name. A node whose stored JSON does not parse is left out (and counted).
// Only the clusters whose inventory generation moved since `cache` saw them are read again.
std::vector<ClusterWithNodes> load_fleet(pqxx::transaction_base& txn, int& unreadable_nodes, FleetCache& cache);
// One cluster (GET /v1/clusters/{name}/capacity); nullopt when there is none of that name.
std::optional<ClusterWithNodes> load_cluster_with_nodes(pqxx::transaction_base& txn, std::string_view name);

// What a binding takes on a node: its replicas there times the workload's per-replica resources.
struct NodeTake {
  std::string cluster, node;
  int gpus = 0;
  std::int64_t cpu_millicores = 0, memory_bytes = 0;
};
// Over every binding that is not Failed, in flight and being deleted included (their pods may still run); of one
// cluster when `cluster` is not empty.
std::vector<NodeTake> bound_node_takes(pqxx::transaction_base& txn, std::string_view cluster = {});

// (cluster, pool) for every upgrade_node_pool command not finished.
std::set<std::pair<std::string, std::string>> pools_being_upgraded(pqxx::transaction_base& txn);

struct StoredBinding {
  std::int64_t seq = 0;
  std::string cluster;
  std::string cluster_id;
  int replicas = 0;
  std::vector<placement::NodeShare> nodes;
  std::string state;  // Pending | Applied | Running | Failed | Deleting | Superseded
  std::string command_id;
  std::int64_t generation = 0;  // of the workload it was decided for
  int revision = 0;             // bumped by every upsert: names the binding's next command
  // The overrides its last apply was patched with (placement::to_json(std::vector<AppliedOverride>),
  // migrations/0015_overrides.sql): [{"override", "generation", "rules"}].
  nlohmann::json overrides = nlohmann::json::array();
};

struct WorkloadRecord {
  std::string id;
  std::string name;
  std::int64_t generation = 0;
  std::string state;
  bool deleting = false;
  std::optional<std::int64_t> decided_generation;  // of the stored decision
  nlohmann::json spec;
  nlohmann::json manifests;
  std::vector<StoredBinding> bindings;  // by cluster name
};

// Workloads that need the engine: never decided or changed since (generation), being deleted; when
// `with_unplaced`, those not fully placed (capacity may have come); when `with_moves`, those with a binding whose
// replicas must move: on a cluster that is gone (unreachable, being deleted), on a pool being drained or held for a
// drain, on a quarantined node or one that left the inventory. At most `limit`, oldest first; row-locked (SKIP
// LOCKED: a workload an API call is changing now is taken by the next round).
std::vector<WorkloadRecord> workloads_to_place(pqxx::transaction_base& txn, bool with_unplaced, bool with_moves,
                                               int limit);

// The decision for a workload generation, and the workload's state (Placed, PartiallyPlaced, Unplaceable).
void save_placement(pqxx::transaction_base& txn, const std::string& workload_id, std::int64_t generation,
                    const nlohmann::json& decision, std::string_view state);
// Inserts or updates the bindings of one decision, in one statement (a PickN 100 writes a hundred): each
// (workload, cluster) Pending, revision + 1, `overrides` its record of the overrides applied. Returns (seq,
// revision) per binding, in the input's order.
struct BindingWrite {
  std::string cluster_id;
  int replicas = 0;
  nlohmann::json nodes;
  nlohmann::json overrides = nlohmann::json::array();
};
std::vector<std::pair<std::int64_t, int>> upsert_bindings(pqxx::transaction_base& txn, const std::string& workload_id,
                                                          std::int64_t generation,
                                                          const std::vector<BindingWrite>& bindings);
void set_binding_command(pqxx::transaction_base& txn, std::int64_t seq, std::string_view command_id,
                         std::string_view state);
// set_binding_command for many bindings, in one statement: (seq, command id) pairs, all to `state`.
void set_binding_commands(pqxx::transaction_base& txn,
                          const std::vector<std::pair<std::int64_t, std::string>>& commands, std::string_view state);
void set_binding_state(pqxx::transaction_base& txn, std::int64_t seq, std::string_view state, std::string_view message);
void delete_binding(pqxx::transaction_base& txn, std::int64_t seq);
// A workload whose deletion was asked and whose bindings are all gone.
void delete_workload_row(pqxx::transaction_base& txn, const std::string& workload_id);

// Bindings whose command finished since the loop last looked (Pending or Deleting with a final command), with the
// command's state and message; and Applied bindings (and Running ones the agent no longer reports Ready) with the
// nodes' reported allocation and the agent's read-back state, for the Running check (binding_progress.hpp).
struct FinishedBindingCommand {
  StoredBinding binding;
  std::string workload_id;
  std::string command_state;  // succeeded | failed
  std::string message;
};
std::vector<FinishedBindingCommand> finished_binding_commands(pqxx::transaction_base& txn, int limit);

// Superseded bindings (fleetd/loops/binding_changes.hpp) whose replacements run: to delete now.
struct ReplacedBinding {
  StoredBinding binding;
  std::string workload_id;
  std::string workload;
  nlohmann::json manifests;  // the workload's, for the delete_workload command
};
std::vector<ReplacedBinding> replaced_bindings(pqxx::transaction_base& txn, int limit);

// What the cluster's agent last read back about the workload (workload_status_store.hpp).
struct ReadBackStatus {
  std::int64_t generation = 0;
  std::string state;  // Progressing | Ready | Failed
  std::string message;
};

struct AppliedBinding {
  StoredBinding binding;
  std::string workload_id;
  int gpus_per_replica = 0;
  std::map<std::string, int> allocated_gpus;  // node -> GPUs the agent reports in use
  std::optional<ReadBackStatus> read_back;    // of the binding's generation or a later one
};
std::vector<AppliedBinding> applied_bindings(pqxx::transaction_base& txn, int limit);

// Workload counts by state and bound GPUs by model (metrics).
std::map<std::string, std::int64_t> workloads_by_state(pqxx::transaction_base& txn);

// The stored decision of a workload (GET /v1/workloads/{name}/placement), with its bindings' states.
struct PlacementView {
  std::string workload_state;
  std::int64_t generation = 0;
  std::optional<std::int64_t> decided_generation;
  std::optional<nlohmann::json> decision;
  std::optional<std::string> decided_at;
  std::vector<StoredBinding> bindings;
  std::map<std::int64_t, std::string> messages;  // binding seq -> message
};
std::optional<PlacementView> load_placement(pqxx::transaction_base& txn, std::string_view workload_name);

}  // namespace fleet::store
