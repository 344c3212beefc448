#include "placement/cluster_verdicts.hpp"

#include <algorithm>

namespace fleet::placement {

ClusterVerdicts::ClusterVerdicts(const CapacityLedger& ledger) : ledger_(&ledger) {
  for (auto& base : base_funnels_) base.resize(ledger.clusters().size());
}

const ClusterVerdicts::FilterTable& ClusterVerdicts::filters(
    const CycleState& state, const std::vector<std::unique_ptr<ClusterFilter>>& filters) {
  auto [it, added] = filter_tables_.try_emplace(cluster_filter_key(*state.workload));
  FilterTable& table = it->second;
  if (!added) return table;
  // Built with the first workload of the key: the cacheable filters read nothing of it that the key leaves out.
  const std::size_t count = ledger_->clusters().size();
  table.reason.assign(count, kPass);
  table.position.assign(count, static_cast<std::uint8_t>(filters.size()));
  for (std::size_t c = 0; c < count; ++c) {
    for (std::size_t f = 0; f < filters.size(); ++f) {
      if (!filters[f]->cacheable(state)) continue;
      if (const std::optional<FilterOutcome> refused = filters[f]->filter(state, c)) {
        table.reason[c] = intern(*refused);
        table.position[c] = static_cast<std::uint8_t>(f);
        break;
      }
    }
  }
  return table;
}

ClusterVerdicts::FunnelTable& ClusterVerdicts::funnel(const Workload& workload) {
  auto [it, added] = funnel_tables_.try_emplace(node_requirements_key(workload));
  if (added) {
    it->second.reason.assign(ledger_->clusters().size(), kUnknown);
    it->second.nodes.assign(ledger_->word_begin(ledger_->clusters().size()), 0);
  }
  return it->second;
}

std::uint32_t ClusterVerdicts::run_funnel(const CycleState& state, FunnelTable& table, std::size_t cluster) {
  std::optional<BaseFunnelResult>& base = base_funnels_[state.needs_gpus ? 1 : 0][cluster];
  if (!base) base = funnel_.run_base(state, cluster);
  std::uint32_t& reason = table.reason[cluster];
  if (const auto* refused = std::get_if<FilterOutcome>(&*base)) return reason = intern(*refused);
  const std::size_t begin = ledger_->word_begin(cluster);
  const std::span<std::uint64_t> words(table.nodes.data() + begin, ledger_->word_begin(cluster + 1) - begin);
  if (const std::optional<FilterOutcome> refused = funnel_.run(state, cluster, std::get<NodeGroups>(*base), words)) {
    return reason = intern(*refused);
  }
  return reason = kPass;
}

void DecisionReasons::start(RejectionList& list) {
  list_ = &list;
  if (++decision_ == 0) {  // wrapped: forget every stamp
    std::fill(seen_.begin(), seen_.end(), 0);
    decision_ = 1;
  }
}

std::uint32_t DecisionReasons::in_list(const ReasonTable& reasons, std::uint32_t id) {
  if (id >= seen_.size()) {
    seen_.resize(reasons.size(), 0);
    in_list_.resize(reasons.size(), 0);
  }
  if (seen_[id] != decision_) {
    seen_[id] = decision_;
    in_list_[id] = list_->reason(reasons.code(id), reasons.text(id));
  }
  return in_list_[id];
}

}  // namespace fleet::placement
