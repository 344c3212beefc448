#pragma once
// Replica division among the chosen clusters. Duplicated: each runs all replicas. Divided: replicas split in
// proportion to each cluster's fit (by capacity) or to static weights, never more than a cluster can take, with the
// rounding remainder going to the largest fractions (ties: the better-ranked cluster). What one cluster cannot
// take goes to the others in the same proportions.
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

// Replicas per chosen cluster, in the order of `chosen`.
std::vector<int> divide_replicas(const CycleState& state, const std::vector<Candidate>& chosen);

// Splits `total` by `weights` (>= 0) with per-item `caps`: largest remainder, ties to the lower index, overflow
// redistributed. The sum is min(total, sum of caps over items with a positive weight).
std::vector<int> apportion(int total, const std::vector<double>& weights, const std::vector<int>& caps);

}  // namespace fleet::placement
