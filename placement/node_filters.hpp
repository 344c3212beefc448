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
#include <string>
#include <variant>
#include <vector>

#include "placement/cycle_state.hpp"

namespace fleet::placement {

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

// The funnel's answer for one cluster: the eligible nodes (indexes into the cluster's sorted nodes), or why none.
using NodeFunnelResult = std::variant<std::vector<std::uint32_t>, FilterOutcome>;

// The funnel runs in two parts. The base stages (nodes with GPUs, available, admitted) depend on nothing of the
// workload but whether it needs GPUs: the engine runs them once per cluster and kind for its life. The workload's
// own stages (model, memory, driver, CUDA, taints) run over the base's survivors once per requirement signature.
class NodeFunnel {
 public:
  NodeFunnel();
  ~NodeFunnel();
  NodeFunnelResult run_base(const CycleState& state, std::size_t cluster) const;
  NodeFunnelResult run(const CycleState& state, std::size_t cluster, const std::vector<std::uint32_t>& base) const;

 private:
  using Filters = std::vector<std::unique_ptr<NodeFilter>>;
  NodeFunnelResult run_stages(const CycleState& state, std::size_t cluster, const Filters& filters,
                              std::vector<std::uint32_t> survivors) const;

  Filters base_filters_;  // available, admitted: for both kinds
  Filters gpu_filters_;   // for replicas that need GPUs
  Filters cpu_filters_;   // for replicas that do not
};

// Everything the funnel's verdict depends on, as a string: workloads with equal keys share a cached funnel.
std::string node_requirements_key(const Workload& workload);

// "24 GiB", "80 GiB", "0.5 GiB".
std::string format_gib(std::int64_t bytes);

}  // namespace fleet::placement
