#include "placement/node_fit.hpp"

#include <algorithm>
#include <bit>
#include <limits>

namespace fleet::placement {

std::vector<std::uint32_t> node_list(NodeSet nodes) {
  std::vector<std::uint32_t> list;
  for (std::size_t w = 0; w < nodes.size(); ++w) {
    for (std::uint64_t bits = nodes[w]; bits != 0; bits &= bits - 1) {
      list.push_back(static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits))));
    }
  }
  return list;
}

NodeFit fit_replicas(const CycleState& state, std::size_t cluster, NodeSet nodes, int limit) {
  NodeFit fit;
  if (!state.pins_nodes) {
    fit.replicas = limit;
    return fit;
  }
  const ReplicaResources& resources = state.workload->resources;
  const NodeFree* row = state.ledger->free_row(cluster);
  for (std::size_t w = 0; w < nodes.size(); ++w) {
    for (std::uint64_t bits = nodes[w]; bits != 0; bits &= bits - 1) {
      const NodeFree& free = row[w * 64 + static_cast<std::size_t>(std::countr_zero(bits))];
      fit.largest_block = std::max(fit.largest_block, free.gpus);
      // Most nodes of a busy fleet hold no replica: skip them before any division (this loop runs for every
      // eligible node of every candidate cluster of every decision).
      if (free.gpus < resources.gpus) continue;
      if (resources.gpus > 0) fit.gpu_replicas += free.gpus / resources.gpus;
      fit.replicas += std::min(replicas_on_node(resources, free), limit - fit.replicas);
      if (fit.replicas >= limit) return fit;
    }
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
