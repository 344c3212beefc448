#pragma once
// The API calls of GPU node admission (issue #11 item 3), each a blocking call on the admission runner's own
// connection: create, read and delete a probe Job, read its pod's log, write a node's fleet taints and recorded
// admission, list the pods that landed on a node. Errors name the call (kube_api.hpp's api_error).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/kube/kube_api.hpp"
#include "agents/kube/probe_job.hpp"
#include "agents/kube/probe_job_status.hpp"
#include "common/error.hpp"
#include "model/inventory.hpp"

namespace fleet::agent::kube {

// POST the Job; then, for a DRA node, its ResourceClaimTemplate with the Job as owner, so that deleting the Job
// deletes it too. 409 AlreadyExists is success: a Job of this name is ours (a create whose answer was lost).
Status create_probe_job(KubeApi& api, const nlohmann::json& job, const std::optional<nlohmann::json>& claim_template,
                        const ProbeJobOptions& options);

// DELETE …?propagationPolicy=Background: the Job goes at once and the garbage collector takes its pod (and claim
// template) after it. 404 is success.
Status delete_probe_job(KubeApi& api, std::string_view namespace_, std::string_view name);

// The Job and its pods (labelSelector job-name=<name>) read as one state. A Job that is gone (someone deleted
// it) is ProbeBlocked, final.
Result<ProbeJobState> read_probe_job_state(KubeApi& api, std::string_view namespace_, std::string_view name,
                                           std::size_t page_size);

// The probe container's log (at most 1 MiB); nullopt when it cannot be read.
std::optional<std::string> read_probe_log(KubeApi& api, std::string_view namespace_, std::string_view pod);

// The names of the probe Jobs in the namespace (labels app.kubernetes.io/name=gpu-probe,
// app.kubernetes.io/managed-by=fleet-agent).
Result<std::vector<std::string>> list_probe_jobs(KubeApi& api, std::string_view namespace_, std::size_t page_size);

// What admission writes on a node: its fleet taints (fleet.io/gpu-unverified, fleet.io/gpu-quarantined) made
// exactly these, and the annotations that record its admission. Absent members are left as they are.
struct NodeAdmissionWrite {
  std::optional<std::vector<model::Taint>> fleet_taints;
  std::optional<std::string> admission;   // fleet.io/admission
  std::optional<std::string> last_probe;  // fleet.io/last-probe
  bool operator==(const NodeAdmissionWrite&) const = default;
};
// Read-modify-write as taint_node does (commands.hpp): a JSON merge patch carrying the read resourceVersion,
// retried on 409 up to `conflict_retries` times; no change → no write. Taints other than the two fleet keys are
// never touched. A node that is gone is kNotFound.
Status write_node_admission(KubeApi& api, const std::string& node, const NodeAdmissionWrite& write,
                            int conflict_retries);

// "ns/name" of the pods on the node that a drain would evict (not DaemonSet-owned, not mirror pods): workloads
// that landed on it.
Result<std::vector<std::string>> workload_pods_on(KubeApi& api, const std::string& node, std::size_t page_size);

}  // namespace fleet::agent::kube
