#pragma once
// What an update run is asked to do (issue #12 item 4, DESIGN §6): its target and its strategy (inline, or a
// stored strategy's name that fleetd resolves and freezes into the run at creation), and how node pools roll.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/version.hpp"
#include "protocol/command_payloads.hpp"
#include "rollout/strategy.hpp"

namespace fleet::rollout {

enum class TargetType { kFull, kControlPlaneOnly, kNodeImageOnly };
// Previous: node-image rollback (issue #13 item 5): each pool back on the image it ran before run `rollback_of`
// changed it (PlanInput::previous_images); NodeImageOnly only, a Kubernetes version is never downgraded.
enum class NodeImageSelection { kLatest, kConsistent, kCustom, kPrevious };

struct Target {
  TargetType type = TargetType::kFull;
  // Full and ControlPlaneOnly: required. NodeImageOnly: absent.
  std::optional<model::KubernetesVersion> kubernetes_version;
  // Full and NodeImageOnly: which image each pool gets. ControlPlaneOnly: ignored.
  NodeImageSelection node_image_selection = NodeImageSelection::kLatest;
  std::string custom_node_image;  // Custom: the pinned image version (must be in the catalog)
  std::string rollback_of;        // Previous: the run whose node-image changes are rolled back
  // A target past its end of support (or not yet released) skips every cluster unless this is set.
  bool allow_unsupported = false;
  bool operator==(const Target&) const = default;
};

inline constexpr std::size_t kMaxBlueGreenPools = 64;

// Blue-green node pools (issue #13 item 4), a per-pool strategy: each pool named here (every pool when the list is
// empty) is replaced by a parallel pool at the target instead of reimaged in place (blue_green_node_pool's three
// phases, protocol/command_payloads.hpp). The old pool is kept, cordoned and empty, for `soak` after the workloads
// moved; within it `:rollback` moves them back and deletes the new pool; after it the old pool is deleted.
struct BlueGreenSettings {
  std::vector<std::string> pools;  // pool names (DNS labels), unique; empty: every pool
  Seconds soak{3600};
  bool operator==(const BlueGreenSettings&) const = default;
  bool applies_to(std::string_view pool) const {
    return pools.empty() || std::find(pools.begin(), pools.end(), pool) != pools.end();
  }
};

// Per node pool, carried into each upgrade_node_pool command (protocol/command_payloads.hpp).
struct NodeUpgradeSettings {
  protocol::NodeBudget max_surge{1, false};
  protocol::NodeBudget max_unavailable{0, false};
  int max_failed_nodes = 0;  // nodes of one pool that may fail (and stay quarantined) before the member fails
  std::optional<BlueGreenSettings> blue_green;  // absent: every pool is upgraded in place (surge)
  bool operator==(const NodeUpgradeSettings&) const = default;
};

struct RunSpec {
  std::string name;
  Target target;
  std::string strategy_ref;  // non-empty: the stored strategy's name (`strategy` is filled in by fleetd)
  Strategy strategy;
  NodeUpgradeSettings node_upgrade;
  bool operator==(const RunSpec&) const = default;
};

std::string_view to_string(TargetType t);
std::string_view to_string(NodeImageSelection s);

}  // namespace fleet::rollout
