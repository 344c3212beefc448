#pragma once
// Node-level fit: how many replicas a cluster can take now. A replica's GPUs, CPU and memory all come from one
// node, so "8 free GPUs in the cluster" spread as eight nodes with one each fits no 8-GPU replica.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

struct NodeFit {
  int replicas = 0;       // that fit now, at most the limit asked for
  int largest_block = 0;  // most free GPUs on one eligible node (exact only when replicas < limit)
  int gpu_replicas = 0;   // that the free GPU blocks alone would hold (same caveat): tells GPUs from CPU/memory
};

// The node indexes of a NodeSet, ascending.
std::vector<std::uint32_t> node_list(NodeSet nodes);

// How many replicas of `resources` one node with `free` can take. Inline: node fit calls it for every node that
// has the GPUs.
inline int replicas_on_node(const ReplicaResources& resources, const NodeFree& free) {
  std::int64_t count = std::numeric_limits<int>::max();
  if (resources.gpus > 0) count = std::min<std::int64_t>(count, free.gpus / resources.gpus);
  if (resources.cpu_millicores > 0) count = std::min(count, free.cpu_millicores / resources.cpu_millicores);
  if (resources.memory_bytes > 0) count = std::min(count, free.memory_bytes / resources.memory_bytes);
  return static_cast<int>(count);
}

// Counts over the eligible nodes (a NodeSet: placement/cluster_verdicts.hpp keeps one per workload signature and
// cluster) and stops at `limit`.
NodeFit fit_replicas(const CycleState& state, std::size_t cluster, NodeSet nodes, int limit);

// "3 of 4 replicas fit: needs 8 GPUs (NVIDIA H100 80GB HBM3) on one node, largest free block is 4".
std::string insufficient_capacity_reason(const CycleState& state, const NodeFit& fit, int wanted);

}  // namespace fleet::placement
