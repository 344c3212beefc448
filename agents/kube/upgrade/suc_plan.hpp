#pragma once
// The system-upgrade-controller side of its upgrade driver as data (pure; no I/O): the Plan objects
// (upgrade.cattle.io/v1) the driver applies for k3s / RKE2 clusters (Arc-enabled or not), how it reads a Plan's
// status, and what to do given the Plan as it is (apply, follow one already applied, nothing to do).
// The shapes are those of rancher/system-upgrade-controller's pkg/apis/upgrade.cattle.io/v1/types.go: spec
// {concurrency, nodeSelector, serviceAccountName, version, tolerations, upgrade{image}, cordon, drain{…}},
// status {conditions[{type: Complete, status, reason, message}], latestVersion, latestHash, applying[]}.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/kube/upgrade/aks_requests.hpp"

namespace fleet::agent::kube {

inline constexpr std::string_view kControlPlaneRoleLabel = "node-role.kubernetes.io/control-plane";
inline constexpr std::string_view kHostnameLabel = "kubernetes.io/hostname";

struct SucPlanOptions {
  std::string namespace_ = "system-upgrade";          // where the controller watches Plans
  std::string service_account = "system-upgrade";     // the controller's upgrade Jobs run as this
  std::string upgrade_image = "rancher/k3s-upgrade";  // rancher/rke2-upgrade for RKE2; the tag is the version
  std::string version_suffix = "+k3s1";               // "1.32.7" → "v1.32.7+k3s1" (RKE2: "+rke2r1")
};

// "fleet-control-plane", "fleet-pool-<pool>": one Plan per step, so that a pool's Plan never touches another's.
std::string suc_plan_name(std::string_view pool);
std::string suc_version(std::string_view kubernetes_version, const SucPlanOptions& options);
// /apis/upgrade.cattle.io/v1/namespaces/{ns}/plans/{name}
std::string suc_plan_path(std::string_view name, const SucPlanOptions& options);

// The control plane: the nodes labelled node-role.kubernetes.io/control-plane=true, one at a time, cordoned (not
// drained: a control-plane node of k3s also runs the datastore, and the k3s docs upgrade servers without a drain).
nlohmann::json control_plane_plan(std::string_view kubernetes_version, const SucPlanOptions& options);
// A pool: its nodes by kubernetes.io/hostname (a pool is the fleet's grouping, not a label every distribution
// sets), never a control-plane node, `concurrency` at a time, drained first. No names: a Plan that selects none.
nlohmann::json pool_plan(std::string_view pool, const std::vector<std::string>& node_names,
                         std::string_view kubernetes_version, int concurrency, const SucPlanOptions& options);

struct PlanView {
  bool exists = false;
  std::string spec_version;
  // The kubernetes.io/hostname names the Plan selects, sorted (In; DoesNotExist: none); nullopt when it selects by
  // something else (the control plane's role label).
  std::optional<std::vector<std::string>> hostnames;
  std::string latest_version;
  std::string latest_hash;
  std::vector<std::string> applying;
  std::optional<bool> complete;  // the Complete condition, when the controller has written one
  std::string message;           // the Complete condition's reason and message, for progress
};
PlanView read_plan(const nlohmann::json& plan);  // null or not an object → !exists
// Apply when there is no Plan, it asks for another version or (with `hostnames`) it selects other nodes; done when
// the controller says Complete for our version; else the Plan is ours in flight (an agent restart): follow it, do
// not apply again. A pool's Plan cut short at a maintenance window's end selects fewer nodes than the pool's next
// command asks for, so that command applies it again (the nodes done carry the controller's hash label and are
// not upgraded twice).
UpgradeDecision decide_plan(const PlanView& plan, std::string_view suc_version,
                            const std::optional<std::vector<std::string>>& hostnames = std::nullopt);
// "v1.32.7+k3s1" and "v1.32.7-k3s1" (the controller's latestVersion) name one version.
bool same_suc_version(std::string_view a, std::string_view b);
// The controller's upgrade Jobs for a Plan: /apis/batch/v1/namespaces/{ns}/jobs?labelSelector=upgrade.cattle.io/plan=…
// (the controller labels each Job with its plan, node and version).
std::string suc_jobs_path(std::string_view plan_name, const SucPlanOptions& options);

// A node's upgrade that failed: the controller's Job for it ran out of retries (its Failed condition is True).
struct FailedUpgradeJob {
  std::string job;
  std::string node;
  std::string reason;  // the condition's: "BackoffLimitExceeded", "DeadlineExceeded"
  std::string message;
};
// The first Job (by name) of a JobList that failed applying `latest_version`. A failed Job of another version is a
// leftover the controller deletes, not this upgrade's; one without the version label (an older controller) counts.
std::optional<FailedUpgradeJob> failed_upgrade_job(const nlohmann::json& job_list, std::string_view latest_version);

// Does a kubelet report (without the "v") "1.32.7+k3s1" count as 1.32.7?
bool kubelet_at(std::string_view kubelet_version, std::string_view kubernetes_version);

}  // namespace fleet::agent::kube
