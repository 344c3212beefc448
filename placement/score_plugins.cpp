#include "placement/score_plugins.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "model/inventory.hpp"
#include "placement/cluster_filters.hpp"
#include "placement/cluster_properties.hpp"
#include "placement/tolerations.hpp"

namespace fleet::placement {

namespace {

constexpr std::array<int, 4> kCommonShapes = {1, 2, 4, 8};
constexpr std::size_t kBlocks = model::kMaxGpusPerNode + 1;

// fragmentation_delta(free, gpus) for every block size, worked out once: the score asks it for every block size of
// every candidate cluster of every decision.
using DeltaTable = std::array<std::array<double, kBlocks>, kBlocks>;
const DeltaTable& delta_table() {
  static const DeltaTable table = [] {
    DeltaTable t{};
    for (std::size_t free = 0; free < kBlocks; ++free) {
      for (std::size_t gpus = 0; gpus <= free; ++gpus) {
        t[free][gpus] = fragmentation_delta(static_cast<int>(free), static_cast<int>(gpus));
      }
    }
    return t;
  }();
  return table;
}

}  // namespace

// For each common shape s, the GPUs left over once the node holds as many s-blocks as fit (free mod s), averaged
// over the shapes. A full or empty 8-GPU node scores 0; a node with 7 free scores (0 + 1 + 3 + 7) / 4.
double node_fragmentation(int free) {
  double sum = 0;
  for (const int shape : kCommonShapes) sum += free % shape;
  return sum / static_cast<double>(kCommonShapes.size());
}

double fragmentation_delta(int free, int gpus) {
  return node_fragmentation(free - gpus) - node_fragmentation(free);
}

std::optional<double> FragmentationScore::score(const CycleState& state, const Candidate& candidate) const {
  const ReplicaResources& resources = state.workload->resources;
  if (resources.gpus == 0) return 0.0;
  const ClusterAggregate& aggregate = state.ledger->aggregate(candidate.cluster);
  const DeltaTable& deltas = delta_table();
  const auto gpus = static_cast<std::size_t>(resources.gpus);
  double best = std::numeric_limits<double>::infinity();
  for (const auto& [model, capacity] : aggregate.by_model) {
    if (!state.model_allowed(capacity.model_id)) continue;
    for (std::size_t free = gpus; free < capacity.nodes_by_free.size(); ++free) {
      if (capacity.nodes_by_free[free] == 0) continue;
      // The block size breaks ties between equal deltas: the tightest block that fits.
      best = std::min(best, deltas[free][gpus] + 0.001 * static_cast<double>(free));
    }
  }
  if (best == std::numeric_limits<double>::infinity()) return std::nullopt;
  return -best;
}

std::optional<double> PackingScore::score(const CycleState& state, const Candidate& candidate) const {
  const ReplicaResources& resources = state.workload->resources;
  if (resources.gpus == 0) return 0.0;
  int total = 0;
  int free = 0;
  for (const auto& [model, capacity] : state.ledger->aggregate(candidate.cluster).by_model) {
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
    if (!term_mismatch(preferred[i].term, *state.ledger, candidate.cluster, labels_match)) sum += preferred[i].weight;
  }
  return sum;
}

std::optional<double> CostScore::score(const CycleState& state, const Candidate& candidate) const {
  PropertyRequirement cost;
  cost.property = "costPerGpuHour";
  const std::optional<double> value = property_value(*state.ledger, candidate.cluster, cost);
  if (!value) return std::nullopt;
  return -*value;
}

std::optional<double> TaintPreferenceScore::score(const CycleState& state, const Candidate& candidate) const {
  return -static_cast<double>(
      untolerated_preferences(state.workload->policy.tolerations, state.ledger->clusters()[candidate.cluster].taints));
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
  plugins.push_back(std::make_unique<CurrentBindingScore>());
  return plugins;
}

}  // namespace fleet::placement
