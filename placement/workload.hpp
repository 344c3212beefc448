#pragma once
// A workload as the placement engine sees it (DESIGN §7): what each replica needs, how many replicas, and the
// policy that says which clusters may run them and how replicas are divided. Plain data, validated by
// workload_json.hpp before it gets here; the manifests to apply are opaque and stay with the shell.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/cluster.hpp"
#include "model/label_selector.hpp"
#include "placement/disruption_budget.hpp"
#include "placement/dotted_version.hpp"
#include "placement/model_fit.hpp"

namespace fleet::placement {

inline constexpr int kMaxReplicas = 10'000;
inline constexpr int kMaxGpusPerReplica = 16;  // model::kMaxGpusPerNode: a replica's GPUs sit on one node
inline constexpr std::size_t kMaxGpuModels = 16;
inline constexpr std::size_t kMaxFixedClusters = 1'000;
inline constexpr std::size_t kMaxAffinityTerms = 16;
inline constexpr std::size_t kMaxPropertyRequirements = 16;
inline constexpr std::size_t kMaxTolerations = 32;
inline constexpr std::size_t kMaxSpreadConstraints = 4;
inline constexpr int kMaxPreferenceWeight = 100;

// Per replica. A replica with gpus == 0 and no model is a CPU workload: GPU models, memory and versions do not
// apply. A replica with a model has its GPU count (when not given) and memory per GPU derived from it against the
// fleet before the engine runs (placement/model_placement.hpp); the engine itself never reads `model`.
struct ReplicaResources {
  int gpus = 0;
  std::vector<std::string> gpu_models;  // sorted, unique; empty: any model
  std::int64_t min_gpu_memory_bytes = 0;
  std::int64_t cpu_millicores = 0;
  std::int64_t memory_bytes = 0;
  std::optional<ModelSpec> model;
  bool operator==(const ReplicaResources&) const = default;
};

enum class PolicyType { kPickAll, kPickN, kPickFixed };
// Duplicated: every chosen cluster runs all replicas. Divided: the replicas are split among the chosen clusters.
enum class ReplicaDivision { kDuplicated, kDivided };
// How Divided splits: in proportion to what each cluster can take now (Karmada's dynamic weight by available
// replicas), or to static weights per cluster.
enum class DivideBy { kCapacity, kWeights };

enum class CompareOp { kGt, kGe, kEq, kNe, kLt, kLe };

// A numeric property of a cluster compared with a value. Properties (placement/cluster_properties.hpp):
// "freeGpus", "totalGpus", "largestFreeGpuBlock", "gpuMemoryGiB", "nodeCount", "costPerGpuHour", or any label
// whose value is a number ("fleet.io/cost-per-gpu-hour"). `gpu_model` narrows the GPU properties to one model.
struct PropertyRequirement {
  std::string property;
  std::string gpu_model;  // empty: all models
  CompareOp op = CompareOp::kGe;
  double value = 0;
  bool operator==(const PropertyRequirement&) const = default;
};

// A cluster matches a term when its labels match the selector and every property requirement holds.
struct ClusterTerm {
  model::LabelSelector labels;
  std::vector<PropertyRequirement> properties;
  bool operator==(const ClusterTerm&) const = default;
};

// KubeFleet's preferred term: matching clusters gain `weight` (-100..100; negative: avoid).
struct PreferredTerm {
  int weight = 0;
  ClusterTerm term;
  bool operator==(const PreferredTerm&) const = default;
};

// Kubernetes' toleration, matched against cluster taints and node taints alike. Empty key with kExists
// tolerates every taint; empty effect matches every effect.
struct Toleration {
  enum class Op { kEqual, kExists };
  std::string key;
  Op op = Op::kEqual;
  std::string value;
  std::string effect;
  bool operator==(const Toleration&) const = default;
};

enum class WhenUnsatisfiable { kDoNotSchedule, kScheduleAnyway };

// Chosen clusters per topology domain may differ by at most max_skew. "region" and "provider" are the cluster's
// own fields; any other key is a cluster label. Clusters without the key are not counted and not constrained.
struct SpreadConstraint {
  std::string topology_key;
  int max_skew = 1;
  WhenUnsatisfiable when_unsatisfiable = WhenUnsatisfiable::kDoNotSchedule;
  bool operator==(const SpreadConstraint&) const = default;
};

struct Policy {
  PolicyType type = PolicyType::kPickAll;
  int number_of_clusters = 0;              // PickN: 1..
  std::vector<std::string> cluster_names;  // PickFixed: sorted, unique
  ReplicaDivision division = ReplicaDivision::kDuplicated;
  DivideBy divide_by = DivideBy::kCapacity;
  std::map<std::string, int> weights;  // DivideBy kWeights: cluster name -> weight (>= 0); absent clusters weigh 1
  std::optional<ClusterTerm> required;
  std::vector<PreferredTerm> preferred;
  std::vector<Toleration> tolerations;
  std::vector<SpreadConstraint> spread;
  bool operator==(const Policy&) const = default;
};

struct Workload {
  std::string name;
  int replicas = 1;
  ReplicaResources resources;
  std::optional<DottedVersion> min_driver_version;
  std::optional<DottedVersion> min_cuda_version;
  Policy policy;
  std::optional<DisruptionBudget> disruption_budget;  // none: a drain never waits for this workload
  bool operator==(const Workload&) const = default;
};

}  // namespace fleet::placement
