#pragma once
// From what fleetd stores (placement_store.hpp) to what the placement engine decides on (placement/snapshot.hpp).
// Pure, so that the rules below are tested without PostgreSQL:
// - A node's GPUs count as its most common model (ties: the name that sorts first); memory, driver and CUDA are
//   the lowest among those GPUs, so a workload's minimum holds on every GPU it may get.
// - In use is the larger of what the agent reports (`allocated`) and what fleetd has bound to the node (bindings
//   not failed, in flight included): a binding not yet running and a pod fleetd did not place both count.
// - A node of a pool that an upgrade_node_pool command is working on is draining: it is about to be cordoned.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fleetd/store/placement_store.hpp"
#include "model/inventory.hpp"
#include "placement/snapshot.hpp"

namespace fleet::store {

// What fleetd's bindings take on one node, summed over workloads.
struct BoundUsage {
  int gpus = 0;
  std::int64_t cpu_millicores = 0;
  std::int64_t memory_bytes = 0;
};
using BoundByNode = std::map<std::pair<std::string, std::string>, BoundUsage>;  // (cluster, node)
using PoolSet = std::set<std::pair<std::string, std::string>>;                  // (cluster, pool)

// Sums what the bindings take, per node.
BoundByNode bound_by_node(const std::vector<NodeTake>& takes);

placement::NodeSnapshot node_snapshot(const model::NodeInfo& node, const BoundUsage& bound, bool draining);

// `upgrade_pending`: the clusters an active rollout has yet to drain (drain_hold_store.hpp).
placement::Snapshot build_snapshot(const std::vector<ClusterWithNodes>& clusters, const BoundByNode& bound,
                                   const PoolSet& upgrading_pools, const std::set<std::string>& upgrade_pending = {});

}  // namespace fleet::store
