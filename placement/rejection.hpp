#pragma once
// Why a cluster was not chosen: a stable code for programs and a sentence for people ("3 of 4 replicas fit:
// needs 8×NVIDIA H100 80GB HBM3 on one node, largest free block is 4"). Every filter stage and the selection
// produce one; the codes are part of the API (docs/api.md, "Placement").
#include <string>
#include <string_view>

namespace fleet::placement {

enum class RejectionCode {
  kClusterState,          // not ready: registering, unreachable, cordoned, deleting
  kNotInClusterList,      // PickFixed names other clusters
  kNoSuchCluster,         // PickFixed names a cluster that does not exist
  kTaint,                 // a cluster taint the workload does not tolerate
  kAffinity,              // required affinity: labels or a property
  kNoGpus,                // the workload needs GPUs and the cluster has none
  kNodesUnavailable,      // GPU nodes exist but are cordoned or drained by a rollout
  kNoAdmittedGpus,        // GPU nodes exist but none is admitted (pending probe, probing, quarantined) or healthy
  kGpuModel,              // no node has an allowed model
  kGpuMemory,             // allowed models, too little memory per GPU
  kDriverVersion,         // driver older than the workload's minimum
  kCudaVersion,           // CUDA older than the workload's minimum
  kNodeTaint,             // every otherwise fitting node carries a taint the workload does not tolerate
  kInsufficientCapacity,  // fewer replicas fit than the cluster would need to take (node-level fit)
  kSpread,                // choosing it would break a DoNotSchedule topology spread constraint
  kNotSelected,           // feasible, but PickN chose clusters that scored higher
};
std::string_view to_string(RejectionCode code);  // "ClusterState", "NotInClusterList", …

struct Rejection {
  std::string cluster;
  RejectionCode code = RejectionCode::kNotSelected;
  std::string reason;
  bool operator==(const Rejection&) const = default;
};

}  // namespace fleet::placement
