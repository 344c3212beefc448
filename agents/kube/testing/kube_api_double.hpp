#pragma once
// A TEST DOUBLE of the Kubernetes API server, not an API server: an in-memory store behind fleet::http::Server
// over HTTPS that answers the calls the kubernetes backend makes with real-shaped JSON (NodeList, Node, Status,
// WatchEvent, Eviction, ResourceSliceList, /version, batch/v1 Jobs and their pods and logs), plus switches for the
// failures the backend must survive: 409 Conflict on a node PATCH, 429 from a PodDisruptionBudget on eviction, 410 Gone
// on a watch, 401 without the bearer token. What it does not do: admission, validation beyond what the backend's calls
// need, real strategic merge (a strategic merge patch is applied as a JSON merge patch), field ownership in apply.
//
// Watches: the double ends every watch response after sending what it has (the pending events, then a BOOKMARK
// at the current resourceVersion), which is exactly a dropped watch the client has to resume. A watch with
// nothing pending waits up to `watch_hold` (or its timeoutSeconds) for an event before ending with a bookmark.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::agent::kube::testing {

struct KubeApiDoubleOptions {
  std::string tls_cert_file;  // both required: the double speaks HTTPS only, like an API server
  std::string tls_key_file;
  std::string token = "test-token";  // requests without "Authorization: Bearer <token>" get 401
  std::string git_version = "v1.34.1";
  std::string resource_slice_version = "v1";  // "v1", "v1beta1", or "" (resource.k8s.io not served: 404)
  std::chrono::milliseconds watch_hold{200};
  std::chrono::milliseconds pod_termination{0};  // an evicted pod lingers (deletionTimestamp set) this long
};

// A PodDisruptionBudget that refuses evictions of the pods it selects.
struct PdbBlock {
  std::string name;
  std::string namespace_;
  std::map<std::string, std::string> selector;  // matchLabels; empty selects every pod of the namespace
  int refusals = -1;                            // evictions refused (429) before they pass; -1: always
  std::string healthy = "needs 2 healthy pods and has 2 currently";
};

struct RecordedRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // raw, as received
  std::string content_type;
  std::string body;
};

class KubeApiDouble {
 public:
  static Result<std::unique_ptr<KubeApiDouble>> start(KubeApiDoubleOptions options);
  ~KubeApiDouble();
  KubeApiDouble(const KubeApiDouble&) = delete;
  KubeApiDouble& operator=(const KubeApiDouble&) = delete;

  std::string url() const;  // "https://127.0.0.1:PORT"

  // Nodes: each write bumps the resourceVersion and is a watch event (ADDED, MODIFIED, DELETED).
  void put_node(nlohmann::json node);
  void update_node(const std::string& name, const std::function<void(nlohmann::json&)>& change);
  void delete_node(const std::string& name);
  std::optional<nlohmann::json> node(const std::string& name) const;
  std::vector<std::string> node_names() const;
  // What GET /version answers from now on ("v1.32.7"): the control plane after an upgrade.
  void set_git_version(const std::string& git_version);

  void put_pod(nlohmann::json pod);
  std::optional<nlohmann::json> pod(const std::string& ns, const std::string& name) const;
  std::vector<nlohmann::json> pods_on(const std::string& node) const;
  int eviction_attempts(const std::string& ns, const std::string& name) const;
  void add_pdb(PdbBlock pdb);

  void put_resource_slice(nlohmann::json slice);

  // batch/v1 Jobs, as far as the gpu-probe Jobs need them. POST …/jobs stores the Job (409 AlreadyExists for a
  // name that exists) and at once creates its one pod "<job>-<n>" (labels job-name, batch.kubernetes.io/job-name
  // and controller-uid, the template's labels and spec, phase Pending, no status), which the JobPodHook may shape
  // and give a log before anyone sees it. No controller runs: a pod stays as it is until a test changes it
  // (update_job_pod), and the Job's status follows its pod (Succeeded → Complete, Failed → Failed). DELETE of a
  // Job removes it, its pods and the objects it owns (ownerReferences), as the garbage collector does after a
  // propagationPolicy=Background delete. Any other POST to a collection creates the object at <path>/<name>.
  using JobPodHook = std::function<void(const nlohmann::json& job, nlohmann::json& pod, std::string& log)>;
  void set_job_pod_hook(JobPodHook hook);
  std::vector<nlohmann::json> jobs() const;
  std::optional<nlohmann::json> job_pod(const std::string& ns, const std::string& job) const;
  void update_job_pod(const std::string& ns, const std::string& job,
                      const std::function<void(nlohmann::json&)>& change);
  std::vector<std::string> deleted_jobs() const;  // "ns/name", in the order they were deleted

  // What server-side apply stored at an object path ("/apis/apps/v1/namespaces/default/deployments/x"). A GET of
  // a collection across namespaces ("/apis/apps/v1/deployments", labelSelector equalities or "key" for "has the
  // label") lists the stored objects of that group, version and plural. put_object stands in for a controller
  // writing status.
  std::optional<nlohmann::json> object(const std::string& path) const;
  void put_object(const std::string& path, nlohmann::json object);
  // Every apply of `path` from now on gets this Status (code 422 reason Invalid, say, with its causes
  // [{"reason", "message", "field"}]), as an API server's validation or an admission webhook refuses an object;
  // with `times` ≥ 0 only the next `times` applies do (a 409 Conflict that passes).
  void refuse_apply(const std::string& path, int code, const std::string& reason, const std::string& message,
                    nlohmann::json causes = nullptr, int times = -1);

  // Faults.
  // The next `count` PATCHes of `node` that carry a resourceVersion get 409, and the node changes meanwhile (an
  // annotation), as when another writer got there first.
  void inject_conflicts(const std::string& node, int count);
  // The next `count` watches get an ERROR event with a 410 Status (the resourceVersion was compacted away).
  void fail_next_watches_with_gone(int count);
  // Forgets the event history and ends the open watches: a watch that resumes from any version seen before gets
  // 410, as after etcd compaction.
  void compact();
  // Ends every waiting watch now with its pending events and no bookmark, as a dropped connection would.
  void end_watches();

  std::vector<RecordedRequest> requests() const;
  // Requests with this method whose path starts with `path_prefix` and whose raw query contains `query_part`.
  int count_requests(const std::string& method, const std::string& path_prefix,
                     const std::string& query_part = {}) const;
  std::int64_t resource_version() const;

  struct State;  // the store and the server; public only so that the implementation's helpers can name it

 private:
  explicit KubeApiDouble(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Pod states for a JobPodHook or update_job_pod, as the kubelet and the scheduler write them.
void pod_running(nlohmann::json& pod);
// Succeeded for exit code 0, else Failed; the container's terminated state carries the termination message.
void pod_terminated(nlohmann::json& pod, int exit_code, const std::string& termination_message,
                    const std::string& reason = "");
// Pending, PodScheduled=False reason Unschedulable.
void pod_unschedulable(nlohmann::json& pod, const std::string& message);
// Pending, the container waiting with `reason` (ErrImagePull, ImagePullBackOff, InvalidImageName).
void pod_waiting(nlohmann::json& pod, const std::string& reason, const std::string& message);

}  // namespace fleet::agent::kube::testing
