#pragma once
// Which nodes a cluster's replicas go to, one replica at a time: a node the workload already uses (no churn on
// re-evaluation), then the node whose fragmentation grows least (score_plugins.hpp), then the tightest block,
// then the name.
// Takes what it assigns from the ledger.
#include <cstdint>
#include <vector>

#include "placement/capacity_ledger.hpp"
#include "placement/cycle_state.hpp"

namespace fleet::placement {

// At most `replicas`, on `eligible` nodes only; fewer only when the nodes have less room than node fit counted
// (never, for a fresh count).
std::vector<NodeShare> assign_nodes(const CycleState& state, CapacityLedger& ledger, std::size_t cluster,
                                    NodeSet eligible, int replicas);

}  // namespace fleet::placement
