// The status shapes read here, and where they are defined upstream:
//
//   - Deployment, StatefulSet: k8s.io/api apps/v1 types.go (DeploymentStatus, condition types Progressing and
//     ReplicaFailure; StatefulSetStatus), and kubectl's staging/src/k8s.io/kubectl/pkg/polymorphichelpers/
//     rollout_status.go (DeploymentStatusViewer, StatefulSetStatusViewer), with the deployment controller's
//     TimedOutReason "ProgressDeadlineExceeded";
//   - Job: k8s.io/api batch/v1 types.go (JobStatus.ready, condition types Complete, Failed, FailureTarget,
//     SuccessCriteriaMet, Suspended; reasons such as BackoffLimitExceeded);
//   - KAITO Workspace: github.com/kaito-project/kaito api/v1beta1/condition_types.go (NodeClaimReady,
//     ResourceReady, InferenceReady, JobStarted, WorkspaceSucceeded) and workspace_types.go (WorkspaceStatus.state:
//     Pending, Ready, NotReady, Running, Succeeded, Failed), and the workspace controller, which writes
//     WorkspaceSucceeded=False/"workspaceFailed" for every reconcile error and retries it; api/v1alpha1 of the old
//     Azure/kaito named the summary condition WorkspaceReady;
//   - RayCluster: github.com/ray-project/kuberay ray-operator/apis/ray/v1/raycluster_types.go (ClusterState ready,
//     failed, suspended; RayClusterConditionType RayClusterProvisioned, HeadPodReady, ReplicaFailure — the
//     constant is named RayClusterReplicaFailure, the condition type is "ReplicaFailure" — RayClusterSuspending,
//     RayClusterSuspended);
//   - RayService: rayservice_types.go (condition type Ready, reasons Initializing, InitializingTimeout, …;
//     ServiceStatus "Running", equivalent to Ready=True since KubeRay 1.3), and the RayService controller, whose
//     InitializingTimeout is terminal ("remains in a terminal failure state regardless of generation changes").
#include "agents/kube/workload_readiness.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>

#include "agents/kube/json_fields.hpp"
#include "common/utf8.hpp"

namespace fleet::agent::kube {
namespace {
// A namespace of its own: the project compiles in unity batches, where another file's anonymous helpers
// (condition, said, …) would share this one's.
namespace readiness_impl {

using nlohmann::json;

std::string bounded(std::string text) {
  if (text.size() <= kReadinessMessageLimit) return text;
  static constexpr std::string_view kEllipsis = "…";
  return truncate_utf8(text, kReadinessMessageLimit - kEllipsis.size()) + std::string(kEllipsis);
}

ObjectReadiness progressing(std::string message) {
  return {Readiness::kProgressing, bounded(std::move(message))};
}
ObjectReadiness ready(std::string message = {}) {
  return {Readiness::kReady, bounded(std::move(message))};
}
ObjectReadiness failed(std::string message) {
  return {Readiness::kFailed, bounded(std::move(message))};
}

std::optional<std::int64_t> integer(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_number_integer()) return std::nullopt;
  return v.get<std::int64_t>();
}

// A replica or pod count: Kubernetes' are int32 and never negative; any other integer is brought into that range so
// that no sum or difference of counts can overflow.
std::int64_t count_or(const json& j, const char* key, std::int64_t fallback) {
  return std::clamp<std::int64_t>(integer(j, key).value_or(fallback), 0, std::numeric_limits<std::int32_t>::max());
}

bool is_true(const json& c) {
  return str(c, "status") == "True";
}

// "reason: message", or whichever of the two there is, else `fallback`.
std::string reason_and_message(const json& c, std::string_view fallback) {
  const std::string reason = str(c, "reason");
  const std::string message = str(c, "message");
  if (!reason.empty() && !message.empty()) return reason + ": " + message;
  return said(c, fallback);
}

std::string waiting_for_generation(std::int64_t generation) {
  return "waiting for the controller to observe generation " + std::to_string(generation);
}

// Progressing when the status describes an older spec than the object's.
std::optional<ObjectReadiness> generation_behind(const json& object) {
  const auto generation = integer(member(object, "metadata"), "generation");
  const auto observed = integer(member(object, "status"), "observedGeneration");
  if (generation && observed && *observed < *generation) return progressing(waiting_for_generation(*generation));
  return std::nullopt;
}

// As kubectl rollout status: every replica updated, no old ones left, and the updated ones available. A plain vLLM
// server is a Deployment: its pods turn available when their readiness probe passes (the model is loaded and the
// server answers), so availableReplicas is the server's readiness.
ObjectReadiness deployment(const json& d) {
  if (const json& p = find_condition(d, "Progressing"); str(p, "reason") == "ProgressDeadlineExceeded") {
    return failed(said(p, "the rollout exceeded its progress deadline"));
  }
  const json& spec = member(d, "spec");
  const json& status = member(d, "status");
  const std::int64_t want = count_or(spec, "replicas", 1);
  const std::int64_t updated = count_or(status, "updatedReplicas", 0);
  const std::int64_t total = count_or(status, "replicas", 0);
  const std::int64_t available = count_or(status, "availableReplicas", 0);
  std::string waiting;
  if (updated < want) {
    waiting = std::to_string(updated) + " of " + std::to_string(want) + " replicas updated";
  } else if (total > updated) {
    waiting = std::to_string(total - updated) + " old replicas pending termination";
  } else if (available < updated) {
    waiting = std::to_string(available) + " of " + std::to_string(updated) + " updated replicas available";
  } else {
    return ready();
  }
  // Pods the ReplicaSet could not create (a quota, an admission webhook): say so, the rollout waits on it.
  if (const json& rf = find_condition(d, "ReplicaFailure"); is_true(rf)) waiting += "; " + said(rf, "ReplicaFailure");
  return progressing(std::move(waiting));
}

// As kubectl rollout status: every replica ready and, for a rolling update, the update done (the replicas above
// the partition updated, or the current revision the update revision). OnDelete updates wait on people deleting
// pods: ready replicas are enough.
ObjectReadiness stateful_set(const json& s) {
  const json& spec = member(s, "spec");
  const json& status = member(s, "status");
  const std::int64_t want = count_or(spec, "replicas", 1);
  const std::int64_t ready_pods = count_or(status, "readyReplicas", 0);
  if (ready_pods < want) {
    return progressing(std::to_string(ready_pods) + " of " + std::to_string(want) + " replicas ready");
  }
  const json& strategy = member(spec, "updateStrategy");
  if (str(strategy, "type") == "OnDelete") return ready();
  const std::int64_t partition = count_or(member(strategy, "rollingUpdate"), "partition", 0);
  const std::int64_t to_update = std::max<std::int64_t>(want - partition, 0);
  const std::int64_t updated = count_or(status, "updatedReplicas", 0);
  const std::string update_revision = str(status, "updateRevision");
  const bool same_revision = !update_revision.empty() && str(status, "currentRevision") == update_revision;
  if (updated >= to_update || same_revision) return ready();
  return progressing(std::to_string(updated) + " of " + std::to_string(to_update) + " replicas updated");
}

// A Job is ready when it completed, or while all the pods it runs are ready; Failed (or FailureTarget, set before
// Failed while the last pods terminate) ends it.
ObjectReadiness job(const json& j) {
  for (const char* type : {"Failed", "FailureTarget"}) {
    if (const json& c = find_condition(j, type); is_true(c)) return failed(reason_and_message(c, "the Job failed"));
  }
  if (is_true(find_condition(j, "Complete")) || is_true(find_condition(j, "SuccessCriteriaMet")))
    return ready("completed");
  const json& spec = member(j, "spec");
  const json& status = member(j, "status");
  if (const json& suspend = member(spec, "suspend"); suspend.is_boolean() && suspend.get<bool>()) {
    return progressing("the Job is suspended");
  }
  // The pods the controller runs at once: parallelism, fewer when fewer completions are left.
  std::int64_t running = count_or(spec, "parallelism", 1);
  if (member(spec, "completions").is_number_integer()) {
    running = std::min(running, count_or(spec, "completions", 0) - count_or(status, "succeeded", 0));
  }
  running = std::max<std::int64_t>(running, 1);
  const std::int64_t ready_pods = count_or(status, "ready", 0);
  if (ready_pods >= running) return ready("running");
  std::string waiting = std::to_string(ready_pods) + " of " + std::to_string(running) + " pods ready";
  if (const std::int64_t failed_pods = count_or(status, "failed", 0); failed_pods > 0) {
    waiting += "; " + std::to_string(failed_pods) + " failed so far";
  }
  return progressing(std::move(waiting));
}

// WorkspaceSucceeded; WorkspaceReady, its name in the first KAITO releases (v1alpha1).
const json& workspace_summary(const json& w) {
  const json& succeeded = find_condition(w, "WorkspaceSucceeded");
  return succeeded.is_object() ? succeeded : find_condition(w, "WorkspaceReady");
}

// KAITO's controller writes False for "not yet" (workspacePending, WorkspaceInferenceStatusPending, …) and, with
// reason workspaceFailed, for every reconcile error, which it then retries (a NodeClaim not created yet, a
// readiness timeout, an API error): False does not say the workspace has failed for good, so it is Progressing with
// the controller's words. Only status.state Failed (v1beta1: the tuning Job failed) is Failed.
ObjectReadiness workspace(const json& w) {
  const json& status = member(w, "status");
  const json& succeeded = workspace_summary(w);
  if (str(status, "state") == "Failed") {
    return failed(said(succeeded, said(find_condition(w, "JobStarted"), "the workspace failed")));
  }
  if (is_true(succeeded)) {
    // A Workspace has no status.observedGeneration; its conditions carry one.
    const auto generation = integer(member(w, "metadata"), "generation");
    const auto observed = integer(succeeded, "observedGeneration");
    if (generation && observed && *observed < *generation) return progressing(waiting_for_generation(*generation));
    return ready();
  }
  if (str(succeeded, "reason") == "workspaceFailed") return progressing(said(succeeded, "workspaceFailed"));
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kSteps{{
      {"NodeClaimReady", "nodes not ready"},
      {"ResourceReady", "resources not ready"},
      {"InferenceReady", "inference not ready"},
      {"JobStarted", "tuning job not started"},
  }};
  for (const auto& [type, what] : kSteps) {
    if (const json& c = find_condition(w, type); str(c, "status") == "False") {
      return progressing(std::string(what) + ": " + said(c, std::string(type) + "=False"));
    }
  }
  return progressing(said(succeeded, "waiting for the KAITO controller"));
}

// KubeRay 1.2+: HeadPodReady and RayClusterProvisioned (True once every Ray pod was ready, and then for good); an
// older operator: status.state. ReplicaFailure (a pod KubeRay could not create or delete) is retried by KubeRay,
// so it is told in the Progressing message, not a failure.
ObjectReadiness ray_cluster(const json& r) {
  const json& status = member(r, "status");
  const std::string state = str(status, "state");
  if (state == "failed") {
    const std::string reason = str(status, "reason");
    return failed(reason.empty() ? "the RayCluster failed" : reason);
  }
  if (state == "suspended" || is_true(find_condition(r, "RayClusterSuspended")) ||
      is_true(find_condition(r, "RayClusterSuspending"))) {
    return progressing("the RayCluster is suspended");
  }
  const json& provisioned = find_condition(r, "RayClusterProvisioned");
  const json& head = find_condition(r, "HeadPodReady");
  std::string waiting;
  if (provisioned.is_object() || head.is_object()) {
    if (is_true(provisioned) && is_true(head)) return ready();
    waiting = !is_true(provisioned) ? "Ray pods not provisioned yet: " + said(provisioned, "not reported yet")
                                    : "head pod not ready: " + said(head, "not reported yet");
  } else {
    if (state == "ready") return ready();
    waiting = state.empty() ? "waiting for the KubeRay operator" : "state " + state;
  }
  if (const json& rf = find_condition(r, "ReplicaFailure"); is_true(rf)) waiting += "; " + said(rf, "ReplicaFailure");
  return progressing(std::move(waiting));
}

// KubeRay 1.3+: the Ready condition (InitializingTimeout is terminal: KubeRay deletes the clusters and never
// retries); an older operator: serviceStatus "Running".
ObjectReadiness ray_service(const json& r) {
  if (const json& c = find_condition(r, "Ready"); c.is_object()) {
    if (is_true(c)) return ready();
    if (str(c, "reason") == "InitializingTimeout") return failed(reason_and_message(c, "InitializingTimeout"));
    return progressing(reason_and_message(c, "not ready"));
  }
  const std::string service_status = str(member(r, "status"), "serviceStatus");
  if (service_status == "Running") return ready();
  return progressing(service_status.empty() ? "waiting for the KubeRay operator" : "service status " + service_status);
}

using Reader = ObjectReadiness (*)(const json&);

constexpr std::array<FollowedKind, 6> kFollowed{{
    {"apps/v1", "Deployment", "/apis/apps/v1/deployments"},
    {"apps/v1", "StatefulSet", "/apis/apps/v1/statefulsets"},
    {"batch/v1", "Job", "/apis/batch/v1/jobs"},
    {"kaito.sh/v1beta1", "Workspace", "/apis/kaito.sh/v1beta1/workspaces"},
    {"ray.io/v1", "RayCluster", "/apis/ray.io/v1/rayclusters"},
    {"ray.io/v1", "RayService", "/apis/ray.io/v1/rayservices"},
}};
constexpr std::array<Reader, kFollowed.size()> kReaders{deployment, stateful_set, job,
                                                        workspace,  ray_cluster,  ray_service};

// "apps" of "apps/v1"; "" of the core group's "v1".
std::string_view group_of(std::string_view api_version) {
  const auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

Reader reader_for(const json& object) {
  const std::string kind = str(object, "kind");
  const json& api_version = member(object, "apiVersion");
  for (std::size_t i = 0; i < kFollowed.size(); ++i) {
    if (kFollowed[i].kind != kind) continue;
    if (api_version.is_string() &&
        group_of(api_version.get_ref<const std::string&>()) != group_of(kFollowed[i].api_version)) {
      continue;  // another group's kind of the same name (a Terraform Workspace is not KAITO's)
    }
    return kReaders[i];
  }
  return nullptr;
}

ObjectReadiness prefixed(Readiness state, const std::string& display, const std::string& message) {
  if (message.empty()) return {state, bounded(display + (state == Readiness::kFailed ? ": failed" : ": not ready"))};
  return {state, bounded(display + ": " + message)};
}

}  // namespace readiness_impl
}  // namespace

std::span<const FollowedKind> followed_kinds() {
  return readiness_impl::kFollowed;
}

ObjectReadiness object_readiness(const nlohmann::json& object) {
  if (!object.is_object()) return readiness_impl::progressing("not an object");
  const readiness_impl::Reader reader = readiness_impl::reader_for(object);
  if (reader == nullptr) return readiness_impl::ready();
  if (auto behind = readiness_impl::generation_behind(object)) return *behind;
  return reader(object);
}

ObjectReadiness workload_readiness(const std::vector<std::pair<std::string, ObjectReadiness>>& objects) {
  if (objects.empty()) return readiness_impl::progressing("no objects found");
  for (const Readiness state : {Readiness::kFailed, Readiness::kProgressing}) {
    for (const auto& [display, readiness] : objects) {
      if (readiness.state == state) return readiness_impl::prefixed(state, display, readiness.message);
    }
  }
  return readiness_impl::ready();
}

}  // namespace fleet::agent::kube
