#pragma once
// Inventories for tests: a fixed GPU cluster, and seeded random inventories and mutations of them (for the delta
// round-trip properties).
#include <string>

#include "common/seeded_random.hpp"
#include "model/inventory.hpp"

namespace fleet::model::testing {

inline NodeInfo random_node(SplitMix64& rng, const std::string& name) {
  NodeInfo n;
  n.name = name;
  n.pool = rng.chance(0.5) ? "system" : "gpu";
  n.kubernetes_version = rng.chance(0.5) ? "1.31.4" : "1.30.9";
  n.node_image_version = "AKSUbuntu-2204gen2containerd-20251" + std::to_string(rng.below(3)) + ".01.0";
  n.schedulable = rng.chance(0.8);
  n.admission = static_cast<Admission>(rng.below(3));
  n.labels["kubernetes.azure.com/agentpool"] = n.pool;
  if (rng.chance(0.3)) n.labels["team"] = "t" + std::to_string(rng.below(5));
  if (rng.chance(0.3)) n.taints.push_back({std::string(kTaintGpuUnverified), "", "NoSchedule"});
  if (rng.chance(0.1)) n.taints.push_back({std::string(kTaintGpuQuarantined), "", "NoSchedule"});
  n.capacity = {static_cast<std::int64_t>(1000 * (1 + rng.below(96))),
                static_cast<std::int64_t>(rng.below(1) + 1) << 35, 0};
  n.allocatable = {n.capacity.cpu_millicores - 100, n.capacity.memory_bytes >> 1, 0};
  if (n.pool == "gpu") {
    int count = 1 + static_cast<int>(rng.below(8));
    for (int i = 0; i < count; ++i) {
      GpuInfo g;
      g.index = i;
      g.uuid = make_gpu_uuid(rng.next(), "c", name, i);
      g.model = "NVIDIA H100 80GB HBM3";
      g.memory_bytes = std::int64_t{80} << 30;
      g.driver_version = rng.chance(0.5) ? "550.90.07" : "560.35.03";
      g.cuda_version = "12.4";
      g.health = rng.chance(0.9) ? "healthy" : "unhealthy";
      n.gpus.push_back(g);
    }
    n.capacity.gpus = count;
    n.allocatable.gpus = count;
  }
  return n;
}

inline ClusterInventory random_inventory(SplitMix64& rng, int max_nodes = 40) {
  ClusterInventory inv;
  inv.kubernetes_version = rng.chance(0.5) ? "1.31.4" : "1.32.7";
  inv.node_image_version = "AKSUbuntu-2204gen2containerd-202510.01.0";
  int count = static_cast<int>(rng.below(static_cast<std::uint64_t>(max_nodes) + 1));
  for (int i = 0; i < count; ++i) {
    // Names from a small space so that two random inventories share some nodes.
    std::string name = "node-" + std::to_string(rng.below(static_cast<std::uint64_t>(max_nodes) * 2));
    if (inv.find_node(name)) continue;
    inv.nodes.push_back(random_node(rng, name));
    canonicalize(inv);
  }
  return inv;
}

// `inv` with a few random changes of every kind: nodes added, removed, and fields changed.
// `nodes` nodes "gpu-0", "gpu-1", … of pool "gpu", each with `gpus` healthy H100s, admitted; canonical.
inline ClusterInventory gpu_inventory(int nodes, int gpus, const std::string& cluster = "c") {
  ClusterInventory inv;
  inv.kubernetes_version = "1.31.4";
  inv.node_image_version = "AKSUbuntu-2204gen2containerd-202510.01.0";
  for (int i = 0; i < nodes; ++i) {
    NodeInfo n;
    n.name = "gpu-" + std::to_string(i);
    n.pool = "gpu";
    n.kubernetes_version = inv.kubernetes_version;
    n.node_image_version = inv.node_image_version;
    n.labels["kubernetes.azure.com/agentpool"] = "gpu";
    n.capacity = {96000, std::int64_t{1024} << 30, gpus};
    n.allocatable = {94000, std::int64_t{960} << 30, gpus};
    for (int g = 0; g < gpus; ++g) {
      n.gpus.push_back(GpuInfo{g, make_gpu_uuid(7, cluster, n.name, g), "NVIDIA H100 80GB HBM3", std::int64_t{80} << 30,
                               "550.90.07", "12.4", "disabled", "healthy"});
    }
    inv.nodes.push_back(std::move(n));
  }
  canonicalize(inv);
  return inv;
}

inline ClusterInventory mutate(SplitMix64& rng, ClusterInventory inv) {
  if (rng.chance(0.2)) inv.kubernetes_version = "1.33.1";
  if (rng.chance(0.2)) inv.node_image_version = "AKSUbuntu-2204gen2containerd-202511.01.0";
  for (NodeInfo& n : inv.nodes) {
    switch (rng.below(8)) {
      case 0:
        n.schedulable = !n.schedulable;
        break;
      case 1:
        n.admission = static_cast<Admission>(rng.below(3));
        break;
      case 2:
        n.labels["changed"] = "yes";
        break;
      case 3:
        n.taints.clear();
        break;
      case 4:
        n.node_image_version = "AKSUbuntu-2204gen2containerd-202511.01.0";
        break;
      case 5:
        if (!n.gpus.empty()) n.gpus[rng.below(n.gpus.size())].health = "unknown";
        break;
      case 6:  // workloads came (no draw of its own, so the other cases' draws are unchanged)
        n.allocated = {n.allocatable.cpu_millicores / 2, n.allocatable.memory_bytes / 4, n.capacity.gpus / 2};
        break;
      default:
        break;
    }
  }
  std::erase_if(inv.nodes, [&](const NodeInfo&) { return rng.chance(0.1); });
  int adds = static_cast<int>(rng.below(4));
  for (int i = 0; i < adds; ++i) {
    std::string name = "new-" + std::to_string(rng.below(1000));
    if (!inv.find_node(name)) {
      inv.nodes.push_back(random_node(rng, name));
      canonicalize(inv);
    }
  }
  return inv;
}

}  // namespace fleet::model::testing
