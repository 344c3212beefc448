#pragma once
// Selection: which of the ranked candidates the workload takes. PickAll and PickFixed take every candidate; PickN
// takes the best N, honouring topology spread: DoNotSchedule constraints are never broken, ScheduleAnyway
// constraints are kept while there is a choice. Every candidate not taken gets a Rejection (Spread or NotSelected).
#include <string>
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

// A candidate not taken: Spread with its reason, or NotSelected, whose reason the decision builds from `fit`,
// `score` and the selection's shared tail (placement/rejection_list.hpp).
struct Unchosen {
  std::size_t cluster = 0;
  RejectionCode code = RejectionCode::kNotSelected;
  std::string reason;  // Spread only
  int fit = 0;
  long long score = 0;  // rounded
};

struct Selection {
  std::vector<Candidate> chosen;  // in rank order
  std::vector<Unchosen> rejected;
  // What every NotSelected reason ends with: "PickN 2 took clusters that fit more replicas or scored higher (the
  // last one taken fits 3, score 80)".
  std::string not_selected_tail;
};

// Scores print as whole numbers: a reason is read by people.
long long rounded_score(double score);

// `ranked`: best first (replicas that fit, then score, then name). Pure in the candidates and the snapshot's
// cluster fields. Fills `selection`, whose vectors the engine keeps from decision to decision: a decision rejects
// most of the fleet, and fresh vectors of that size each time cost more in page faults than the choice itself.
void select_clusters(const CycleState& state, const std::vector<Candidate>& ranked, Selection& selection);

// The cluster's value for a topology key: "region" and "provider" are its fields, anything else a label; empty
// when it has none (such a cluster is neither counted nor constrained).
std::string topology_value(const ClusterSnapshot& cluster, const std::string& key);

}  // namespace fleet::placement
