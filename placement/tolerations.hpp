#pragma once
// Kubernetes taint/toleration matching, for cluster taints and node taints alike. The fleet's admission taints
// (fleet.io/gpu-unverified, fleet.io/gpu-quarantined) are never tolerated: no GPU node takes work until its probe
// has passed, whatever a workload says (issue #11).
#include <optional>
#include <vector>

#include "model/cluster.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

bool tolerates(const Toleration& toleration, const model::Taint& taint);

// The first taint with a scheduling effect (NoSchedule, NoExecute) that no toleration covers; PreferNoSchedule
// taints never refuse (they lower the score). nullopt when all are tolerated.
std::optional<model::Taint> first_untolerated(const std::vector<Toleration>& tolerations,
                                              const std::vector<model::Taint>& taints);

// How many PreferNoSchedule taints are not tolerated (a score penalty).
int untolerated_preferences(const std::vector<Toleration>& tolerations, const std::vector<model::Taint>& taints);

}  // namespace fleet::placement
