#include "fleetd/loops/binding_overrides.hpp"

namespace fleet {

std::map<std::string, nlohmann::json> BindingOverrides::records() const {
  std::map<std::string, nlohmann::json> out;
  for (const auto& [cluster, result] : applied) out.emplace(cluster, placement::to_json(result.applied));
  for (const auto& [cluster, error] : failed) out.emplace(cluster, nlohmann::json::array());
  return out;
}

BindingOverrides binding_overrides(const nlohmann::json& manifests,
                                   const std::vector<placement::VersionedOverride>& overrides,
                                   const std::vector<placement::ClusterBinding>& bindings,
                                   const std::map<std::string, model::Labels>& labels) {
  BindingOverrides out;
  static const model::Labels kNoLabels;
  for (const placement::ClusterBinding& b : bindings) {
    const auto it = labels.find(b.cluster);
    const model::Labels& cluster_labels = it == labels.end() ? kNoLabels : it->second;
    if (!placement::any_rule_matches(overrides, cluster_labels)) continue;
    auto result = placement::apply_overrides(manifests, overrides, cluster_labels);
    if (result) {
      out.applied.emplace(b.cluster, std::move(*result));
    } else {
      out.failed.emplace(b.cluster, result.error());
    }
  }
  return out;
}

std::string override_failure_message(const Error& error) {
  return "overrides not applied, nothing sent to the cluster: " + error.message;
}

}  // namespace fleet
