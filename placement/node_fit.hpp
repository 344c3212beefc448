#pragma once
// Node-level fit: how many replicas a cluster can take now. A replica's GPUs, CPU and memory all come from one
// node, so "8 free GPUs in the cluster" spread as eight nodes with one each fits no 8-GPU replica.
#include <cstdint>
#include <string>
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

struct NodeFit {
  int replicas = 0;       // that fit now, at most the limit asked for
  int largest_block = 0;  // most free GPUs on one eligible node (exact only when replicas < limit)
  int gpu_replicas = 0;   // that the free GPU blocks alone would hold (same caveat): tells GPUs from CPU/memory
};

// How many replicas of `resources` one node with `free` can take.
int replicas_on_node(const ReplicaResources& resources, const NodeFree& free);

// Counts over the eligible nodes and stops at `limit`.
NodeFit fit_replicas(const CycleState& state, std::size_t cluster, const std::vector<std::uint32_t>& nodes, int limit);

// "3 of 4 replicas fit: needs 8 GPUs (NVIDIA H100 80GB HBM3) on one node, largest free block is 4".
std::string insufficient_capacity_reason(const CycleState& state, const NodeFit& fit, int wanted);

}  // namespace fleet::placement
