#pragma once
// The node funnel: node-level filter plugins run in order over a cluster's nodes; a node must pass them all to
// host a replica. When a stage removes the last nodes, the cluster is refused with that stage's explanation of
// the nodes it removed ("no admitted GPUs: 2 nodes quarantined, 1 pending probe"), which names the most specific
// cause: a cluster of L4s refused for its model is not told about its drivers.
//
// A node's eligibility depends only on the workload's node requirements and the node's fixed facts, not on what is
// free, so the engine caches the funnel per requirement signature (node_requirements_key); free capacity is node
// fit's business (placement/node_fit.hpp).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

// A filter of the workload's stages (NodeFunnel::run) is asked about one node of each NodeGroups group and its
// answer taken for the whole group, so it may read only what node_facts_equal compares: a node's GPU model, GPU
// memory, driver and CUDA versions, and taints. The base stages ask every node.
class NodeFilter {
 public:
  virtual ~NodeFilter() = default;
  virtual RejectionCode code() const = 0;
  // `node`: an index into the cluster's sorted nodes (the ledger's), so a filter can read the ledger's per-node
  // facts (the GPU model as a number) as well as the snapshot.
  virtual bool admits(const CycleState& state, std::size_t cluster, std::uint32_t node) const = 0;
  // Why none of `removed` (the nodes this stage took out, never empty) can host a replica.
  virtual std::string explain(const CycleState& state, const std::vector<const NodeSnapshot*>& removed) const = 0;
};

// Whether two nodes are alike for the workload's stages: same GPU model, GPU memory, driver, CUDA and taints.
bool node_facts_equal(const NodeSnapshot& a, const NodeSnapshot& b);

// The base stages' survivors of one cluster in groups of alike nodes (node_facts_equal), each group in node order:
// a cluster's nodes come in a few pools, so the workload's stages ask a few nodes, not a hundred.
struct NodeGroups {
  std::vector<std::vector<std::uint32_t>> groups;
};
using BaseFunnelResult = std::variant<NodeGroups, FilterOutcome>;

// The funnel runs in two parts. The base stages (nodes with GPUs, available, admitted) depend on nothing of the
// workload but whether it needs GPUs: the engine runs them once per cluster and kind for its life. The workload's
// own stages (model, memory, driver, CUDA, taints) run over the base's survivors once per requirement signature.
class NodeFunnel {
 public:
  NodeFunnel();
  ~NodeFunnel();
  BaseFunnelResult run_base(const CycleState& state, std::size_t cluster) const;
  // The workload's stages over the base's survivors: why none is eligible, or nothing and the eligible nodes' bits
  // set in `eligible` (the cluster's words of a NodeSet, cleared by the caller).
  std::optional<FilterOutcome> run(const CycleState& state, std::size_t cluster, const NodeGroups& base,
                                   std::span<std::uint64_t> eligible) const;

 private:
  using Filters = std::vector<std::unique_ptr<NodeFilter>>;

  Filters base_filters_;  // available, admitted: for both kinds
  Filters gpu_filters_;   // for replicas that need GPUs
  Filters cpu_filters_;   // for replicas that do not
};

// Everything the funnel's verdict depends on, as a string: workloads with equal keys share a cached funnel.
std::string node_requirements_key(const Workload& workload);

// "24 GiB", "80 GiB", "0.5 GiB".
std::string format_gib(std::int64_t bytes);

}  // namespace fleet::placement
