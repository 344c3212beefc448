#pragma once
// Whether a workload's objects are up, read from their `status` (binding states Applied → Running | Failed). Pure:
// the kubernetes backend reads back the objects it server-side-applied for a workload and hands their JSON here;
// it reports one readiness per workload to fleetd.
//
// Each followed kind is read the way its own controller writes its status, and no further:
//
//   - Deployment: as `kubectl rollout status` (kubectl polymorphichelpers/rollout_status.go): a Progressing
//     condition with reason ProgressDeadlineExceeded has failed; otherwise every replica updated, no old ones
//     left and the updated ones available. A plain vLLM server is a Deployment, and is ready when its pods' readiness
//     probe passes (the model is loaded), which availableReplicas counts;
//   - StatefulSet: as `kubectl rollout status`: every replica ready, and the rolling update done;
//   - Job (batch/v1): Failed or FailureTarget has failed; Complete or SuccessCriteriaMet is ready, and so is a
//     Job whose running pods are all ready (a training job is Running while it runs);
//   - KAITO Workspace (kaito.sh): WorkspaceSucceeded=True is ready; only status.state Failed (a tuning Job that
//     failed) has failed, since the KAITO controller writes False for "not yet" and for errors it retries alike;
//   - KubeRay RayCluster and RayService (ray.io): the conditions of KubeRay 1.2+ (HeadPodReady and
//     RayClusterProvisioned; Ready), or, from an older operator, status.state and status.serviceStatus.
//
// Every kind is Progressing while status.observedGeneration lags metadata.generation: the status read describes an
// older spec. A kind not followed is Ready as soon as it exists. Objects from the cluster are not ours to trust: a
// member that is missing or of another type reads as absent, and nothing here throws.
//
// The items of a list of built-in kinds (GET /apis/apps/v1/deployments) come without kind and apiVersion (the API
// server leaves them off, kubernetes/kubernetes#3030): whoever lists a FollowedKind sets them on each item first.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/workload_status.hpp"

namespace fleet::agent::kube {

// The protocol's readiness (protocol/workload_status.hpp): what an object reads as is what the agent reports.
using Readiness = protocol::WorkloadReadiness;
using protocol::to_string;  // "Progressing" | "Ready" | "Failed"

struct ObjectReadiness {
  Readiness state = Readiness::kProgressing;
  std::string message;  // why not ready / why failed, a sentence a person can read; may be empty when Ready
  bool operator==(const ObjectReadiness&) const = default;
};

// The longest message, in bytes: a longer one is cut on a character boundary and ends with "…".
inline constexpr std::size_t kReadinessMessageLimit = 512;

// A kind whose readiness the backend reads back: the collection to list across all namespaces.
struct FollowedKind {
  std::string_view api_version;  // "apps/v1"
  std::string_view kind;         // "Deployment"
  std::string_view collection;   // "/apis/apps/v1/deployments" (all namespaces)
};
// Deployment, StatefulSet (apps/v1), Job (batch/v1), KAITO Workspace (kaito.sh/v1beta1), KubeRay RayCluster and
// RayService (ray.io/v1).
std::span<const FollowedKind> followed_kinds();

// The readiness of one object as read from the API server (its kind from the object's "kind"; an apiVersion, when
// the object has one, must be of the followed kind's group, any version). Kinds not in followed_kinds(): Ready
// (they exist, nothing more to wait for). Not a JSON object: Progressing "not an object".
ObjectReadiness object_readiness(const nlohmann::json& object);

// One workload's readiness from its objects' (each paired with a display name such as "Deployment serving/llama"):
// any Failed → Failed (message: "<display>: <message>", the first failed in order); else any Progressing →
// Progressing (message of the first progressing one, prefixed the same way); else Ready. Empty input →
// Progressing, "no objects found".
ObjectReadiness workload_readiness(const std::vector<std::pair<std::string, ObjectReadiness>>& objects);

}  // namespace fleet::agent::kube
