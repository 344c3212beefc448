#pragma once
// A workload's JSON (POST/PUT /v1/workloads, DESIGN §7) to placement::Workload and back. Strict: unknown members
// are 422 unknown-field, and every error names its member by JSON path (`policy.spread[0].maxSkew`).
//
//   workload := {
//     "name": DNS label,                                           required
//     "manifests": [object, …],                                    required (documents only), 1..kMaxWorkloadManifests,
//                  each with apiVersion, kind, metadata.name       at most kMaxManifestBytes of compact JSON
//     "replicas": 1..kMaxReplicas,                                 default 1
//     "resources": {                                               per replica; default all 0 (a CPU workload)
//       "gpus": 0..16, "gpuModels": [string, …] (any order; kept sorted, unique), "minGpuMemoryGiB": number,
//       "cpu": cores (32, 0.5; whole millicores), "memoryGiB": number },
//     "minDriverVersion": "550.90.07", "minCudaVersion": "12.4",  optional (parse_dotted_version)
//     "policy": {                                                  default PickAll, Duplicated
//       "type": "PickAll" | "PickN" | "PickFixed",
//       "numberOfClusters": 1..1000,                               PickN only, and required there
//       "clusterNames": [DNS label, …],                            PickFixed only, and required there
//       "replicaDivision": "Duplicated" | "Divided",
//       "divideBy": "Capacity" | "Weights",                        Divided only; default Capacity
//       "weights": {cluster: 0..1000},                             divideBy Weights only; absent clusters weigh 1
//       "affinity": { "required": term, "preferred": [{"weight": -100..100 (not 0), term members…}] },
//       "tolerations": [{"key", "operator": "Equal" | "Exists", "value", "effect"}],
//       "spread": [{"topologyKey", "maxSkew": 1..1000 (1),
//                   "whenUnsatisfiable": "DoNotSchedule" | "ScheduleAnyway"}] },
//     "disruptionBudget": {"maxUnavailable" | "minAvailable": replicas | "N%"} } optional (disruption_budget.hpp)
//   term := { "labelSelector": Kubernetes selector text,
//             "properties": [{"name", "gpuModel"?, "operator": "Gt"|"Ge"|"Eq"|"Ne"|"Lt"|"Le", "value": number}] }
//
// A property is a built-in one of placement/cluster_properties.hpp or a label key whose value is a number;
// `gpuModel` narrows only the GPU properties (freeGpus, totalGpus, largestFreeGpuBlock, gpuMemoryGiB). The GPU
// requirements (gpuModels, minGpuMemoryGiB, the versions) need gpus > 0. to_json writes every member (defaults
// included) in this shape, numbers as integers when whole, so that workload_from_json(to_json(w)) == w.
#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

inline constexpr std::size_t kMaxWorkloadManifests = 100;
// What the apply_workload command can carry (protocol::kMaxPayloadBytes, 64 KiB), less room for the node
// selector and tolerations the placement loop adds to each pod template.
inline constexpr std::size_t kMaxManifestBytes = 56 * 1024;
inline constexpr int kMaxNumberOfClusters = 1000;
inline constexpr int kMaxWeight = 1000;
inline constexpr int kMaxSkew = 1000;
inline constexpr double kMaxGpuMemoryGiB = 1024;
inline constexpr double kMaxCpuCores = 4096;
inline constexpr double kMaxMemoryGiB = 64 * 1024;
inline constexpr std::size_t kMaxGpuModelLength = 128;

// A workload with the manifests it applies (opaque Kubernetes objects, kept as given).
struct WorkloadDocument {
  Workload workload;
  nlohmann::json manifests = nlohmann::json::array();
  bool operator==(const WorkloadDocument&) const = default;
};

// The whole document: the workload and its manifests (required).
Result<WorkloadDocument> workload_from_json(const nlohmann::json& j);
// The spec alone, as stored (to_json's output): "manifests" is an unknown field here.
Result<Workload> workload_spec_from_json(const nlohmann::json& j);

// The spec: every member of the grammar but "manifests".
nlohmann::json to_json(const Workload& workload);
// The spec with "manifests".
nlohmann::json to_json(const WorkloadDocument& document);

std::string_view to_string(PolicyType type);
std::string_view to_string(ReplicaDivision division);
std::string_view to_string(DivideBy divide_by);

}  // namespace fleet::placement
