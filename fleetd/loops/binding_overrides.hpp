#pragma once
// The overrides (issue #15 item 2) each binding of a decision gets: for every chosen cluster, the workload's
// manifests with the matching overrides applied (placement/manifest_override.hpp) and the record kept with the
// binding, or why they could not be applied. Pure, so the placement loop only reads, calls and writes.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"
#include "placement/decision.hpp"
#include "placement/manifest_override.hpp"

namespace fleet {

struct BindingOverrides {
  // By cluster, where a rule matched (elsewhere the manifests go as they are, with no overrides).
  std::map<std::string, placement::OverriddenManifests> applied;
  std::map<std::string, Error> failed;  // by cluster: the binding is Failed with this
  // By cluster, what binding_changes compares with the stored record: a failed cluster's is [] (a Failed binding
  // is applied again anyway).
  std::map<std::string, nlohmann::json> records() const;
};

// `overrides`: those that name the workload. `labels`: every cluster's labels, by name (a cluster not there has
// none).
BindingOverrides binding_overrides(const nlohmann::json& manifests,
                                   const std::vector<placement::VersionedOverride>& overrides,
                                   const std::vector<placement::ClusterBinding>& bindings,
                                   const std::map<std::string, model::Labels>& labels);

// The message a binding whose overrides failed carries.
std::string override_failure_message(const Error& error);

}  // namespace fleet
