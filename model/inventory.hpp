#pragma once
// What an agent reports about its cluster (DESIGN §3 nodes and gpus): plain data plus JSON with validation.
// An inventory is canonical when its nodes are sorted by name and each node's GPUs by index; parsing and every
// function here produce canonical inventories, so `==` compares content.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"

namespace fleet::model {

inline constexpr std::size_t kMaxNodes = 5000;
inline constexpr std::size_t kMaxGpusPerNode = 16;
inline constexpr std::size_t kMaxVersionLength = 128;   // "AKSUbuntu-2204gen2containerd-202510.01.0" and friends
inline constexpr std::size_t kMaxGpuModelLength = 128;  // "NVIDIA H100 80GB HBM3"
inline constexpr std::size_t kMaxGpuUuidLength = 64;    // "GPU-" + 36
inline constexpr std::int64_t kMaxCpuMillicores = 4'096'000;
inline constexpr std::int64_t kMaxNodeMemoryBytes = std::int64_t{64} << 40;  // 64 TiB
inline constexpr std::int64_t kMaxGpuMemoryBytes = std::int64_t{4} << 40;    // 4 TiB

// Node admission taints (DESIGN §5): a new or upgraded GPU node carries `unverified` until its probe passes; a
// node whose probe fails keeps it and gains `quarantined`.
inline constexpr std::string_view kTaintGpuUnverified = "fleet.io/gpu-unverified";
inline constexpr std::string_view kTaintGpuQuarantined = "fleet.io/gpu-quarantined";

// The admission life of a GPU node (admission/admission_machine.hpp): pending_probe → probing → admitted or
// quarantined. A node without GPUs is admitted without a probe.
enum class Admission { kPendingProbe, kAdmitted, kQuarantined, kProbing };
std::string_view to_string(Admission admission);  // "pending_probe" | "admitted" | "quarantined" | "probing"
std::optional<Admission> parse_admission(std::string_view text);

inline constexpr const char* kMigModes[] = {"disabled", "enabled"};
inline constexpr const char* kGpuHealth[] = {"healthy", "unhealthy", "unknown"};

struct GpuInfo {
  int index = 0;
  std::string uuid;
  std::string model;
  std::int64_t memory_bytes = 0;
  std::string driver_version;
  std::string cuda_version;
  std::string mig_mode = "disabled";
  std::string health = "healthy";
  bool operator==(const GpuInfo&) const = default;
};

struct ResourceList {
  std::int64_t cpu_millicores = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t gpus = 0;
  bool operator==(const ResourceList&) const = default;
};

struct NodeInfo {
  std::string name;
  std::string pool;
  std::string kubernetes_version;
  std::string node_image_version;
  bool schedulable = true;
  Admission admission = Admission::kAdmitted;
  Labels labels;
  std::vector<Taint> taints;
  ResourceList capacity;
  ResourceList allocatable;
  // What pods running on the node request (the sim: its applied workloads' placements), so that free capacity is
  // what the agent says. Each figure is at most capacity's (not allocatable's: a GPU that turns unhealthy lowers
  // allocatable under pods already running). JSON "allocated", optional on input (zeros).
  ResourceList allocated;
  std::vector<GpuInfo> gpus;
  bool operator==(const NodeInfo&) const = default;

  bool has_taint(std::string_view key) const;
  // The GPUs whose health is "healthy": what a node can offer work.
  std::int64_t healthy_gpus() const;
};

struct ClusterInventory {
  std::string kubernetes_version;  // the control plane's
  std::string node_image_version;  // the cluster's current default node image
  std::vector<NodeInfo> nodes;
  bool operator==(const ClusterInventory&) const = default;

  const NodeInfo* find_node(std::string_view name) const;
  NodeInfo* find_node(std::string_view name);
};

// "key=value:Effect" (value may be empty: "fleet.io/gpu-unverified=:NoSchedule"; "key:Effect" is accepted too),
// validated like any taint.
Result<Taint> parse_taint_string(std::string_view text, std::string_view field);
std::string format_taint(const Taint& taint);

// Sorts nodes by name and GPUs by index.
void canonicalize(ClusterInventory& inventory);
// Every rule and limit of the JSON form, on the structs (what the simulator and apply_delta check their output
// with). Errors name the field as a JSON path ("nodes[3].gpus[1].uuid").
Status validate_node(const NodeInfo& node, std::string_view path);
Status validate_inventory(const ClusterInventory& inventory);

nlohmann::json to_json(const GpuInfo& gpu);
nlohmann::json to_json(const ResourceList& resources);
nlohmann::json to_json(const NodeInfo& node);
nlohmann::json to_json(const ClusterInventory& inventory);

// Unknown members are ignored, so that a newer agent can report more than this fleetd knows. `path` prefixes
// error fields when the object is nested in a larger document ("inventory").
Result<GpuInfo> gpu_from_json(const nlohmann::json& j, std::string_view path);
// The optional "gpus" member of a node or node change: at most kMaxGpusPerNode, each valid, sorted by index.
// nullopt when the member is absent.
Result<std::optional<std::vector<GpuInfo>>> gpus_member_from_json(const nlohmann::json& j, std::string_view path);
Result<ResourceList> resources_from_json(const nlohmann::json& j, std::string_view path);
Result<NodeInfo> node_from_json(const nlohmann::json& j, std::string_view path);
Result<ClusterInventory> inventory_from_json(const nlohmann::json& j, std::string_view path = {});

// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (the nvidia-smi form), a pure function of its inputs.
std::string make_gpu_uuid(std::uint64_t seed, std::string_view cluster, std::string_view node, int index);

}  // namespace fleet::model
