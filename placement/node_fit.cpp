#include "placement/node_fit.hpp"

#include <algorithm>
#include <limits>

namespace fleet::placement {

int replicas_on_node(const ReplicaResources& resources, const NodeFree& free) {
  std::int64_t count = std::numeric_limits<int>::max();
  if (resources.gpus > 0) count = std::min<std::int64_t>(count, free.gpus / resources.gpus);
  if (resources.cpu_millicores > 0) count = std::min(count, free.cpu_millicores / resources.cpu_millicores);
  if (resources.memory_bytes > 0) count = std::min(count, free.memory_bytes / resources.memory_bytes);
  return static_cast<int>(count);
}

NodeFit fit_replicas(const CycleState& state, std::size_t cluster, const std::vector<std::uint32_t>& nodes, int limit) {
  NodeFit fit;
  if (!state.pins_nodes) {
    fit.replicas = limit;
    return fit;
  }
  const ReplicaResources& resources = state.workload->resources;
  for (const std::uint32_t node : nodes) {
    const NodeFree free = state.ledger->free(cluster, node);
    fit.largest_block = std::max(fit.largest_block, free.gpus);
    // Most nodes of a busy fleet hold no replica: skip them before any division (this loop runs for every
    // eligible node of every candidate cluster of every decision).
    if (free.gpus < resources.gpus) continue;
    if (resources.gpus > 0) fit.gpu_replicas += free.gpus / resources.gpus;
    fit.replicas += std::min(replicas_on_node(resources, free), limit - fit.replicas);
    if (fit.replicas >= limit) break;
  }
  return fit;
}

std::string insufficient_capacity_reason(const CycleState& state, const NodeFit& fit, int wanted) {
  std::string text = fit.replicas == 0
                         ? std::string("no replica fits")
                         : std::to_string(fit.replicas) + " of " + std::to_string(wanted) + " replicas fit";
  text += ": needs " + state.replica_shape + " on one node";
  const int gpus = state.workload->resources.gpus;
  if (gpus > 0 && fit.largest_block < gpus) {
    text += ", largest free block is " + std::to_string(fit.largest_block);
  } else if (gpus > 0 && fit.gpu_replicas <= fit.replicas) {
    text += ", the free GPU blocks hold " + std::to_string(fit.gpu_replicas);
  } else if (state.workload->resources.cpu_millicores > 0 || state.workload->resources.memory_bytes > 0) {
    text += ", CPU or memory runs out first";
  }
  return text;
}

}  // namespace fleet::placement
