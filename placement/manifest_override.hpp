#pragma once
// What a workload's manifests become on one cluster once its overrides are applied (issue #15 item 2), and the
// record of what was applied, which fleetd keeps per binding. Pure: the placement loop calls it for every binding
// it applies, before it writes the decision into the manifests (fleetd/loops/workload_manifests.hpp), so the
// engine's replica count, node affinity and fleet labels always win over an override: an override cannot make a
// cluster run more than the engine counted.
//
// Order: overrides by name, each one's rules in order, each matching rule's operations in order; a rule matches
// when its cluster selector matches the cluster's labels. An operation that fails (a path that does not exist, a
// `test` that does not hold) fails the whole result with an error naming the override, the rule and the operation,
// and the binding says so instead of applying something half-patched. The result must still be what apply_workload
// carries (an array of Kubernetes objects with apiVersion, kind and metadata.name, at most kMaxManifestBytes).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"
#include "placement/override.hpp"

namespace fleet::placement {

// One override's part in a binding: its name, the generation applied and the indexes of the rules that matched.
struct AppliedOverride {
  std::string name;
  std::int64_t generation = 0;
  std::vector<int> rules;
  bool operator==(const AppliedOverride&) const = default;
};

struct OverriddenManifests {
  nlohmann::json manifests;
  std::vector<AppliedOverride> applied;  // by name; overrides with no matching rule are left out
};

// `overrides`: those that name the workload (any order). Errors are kInvalid, type "override-failed", field
// "overrides.<name>.rules[i].jsonPatches[j]".
Result<OverriddenManifests> apply_overrides(const nlohmann::json& manifests,
                                            const std::vector<VersionedOverride>& overrides,
                                            const model::Labels& cluster_labels);

// Whether any rule of `overrides` selects a cluster with `cluster_labels`: when none does, the manifests go as they
// are and there is nothing to copy (a decision binds up to a thousand clusters).
bool any_rule_matches(const std::vector<VersionedOverride>& overrides, const model::Labels& cluster_labels);

// The record kept per binding: [{"override", "generation", "rules": [i, …]}].
nlohmann::json to_json(const std::vector<AppliedOverride>& applied);

}  // namespace fleet::placement
