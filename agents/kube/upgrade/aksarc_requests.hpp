#pragma once
// The AKS Arc side of the aksarc upgrade driver as data (pure; no I/O). AKS enabled by Azure Arc (AKS on Azure
// Local) runs a cluster as a provisioned cluster instance, an extension resource of the Arc connected cluster:
// {connected cluster}/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default, API version
// kAksArcApiVersion (https://learn.microsoft.com/rest/api/hybridcontainer/provisioned-cluster-instances). Its
// properties.kubernetesVersion is the whole cluster's: an agent pool's kubernetesVersion is read-only, inherited
// from the instance, so one PUT of the instance upgrades the control plane and then every node pool, and no pool
// can be upgraded on its own. The published API has no node-image-only upgrade.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agents/kube/upgrade/aks_requests.hpp"
#include "common/error.hpp"

namespace fleet::agent::kube {

inline constexpr std::string_view kAksArcApiVersion = "2024-01-01";

// The Arc connected cluster's resource id (az connectedk8s show --query id):
// /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Kubernetes/connectedClusters/NAME.
Result<AksClusterRef> parse_connected_cluster_id(std::string_view id);
// Paths with ?api-version=kAksArcApiVersion.
std::string provisioned_cluster_path(const AksClusterRef& connected_cluster);
std::string arc_agent_pool_path(const AksClusterRef& connected_cluster, std::string_view pool);

// The instance as GET returned it with properties.kubernetesVersion set to `version`, without what ARM computes:
// provisioningState, status, and each agent pool profile's kubernetesVersion, provisioningState and status.
nlohmann::json provisioned_cluster_put_body(const nlohmann::json& instance, std::string_view version);

// The instance toward `version`: kFollow while an upgrade to it is in flight (Upgrading, Updating: an agent
// restart), kWaitBusy while another operation runs, kDone once it is settled at it, else kSend (a failed or
// canceled upgrade is sent again: a PUT is how ARM retries one).
UpgradeDecision decide_arc_upgrade(const nlohmann::json& instance, std::string_view version);
// A pool's version follows the instance's: kWaitBusy while an operation runs on it, kDone once it runs
// `version`; a settled pool at another version cannot be upgraded on its own (kInvalid, type
// pool-follows-cluster, saying that upgrade_control_plane upgrades it).
Result<UpgradeDecision> decide_arc_pool(const nlohmann::json& pool, std::string_view version);

}  // namespace fleet::agent::kube
