#pragma once
// The AKS side of the aks upgrade driver as data (pure; no I/O): which ARM paths it calls, the bodies it sends,
// how it reads ARM's errors, and what to do given the resource as it is now (send a request, follow one already
// in flight, nothing to do, or wait for another operation). The shapes are those of the published AKS REST API,
// version kAksApiVersion: https://learn.microsoft.com/rest/api/aks/managed-clusters/create-or-update,
// …/agent-pools/create-or-update and …/agent-pools/upgrade-node-image-version.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::agent::kube {

inline constexpr std::string_view kAksApiVersion = "2025-05-01";

// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}
struct AksClusterRef {
  std::string subscription;
  std::string resource_group;
  std::string name;
};
// The managed cluster's ARM resource id (as `az aks show --query id` prints it); kInvalid saying what is wrong.
Result<AksClusterRef> parse_aks_cluster_id(std::string_view id);
// Any cluster's resource id of that shape (/subscriptions/SUB/resourceGroups/RG/providers/PROVIDER/TYPE/NAME).
struct ClusterIdShape {
  std::string_view what;      // "AKS cluster": "the AKS cluster id … is not …"
  std::string_view resource;  // "a managed cluster"
  std::string_view provider;  // "Microsoft.ContainerService"
  std::string_view type;      // "managedClusters"
  std::string_view cli;       // how to print one: "az aks show --query id"
  std::string_view field;     // the flag it came from: "aks-cluster-id"
};
Result<AksClusterRef> parse_cluster_resource_id(std::string_view id, const ClusterIdShape& shape);

// Paths with ?api-version=kAksApiVersion, ready for the ARM endpoint.
std::string managed_cluster_path(const AksClusterRef& ref);
std::string agent_pool_path(const AksClusterRef& ref, std::string_view pool);
std::string node_image_upgrade_path(const AksClusterRef& ref, std::string_view pool);
std::string maintenance_configuration_path(const AksClusterRef& ref, std::string_view config);

// ARM's error body {"error": {"code", "message"}} (also nested "details"); empty strings when it is not one.
struct ArmError {
  std::string code;
  std::string message;
};
ArmError parse_arm_error(const nlohmann::json& body);
// A 409 (or 400 with one of these codes) that means "another operation is in progress on this cluster or pool":
// wait and send again rather than fail. AKS answers OperationNotAllowed or AnotherOperationInProgress; a 412 or
// EtagMismatch means our read is stale: read again and send again.
bool is_busy_error(int status, const ArmError& error);
bool is_stale_etag(int status, const ArmError& error);

// The managed cluster's properties.autoUpgradeProfile.upgradeChannel ("rapid", "stable", "patch", "node-image")
// when it is set and not "none": the cluster would upgrade itself and fight the fleet (Azure/AKS #5811).
std::optional<std::string> auto_upgrade_channel(const nlohmann::json& managed_cluster);

// An ARM resource as GET returned it, ready to be PUT back (a PUT replaces the whole resource): without its etag
// and systemData, and without the members ARM computes, in properties and in each properties.agentPoolProfiles
// entry. The aks and aksarc bodies below start from it.
nlohmann::json arm_writable(const nlohmann::json& resource, std::span<const std::string_view> read_only_properties,
                            std::span<const std::string_view> read_only_pool_members);

// The bodies of the PUTs: the resource as GET returned it, with the change and without the read-only members
// ARM fills in (a PUT replaces the whole resource, so everything else must be sent back as it was).
// Control plane only: kubernetesVersion; each agent pool profile keeps its own orchestratorVersion, so no node
// is touched (az aks upgrade --control-plane-only sends the same).
nlohmann::json control_plane_put_body(const nlohmann::json& managed_cluster, std::string_view version);
// upgradeChannel "none" (--aks-disable-auto-upgrade).
nlohmann::json disable_auto_upgrade_body(const nlohmann::json& managed_cluster);
// orchestratorVersion and upgradeSettings.maxSurge ("1", "33%").
nlohmann::json agent_pool_put_body(const nlohmann::json& agent_pool, std::string_view version,
                                   std::string_view max_surge);

// What the resource says about our target. The resource shows the target in kubernetesVersion /
// orchestratorVersion as soon as an upgrade is accepted, and what runs in currentKubernetesVersion /
// currentOrchestratorVersion; provisioningState is Succeeded, Failed, Canceled, or an operation in flight
// (Upgrading, Updating, UpgradingNodeImageVersion, Scaling, …).
enum class UpgradeDecision {
  kSend,      // nothing in flight and not at the target: send the request
  kFollow,    // an upgrade toward our target is in flight (an agent restart): follow it, send nothing
  kDone,      // already at the target and settled
  kWaitBusy,  // another operation is in flight: wait for it, then decide again
};
struct ResourceView {
  std::string provisioning_state;
  std::string target;   // kubernetesVersion / orchestratorVersion (or nodeImageVersion for node images)
  std::string current;  // currentKubernetesVersion / currentOrchestratorVersion (or nodeImageVersion)
};
ResourceView managed_cluster_view(const nlohmann::json& managed_cluster);
ResourceView agent_pool_view(const nlohmann::json& agent_pool);
bool provisioning_in_flight(std::string_view state);
UpgradeDecision decide_upgrade(const ResourceView& view, std::string_view target);
// Blue-green pools (issue #13 item 4). The new pool is the old pool's resource under a new name at `version`:
// the same VM size, count (or autoscaler bounds), mode, zones, subnet, labels and taints, so the pods the drain
// evicts from the old pool fit on the new one as they did. Its name, id and upgradeSettings' surge are not
// copied (a create surges nothing). AKS gives a new pool the latest node image of its version; a create cannot
// ask for another.
nlohmann::json new_agent_pool_body(const nlohmann::json& old_pool, std::string_view version);
// What the new pool's resource (null: it does not exist yet) says about creating it at `version`: kSend when it
// does not exist, or a create failed or was canceled (a PUT again is how AKS retries one); kFollow while it is
// Creating at `version` (an agent restart); kDone once it runs at `version`; kWaitBusy while another operation
// runs on it. A pool of that name at another version is not ours to take: kInvalid, naming it.
Result<UpgradeDecision> decide_pool_creation(const nlohmann::json& new_pool, std::string_view version);
// Deleting a pool (null: already gone → kDone): kFollow while it is Deleting, kWaitBusy while another operation
// runs on it, else kSend.
UpgradeDecision decide_pool_deletion(const nlohmann::json& pool);

// A node-image upgrade (POST upgradeNodeImageVersion takes AKS's latest image; no version can be asked for):
// provisioningState UpgradingNodeImageVersion is one in flight to follow; a pool already on `wanted_image` (when
// one is given) is done; another operation is waited for.
UpgradeDecision decide_node_image_upgrade(const nlohmann::json& agent_pool, std::string_view wanted_image);

}  // namespace fleet::agent::kube
