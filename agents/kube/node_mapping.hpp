#pragma once
// A Kubernetes Node object (core/v1 JSON) → the agent's NodeInfo: pool, versions, schedulable, a bounded set of
// labels, taints, capacity/allocatable, admission from the fleet taints, and GPUs from the labels NVIDIA GPU
// Feature Discovery sets. Pure: no I/O, so every rule here has a unit test.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/inventory.hpp"

namespace fleet::agent::kube {

inline constexpr std::string_view kGpuResource = "nvidia.com/gpu";

struct NodeMappingOptions {
  std::string cluster;  // for the synthetic GPU uuids (model::make_gpu_uuid) when no real uuid is known
  std::uint64_t uuid_seed = 0;
};

// Errors (kInvalid) only for a node the inventory cannot carry at all: no name, or a name that is not a DNS-1123
// subdomain. Everything else degrades: invalid labels and taints are left out, versions are made into tokens,
// unparsable quantities count as 0.
Result<model::NodeInfo> node_info_from_k8s(const nlohmann::json& node, const NodeMappingOptions& options);

// The cluster's node image: the most common one among its nodes (nodes being upgraded are the minority);
// "unknown" without nodes.
std::string dominant_image(const std::vector<model::NodeInfo>& nodes);

// What admission needs of a node beyond NodeInfo: when it registered (how long it was schedulable unguarded) and
// what an agent recorded on it (a restarted agent carries on instead of probing every node again).
inline constexpr std::string_view kAdmissionAnnotation = "fleet.io/admission";   // model::to_string(Admission)
inline constexpr std::string_view kLastProbeAnnotation = "fleet.io/last-probe";  // RFC 3339
struct NodeMeta {
  std::optional<std::chrono::system_clock::time_point> created;  // metadata.creationTimestamp
  std::optional<model::Admission> recorded_admission;
  std::optional<std::chrono::system_clock::time_point> recorded_last_probe;
  bool operator==(const NodeMeta&) const = default;
};
// Missing or unreadable fields are nullopt.
NodeMeta node_meta_from_k8s(const nlohmann::json& node);

// The node pool: kubernetes.azure.com/agentpool, agentpool, node.kubernetes.io/pool, the GKE/EKS/Karpenter pool
// labels, else "default"; made into a DNS-1123 label.
std::string pool_from_labels(const model::Labels& labels);
// Admission from the fleet taints: quarantined wins over unverified; neither → admitted.
model::Admission admission_from_taints(const std::vector<model::Taint>& taints);
// GFD's gpu.product label ("NVIDIA-H100-80GB-HBM3", "-SHARED" for time-slicing) → the name nvidia-smi prints
// ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB"): a table of known models, else dashes become spaces.
std::string gpu_model_from_product_label(std::string_view product);
// One GpuInfo per index 0..count-1 from GFD labels (model, memory in MiB, driver and CUDA versions, MIG).
std::vector<model::GpuInfo> gpus_from_labels(const model::Labels& labels, int count, std::string_view node,
                                             const NodeMappingOptions& options);
// At most model::kMaxLabels valid labels: the well-known node labels and NVIDIA's first, then the rest by key.
model::Labels select_labels(const model::Labels& all);
// Replaces every character outside [A-Za-z0-9._+-] with '-' and bounds the length: a version the inventory
// accepts ("Ubuntu 22.04.5 LTS" → "Ubuntu-22.04.5-LTS"); "unknown" when nothing is left.
std::string version_token(std::string_view text);

}  // namespace fleet::agent::kube
