// The readiness of the objects a workload applied (agents/kube/workload_readiness.hpp): each followed kind ready,
// on its way, failed where it can fail, with its status describing an older generation, and with members of the
// wrong type; then one workload's readiness from its objects'. The objects are written as the API server returns
// them, with the status their controllers write (kubectl rollout status, the Job controller, KAITO, KubeRay).
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "agents/kube/workload_readiness.hpp"
#include "common/utf8.hpp"

namespace Catch {
template <>
struct StringMaker<fleet::agent::kube::ObjectReadiness> {
  static std::string convert(const fleet::agent::kube::ObjectReadiness& r) {
    return std::string(fleet::agent::kube::to_string(r.state)) + " \"" + r.message + "\"";
  }
};
}  // namespace Catch

namespace fleet::agent::kube {

using nlohmann::json;

namespace {

ObjectReadiness wr_read(const char* text) {
  return object_readiness(json::parse(text));
}
ObjectReadiness wr_ready(std::string message = "") {
  return {Readiness::kReady, std::move(message)};
}
ObjectReadiness wr_progressing(std::string message) {
  return {Readiness::kProgressing, std::move(message)};
}
ObjectReadiness wr_failed(std::string message) {
  return {Readiness::kFailed, std::move(message)};
}

// Every member of `j`, inner ones included, as JSON pointers.
void wr_pointers(const json& j, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      out.push_back(at / key);
      wr_pointers(value, at / key, out);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      out.push_back(at / i);
      wr_pointers(j[i], at / i, out);
    }
  }
}

// Each member of `text` replaced in turn by a value of every other type (and by extreme numbers): nothing throws.
void wr_require_no_throw_on_any_member(const char* text) {
  const json base = json::parse(text);
  std::vector<json::json_pointer> pointers;
  wr_pointers(base, json::json_pointer(), pointers);
  const std::vector<json> odd = {nullptr,
                                 true,
                                 -1,
                                 1.5,
                                 "3",
                                 json::array(),
                                 json::object(),
                                 json::array({1, "x"}),
                                 json::parse("18446744073709551615"),
                                 json::parse("-9223372036854775808"),
                                 1e300};
  for (const auto& p : pointers) {
    for (const json& v : odd) {
      json changed = base;
      changed[p] = v;
      INFO(p.to_string() << " = " << v.dump());
      REQUIRE_NOTHROW(object_readiness(changed));
    }
  }
}

// A vLLM server: one Deployment whose pods are ready when the server answers its readiness probe.
constexpr const char* kVllmReady = R"({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "llama", "namespace": "serving", "generation": 2, "uid": "5b0f3f0e-3c1a-4e0e-9a57-2d1c6f1f7c11",
               "labels": {"app.kubernetes.io/managed-by": "fleet-agent"}},
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "llama"}},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
    "progressDeadlineSeconds": 600,
    "template": {"metadata": {"labels": {"app": "llama"}},
                 "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.8.5",
                                          "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                                          "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}
  },
  "status": {
    "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
    "conditions": [
      {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
       "message": "Deployment has minimum availability.", "lastUpdateTime": "2025-05-02T10:04:11Z",
       "lastTransitionTime": "2025-05-02T10:04:11Z"},
      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
       "message": "ReplicaSet \"llama-6d9c7b5f4d\" has successfully progressed.",
       "lastUpdateTime": "2025-05-02T10:04:11Z", "lastTransitionTime": "2025-05-02T10:01:02Z"}
    ]
  }
})";

}  // namespace

// ---- Deployment ----

TEST_CASE("workload readiness: a Deployment with every replica updated and available is Ready", "[kube]") {
  CHECK(wr_read(kVllmReady) == wr_ready());
}

TEST_CASE("workload readiness: a vLLM Deployment whose pods are still loading the model is Progressing", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "llama", "namespace": "serving", "generation": 1},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "llama"}}},
    "status": {
      "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1,
      "conditions": [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
         "message": "Deployment does not have minimum availability."},
        {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
         "message": "ReplicaSet \"llama-6d9c7b5f4d\" is progressing."}
      ]
    }
  })") == wr_progressing("0 of 1 updated replicas available"));
}

TEST_CASE("workload readiness: a Deployment rolling out counts updated replicas then old ones", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "llama", "namespace": "serving", "generation": 3},
    "spec": {"replicas": 2},
    "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2,
               "availableReplicas": 2}
  })") == wr_progressing("1 of 2 replicas updated"));
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "llama", "namespace": "serving", "generation": 3},
    "spec": {"replicas": 2},
    "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "readyReplicas": 3,
               "availableReplicas": 3}
  })") == wr_progressing("1 old replicas pending termination"));
}

TEST_CASE("workload readiness: a Deployment without spec.replicas wants one", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "serving", "generation": 1},
    "spec": {"selector": {"matchLabels": {"app": "web"}}},
    "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
               "availableReplicas": 1}
  })") == wr_ready());
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "serving", "generation": 1},
    "spec": {},
    "status": {"observedGeneration": 1}
  })") == wr_progressing("0 of 1 replicas updated"));
}

TEST_CASE("workload readiness: a Deployment scaled to zero is Ready", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "llama", "namespace": "serving", "generation": 4},
    "spec": {"replicas": 0},
    "status": {"observedGeneration": 4}
  })") == wr_ready());
}

TEST_CASE("workload readiness: a Deployment's ReplicaFailure is told in its Progressing message", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "llama", "namespace": "serving", "generation": 1},
    "spec": {"replicas": 1},
    "status": {
      "observedGeneration": 1, "unavailableReplicas": 1,
      "conditions": [
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetCreated",
         "message": "Created new replica set \"llama-6d9c7b5f4d\""},
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
         "message": "pods \"llama-6d9c7b5f4d-x8q2d\" is forbidden: exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=8, limited: requests.nvidia.com/gpu=8"}
      ]
    }
  })") == wr_progressing("0 of 1 replicas updated; pods \"llama-6d9c7b5f4d-x8q2d\" is forbidden: exceeded quota: "
                         "gpu-quota, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=8, "
                         "limited: requests.nvidia.com/gpu=8"));
}

TEST_CASE("workload readiness: a Deployment past its progress deadline is Failed", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "llama", "namespace": "serving", "generation": 1},
    "spec": {"replicas": 1, "progressDeadlineSeconds": 600},
    "status": {
      "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1,
      "conditions": [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
         "message": "Deployment does not have minimum availability."},
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": "ReplicaSet \"llama-6d9c7b5f4d\" has timed out progressing."}
      ]
    }
  })") == wr_failed("ReplicaSet \"llama-6d9c7b5f4d\" has timed out progressing."));
}

TEST_CASE("workload readiness: a Deployment whose status lags its generation is Progressing", "[kube]") {
  json d = json::parse(kVllmReady);
  d["metadata"]["generation"] = 3;
  CHECK(object_readiness(d) == wr_progressing("waiting for the controller to observe generation 3"));
  // Without an observedGeneration (not written yet) the counts decide.
  d["status"].erase("observedGeneration");
  CHECK(object_readiness(d) == wr_ready());
}

TEST_CASE("workload readiness: a Deployment with members of the wrong type does not throw", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "llama", "generation": "2"},
    "spec": {"replicas": "2"},
    "status": {"observedGeneration": "1", "replicas": 1.0, "updatedReplicas": true,
               "conditions": {"type": "Progressing"}}
  })") == wr_progressing("0 of 1 replicas updated"));
  CHECK(wr_read(R"({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": [], "spec": null,
                    "status": "Running"})") == wr_progressing("0 of 1 replicas updated"));
  CHECK(wr_read(R"({"apiVersion": "apps/v1", "kind": "Deployment",
                    "status": {"conditions": [null, 7, {"type": 1, "reason": ["ProgressDeadlineExceeded"]}]}})") ==
        wr_progressing("0 of 1 replicas updated"));
  wr_require_no_throw_on_any_member(kVllmReady);
}

// ---- StatefulSet ----

namespace {

constexpr const char* kStatefulSetReady = R"({
  "apiVersion": "apps/v1",
  "kind": "StatefulSet",
  "metadata": {"name": "llama-70b", "namespace": "serving", "generation": 2},
  "spec": {
    "replicas": 2,
    "serviceName": "llama-70b-headless",
    "podManagementPolicy": "Parallel",
    "selector": {"matchLabels": {"app": "llama-70b"}},
    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
    "template": {"metadata": {"labels": {"app": "llama-70b"}},
                 "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.8.5"}]}}
  },
  "status": {
    "observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2,
    "availableReplicas": 2, "currentRevision": "llama-70b-7f8d9c6b5", "updateRevision": "llama-70b-7f8d9c6b5",
    "collisionCount": 0
  }
})";

}  // namespace

TEST_CASE("workload readiness: a StatefulSet with every replica ready and updated is Ready", "[kube]") {
  CHECK(wr_read(kStatefulSetReady) == wr_ready());
}

TEST_CASE("workload readiness: a StatefulSet waiting for pods to be ready is Progressing", "[kube]") {
  json s = json::parse(kStatefulSetReady);
  s["status"]["readyReplicas"] = 1;
  CHECK(object_readiness(s) == wr_progressing("1 of 2 replicas ready"));
  s["status"].erase("readyReplicas");  // the controller leaves a zero out
  CHECK(object_readiness(s) == wr_progressing("0 of 2 replicas ready"));
}

TEST_CASE("workload readiness: a StatefulSet in a rolling update is Progressing until it is done", "[kube]") {
  json s = json::parse(kStatefulSetReady);
  s["metadata"]["generation"] = 3;
  s["status"]["observedGeneration"] = 3;
  s["status"]["updatedReplicas"] = 1;
  s["status"]["currentReplicas"] = 1;
  s["status"]["updateRevision"] = "llama-70b-5c4b3a2d1";
  CHECK(object_readiness(s) == wr_progressing("1 of 2 replicas updated"));
  // Done: the controller makes the update revision the current one.
  s["status"]["updatedReplicas"] = 2;
  CHECK(object_readiness(s) == wr_ready());
  s["status"]["updatedReplicas"] = 1;
  s["status"]["currentRevision"] = "llama-70b-5c4b3a2d1";
  CHECK(object_readiness(s) == wr_ready());
}

TEST_CASE("workload readiness: a partitioned StatefulSet update is done above the partition", "[kube]") {
  json s = json::parse(kStatefulSetReady);
  s["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 1;
  s["status"]["updatedReplicas"] = 1;
  s["status"]["updateRevision"] = "llama-70b-5c4b3a2d1";
  CHECK(object_readiness(s) == wr_ready());
  s["status"]["updatedReplicas"] = 0;
  CHECK(object_readiness(s) == wr_progressing("0 of 1 replicas updated"));
}

TEST_CASE("workload readiness: an OnDelete StatefulSet is Ready once its replicas are", "[kube]") {
  json s = json::parse(kStatefulSetReady);
  s["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  s["status"]["updatedReplicas"] = 0;
  s["status"]["updateRevision"] = "llama-70b-5c4b3a2d1";
  CHECK(object_readiness(s) == wr_ready());
}

TEST_CASE("workload readiness: a StatefulSet whose status lags its generation is Progressing", "[kube]") {
  json s = json::parse(kStatefulSetReady);
  s["metadata"]["generation"] = 5;
  s["status"]["observedGeneration"] = 4;
  CHECK(object_readiness(s) == wr_progressing("waiting for the controller to observe generation 5"));
}

TEST_CASE("workload readiness: a StatefulSet with members of the wrong type does not throw", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": {"name": "llama-70b", "generation": 2},
    "spec": {"replicas": 2, "updateStrategy": "RollingUpdate"},
    "status": {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": "2", "currentRevision": 1,
               "updateRevision": 1}
  })") == wr_progressing("0 of 2 replicas updated"));
  wr_require_no_throw_on_any_member(kStatefulSetReady);
}

// ---- Job ----

namespace {

constexpr const char* kJobRunning = R"({
  "apiVersion": "batch/v1",
  "kind": "Job",
  "metadata": {"name": "finetune-llama", "namespace": "training", "generation": 1,
               "labels": {"app.kubernetes.io/managed-by": "fleet-agent"}},
  "spec": {
    "parallelism": 1, "completions": 1, "backoffLimit": 3, "completionMode": "NonIndexed", "suspend": false,
    "template": {"spec": {"restartPolicy": "Never",
                          "containers": [{"name": "train", "image": "ghcr.io/example/finetune:1.4",
                                          "resources": {"limits": {"nvidia.com/gpu": "8"}}}]}}
  },
  "status": {
    "startTime": "2025-05-02T10:00:00Z", "active": 1, "ready": 1, "terminating": 0,
    "uncountedTerminatedPods": {}
  }
})";

}  // namespace

TEST_CASE("workload readiness: a Job whose pod is running and ready is Ready", "[kube]") {
  CHECK(wr_read(kJobRunning) == wr_ready("running"));
}

TEST_CASE("workload readiness: a Job whose pod is not ready yet is Progressing", "[kube]") {
  json j = json::parse(kJobRunning);
  j["status"]["ready"] = 0;
  CHECK(object_readiness(j) == wr_progressing("0 of 1 pods ready"));
  j["status"]["failed"] = 2;  // retried under backoffLimit
  CHECK(object_readiness(j) == wr_progressing("0 of 1 pods ready; 2 failed so far"));
}

TEST_CASE("workload readiness: a parallel Job needs the pods it runs ready", "[kube]") {
  json j = json::parse(kJobRunning);
  j["spec"]["parallelism"] = 4;
  j["spec"]["completions"] = 6;
  j["status"]["active"] = 4;
  j["status"]["ready"] = 3;
  CHECK(object_readiness(j) == wr_progressing("3 of 4 pods ready"));
  // Four completions done: two pods are left to run.
  j["status"]["succeeded"] = 4;
  j["status"]["active"] = 2;
  j["status"]["ready"] = 2;
  CHECK(object_readiness(j) == wr_ready("running"));
}

TEST_CASE("workload readiness: a completed Job is Ready", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "finetune-llama", "namespace": "training", "generation": 1},
    "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 3},
    "status": {
      "startTime": "2025-05-02T10:00:00Z", "completionTime": "2025-05-02T13:12:40Z", "succeeded": 1, "ready": 0,
      "terminating": 0, "uncountedTerminatedPods": {},
      "conditions": [
        {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
         "message": "Reached expected number of succeeded pods", "lastProbeTime": "2025-05-02T13:12:40Z",
         "lastTransitionTime": "2025-05-02T13:12:40Z"},
        {"type": "Complete", "status": "True", "reason": "CompletionsReached",
         "message": "Reached expected number of succeeded pods", "lastProbeTime": "2025-05-02T13:12:40Z",
         "lastTransitionTime": "2025-05-02T13:12:40Z"}
      ]
    }
  })") == wr_ready("completed"));
}

TEST_CASE("workload readiness: a Job past its backoff limit is Failed", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "finetune-llama", "namespace": "training", "generation": 1},
    "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 3},
    "status": {
      "startTime": "2025-05-02T10:00:00Z", "failed": 4, "ready": 0, "terminating": 0,
      "uncountedTerminatedPods": {},
      "conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit"},
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit"}
      ]
    }
  })") == wr_failed("BackoffLimitExceeded: Job has reached the specified backoff limit"));
}

TEST_CASE("workload readiness: a Job with FailureTarget while its pods terminate is Failed", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "finetune-llama", "namespace": "training", "generation": 1},
    "spec": {"parallelism": 1, "completions": 1, "activeDeadlineSeconds": 3600},
    "status": {
      "startTime": "2025-05-02T10:00:00Z", "active": 0, "ready": 0, "terminating": 1,
      "conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "DeadlineExceeded",
         "message": "Job was active longer than specified deadline"}
      ]
    }
  })") == wr_failed("DeadlineExceeded: Job was active longer than specified deadline"));
}

TEST_CASE("workload readiness: a suspended Job is Progressing", "[kube]") {
  json j = json::parse(kJobRunning);
  j["spec"]["suspend"] = true;
  j["status"] = {
      {"conditions",
       {{{"type", "Suspended"}, {"status", "True"}, {"reason", "JobSuspended"}, {"message", "Job suspended"}}}}};
  CHECK(object_readiness(j) == wr_progressing("the Job is suspended"));
}

TEST_CASE("workload readiness: a Job condition that is False decides nothing", "[kube]") {
  json j = json::parse(kJobRunning);
  j["status"]["conditions"] = {{{"type", "Failed"}, {"status", "False"}, {"reason", "BackoffLimitExceeded"}},
                               {{"type", "Complete"}, {"status", "False"}}};
  CHECK(object_readiness(j) == wr_ready("running"));
}

TEST_CASE("workload readiness: a Job with members of the wrong type does not throw", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "finetune-llama", "generation": 1},
    "spec": {"parallelism": "4", "completions": null, "suspend": "true"},
    "status": {"ready": "1", "failed": -3, "conditions": [{"type": "Failed", "status": true}]}
  })") == wr_progressing("0 of 1 pods ready"));
  wr_require_no_throw_on_any_member(kJobRunning);
}

// ---- KAITO Workspace ----

namespace {

constexpr const char* kWorkspaceReady = R"({
  "apiVersion": "kaito.sh/v1beta1",
  "kind": "Workspace",
  "metadata": {"name": "workspace-phi-4", "namespace": "serving", "generation": 1,
               "annotations": {"workspace.kaito.io/revision": "1"}},
  "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"apps": "phi-4"}}},
  "inference": {"preset": {"name": "phi-4-mini-instruct"}},
  "status": {
    "workerNodes": ["aks-ws6a3f1a9c1-27843512-vmss000000"],
    "state": "Ready",
    "targetNodeCount": 1,
    "conditions": [
      {"type": "NodeClaimReady", "status": "True", "reason": "NodeClaimsReady", "message": "Enough NodeClaims are ready",
       "observedGeneration": 1, "lastTransitionTime": "2025-05-02T10:06:40Z"},
      {"type": "ResourceReady", "status": "True", "reason": "workspaceResourceStatusSuccess",
       "message": "workspace resource is ready", "observedGeneration": 1,
       "lastTransitionTime": "2025-05-02T10:07:02Z"},
      {"type": "InferenceReady", "status": "True", "reason": "WorkspaceInferenceStatusSuccess",
       "message": "Inference has been deployed successfully", "observedGeneration": 1,
       "lastTransitionTime": "2025-05-02T10:12:31Z"},
      {"type": "WorkspaceSucceeded", "status": "True", "reason": "workspaceSucceeded", "message": "workspace succeeds",
       "observedGeneration": 1, "lastTransitionTime": "2025-05-02T10:12:31Z"}
    ]
  }
})";

}  // namespace

TEST_CASE("workload readiness: a KAITO inference Workspace that succeeded is Ready", "[kube]") {
  CHECK(wr_read(kWorkspaceReady) == wr_ready());
}

TEST_CASE("workload readiness: a KAITO Workspace waiting for inference is Progressing", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "kaito.sh/v1beta1", "kind": "Workspace",
    "metadata": {"name": "workspace-phi-4", "namespace": "serving", "generation": 1},
    "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"apps": "phi-4"}}},
    "inference": {"preset": {"name": "phi-4-mini-instruct"}},
    "status": {
      "state": "Pending", "targetNodeCount": 1,
      "conditions": [
        {"type": "NodeClaimReady", "status": "True", "reason": "NodeClaimsReady",
         "message": "Enough NodeClaims are ready", "observedGeneration": 1},
        {"type": "ResourceReady", "status": "True", "reason": "workspaceResourceStatusSuccess",
         "message": "workspace resource is ready", "observedGeneration": 1},
        {"type": "InferenceReady", "status": "False", "reason": "WorkspaceInferenceStatusPending",
         "message": "Inference workload is not ready", "observedGeneration": 1},
        {"type": "WorkspaceSucceeded", "status": "False", "reason": "workspacePending",
         "message": "workspace is waiting for inference workload readiness", "observedGeneration": 1}
      ]
    }
  })") == wr_progressing("inference not ready: Inference workload is not ready"));
}

TEST_CASE("workload readiness: a KAITO Workspace still provisioning nodes is Progressing", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "kaito.sh/v1beta1", "kind": "Workspace",
    "metadata": {"name": "workspace-phi-4", "namespace": "serving", "generation": 1},
    "resource": {"instanceType": "Standard_NC24ads_A100_v4"},
    "inference": {"preset": {"name": "phi-4-mini-instruct"}},
    "status": {"conditions": [
      {"type": "NodeClaimReady", "status": "False", "reason": "NodeClaimNotReady",
       "message": "Ready NodeClaims are not enough, target: 1, current: 0", "observedGeneration": 1}
    ]}
  })") == wr_progressing("nodes not ready: Ready NodeClaims are not enough, target: 1, current: 0"));
  CHECK(wr_read(R"({"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace",
                    "metadata": {"name": "workspace-phi-4", "namespace": "serving", "generation": 1},
                    "inference": {"preset": {"name": "phi-4-mini-instruct"}}})") ==
        wr_progressing("waiting for the KAITO controller"));
}

TEST_CASE("workload readiness: a KAITO reconcile error is Progressing with its message", "[kube]") {
  // KAITO writes workspaceFailed for every reconcile error and retries it: not a failure for good.
  CHECK(wr_read(R"({
    "apiVersion": "kaito.sh/v1beta1", "kind": "Workspace",
    "metadata": {"name": "workspace-phi-4", "namespace": "serving", "generation": 1},
    "resource": {"instanceType": "Standard_NC24ads_A100_v4"},
    "inference": {"preset": {"name": "phi-4-mini-instruct"}},
    "status": {"state": "Pending", "conditions": [
      {"type": "NodeClaimReady", "status": "False", "reason": "NodeClaimNotReady",
       "message": "Ready NodeClaims are not enough, target: 1, current: 0", "observedGeneration": 1},
      {"type": "WorkspaceSucceeded", "status": "False", "reason": "workspaceFailed",
       "message": "failed to create nodeClaim: insufficient quota for Standard_NC24ads_A100_v4 in eastus",
       "observedGeneration": 1}
    ]}
  })") == wr_progressing("failed to create nodeClaim: insufficient quota for Standard_NC24ads_A100_v4 in eastus"));
}

TEST_CASE("workload readiness: a KAITO tuning Workspace is Ready when its job succeeded and Failed when it failed",
          "[kube]") {
  constexpr const char* kTuning = R"({
    "apiVersion": "kaito.sh/v1beta1", "kind": "Workspace",
    "metadata": {"name": "workspace-tuning-phi-3", "namespace": "training", "generation": 1},
    "resource": {"instanceType": "Standard_NC24ads_A100_v4"},
    "tuning": {"preset": {"name": "phi-3-mini-128k-instruct"}, "method": "qlora",
               "input": {"urls": ["https://huggingface.co/datasets/philschmid/dolly-15k-oai-style/resolve/main/data/train-00000-of-00001.parquet"]},
               "output": {"image": "myregistry.azurecr.io/adapters/phi-3-dolly:0.0.1", "imagePushSecret": "acr-push"}},
    "status": {"state": "Succeeded", "conditions": [
      {"type": "ResourceReady", "status": "True", "reason": "workspaceResourceStatusSuccess",
       "message": "workspace resource is ready", "observedGeneration": 1},
      {"type": "JobStarted", "status": "True", "reason": "WorkspaceTuningJobStatusStarted",
       "message": "Tuning job has started", "observedGeneration": 1},
      {"type": "WorkspaceSucceeded", "status": "True", "reason": "workspaceSucceeded", "message": "workspace succeeds",
       "observedGeneration": 1}
    ]}
  })";
  CHECK(wr_read(kTuning) == wr_ready());

  json w = json::parse(kTuning);
  w["status"]["state"] = "Running";
  w["status"]["conditions"][2] = {{"type", "WorkspaceSucceeded"},
                                  {"status", "False"},
                                  {"reason", "workspacePending"},
                                  {"message", "workspace has not completed yet, tuning job is running"},
                                  {"observedGeneration", 1}};
  CHECK(object_readiness(w) == wr_progressing("workspace has not completed yet, tuning job is running"));

  w["status"]["state"] = "Failed";
  w["status"]["conditions"][1] = {{"type", "JobStarted"},
                                  {"status", "False"},
                                  {"reason", "WorkspaceTuningJobStatusFailed"},
                                  {"message", "tuning job failed"}};
  w["status"]["conditions"][2] = {{"type", "WorkspaceSucceeded"},
                                  {"status", "False"},
                                  {"reason", "workspaceFailed"},
                                  {"message", "tuning job failed"}};
  CHECK(object_readiness(w) == wr_failed("tuning job failed"));
}

TEST_CASE("workload readiness: a KAITO Workspace whose conditions lag its generation is Progressing", "[kube]") {
  json w = json::parse(kWorkspaceReady);
  w["metadata"]["generation"] = 2;
  CHECK(object_readiness(w) == wr_progressing("waiting for the controller to observe generation 2"));
}

TEST_CASE("workload readiness: a KAITO v1alpha1 Workspace with the old WorkspaceReady condition", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "kaito.sh/v1alpha1", "kind": "Workspace",
    "metadata": {"name": "workspace-falcon-7b", "namespace": "default", "generation": 1},
    "resource": {"instanceType": "Standard_NC12s_v3", "labelSelector": {"matchLabels": {"apps": "falcon-7b"}}},
    "inference": {"preset": {"name": "falcon-7b"}},
    "status": {"workerNodes": ["aks-ws3d6a9b2c1-24953428-vmss000000"], "conditions": [
      {"type": "MachineReady", "status": "True", "reason": "installNodePluginsSuccess",
       "message": "machines plugins have been installed successfully"},
      {"type": "ResourceReady", "status": "True", "reason": "workspaceResourceStatusSuccess",
       "message": "workspace resource is ready"},
      {"type": "InferenceReady", "status": "True", "reason": "WorkspaceInferenceStatusSuccess",
       "message": "Inference has been deployed successfully"},
      {"type": "WorkspaceReady", "status": "True", "reason": "workspaceReady", "message": "workspace is ready"}
    ]}
  })") == wr_ready());
}

TEST_CASE("workload readiness: a KAITO Workspace with members of the wrong type does not throw", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "kaito.sh/v1beta1", "kind": "Workspace",
    "metadata": {"name": "workspace-phi-4", "generation": 1},
    "status": {"state": ["Failed"], "conditions": [
      {"type": "WorkspaceSucceeded", "status": ["True"], "reason": 1, "message": null},
      {"type": "InferenceReady", "status": "False", "reason": false, "message": 3}
    ]}
  })") == wr_progressing("inference not ready: InferenceReady=False"));
  wr_require_no_throw_on_any_member(kWorkspaceReady);
}

// ---- KubeRay RayCluster ----

namespace {

constexpr const char* kRayClusterReady = R"({
  "apiVersion": "ray.io/v1",
  "kind": "RayCluster",
  "metadata": {"name": "raycluster-llm", "namespace": "serving", "generation": 1},
  "spec": {
    "rayVersion": "2.41.0",
    "headGroupSpec": {"rayStartParams": {"dashboard-host": "0.0.0.0"},
                      "template": {"spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray:2.41.0"}]}}},
    "workerGroupSpecs": [{"groupName": "gpu", "replicas": 2, "minReplicas": 0, "maxReplicas": 4, "numOfHosts": 1,
                          "rayStartParams": {},
                          "template": {"spec": {"containers": [{"name": "ray-worker",
                                                               "image": "rayproject/ray:2.41.0-gpu"}]}}}]
  },
  "status": {
    "state": "ready", "readyWorkerReplicas": 2, "availableWorkerReplicas": 2, "desiredWorkerReplicas": 2,
    "minWorkerReplicas": 0, "maxWorkerReplicas": 4, "desiredCPU": "6", "desiredMemory": "24Gi", "desiredGPU": "2",
    "desiredTPU": "0", "observedGeneration": 1, "lastUpdateTime": "2025-05-02T10:09:12Z",
    "endpoints": {"client": "10001", "dashboard": "8265", "gcs-server": "6379", "metrics": "8080"},
    "head": {"podIP": "10.244.1.7", "serviceIP": "10.244.1.7", "podName": "raycluster-llm-head-x7k2p",
             "serviceName": "raycluster-llm-head-svc"},
    "conditions": [
      {"type": "HeadPodReady", "status": "True", "reason": "HeadPodRunningAndReady", "message": "",
       "lastTransitionTime": "2025-05-02T10:08:40Z"},
      {"type": "RayClusterProvisioned", "status": "True", "reason": "AllPodRunningAndReadyFirstTime",
       "message": "All Ray Pods are ready for the first time", "lastTransitionTime": "2025-05-02T10:09:12Z"}
    ]
  }
})";

}  // namespace

TEST_CASE("workload readiness: a RayCluster with its head pod ready and provisioned is Ready", "[kube]") {
  CHECK(wr_read(kRayClusterReady) == wr_ready());
}

TEST_CASE("workload readiness: a RayCluster still provisioning is Progressing and tells a ReplicaFailure", "[kube]") {
  json r = json::parse(kRayClusterReady);
  r["status"].erase("state");
  r["status"]["conditions"] = json::parse(R"([
    {"type": "HeadPodReady", "status": "True", "reason": "HeadPodRunningAndReady", "message": ""},
    {"type": "RayClusterProvisioned", "status": "False", "reason": "RayClusterPodsProvisioning",
     "message": "RayCluster Pods are being provisioned for first time"}
  ])");
  CHECK(object_readiness(r) ==
        wr_progressing("Ray pods not provisioned yet: RayCluster Pods are being provisioned for first time"));
  r["status"]["conditions"].push_back(json::parse(R"(
    {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreateWorkerPod",
     "message": "pods \"raycluster-llm-gpu-worker-q7x9z\" is forbidden: exceeded quota: gpu-quota"})"));
  CHECK(object_readiness(r) ==
        wr_progressing("Ray pods not provisioned yet: RayCluster Pods are being provisioned for first time; pods "
                       "\"raycluster-llm-gpu-worker-q7x9z\" is forbidden: exceeded quota: gpu-quota"));
}

TEST_CASE("workload readiness: a RayCluster whose head pod is not ready is Progressing", "[kube]") {
  json r = json::parse(kRayClusterReady);
  r["status"]["conditions"][0] = {{"type", "HeadPodReady"},
                                  {"status", "False"},
                                  {"reason", "ContainersNotReady"},
                                  {"message", "containers with unready status: [ray-head]"}};
  CHECK(object_readiness(r) == wr_progressing("head pod not ready: containers with unready status: [ray-head]"));
  r["status"]["conditions"][0] = {
      {"type", "HeadPodReady"}, {"status", "False"}, {"reason", "HeadPodNotFound"}, {"message", ""}};
  CHECK(object_readiness(r) == wr_progressing("head pod not ready: HeadPodNotFound"));
}

TEST_CASE("workload readiness: a RayCluster from an older KubeRay reads status.state", "[kube]") {
  json r = json::parse(kRayClusterReady);
  r["status"].erase("conditions");
  CHECK(object_readiness(r) == wr_ready());
  r["status"]["state"] = "unhealthy";
  CHECK(object_readiness(r) == wr_progressing("state unhealthy"));
  r["status"].erase("state");
  CHECK(object_readiness(r) == wr_progressing("waiting for the KubeRay operator"));
  r["status"]["state"] = "failed";
  r["status"]["reason"] = "RayCluster's head Pod could not be created: admission webhook denied the request";
  CHECK(object_readiness(r) ==
        wr_failed("RayCluster's head Pod could not be created: admission webhook denied the request"));
}

TEST_CASE("workload readiness: a suspended RayCluster is Progressing", "[kube]") {
  json r = json::parse(kRayClusterReady);
  r["spec"]["suspend"] = true;
  r["status"]["state"] = "suspended";
  r["status"]["conditions"] = json::parse(R"([
    {"type": "RayClusterProvisioned", "status": "True", "reason": "AllPodRunningAndReadyFirstTime", "message": ""},
    {"type": "RayClusterSuspended", "status": "True", "reason": "RayClusterSuspended", "message": ""}
  ])");
  CHECK(object_readiness(r) == wr_progressing("the RayCluster is suspended"));
}

TEST_CASE("workload readiness: a RayCluster whose status lags its generation is Progressing", "[kube]") {
  json r = json::parse(kRayClusterReady);
  r["metadata"]["generation"] = 2;
  CHECK(object_readiness(r) == wr_progressing("waiting for the controller to observe generation 2"));
}

TEST_CASE("workload readiness: a RayCluster with members of the wrong type does not throw", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "ray.io/v1", "kind": "RayCluster",
    "metadata": {"name": "raycluster-llm", "generation": 1},
    "status": {"state": 7, "reason": {"why": "x"}, "observedGeneration": "1",
               "conditions": [{"type": "HeadPodReady", "status": true}, "RayClusterProvisioned"]}
  })") == wr_progressing("Ray pods not provisioned yet: not reported yet"));
  wr_require_no_throw_on_any_member(kRayClusterReady);
}

// ---- KubeRay RayService ----

namespace {

constexpr const char* kRayServiceReady = R"({
  "apiVersion": "ray.io/v1",
  "kind": "RayService",
  "metadata": {"name": "llm-serve", "namespace": "serving", "generation": 1},
  "spec": {
    "serveConfigV2": "applications:\n  - name: llm\n    import_path: ray.serve.llm:build_openai_app\n",
    "rayClusterConfig": {"rayVersion": "2.41.0",
                         "headGroupSpec": {"rayStartParams": {},
                                           "template": {"spec": {"containers": [{"name": "ray-head",
                                                                                "image": "rayproject/ray-llm:2.41.0"}]}}}}
  },
  "status": {
    "serviceStatus": "Running", "numServeEndpoints": 2, "observedGeneration": 1,
    "lastUpdateTime": "2025-05-02T10:15:40Z",
    "conditions": [
      {"type": "Ready", "status": "True", "reason": "NonZeroServeEndpoints",
       "message": "Number of serve endpoints is greater than 0", "lastTransitionTime": "2025-05-02T10:15:40Z"},
      {"type": "UpgradeInProgress", "status": "False", "reason": "NoPendingCluster",
       "message": "Active Ray cluster exists and no pending Ray cluster", "lastTransitionTime": "2025-05-02T10:15:40Z"}
    ],
    "activeServiceStatus": {
      "rayClusterName": "llm-serve-raycluster-7xk2d",
      "applicationStatuses": {"llm": {"status": "RUNNING",
                                      "serveDeploymentStatuses": {"LLMServer:llama": {"status": "HEALTHY"}}}},
      "rayClusterStatus": {"state": "ready", "desiredWorkerReplicas": 1}
    },
    "pendingServiceStatus": {}
  }
})";

}  // namespace

TEST_CASE("workload readiness: a RayService with Ready=True is Ready", "[kube]") {
  CHECK(wr_read(kRayServiceReady) == wr_ready());
}

TEST_CASE("workload readiness: an initializing RayService is Progressing", "[kube]") {
  json r = json::parse(kRayServiceReady);
  r["status"]["serviceStatus"] = "";
  r["status"]["numServeEndpoints"] = 0;
  r["status"]["conditions"][0] = {
      {"type", "Ready"}, {"status", "False"}, {"reason", "Initializing"}, {"message", "RayService is initializing"}};
  CHECK(object_readiness(r) == wr_progressing("Initializing: RayService is initializing"));
  r["status"]["conditions"][0] = {
      {"type", "Ready"}, {"status", "False"}, {"reason", "ZeroServeEndpoints"}, {"message", ""}};
  CHECK(object_readiness(r) == wr_progressing("ZeroServeEndpoints"));
}

TEST_CASE("workload readiness: a RayService past its initializing timeout is Failed", "[kube]") {
  json r = json::parse(kRayServiceReady);
  r["metadata"]["annotations"] = {{"ray.io/initializing-timeout", "10m"}};
  r["status"]["serviceStatus"] = "";
  r["status"]["conditions"][0] = {
      {"type", "Ready"},
      {"status", "False"},
      {"reason", "InitializingTimeout"},
      {"message", "RayService did not become ready within the initializing timeout of 10m0s"}};
  CHECK(object_readiness(r) ==
        wr_failed("InitializingTimeout: RayService did not become ready within the initializing timeout of 10m0s"));
}

TEST_CASE("workload readiness: a RayService from an older KubeRay reads serviceStatus", "[kube]") {
  json r = json::parse(kRayServiceReady);
  r["status"].erase("conditions");
  CHECK(object_readiness(r) == wr_ready());
  r["status"]["serviceStatus"] = "WaitForServeDeploymentReady";
  CHECK(object_readiness(r) == wr_progressing("service status WaitForServeDeploymentReady"));
  r["status"].erase("serviceStatus");
  CHECK(object_readiness(r) == wr_progressing("waiting for the KubeRay operator"));
}

TEST_CASE("workload readiness: a RayService whose status lags its generation is Progressing", "[kube]") {
  json r = json::parse(kRayServiceReady);
  r["metadata"]["generation"] = 4;
  r["status"]["observedGeneration"] = 3;
  CHECK(object_readiness(r) == wr_progressing("waiting for the controller to observe generation 4"));
}

TEST_CASE("workload readiness: a RayService with members of the wrong type does not throw", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "ray.io/v1", "kind": "RayService",
    "metadata": {"name": "llm-serve", "generation": {"n": 1}},
    "status": {"serviceStatus": ["Running"], "conditions": [{"type": ["Ready"], "status": "True"}]}
  })") == wr_progressing("waiting for the KubeRay operator"));
  wr_require_no_throw_on_any_member(kRayServiceReady);
}

// ---- any kind ----

TEST_CASE("workload readiness: kinds not followed are Ready once they exist", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "llama-config", "namespace": "serving", "resourceVersion": "48213"},
    "data": {"MODEL": "meta-llama/Llama-3.1-8B-Instruct"}
  })") == wr_ready());
  CHECK(wr_read(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "llama", "namespace": "serving"},
    "spec": {"type": "ClusterIP", "ports": [{"port": 8000, "targetPort": 8000}]},
    "status": {"loadBalancer": {}}
  })") == wr_ready());
  CHECK(wr_read(R"({"metadata": {"name": "no-kind"}})") == wr_ready());
}

TEST_CASE("workload readiness: a kind of the same name in another group is not followed", "[kube]") {
  CHECK(wr_read(R"({
    "apiVersion": "app.terraform.io/v1alpha2", "kind": "Workspace",
    "metadata": {"name": "infra", "namespace": "default", "generation": 1},
    "spec": {"organization": "example"},
    "status": {"runStatus": "applying"}
  })") == wr_ready());
  // A list item comes without apiVersion: its kind alone is read.
  CHECK(wr_read(R"({"kind": "Deployment", "metadata": {"name": "llama", "generation": 1}, "spec": {"replicas": 1},
                    "status": {"observedGeneration": 1}})") == wr_progressing("0 of 1 replicas updated"));
  // Another version of a followed group is read the same way.
  CHECK(wr_read(R"({"apiVersion": "ray.io/v1alpha1", "kind": "RayCluster", "metadata": {"generation": 1},
                    "status": {"state": "ready"}})") == wr_ready());
}

TEST_CASE("workload readiness: what is not a JSON object is Progressing", "[kube]") {
  for (const char* text : {"null", "[]", "\"Deployment\"", "42", "true", "[{\"kind\": \"Deployment\"}]"}) {
    INFO(text);
    CHECK(wr_read(text) == wr_progressing("not an object"));
  }
}

TEST_CASE("workload readiness: messages are cut at 512 bytes on a character boundary", "[kube]") {
  json d = json::parse(kVllmReady);
  std::string long_message;
  while (long_message.size() < 2000) long_message += "é quota ";
  d["status"]["conditions"][1] = {
      {"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"}, {"message", long_message}};
  const ObjectReadiness r = object_readiness(d);
  CHECK(r.state == Readiness::kFailed);
  CHECK(r.message.size() <= kReadinessMessageLimit);
  CHECK(r.message.size() >= kReadinessMessageLimit - 4);
  CHECK(r.message.substr(r.message.size() - 3) == "…");
  CHECK(is_valid_utf8(r.message));
  CHECK(long_message.compare(0, r.message.size() - 3, r.message, 0, r.message.size() - 3) == 0);
  // A message at the limit is kept whole.
  d["status"]["conditions"][1]["message"] = std::string(kReadinessMessageLimit, 'x');
  CHECK(object_readiness(d).message == std::string(kReadinessMessageLimit, 'x'));
}

TEST_CASE("workload readiness: the followed kinds and their collections", "[kube]") {
  std::vector<std::string> got;
  for (const FollowedKind& k : followed_kinds()) {
    got.push_back(std::string(k.api_version) + " " + std::string(k.kind) + " " + std::string(k.collection));
  }
  CHECK(got == std::vector<std::string>{
                   "apps/v1 Deployment /apis/apps/v1/deployments",
                   "apps/v1 StatefulSet /apis/apps/v1/statefulsets",
                   "batch/v1 Job /apis/batch/v1/jobs",
                   "kaito.sh/v1beta1 Workspace /apis/kaito.sh/v1beta1/workspaces",
                   "ray.io/v1 RayCluster /apis/ray.io/v1/rayclusters",
                   "ray.io/v1 RayService /apis/ray.io/v1/rayservices",
               });
  CHECK(to_string(Readiness::kProgressing) == "Progressing");
  CHECK(to_string(Readiness::kReady) == "Ready");
  CHECK(to_string(Readiness::kFailed) == "Failed");
}

// ---- one workload ----

TEST_CASE("workload readiness: a workload with no objects is Progressing", "[kube]") {
  CHECK(workload_readiness({}) == wr_progressing("no objects found"));
}

TEST_CASE("workload readiness: a workload is Ready when all its objects are", "[kube]") {
  CHECK(workload_readiness({{"ConfigMap serving/llama-config", wr_ready()},
                            {"Deployment serving/llama", wr_ready()},
                            {"Job training/finetune", wr_ready("running")}}) == wr_ready());
}

TEST_CASE("workload readiness: the first failed object fails the workload before any progressing one", "[kube]") {
  CHECK(workload_readiness({{"Deployment serving/llama", wr_progressing("0 of 1 updated replicas available")},
                            {"Job serving/warmup", wr_failed("BackoffLimitExceeded: Job has reached the specified "
                                                             "backoff limit")},
                            {"RayService serving/llm", wr_failed("InitializingTimeout: too slow")}}) ==
        wr_failed("Job serving/warmup: BackoffLimitExceeded: Job has reached the specified backoff limit"));
}

TEST_CASE("workload readiness: the first progressing object is the workload's message", "[kube]") {
  CHECK(workload_readiness({{"ConfigMap serving/llama-config", wr_ready()},
                            {"Deployment serving/llama", wr_progressing("0 of 1 updated replicas available")},
                            {"Workspace serving/phi-4", wr_progressing("inference not ready: pending")}}) ==
        wr_progressing("Deployment serving/llama: 0 of 1 updated replicas available"));
  CHECK(workload_readiness({{"Deployment serving/llama", wr_progressing("")}}) ==
        wr_progressing("Deployment serving/llama: not ready"));
  CHECK(workload_readiness({{"Deployment serving/llama", wr_failed("")}}) ==
        wr_failed("Deployment serving/llama: failed"));
}

TEST_CASE("workload readiness: a workload's message is bounded with its display name", "[kube]") {
  const ObjectReadiness r =
      workload_readiness({{"Deployment serving/llama", wr_progressing(std::string(kReadinessMessageLimit, 'x'))}});
  CHECK(r.state == Readiness::kProgressing);
  CHECK(r.message.size() == kReadinessMessageLimit);
  CHECK(r.message.rfind("Deployment serving/llama: xxx", 0) == 0);
  CHECK(r.message.substr(r.message.size() - 3) == "…");
}

TEST_CASE("workload readiness: objects read from the API server make one workload", "[kube]") {
  json d = json::parse(kVllmReady);
  json w = json::parse(kWorkspaceReady);
  std::vector<std::pair<std::string, ObjectReadiness>> objects = {
      {"Deployment serving/llama", object_readiness(d)},
      {"Workspace serving/workspace-phi-4", object_readiness(w)},
      {"ConfigMap serving/llama-config", object_readiness(json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "llama-config", "namespace": "serving"}})"))}};
  CHECK(workload_readiness(objects) == wr_ready());
  w["metadata"]["generation"] = 2;
  objects[1].second = object_readiness(w);
  CHECK(workload_readiness(objects) ==
        wr_progressing("Workspace serving/workspace-phi-4: waiting for the controller to observe generation 2"));
}

}  // namespace fleet::agent::kube
