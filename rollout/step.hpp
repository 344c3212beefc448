#pragma once
// One step of a member's upgrade, frozen into the run at creation (so `:retry` reruns exactly the same targets):
// a control-plane hop or a node pool's upgrade. Each becomes one agent command.
#include <optional>
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
  bool operator==(const Step&) const = default;
};

nlohmann::json to_json(const Step& step);
Result<Step> step_from_json(const nlohmann::json& j);
std::string describe(const Step& step);  // "control plane → 1.31.11", "pool gpu → 1.32.7, AKSUbuntu-… (4 nodes)"

}  // namespace fleet::rollout
