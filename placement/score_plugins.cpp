#include "placement/score_plugins.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "model/inventory.hpp"
#include "placement/cluster_filters.hpp"
#include "placement/cluster_properties.hpp"
#include "placement/tolerations.hpp"

namespace fleet::placement {

std::optional<double> FragmentationScore::score(const CycleState& state, const Candidate& candidate) const {
  const ReplicaResources& resources = state.workload->resources;
  if (resources.gpus == 0) return 0.0;
  if (static_cast<std::size_t>(resources.gpus) >= kBlockSizes) return std::nullopt;
  double best = std::numeric_limits<double>::infinity();
  for (const ModelScoreInputs& capacity : state.ledger->score_inputs(candidate.cluster)) {
    if (state.model_allowed(capacity.model_id)) best = std::min(best, capacity.best_fragmentation[resources.gpus]);
  }
  if (best == std::numeric_limits<double>::infinity()) return std::nullopt;
  return -best;
}

std::optional<double> PackingScore::score(const CycleState& state, const Candidate& candidate) const {
  const ReplicaResources& resources = state.workload->resources;
  if (resources.gpus == 0) return 0.0;
  int total = 0;
  int free = 0;
  for (const ModelScoreInputs& capacity : state.ledger->score_inputs(candidate.cluster)) {
    if (!state.model_allowed(capacity.model_id)) continue;
    total += capacity.total;
    free += capacity.free;
  }
  if (total == 0) return 0.0;
  return static_cast<double>(total - free) / total;
}

std::optional<double> PreferredAffinityScore::score(const CycleState& state, const Candidate& candidate) const {
  double sum = 0;
  const std::vector<PreferredTerm>& preferred = state.workload->policy.preferred;
  for (std::size_t i = 0; i < preferred.size(); ++i) {
    std::optional<bool> labels_match;
    if (i < state.preferred_labels_match.size()) labels_match = (*state.preferred_labels_match[i])[candidate.cluster];
    if (term_matches(preferred[i].term, *state.ledger, candidate.cluster, labels_match)) sum += preferred[i].weight;
  }
  return sum;
}

std::optional<double> CostScore::score(const CycleState& state, const Candidate& candidate) const {
  // The property costPerGpuHour (placement/cluster_properties.hpp), read without building a requirement.
  const std::optional<double> value = state.ledger->label_number(candidate.cluster, kCostLabel);
  if (!value) return std::nullopt;
  return -*value;
}

std::optional<double> TaintPreferenceScore::score(const CycleState& state, const Candidate& candidate) const {
  return -static_cast<double>(
      untolerated_preferences(state.workload->policy.tolerations, state.ledger->clusters()[candidate.cluster].taints));
}

std::optional<double> UpgradePendingScore::score(const CycleState& state, const Candidate& candidate) const {
  return state.ledger->clusters()[candidate.cluster].upgrade_pending ? 0.0 : 1.0;
}

std::optional<double> CurrentBindingScore::score(const CycleState& state, const Candidate& candidate) const {
  return state.current.contains(state.ledger->clusters()[candidate.cluster].name) ? 1.0 : 0.0;
}

std::vector<std::unique_ptr<ScorePlugin>> default_score_plugins() {
  std::vector<std::unique_ptr<ScorePlugin>> plugins;
  plugins.push_back(std::make_unique<FragmentationScore>());
  plugins.push_back(std::make_unique<PackingScore>());
  plugins.push_back(std::make_unique<PreferredAffinityScore>());
  plugins.push_back(std::make_unique<CostScore>());
  plugins.push_back(std::make_unique<TaintPreferenceScore>());
  plugins.push_back(std::make_unique<UpgradePendingScore>());
  plugins.push_back(std::make_unique<CurrentBindingScore>());
  return plugins;
}

}  // namespace fleet::placement
