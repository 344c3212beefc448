#pragma once
// The API form of a decision (GET /v1/workloads/{name}/placement, and what fleetd stores):
//   {"state": "Placed"|"PartiallyPlaced"|"Unplaceable", "replicasWanted": 6, "replicasBound": 6,
//    "bindings": [{"cluster": "aks-1", "replicas": 3, "nodes": [{"node": "n1", "replicas": 2}, …]}],
//    "rejected": [{"cluster": "aks-2", "code": "InsufficientCapacity", "reason": "…"}]}
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "placement/decision.hpp"

namespace fleet::placement {

nlohmann::json to_json(const Decision& decision);
nlohmann::json to_json(const ClusterBinding& binding);
nlohmann::json to_json(const std::vector<NodeShare>& nodes);

// What fleetd wrote with to_json; an error (not a crash) for anything else.
Result<Decision> decision_from_json(const nlohmann::json& j);
Result<std::vector<NodeShare>> node_shares_from_json(const nlohmann::json& j);

}  // namespace fleet::placement
