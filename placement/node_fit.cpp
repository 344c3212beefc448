#include "placement/node_fit.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#include "model/inventory.hpp"

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

namespace {

// The most free GPUs on one of `nodes` (0 when none has any).
int largest_free_block(const CapacityLedger& ledger, std::size_t cluster, NodeSet nodes) {
  const auto any_of = [&](int gpus) {
    const NodeSet with = ledger.nodes_with_free_gpus(cluster, gpus);
    for (std::size_t w = 0; w < nodes.size(); ++w) {
      if ((nodes[w] & with[w]) != 0) return true;
    }
    return false;
  };
  constexpr int kMax = static_cast<int>(model::kMaxGpusPerNode);
  if (any_of(kMax)) {  // only a hand-made snapshot has more on a node: look at those nodes
    int largest = kMax;
    const NodeFree* row = ledger.free_row(cluster);
    const NodeSet with = ledger.nodes_with_free_gpus(cluster, kMax);
    for (std::size_t w = 0; w < nodes.size(); ++w) {
      for (std::uint64_t bits = nodes[w] & with[w]; bits != 0; bits &= bits - 1) {
        largest = std::max(largest, row[w * 64 + static_cast<std::size_t>(std::countr_zero(bits))].gpus);
      }
    }
    return largest;
  }
  for (int gpus = kMax - 1; gpus > 0; --gpus) {
    if (any_of(gpus)) return gpus;
  }
  return 0;
}

// Whether one node holds `count` more replicas, by multiplication: replicas_on_node divides up to three times, and
// this is asked of the first fitting node of nearly every candidate cluster of every decision. Counts above 1024
// (where a product might overflow) say no, and the caller divides.
bool holds_replicas(const ReplicaResources& r, const NodeFree& free, int count) {
  constexpr std::int64_t kLargestChecked = 1024;
  const auto n = static_cast<std::int64_t>(count);
  return n <= kLargestChecked && r.gpus * n <= free.gpus && r.cpu_millicores * n <= free.cpu_millicores &&
         r.memory_bytes * n <= free.memory_bytes;
}

}  // namespace

NodeFit fit_replicas(const CycleState& state, std::size_t cluster, NodeSet nodes, int limit) {
  NodeFit fit;
  if (!state.pins_nodes) {
    fit.replicas = limit;
    return fit;
  }
  const ReplicaResources& resources = state.workload->resources;
  const CapacityLedger& ledger = *state.ledger;
  const NodeFree* row = ledger.free_row(cluster);
  const bool by_gpus = CapacityLedger::has_free_gpus_set(resources.gpus);
  // A GPU workload visits only the eligible nodes with enough free GPUs (the ledger keeps them as a set): most
  // eligible nodes of a busy fleet hold no replica, and this runs for every candidate cluster of every decision.
  const NodeSet with_gpus = by_gpus ? ledger.nodes_with_free_gpus(cluster, resources.gpus) : NodeSet{};
  for (std::size_t w = 0; w < nodes.size(); ++w) {
    for (std::uint64_t bits = by_gpus ? nodes[w] & with_gpus[w] : nodes[w]; bits != 0; bits &= bits - 1) {
      const NodeFree& free = row[w * 64 + static_cast<std::size_t>(std::countr_zero(bits))];
      if (!by_gpus) fit.largest_block = std::max(fit.largest_block, free.gpus);
      if (free.gpus < resources.gpus) continue;
      // Usually the first node that fits holds every replica still wanted: then fit is done, and gpu_replicas
      // is not exact anyway (placement/node_fit.hpp), so it is not counted.
      if (holds_replicas(resources, free, limit - fit.replicas)) {
        fit.replicas = limit;
        return fit;
      }
      if (resources.gpus > 0) fit.gpu_replicas += free.gpus / resources.gpus;
      fit.replicas += std::min(replicas_on_node(resources, free), limit - fit.replicas);
      if (fit.replicas >= limit) return fit;
    }
  }
  // Short of the limit: the reason names the largest free block (placement/node_fit.hpp's caveat).
  if (by_gpus) fit.largest_block = largest_free_block(ledger, cluster, nodes);
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
