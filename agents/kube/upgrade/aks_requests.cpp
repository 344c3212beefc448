#include "agents/kube/upgrade/aks_requests.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include <boost/algorithm/string/predicate.hpp>

#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

std::string string_at(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& properties(const json& resource) {
  static const json kEmpty = json::object();
  if (!resource.is_object()) return kEmpty;
  auto it = resource.find("properties");
  return it != resource.end() && it->is_object() ? *it : kEmpty;
}

// Members ARM computes: sending them back is at best ignored, and a stale provisioningState or power state in a
// PUT body is exactly the kind of thing an API version may start refusing.
constexpr std::array<std::string_view, 10> kReadOnlyProperties = {"provisioningState",
                                                                  "powerState",
                                                                  "currentKubernetesVersion",
                                                                  "currentOrchestratorVersion",
                                                                  "fqdn",
                                                                  "azurePortalFQDN",
                                                                  "privateFQDN",
                                                                  "maxAgentPools",
                                                                  "nodeImageVersion",
                                                                  "resourceUID"};

json writable(const json& resource) {
  return arm_writable(resource, kReadOnlyProperties, kReadOnlyProperties);
}

// ARM names: a resource group may hold letters, digits, '-', '_', '.', '(' and ')'; a subscription is a uuid.
bool valid_segment(std::string_view s) {
  return !s.empty() && s.size() <= 90 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '(' || c == ')';
  });
}

std::string encoded(std::string_view segment) {
  return http::url_encode(segment);
}

std::string api_version_query() {
  return "?api-version=" + std::string(kAksApiVersion);
}

}  // namespace

json arm_writable(const json& resource, std::span<const std::string_view> read_only_properties,
                  std::span<const std::string_view> read_only_pool_members) {
  json out = resource.is_object() ? resource : json::object();
  out.erase("etag");
  out.erase("eTag");
  out.erase("systemData");
  if (auto p = out.find("properties"); p != out.end() && p->is_object()) {
    for (std::string_view key : read_only_properties) p->erase(std::string(key));
    if (auto pools = p->find("agentPoolProfiles"); pools != p->end() && pools->is_array()) {
      for (json& pool : *pools) {
        if (!pool.is_object()) continue;
        for (std::string_view key : read_only_pool_members) pool.erase(std::string(key));
      }
    }
  }
  return out;
}

Result<AksClusterRef> parse_cluster_resource_id(std::string_view id, const ClusterIdShape& shape) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start < id.size()) {
    auto slash = id.find('/', start);
    if (slash == std::string_view::npos) slash = id.size();
    if (slash > start) parts.push_back(id.substr(start, slash - start));
    start = slash + 1;
  }
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalid,
                      "the " + std::string(shape.what) + " id \"" + std::string(id) + "\" " + why +
                          "; expected /subscriptions/SUB/resourceGroups/RG/providers/" + std::string(shape.provider) +
                          "/" + std::string(shape.type) + "/NAME (" + std::string(shape.cli) + ")",
                      std::string(shape.field));
  };
  const std::string kind = "is not " + std::string(shape.resource) + "'s resource id";
  if (id.empty() || id.front() != '/' || parts.size() != 8) return bad(kind);
  if (!boost::algorithm::iequals(parts[0], "subscriptions") || !boost::algorithm::iequals(parts[2], "resourceGroups") ||
      !boost::algorithm::iequals(parts[4], "providers") || !boost::algorithm::iequals(parts[5], shape.provider) ||
      !boost::algorithm::iequals(parts[6], shape.type)) {
    return bad(kind);
  }
  if (!valid_segment(parts[1]) || !valid_segment(parts[3]) || !valid_segment(parts[7])) {
    return bad("has a name with characters ARM does not allow");
  }
  return AksClusterRef{std::string(parts[1]), std::string(parts[3]), std::string(parts[7])};
}

Result<AksClusterRef> parse_aks_cluster_id(std::string_view id) {
  return parse_cluster_resource_id(id, ClusterIdShape{"AKS cluster", "a managed cluster", "Microsoft.ContainerService",
                                                      "managedClusters", "az aks show --query id", "aks-cluster-id"});
}

std::string managed_cluster_path(const AksClusterRef& ref) {
  return "/subscriptions/" + encoded(ref.subscription) + "/resourceGroups/" + encoded(ref.resource_group) +
         "/providers/Microsoft.ContainerService/managedClusters/" + encoded(ref.name) + api_version_query();
}

std::string agent_pool_path(const AksClusterRef& ref, std::string_view pool) {
  std::string base = managed_cluster_path(ref);
  base.erase(base.find('?'));
  return base + "/agentPools/" + encoded(pool) + api_version_query();
}

std::string node_image_upgrade_path(const AksClusterRef& ref, std::string_view pool) {
  std::string base = agent_pool_path(ref, pool);
  base.erase(base.find('?'));
  return base + "/upgradeNodeImageVersion" + api_version_query();
}

std::string maintenance_configuration_path(const AksClusterRef& ref, std::string_view config) {
  std::string base = managed_cluster_path(ref);
  base.erase(base.find('?'));
  return base + "/maintenanceConfigurations/" + encoded(config) + api_version_query();
}

ArmError parse_arm_error(const json& body) {
  if (!body.is_object()) return {};
  auto e = body.find("error");
  if (e == body.end() || !e->is_object()) return {};
  ArmError out{string_at(*e, "code"), string_at(*e, "message")};
  if (out.code.empty()) {
    // Some providers put the useful error one level down.
    if (auto d = e->find("details"); d != e->end() && d->is_array() && !d->empty()) {
      out = ArmError{string_at((*d)[0], "code"), string_at((*d)[0], "message")};
    }
  }
  return out;
}

bool is_busy_error(int status, const ArmError& error) {
  if (status != 409 && status != 400) return false;
  if (boost::algorithm::iequals(error.code, "OperationNotAllowed") ||
      boost::algorithm::iequals(error.code, "AnotherOperationInProgress") ||
      boost::algorithm::iequals(error.code, "Conflict")) {
    return true;
  }
  return status == 409 && error.code.empty();
}

bool is_stale_etag(int status, const ArmError& error) {
  return status == 412 || boost::algorithm::iequals(error.code, "EtagMismatch") ||
         boost::algorithm::iequals(error.code, "PreconditionFailed");
}

std::optional<std::string> auto_upgrade_channel(const json& managed_cluster) {
  const json& p = properties(managed_cluster);
  auto profile = p.find("autoUpgradeProfile");
  if (profile == p.end() || !profile->is_object()) return std::nullopt;
  std::string channel = string_at(*profile, "upgradeChannel");
  if (channel.empty() || boost::algorithm::iequals(channel, "none")) return std::nullopt;
  return channel;
}

json control_plane_put_body(const json& managed_cluster, std::string_view version) {
  json out = writable(managed_cluster);
  out["properties"]["kubernetesVersion"] = std::string(version);
  return out;
}

json disable_auto_upgrade_body(const json& managed_cluster) {
  json out = writable(managed_cluster);
  out["properties"]["autoUpgradeProfile"]["upgradeChannel"] = "none";
  return out;
}

json agent_pool_put_body(const json& agent_pool, std::string_view version, std::string_view max_surge) {
  json out = writable(agent_pool);
  out["properties"]["orchestratorVersion"] = std::string(version);
  out["properties"]["upgradeSettings"]["maxSurge"] = std::string(max_surge);
  return out;
}

ResourceView managed_cluster_view(const json& managed_cluster) {
  const json& p = properties(managed_cluster);
  ResourceView v{string_at(p, "provisioningState"), string_at(p, "kubernetesVersion"),
                 string_at(p, "currentKubernetesVersion")};
  if (v.current.empty()) v.current = v.target;  // older API versions have no current*: the target is what runs
  return v;
}

ResourceView agent_pool_view(const json& agent_pool) {
  const json& p = properties(agent_pool);
  ResourceView v{string_at(p, "provisioningState"), string_at(p, "orchestratorVersion"),
                 string_at(p, "currentOrchestratorVersion")};
  if (v.current.empty()) v.current = v.target;
  return v;
}

bool provisioning_in_flight(std::string_view state) {
  return !state.empty() && !boost::algorithm::iequals(state, "Succeeded") &&
         !boost::algorithm::iequals(state, "Failed") && !boost::algorithm::iequals(state, "Canceled");
}

UpgradeDecision decide_upgrade(const ResourceView& view, std::string_view target) {
  if (provisioning_in_flight(view.provisioning_state)) {
    const bool upgrading = boost::algorithm::iequals(view.provisioning_state, "Upgrading") ||
                           boost::algorithm::iequals(view.provisioning_state, "Updating");
    return upgrading && view.target == target ? UpgradeDecision::kFollow : UpgradeDecision::kWaitBusy;
  }
  // A failed or canceled attempt toward the target leaves current behind: send again.
  return view.current == target && view.target == target ? UpgradeDecision::kDone : UpgradeDecision::kSend;
}

UpgradeDecision decide_node_image_upgrade(const json& agent_pool, std::string_view wanted_image) {
  const json& p = properties(agent_pool);
  const std::string state = string_at(p, "provisioningState");
  if (boost::algorithm::iequals(state, "UpgradingNodeImageVersion")) return UpgradeDecision::kFollow;
  if (provisioning_in_flight(state)) return UpgradeDecision::kWaitBusy;
  if (!wanted_image.empty() && string_at(p, "nodeImageVersion") == wanted_image) return UpgradeDecision::kDone;
  return UpgradeDecision::kSend;
}

json new_agent_pool_body(const json& old_pool, std::string_view version) {
  json out = writable(old_pool);
  out.erase("id");
  out.erase("name");
  out.erase("type");
  json& p = out["properties"];
  p.erase("upgradeSettings");
  p.erase("creationData");  // a snapshot the old pool was made from: the new pool takes its version's image
  p.erase("nodeImageVersion");
  p["orchestratorVersion"] = std::string(version);
  return out;
}

Result<UpgradeDecision> decide_pool_creation(const json& new_pool, std::string_view version) {
  if (new_pool.is_null()) return UpgradeDecision::kSend;
  const ResourceView v = agent_pool_view(new_pool);
  if (boost::algorithm::iequals(v.provisioning_state, "Creating")) {
    if (v.target == version) return UpgradeDecision::kFollow;
  } else if (provisioning_in_flight(v.provisioning_state)) {
    return UpgradeDecision::kWaitBusy;
  } else if (v.target == version) {
    const bool settled = boost::algorithm::iequals(v.provisioning_state, "Succeeded") && v.current == version;
    return settled ? UpgradeDecision::kDone : UpgradeDecision::kSend;
  }
  return make_error(ErrorCode::kInvalid,
                    "AKS already has a pool named " + string_at(new_pool, "name") + " at " +
                        (v.target.empty() ? "an unknown version" : v.target) + " (" + v.provisioning_state +
                        "); blue-green creates the new pool at " + std::string(version) +
                        ", so it will not take over one that exists",
                    "payload.newPool", "pool-exists");
}

UpgradeDecision decide_pool_deletion(const json& pool) {
  if (pool.is_null()) return UpgradeDecision::kDone;
  const std::string state = string_at(properties(pool), "provisioningState");
  if (boost::algorithm::iequals(state, "Deleting")) return UpgradeDecision::kFollow;
  if (provisioning_in_flight(state)) return UpgradeDecision::kWaitBusy;
  return UpgradeDecision::kSend;
}

}  // namespace fleet::agent::kube
