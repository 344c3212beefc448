#include "placement/rejection.hpp"

#include "placement/decision.hpp"

namespace fleet::placement {

std::string_view to_string(RejectionCode code) {
  switch (code) {
    case RejectionCode::kClusterState:
      return "ClusterState";
    case RejectionCode::kNotInClusterList:
      return "NotInClusterList";
    case RejectionCode::kNoSuchCluster:
      return "NoSuchCluster";
    case RejectionCode::kTaint:
      return "Taint";
    case RejectionCode::kAffinity:
      return "Affinity";
    case RejectionCode::kNoGpus:
      return "NoGpus";
    case RejectionCode::kNodesUnavailable:
      return "NodesUnavailable";
    case RejectionCode::kNoAdmittedGpus:
      return "NoAdmittedGpus";
    case RejectionCode::kGpuModel:
      return "GpuModel";
    case RejectionCode::kGpuMemory:
      return "GpuMemory";
    case RejectionCode::kDriverVersion:
      return "DriverVersion";
    case RejectionCode::kCudaVersion:
      return "CudaVersion";
    case RejectionCode::kNodeTaint:
      return "NodeTaint";
    case RejectionCode::kInsufficientCapacity:
      return "InsufficientCapacity";
    case RejectionCode::kSpread:
      return "Spread";
    case RejectionCode::kNotSelected:
      return "NotSelected";
  }
  return "Unknown";
}

std::string_view to_string(DecisionState state) {
  switch (state) {
    case DecisionState::kPlaced:
      return "Placed";
    case DecisionState::kPartiallyPlaced:
      return "PartiallyPlaced";
    case DecisionState::kUnplaceable:
      return "Unplaceable";
  }
  return "Unknown";
}

}  // namespace fleet::placement
