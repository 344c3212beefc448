#include "placement/node_assignment.hpp"

#include <algorithm>
#include <limits>
#include <tuple>

#include "placement/fragmentation.hpp"
#include "placement/node_fit.hpp"

namespace fleet::placement {

namespace {

bool currently_on(const CycleState& state, const ClusterSnapshot& cluster, const NodeSnapshot& node) {
  const auto it = state.current.find(cluster.name);
  if (it == state.current.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const NodeShare& share) { return share.node == node.name; });
}

}  // namespace

std::vector<NodeShare> assign_nodes(const CycleState& state, CapacityLedger& ledger, std::size_t cluster,
                                    NodeSet eligible, int replicas) {
  const ReplicaResources& resources = state.workload->resources;
  const ClusterSnapshot& snapshot = ledger.clusters()[cluster];
  // Taking replicas only shrinks what is free, so the nodes that can hold one are found once: for GPU work the
  // eligible nodes with enough free GPUs (the ledger's set), not every eligible node.
  std::vector<std::uint32_t> nodes;
  if (CapacityLedger::has_free_gpus_set(resources.gpus)) {
    const NodeSet with_gpus = ledger.nodes_with_free_gpus(cluster, resources.gpus);
    std::vector<std::uint64_t> both(eligible.size());
    for (std::size_t w = 0; w < eligible.size(); ++w) both[w] = eligible[w] & with_gpus[w];
    nodes = node_list(both);
  } else {
    nodes = node_list(eligible);
  }
  std::vector<int> current(nodes.size());  // 0 where the workload is already, 1 elsewhere (ranked first: 0)
  for (std::size_t i = 0; i < nodes.size(); ++i)
    current[i] = currently_on(state, snapshot, snapshot.nodes[nodes[i]]) ? 0 : 1;
  std::vector<int> counts(nodes.size(), 0);
  for (int r = 0; r < replicas; ++r) {
    std::size_t best = nodes.size();
    std::tuple<int, double, int> best_key{1, std::numeric_limits<double>::infinity(), 0};
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const NodeFree free = ledger.free(cluster, nodes[i]);
      if (replicas_on_node(resources, free) < 1) continue;
      const double delta = resources.gpus > 0 ? fragmentation_delta(free.gpus, resources.gpus) : 0.0;
      const std::tuple<int, double, int> key{current[i], delta, resources.gpus > 0 ? free.gpus : 0};
      if (best == nodes.size() || key < best_key) {
        best = i;
        best_key = key;
      }
    }
    if (best == nodes.size()) break;
    ledger.take(cluster, nodes[best], resources, 1);
    ++counts[best];
  }
  std::vector<NodeShare> shares;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (counts[i] > 0) shares.push_back({snapshot.nodes[nodes[i]].name, counts[i]});
  }
  return shares;
}

}  // namespace fleet::placement
