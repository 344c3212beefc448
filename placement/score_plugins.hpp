#pragma once
// Score plugins rank the clusters that passed every filter. Each gives a raw score (higher is better) or none (no
// opinion: it ranks lowest); the engine rescales each plugin's scores to 0..100 across the candidates of the cycle
// (min-max, all 0 when they are all equal) and adds them up by weight, so no plugin drowns the others by its units.
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "placement/cycle_state.hpp"
#include "placement/fragmentation.hpp"

namespace fleet::placement {

class ScorePlugin {
 public:
  virtual ~ScorePlugin() = default;
  virtual std::string_view name() const = 0;
  virtual double weight() const = 0;
  virtual std::optional<double> score(const CycleState& state, const Candidate& candidate) const = 0;
  // score() for every candidate, into out[i] (sized by the caller).
  virtual void score_all(const CycleState& state, const std::vector<Candidate>& candidates,
                         std::vector<std::optional<double>>& out) const = 0;
  // False when the workload alone says every candidate would score the same (no preferred terms, nothing bound
  // yet): after rescaling such a plugin adds nothing, so the engine does not ask it.
  virtual bool has_opinion(const CycleState& /*state*/) const { return true; }
};

// score_all with Plugin::score called directly: one virtual call a plugin and decision instead of one a candidate
// (a decision scores some 600 candidates with each plugin; the indirect calls were a tenth of a batch's time).
template <typename Plugin>
class ScoreEach : public ScorePlugin {
 public:
  void score_all(const CycleState& state, const std::vector<Candidate>& candidates,
                 std::vector<std::optional<double>>& out) const final {
    const Plugin& plugin = static_cast<const Plugin&>(*this);
    for (std::size_t i = 0; i < candidates.size(); ++i) out[i] = plugin.Plugin::score(state, candidates[i]);
  }
};

// Keeps whole nodes whole: the cluster whose best node for one replica grows fragmentation least
// (fragmentation-aware best fit, after Alibaba's FGD), and among equals the tightest block.
class FragmentationScore final : public ScoreEach<FragmentationScore> {
 public:
  std::string_view name() const override { return "Fragmentation"; }
  double weight() const override { return 2; }
  std::optional<double> score(const CycleState& state, const Candidate& candidate) const override;
};

// Most allocated first: fills busy clusters before opening empty ones, which stay free for large requests.
class PackingScore final : public ScoreEach<PackingScore> {
 public:
  std::string_view name() const override { return "Packing"; }
  double weight() const override { return 1; }
  std::optional<double> score(const CycleState& state, const Candidate& candidate) const override;
};

// The sum of the weights of the preferred affinity terms the cluster matches.
class PreferredAffinityScore final : public ScoreEach<PreferredAffinityScore> {
 public:
  std::string_view name() const override { return "PreferredAffinity"; }
  double weight() const override { return 3; }
  std::optional<double> score(const CycleState& state, const Candidate& candidate) const override;
  bool has_opinion(const CycleState& state) const override { return !state.workload->policy.preferred.empty(); }
};

// Cheaper GPU-hours first (label fleet.io/cost-per-gpu-hour); a cluster without the label scores as the most
// expensive, so an unknown price never wins over a known one.
class CostScore final : public ScoreEach<CostScore> {
 public:
  std::string_view name() const override { return "Cost"; }
  double weight() const override { return 1; }
  std::optional<double> score(const CycleState& state, const Candidate& candidate) const override;
};

// PreferNoSchedule cluster taints the workload does not tolerate count against the cluster.
class TaintPreferenceScore final : public ScoreEach<TaintPreferenceScore> {
 public:
  std::string_view name() const override { return "TaintPreference"; }
  double weight() const override { return 1; }
  std::optional<double> score(const CycleState& state, const Candidate& candidate) const override;
};

// Clusters an active rollout has yet to drain score lowest: replicas placed or moved now (ahead of another
// cluster's drain, say) would only move again when that rollout reaches them. Below CurrentBinding, so what runs
// there stays until its own pool is drained.
class UpgradePendingScore final : public ScoreEach<UpgradePendingScore> {
 public:
  std::string_view name() const override { return "UpgradePending"; }
  double weight() const override { return 6; }
  std::optional<double> score(const CycleState& state, const Candidate& candidate) const override;
};

// Keeps a workload where it runs: re-evaluating an unchanged fleet moves nothing.
class CurrentBindingScore final : public ScoreEach<CurrentBindingScore> {
 public:
  std::string_view name() const override { return "CurrentBinding"; }
  double weight() const override { return 20; }
  std::optional<double> score(const CycleState& state, const Candidate& candidate) const override;
  bool has_opinion(const CycleState& state) const override { return !state.current.empty(); }
};

std::vector<std::unique_ptr<ScorePlugin>> default_score_plugins();

}  // namespace fleet::placement
