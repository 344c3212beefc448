#include "placement/division.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fleet::placement {

std::vector<int> apportion(int total, const std::vector<double>& weights, const std::vector<int>& caps) {
  std::vector<int> shares(weights.size(), 0);
  int remaining = total;
  while (remaining > 0) {
    std::vector<std::size_t> active;
    double weight_sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (weights[i] > 0 && shares[i] < caps[i]) {
        active.push_back(i);
        weight_sum += weights[i];
      }
    }
    if (active.empty()) break;
    std::vector<std::pair<double, std::size_t>> fractions;  // (-fraction, index): sorts largest first, then index
    int given = 0;
    for (const std::size_t i : active) {
      const double exact = remaining * weights[i] / weight_sum;
      const int whole = std::min(static_cast<int>(std::floor(exact)), caps[i] - shares[i]);
      shares[i] += whole;
      given += whole;
      fractions.emplace_back(-(exact - std::floor(exact)), i);
    }
    std::sort(fractions.begin(), fractions.end());
    for (const auto& [fraction, i] : fractions) {
      if (given == remaining) break;
      if (shares[i] < caps[i]) {
        ++shares[i];
        ++given;
      }
    }
    if (given == 0) break;
    remaining -= given;
  }
  return shares;
}

std::vector<int> divide_replicas(const CycleState& state, const std::vector<Candidate>& chosen) {
  const Workload& workload = *state.workload;
  if (workload.policy.division == ReplicaDivision::kDuplicated)
    return std::vector<int>(chosen.size(), workload.replicas);
  std::vector<double> weights;
  std::vector<int> caps;
  for (const Candidate& candidate : chosen) {
    caps.push_back(candidate.fit);
    if (workload.policy.divide_by == DivideBy::kCapacity) {
      weights.push_back(candidate.fit);
    } else {
      const auto it = workload.policy.weights.find(state.ledger->clusters()[candidate.cluster].name);
      weights.push_back(it == workload.policy.weights.end() ? 1.0 : it->second);
    }
  }
  return apportion(workload.replicas, weights, caps);
}

}  // namespace fleet::placement
