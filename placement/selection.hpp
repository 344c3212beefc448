#pragma once
// Selection: which of the ranked candidates the workload takes. PickAll and PickFixed take every candidate; PickN
// takes the best N, honouring topology spread: DoNotSchedule constraints are never broken, ScheduleAnyway
// constraints are kept while there is a choice. Every candidate not taken gets a Rejection (Spread or NotSelected).
#include <string>
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

struct Selection {
  std::vector<Candidate> chosen;  // in rank order
  std::vector<Rejection> rejected;
};

// `ranked`: best first (replicas that fit, then score, then name). Pure in the candidates and the snapshot's
// cluster fields.
Selection select_clusters(const CycleState& state, const std::vector<Candidate>& ranked);

// The cluster's value for a topology key: "region" and "provider" are its fields, anything else a label; empty
// when it has none (such a cluster is neither counted nor constrained).
std::string topology_value(const ClusterSnapshot& cluster, const std::string& key);

}  // namespace fleet::placement
