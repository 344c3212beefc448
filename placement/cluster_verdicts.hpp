#pragma once
// Cluster verdicts cached per workload signature (issue #14's CPU budget). A 10,000-workload batch over 1,000
// clusters asks ten million times whether a cluster may take a workload, and nearly every answer depends only on
// fixed facts (a cluster's state, labels and taints; a node's model, memory, versions and taints) and on a few
// fields of the workload that many workloads share. Those answers are worked out once per signature and cluster
// for the engine's life, so that a refused cluster costs a decision one load, and an eligible one a load and a
// short bit set to walk.
//
// Two layers, in the order the filters run: the cacheable cluster filters (ClusterFilter::cacheable), keyed by
// cluster_filter_key; then the node funnel (placement/node_filters.hpp), keyed by node_requirements_key, whose
// survivors are a bit set per cluster (a bit per node, in the ledger's node order). Refusals are ids into one
// table of reasons, which a decision interns into its own list once each (DecisionReasons).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "placement/cluster_filters.hpp"
#include "placement/interned_reasons.hpp"
#include "placement/node_filters.hpp"
#include "placement/node_fit.hpp"
#include "placement/rejection_list.hpp"

namespace fleet::placement {

// Every refusal the cached verdicts give, interned for the engine's life.
using ReasonTable = InternedReasons;

class ClusterVerdicts {
 public:
  static constexpr std::uint32_t kPass = 0xffffffff;

  // The cacheable cluster filters' verdicts for one key.
  struct FilterTable {
    std::vector<std::uint32_t> reason;   // per cluster: kPass, or the first cacheable refusal (a ReasonTable id)
    std::vector<std::uint8_t> position;  // per cluster: that filter's position in the list (its size when kPass)
  };
  // The node funnel's verdicts for one key, worked out per cluster when a decision first needs them.
  struct FunnelTable {
    std::vector<std::uint32_t> reason;  // per cluster: kUnknown, kPass, or the funnel's refusal
    std::vector<std::uint64_t> nodes;   // the eligible node sets, cluster c's from word_begin(c)
  };

  explicit ClusterVerdicts(const CapacityLedger& ledger);

  const FilterTable& filters(const CycleState& state, const std::vector<std::unique_ptr<ClusterFilter>>& filters);
  FunnelTable& funnel(const Workload& workload);
  // kPass (then funnel_nodes() says which nodes) or the funnel's refusal.
  std::uint32_t funnel_verdict(const CycleState& state, FunnelTable& table, std::size_t cluster) {
    const std::uint32_t reason = table.reason[cluster];
    return reason != kUnknown ? reason : run_funnel(state, table, cluster);
  }
  NodeSet funnel_nodes(const FunnelTable& table, std::size_t cluster) const {
    const std::size_t begin = ledger_->word_begin(cluster);
    return {table.nodes.data() + begin, ledger_->word_begin(cluster + 1) - begin};
  }

  ReasonTable& reasons() { return reasons_; }

 private:
  static constexpr std::uint32_t kUnknown = 0xfffffffe;
  std::uint32_t run_funnel(const CycleState& state, FunnelTable& table, std::size_t cluster);
  std::uint32_t intern(const FilterOutcome& outcome) { return reasons_.intern(outcome.code, outcome.reason); }

  const CapacityLedger* ledger_;
  ReasonTable reasons_;
  NodeFunnel funnel_;
  // The funnel's base stages per cluster, for CPU-only [0] and GPU [1] workloads (NodeFunnel::run_base).
  std::array<std::vector<std::optional<BaseFunnelResult>>, 2> base_funnels_;
  std::unordered_map<std::string, FilterTable> filter_tables_;
  std::unordered_map<std::string, FunnelTable> funnel_tables_;
};

// One decision's view of the engine's reasons: interns each into the decision's RejectionList the first time the
// decision uses it. Its buffers are kept from decision to decision.
class DecisionReasons {
 public:
  void start(RejectionList& list);
  // The reason's id in the decision's list (RejectionList::reason).
  std::uint32_t in_list(const ReasonTable& reasons, std::uint32_t id);

 private:
  RejectionList* list_ = nullptr;
  std::uint32_t decision_ = 0;
  std::vector<std::uint32_t> in_list_;  // [reason id]: its id in the list, valid when seen_ is decision_
  std::vector<std::uint32_t> seen_;     // [reason id]
};

}  // namespace fleet::placement
