#pragma once
// The placement engine (DESIGN §7, issue #14): snapshot + workload -> decision. Pure: no I/O, no clock.
//
// A cycle for one workload: pre-filter (what the workload asks, computed once) -> cluster filters (state, cluster
// list, taints, required affinity) -> the node funnel (schedulable, admitted and healthy, model, GPU memory,
// driver, CUDA, node taints) and node-level fit (a replica's GPUs all on one node, CPU and memory on that node
// too) -> score plugins (fragmentation-aware packing, preferences, spread, cost, keeping current bindings) ->
// selection (PickAll / PickN with spread / PickFixed) -> replica division -> node assignment. Every cluster not
// chosen gets a Rejection. Ties break by cluster name, so the same snapshot gives the same decision whatever the
// input order.
//
// The engine keeps a ledger of free capacity: each decision deducts what it binds before the next workload is
// placed, so a burst of workloads never over-commits a node.
#include <memory>
#include <vector>

#include "placement/decision.hpp"
#include "placement/snapshot.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

class PlacementEngine {
 public:
  explicit PlacementEngine(Snapshot snapshot);
  ~PlacementEngine();
  PlacementEngine(PlacementEngine&&) noexcept;
  PlacementEngine& operator=(PlacementEngine&&) noexcept;

  // Places `workload` and deducts its bindings from the ledger. `current` is what the workload holds today
  // (re-evaluation): that capacity is counted as the workload's own, and keeping those clusters and nodes scores
  // higher, so an unchanged fleet gives an unchanged decision.
  Decision place(const Workload& workload, const std::vector<ClusterBinding>& current = {});

  // Gives a workload's bindings back to the ledger (the workload was deleted or its decision dropped).
  void release(const Workload& workload, const std::vector<ClusterBinding>& bindings);

  // The snapshot with the ledger's deductions applied (gpus_used, cpu and memory used per node).
  Snapshot current() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The order a batch is placed in: largest first (GPUs per replica × replicas), then by name. Indexes into
// `workloads`.
std::vector<std::size_t> batch_order(const std::vector<Workload>& workloads);

// Places a batch against one snapshot, largest first (GPUs per replica × replicas, then name) so that big shapes
// find whole nodes before small ones fragment them. Decisions come back in the input order.
std::vector<Decision> place_batch(const Snapshot& snapshot, const std::vector<Workload>& workloads);

}  // namespace fleet::placement
