#pragma once
// Snapshots and workloads for the engine's tests, built by hand: every number a test checks is visible here.
#include <optional>
#include <string>
#include <vector>

#include "placement/engine.hpp"

namespace fleet::placement::testing {

inline constexpr const char* kH100 = "NVIDIA H100 80GB HBM3";
inline constexpr const char* kA100 = "NVIDIA A100-SXM4-80GB";
inline constexpr const char* kL4 = "NVIDIA L4";
inline constexpr std::int64_t kGiB = std::int64_t{1} << 30;

inline NodeSnapshot gpu_node(std::string name, int gpus = 8, int used = 0, std::string model = kH100) {
  NodeSnapshot node;
  node.name = std::move(name);
  node.gpu_model = std::move(model);
  node.gpu_memory_bytes = (node.gpu_model == kL4 ? 24 : 80) * kGiB;
  node.driver_version = *parse_dotted_version("550.90.07");
  node.cuda_version = *parse_dotted_version("12.4");
  node.gpus_healthy = gpus;
  node.gpus_used = used;
  node.cpu_allocatable_millicores = 96'000;
  node.memory_allocatable_bytes = 1024 * kGiB;
  return node;
}

inline NodeSnapshot cpu_node(std::string name) {
  NodeSnapshot node;
  node.name = std::move(name);
  node.cpu_allocatable_millicores = 8'000;
  node.memory_allocatable_bytes = 32 * kGiB;
  return node;
}

inline ClusterSnapshot cluster(std::string name, std::vector<NodeSnapshot> nodes, std::string region = "westeurope") {
  ClusterSnapshot c;
  c.name = std::move(name);
  c.provider = "aks";
  c.region = std::move(region);
  c.labels = {{"env", "prod"}};
  c.nodes = std::move(nodes);
  return c;
}

// A cluster of `count` 8-GPU nodes named <cluster>-n0.., each with `used` GPUs in use.
inline ClusterSnapshot gpu_cluster(std::string name, int count, int used = 0, std::string region = "westeurope") {
  std::vector<NodeSnapshot> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back(gpu_node(name + "-n" + std::to_string(i), 8, used));
  return cluster(std::move(name), std::move(nodes), std::move(region));
}

inline Workload workload(std::string name, int gpus, int replicas, PolicyType type = PolicyType::kPickAll,
                         int number_of_clusters = 0) {
  Workload w;
  w.name = std::move(name);
  w.replicas = replicas;
  w.resources.gpus = gpus;
  w.policy.type = type;
  w.policy.number_of_clusters = number_of_clusters;
  return w;
}

inline Workload divided(Workload w) {
  w.policy.division = ReplicaDivision::kDivided;
  return w;
}

inline std::optional<Rejection> rejection_for(const Decision& decision, const std::string& cluster) {
  for (const Rejection& r : decision.rejected) {
    if (r.cluster == cluster) return r;
  }
  return std::nullopt;
}

inline const ClusterBinding* binding_for(const Decision& decision, const std::string& cluster) {
  for (const ClusterBinding& b : decision.bindings) {
    if (b.cluster == cluster) return &b;
  }
  return nullptr;
}

}  // namespace fleet::placement::testing
