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
                                    const std::vector<std::uint32_t>& eligible, int replicas) {
  const ReplicaResources& resources = state.workload->resources;
  const ClusterSnapshot& snapshot = ledger.clusters()[cluster];
  std::vector<int> counts(eligible.size(), 0);
  for (int r = 0; r < replicas; ++r) {
    std::size_t best = eligible.size();
    std::tuple<int, double, int> best_key{1, std::numeric_limits<double>::infinity(), 0};
    for (std::size_t i = 0; i < eligible.size(); ++i) {
      const NodeFree free = ledger.free(cluster, eligible[i]);
      if (replicas_on_node(resources, free) < 1) continue;
      const double delta = resources.gpus > 0 ? fragmentation_delta(free.gpus, resources.gpus) : 0.0;
      const int current = currently_on(state, snapshot, snapshot.nodes[eligible[i]]) ? 0 : 1;
      const std::tuple<int, double, int> key{current, delta, resources.gpus > 0 ? free.gpus : 0};
      if (best == eligible.size() || key < best_key) {
        best = i;
        best_key = key;
      }
    }
    if (best == eligible.size()) break;
    ledger.take(cluster, eligible[best], resources, 1);
    ++counts[best];
  }
  std::vector<NodeShare> shares;
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    if (counts[i] > 0) shares.push_back({snapshot.nodes[eligible[i]].name, counts[i]});
  }
  return shares;
}

}  // namespace fleet::placement
