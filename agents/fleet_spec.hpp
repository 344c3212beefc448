#pragma once
// The Fleet spec (DESIGN §5 "Fleet spec"): the input of the sim backend and of fleet-sim. Every field listed there
// works as written; omitted fields take the defaults below; unknown fields are ignored (the design allows extra
// fields). docs/fleet-spec.md is the reference for users.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/inventory.hpp"

namespace fleet::agent {

inline constexpr std::size_t kMaxSpecClusters = 2000;          // in a spec file (which is at most 1 MiB anyway)
inline constexpr std::size_t kMaxGeneratedClusters = 100'000;  // generate_fleet_spec: scale runs
inline constexpr std::size_t kMaxPoolsPerCluster = 32;
inline constexpr int kMaxPoolNodes = 1000;
inline constexpr int kMaxNodeCpu = 4096;
inline constexpr double kMaxNodeMemoryGiB = 65536;
inline constexpr double kMaxGpuMemoryGiB = 1024;
inline constexpr double kMaxDurationSeconds = 7 * 24 * 3600;
inline constexpr double kMaxTimeScale = 1'000'000;

inline constexpr std::string_view kDefaultKubernetesVersion = "1.31.4";
inline constexpr std::string_view kDefaultNodeImageVersion = "AKSUbuntu-2204gen2containerd-202510.01.0";
inline constexpr std::string_view kDefaultDriverVersion = "550.90.07";
inline constexpr std::string_view kDefaultCudaVersion = "12.4";

struct GpuSpec {
  std::string model;  // the CUDA device name ("NVIDIA H100 80GB HBM3"); a short key ("h100") is expanded
  int count = 1;      // GPUs per node
  double memory_gib = 0;
  std::string driver_version = std::string(kDefaultDriverVersion);
  std::string cuda_version = std::string(kDefaultCudaVersion);
  bool operator==(const GpuSpec&) const = default;
};

struct PoolSpec {
  std::string name;
  int count = 1;  // nodes
  int cpu = 8;    // cores per node
  double memory_gib = 32;
  std::optional<GpuSpec> gpu;
  // Extra field: GPU nodes of a fresh sim start admitted (an estate already probed) unless this is pending_probe.
  model::Admission initial_admission = model::Admission::kAdmitted;
  bool operator==(const PoolSpec&) const = default;
};

// Builds a pool in one expression (designated initializers that skip members trip -Wextra).
inline PoolSpec make_pool(std::string name, int count, int cpu, double memory_gib, std::optional<GpuSpec> gpu = {}) {
  PoolSpec p;
  p.name = std::move(name);
  p.count = count;
  p.cpu = cpu;
  p.memory_gib = memory_gib;
  p.gpu = std::move(gpu);
  return p;
}

struct ClusterSpec {
  std::string name;
  std::string provider = "aks";
  std::string region;
  std::string update_group;
  model::Labels labels;
  std::vector<model::Taint> taints;
  std::string kubernetes_version = std::string(kDefaultKubernetesVersion);
  std::string node_image_version = std::string(kDefaultNodeImageVersion);
  std::vector<PoolSpec> pools;
  bool operator==(const ClusterSpec&) const = default;
};

struct Durations {
  double control_plane_upgrade_seconds = 600;
  double node_upgrade_seconds = 240;
  double drain_seconds = 60;
  double probe_seconds = 15;
  bool operator==(const Durations&) const = default;
};

// Probabilities in [0, 1]: per node upgrade, per probe, per drain; agentDisconnect per disconnect window (one
// simulated minute by default, see SimCluster::should_disconnect).
struct FaultRates {
  double node_upgrade_failure = 0;
  double probe_failure = 0;
  double drain_timeout = 0;
  double agent_disconnect = 0;
  bool operator==(const FaultRates&) const = default;
};

struct FleetSpec {
  std::uint64_t seed = 1;
  double time_scale = 1;  // simulated seconds per real second
  Durations durations;
  FaultRates faults;
  std::vector<ClusterSpec> clusters;
  bool operator==(const FleetSpec&) const = default;
};

Result<FleetSpec> parse_fleet_spec(const nlohmann::json& j);
// The same from text: JSON limits of fleet::parse_json_text (1 MiB, depth, duplicate keys).
Result<FleetSpec> parse_fleet_spec_text(std::string_view text);
// Every field written out, defaults included; parse_fleet_spec(to_json(s)) == s.
nlohmann::json to_json(const FleetSpec& spec);

// A GPU model the simulator knows by short key, for --gpu-mix and for `gpu.model` shorthands.
struct KnownGpu {
  std::string_view key;    // "h100"
  std::string_view model;  // "NVIDIA H100 80GB HBM3"
  double memory_gib;
};
const std::vector<KnownGpu>& known_gpus();
const KnownGpu* find_known_gpu(std::string_view key_or_model);

// One entry of --gpu-mix "h100:8x40%": model key, GPUs per node, percent of clusters.
struct GpuMixEntry {
  std::string key;
  int gpus_per_node = 0;
  int percent = 0;
  bool operator==(const GpuMixEntry&) const = default;
};
// "h100:8x40%,a100:8x30%,l40s:4x30%"; whitespace around entries is ignored; percents sum to at most 100, the
// rest of the clusters are CPU-only; "" means all CPU-only. Errors are kInvalid with field "gpuMix".
Result<std::vector<GpuMixEntry>> parse_gpu_mix(std::string_view mix);

// fleet-sim --clusters N --gpu-mix …: N clusters (1..kMaxSpecClusters) of mixed aks/arc providers over a set of
// regions, update groups canary (10%, at least one) / wave1 / wave2, each with a system pool and one GPU pool
// (or a CPU pool for the CPU-only share). The share of each GPU kind is exact up to rounding (largest remainder);
// which cluster gets which is shuffled by `seed`, which also becomes the spec's seed.
Result<FleetSpec> generate_fleet_spec(int clusters, std::string_view gpu_mix, std::uint64_t seed);

}  // namespace fleet::agent
