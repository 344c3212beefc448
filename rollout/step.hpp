#pragma once
// One step of a member's upgrade, frozen into the run at creation (so `:retry` reruns exactly the same targets):
// a control-plane hop or a node pool's upgrade. Each becomes one agent command.
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/version.hpp"

namespace fleet::rollout {

enum class StepKind { kControlPlane, kNodePool };

struct Step {
  StepKind kind = StepKind::kControlPlane;
  std::string pool;                                            // node pool steps
  std::optional<model::KubernetesVersion> kubernetes_version;  // absent: unchanged (node-image-only)
  std::string node_image;                                      // node pool steps; empty: unchanged
  int nodes = 0;
  int gpu_nodes = 0;
  std::string from_node_image;  // with node_image: the image the pool ran when the run was planned (rollback's)
  // Non-empty: a blue-green step (issue #13 item 4): `pool` is replaced by a new pool of this name at the targets
  // (blue_green_node_pool), not reimaged in place. The planner picks a name the cluster has no pool by.
  std::string replacement;
  bool operator==(const Step&) const = default;
};

nlohmann::json to_json(const Step& step);
Result<Step> step_from_json(const nlohmann::json& j);
// "control plane → 1.31.11", "pool gpu → 1.32.7, AKSUbuntu-… (4 nodes)", "pool gpu → gpu2 at 1.32.7 (4 nodes,
// blue-green)".
std::string describe(const Step& step);

// The name of a blue-green step's new pool: the pool's name with its trailing number bumped ("gpu" → "gpu2",
// "gpu2" → "gpu3", "pool-9" → "pool-10"), bumped again past the names in `taken` (the cluster's pools). At most 12
// characters where the pool's name allows (AKS's limit for Linux pools): the stem is shortened to fit.
std::string replacement_pool_name(const std::string& pool, const std::set<std::string>& taken);

}  // namespace fleet::rollout
