#include "placement/cluster_filters.hpp"

#include <algorithm>

#include "model/inventory.hpp"
#include "model/label_selector.hpp"
#include "placement/cluster_properties.hpp"
#include "placement/tolerations.hpp"

namespace fleet::placement {

std::optional<FilterOutcome> ClusterStateFilter::filter(const CycleState& state, std::size_t cluster) const {
  const std::string& cluster_state = state.ledger->clusters()[cluster].state;
  if (cluster_state == "ready") return std::nullopt;
  std::string reason = "cluster is " + cluster_state;
  if (cluster_state == "registering") reason += " (its agent has not sent a heartbeat yet)";
  if (cluster_state == "unreachable") reason += " (missed heartbeats)";
  return FilterOutcome{RejectionCode::kClusterState, std::move(reason)};
}

std::optional<FilterOutcome> ClusterListFilter::filter(const CycleState& state, std::size_t cluster) const {
  const Policy& policy = state.workload->policy;
  if (policy.type != PolicyType::kPickFixed) return std::nullopt;
  const std::string& name = state.ledger->clusters()[cluster].name;
  if (std::binary_search(policy.cluster_names.begin(), policy.cluster_names.end(), name)) return std::nullopt;
  return FilterOutcome{RejectionCode::kNotInClusterList, "not in the workload's cluster list (PickFixed)"};
}

bool ClusterListFilter::cacheable(const CycleState& state) const {
  return state.workload->policy.type != PolicyType::kPickFixed;  // otherwise it lets every cluster through
}

std::optional<FilterOutcome> ClusterTaintFilter::filter(const CycleState& state, std::size_t cluster) const {
  const std::optional<model::Taint> taint =
      first_untolerated(state.workload->policy.tolerations, state.ledger->clusters()[cluster].taints);
  if (!taint) return std::nullopt;
  return FilterOutcome{RejectionCode::kTaint, "taint " + model::format_taint(*taint) + " not tolerated"};
}

std::optional<std::string> term_mismatch(const ClusterTerm& term, const CapacityLedger& ledger, std::size_t cluster,
                                         std::optional<bool> labels_match) {
  if (!labels_match) labels_match = model::matches(term.labels, ledger.clusters()[cluster].labels);
  if (!*labels_match) {
    return "labels do not match " + model::to_string(term.labels);
  }
  for (const PropertyRequirement& requirement : term.properties) {
    const std::optional<double> value = property_value(ledger, cluster, requirement);
    if (!value) return "property " + property_label(requirement) + " is not set";
    if (!compare(*value, requirement.op, requirement.value)) {
      return property_label(requirement) + " is " + format_number(*value) + ", needs " +
             std::string(to_string(requirement.op)) + " " + format_number(requirement.value);
    }
  }
  return std::nullopt;
}

bool term_matches(const ClusterTerm& term, const CapacityLedger& ledger, std::size_t cluster,
                  std::optional<bool> labels_match) {
  if (!labels_match) labels_match = model::matches(term.labels, ledger.clusters()[cluster].labels);
  if (!*labels_match) return false;
  for (const PropertyRequirement& requirement : term.properties) {
    const std::optional<double> value = property_value(ledger, cluster, requirement);
    if (!value || !compare(*value, requirement.op, requirement.value)) return false;
  }
  return true;
}

std::optional<FilterOutcome> RequiredAffinityFilter::filter(const CycleState& state, std::size_t cluster) const {
  const std::optional<ClusterTerm>& required = state.workload->policy.required;
  if (!required) return std::nullopt;
  std::optional<bool> labels_match;
  if (state.required_labels_match != nullptr) labels_match = (*state.required_labels_match)[cluster];
  std::optional<std::string> mismatch = term_mismatch(*required, *state.ledger, cluster, labels_match);
  if (!mismatch) return std::nullopt;
  return FilterOutcome{RejectionCode::kAffinity, "required affinity: " + *mismatch};
}

bool RequiredAffinityFilter::cacheable(const CycleState& state) const {
  const std::optional<ClusterTerm>& required = state.workload->policy.required;
  return !required || required->properties.empty();
}

std::string cluster_filter_key(const Workload& workload) {
  // A unit separator: label values and taint keys may hold any printable character.
  const std::string kSep(1, '\x1f');
  std::string key;
  for (const Toleration& t : workload.policy.tolerations) {
    key += "t" + t.key + (t.op == Toleration::Op::kExists ? "?" : "=") + t.value + ":" + t.effect + kSep;
  }
  const std::optional<ClusterTerm>& required = workload.policy.required;
  // With properties the required affinity is not cached, whatever its labels.
  if (required) key += required->properties.empty() ? "r" + model::to_string(required->labels) : std::string("R");
  return key;
}

std::vector<std::unique_ptr<ClusterFilter>> default_cluster_filters() {
  std::vector<std::unique_ptr<ClusterFilter>> filters;
  filters.push_back(std::make_unique<ClusterListFilter>());
  filters.push_back(std::make_unique<ClusterStateFilter>());
  filters.push_back(std::make_unique<ClusterTaintFilter>());
  filters.push_back(std::make_unique<RequiredAffinityFilter>());
  return filters;
}

}  // namespace fleet::placement
