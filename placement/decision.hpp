#pragma once
// What the engine decided for one workload: bindings (cluster, replicas, and on which nodes) and, for every
// cluster not chosen, why (placement/rejection.hpp, stored compactly: placement/rejection_list.hpp). Plain data;
// placement/decision_json.hpp writes the API form.
#include <string>
#include <vector>

#include "placement/rejection_list.hpp"

namespace fleet::placement {

struct NodeShare {
  std::string node;
  int replicas = 0;
  bool operator==(const NodeShare&) const = default;
};

struct ClusterBinding {
  std::string cluster;
  int replicas = 0;
  std::vector<NodeShare> nodes;  // sorted by node name; empty for a CPU-only workload with no node pinning
  bool operator==(const ClusterBinding&) const = default;
};

// kPlaced: every wanted replica is bound (for Duplicated: on every chosen cluster, and PickN found N clusters).
// kPartiallyPlaced: some are. kUnplaceable: none.
enum class DecisionState { kPlaced, kPartiallyPlaced, kUnplaceable };
std::string_view to_string(DecisionState state);  // "Placed" | "PartiallyPlaced" | "Unplaceable"

struct Decision {
  DecisionState state = DecisionState::kUnplaceable;
  int replicas_wanted = 0;  // Duplicated: replicas × clusters wanted (PickN: N; PickFixed: names; PickAll: chosen)
  int replicas_bound = 0;
  std::vector<ClusterBinding> bindings;  // sorted by cluster name
  RejectionList rejected;                // sorted by cluster name
  bool operator==(const Decision&) const = default;
};

}  // namespace fleet::placement
