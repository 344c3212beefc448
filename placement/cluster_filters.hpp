#pragma once
// Cluster-level filter plugins: each refuses a cluster with a reason or lets it through. They look at the
// cluster's own record (state, labels, taints, properties), never at nodes; the node funnel
// (placement/node_filters.hpp) comes after them.
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

class ClusterFilter {
 public:
  virtual ~ClusterFilter() = default;
  virtual std::string_view name() const = 0;
  virtual std::optional<FilterOutcome> filter(const CycleState& state, std::size_t cluster) const = 0;
  // Whether the verdict depends only on the cluster's fixed record and what cluster_filter_key says of the
  // workload: the engine then works it out once per key and cluster (placement/cluster_verdicts.hpp). False for
  // what reads free capacity or a list of the workload's own.
  virtual bool cacheable(const CycleState& state) const = 0;
};

// Only ready clusters take new work (a cluster still bound keeps its binding elsewhere: re-placement is #15's).
class ClusterStateFilter final : public ClusterFilter {
 public:
  std::string_view name() const override { return "ClusterState"; }
  std::optional<FilterOutcome> filter(const CycleState& state, std::size_t cluster) const override;
  bool cacheable(const CycleState&) const override { return true; }
};

// PickFixed: only the named clusters.
class ClusterListFilter final : public ClusterFilter {
 public:
  std::string_view name() const override { return "ClusterList"; }
  std::optional<FilterOutcome> filter(const CycleState& state, std::size_t cluster) const override;
  bool cacheable(const CycleState& state) const override;
};

// Cluster taints with NoSchedule or NoExecute need a toleration.
class ClusterTaintFilter final : public ClusterFilter {
 public:
  std::string_view name() const override { return "ClusterTaint"; }
  std::optional<FilterOutcome> filter(const CycleState& state, std::size_t cluster) const override;
  bool cacheable(const CycleState&) const override { return true; }
};

// Required affinity: the label selector, then each property requirement.
class RequiredAffinityFilter final : public ClusterFilter {
 public:
  std::string_view name() const override { return "RequiredAffinity"; }
  std::optional<FilterOutcome> filter(const CycleState& state, std::size_t cluster) const override;
  bool cacheable(const CycleState& state) const override;  // labels only: properties read free capacity
};

// Why `term` does not match the cluster, or nullopt when it does (shared with the preference score).
// `labels_match`: whether the term's label selector matches, when the caller knows it already.
std::optional<std::string> term_mismatch(const ClusterTerm& term, const CapacityLedger& ledger, std::size_t cluster,
                                         std::optional<bool> labels_match = std::nullopt);

// The same, as a yes or no: a score needs no sentence.
bool term_matches(const ClusterTerm& term, const CapacityLedger& ledger, std::size_t cluster,
                  std::optional<bool> labels_match = std::nullopt);

// Everything the cacheable filters' verdicts depend on besides the cluster (tolerations, the required labels), as
// a string: workloads with equal keys share cached verdicts.
std::string cluster_filter_key(const Workload& workload);

// In the order they run: the cheapest and most final first.
std::vector<std::unique_ptr<ClusterFilter>> default_cluster_filters();

}  // namespace fleet::placement
