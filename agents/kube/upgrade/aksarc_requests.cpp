#include "agents/kube/upgrade/aksarc_requests.hpp"

#include <array>

#include <boost/algorithm/string/predicate.hpp>

#include "agents/kube/json_fields.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

std::string arc_api_version_query() {
  return "?api-version=" + std::string(kAksArcApiVersion);
}

// What ARM computes for an instance and its pool profiles; a pool profile's kubernetesVersion is read-only (the
// instance's), so sending it back could only be refused or ignored.
constexpr std::array<std::string_view, 3> kReadOnly = {"provisioningState", "status", "kubernetesVersion"};

}  // namespace

Result<AksClusterRef> parse_connected_cluster_id(std::string_view id) {
  return parse_cluster_resource_id(
      id, ClusterIdShape{"Arc connected cluster", "an Arc connected cluster", "Microsoft.Kubernetes",
                         "connectedClusters", "az connectedk8s show --query id", "aksarc-cluster-id"});
}

std::string provisioned_cluster_path(const AksClusterRef& c) {
  return "/subscriptions/" + http::url_encode(c.subscription) + "/resourceGroups/" +
         http::url_encode(c.resource_group) + "/providers/Microsoft.Kubernetes/connectedClusters/" +
         http::url_encode(c.name) + "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default" +
         arc_api_version_query();
}

std::string arc_agent_pool_path(const AksClusterRef& c, std::string_view pool) {
  std::string base = provisioned_cluster_path(c);
  base.erase(base.find('?'));
  return base + "/agentPools/" + http::url_encode(pool) + arc_api_version_query();
}

json provisioned_cluster_put_body(const json& instance, std::string_view version) {
  json out = arm_writable(instance, kReadOnly, kReadOnly);  // the instance's kubernetesVersion is set again below
  json& p = out["properties"];
  if (!p.is_object()) p = json::object();
  p["kubernetesVersion"] = std::string(version);
  return out;
}

UpgradeDecision decide_arc_upgrade(const json& instance, std::string_view version) {
  const json& p = member(instance, "properties");
  const std::string state = str(p, "provisioningState");
  const bool at_version = str(p, "kubernetesVersion") == version;
  if (provisioning_in_flight(state)) {
    const bool upgrading =
        boost::algorithm::iequals(state, "Upgrading") || boost::algorithm::iequals(state, "Updating");
    return upgrading && at_version ? UpgradeDecision::kFollow : UpgradeDecision::kWaitBusy;
  }
  return at_version && boost::algorithm::iequals(state, "Succeeded") ? UpgradeDecision::kDone : UpgradeDecision::kSend;
}

Result<UpgradeDecision> decide_arc_pool(const json& pool, std::string_view version) {
  const json& p = member(pool, "properties");
  if (provisioning_in_flight(str(p, "provisioningState"))) return UpgradeDecision::kWaitBusy;
  const std::string at = str(p, "kubernetesVersion");
  if (at == version) return UpgradeDecision::kDone;
  return make_error(ErrorCode::kInvalid,
                    "AKS Arc upgrades node pools with the cluster (a pool's kubernetesVersion is the provisioned "
                    "cluster's), so pool " +
                        str(pool, "name") + " (at " + (at.empty() ? "an unknown version" : at) +
                        ") cannot be upgraded to " + std::string(version) +
                        " on its own: upgrade_control_plane to it upgrades every pool",
                    "payload.pool", "pool-follows-cluster");
}

}  // namespace fleet::agent::kube
