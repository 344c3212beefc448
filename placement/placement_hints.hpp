#pragma once
// Hints beside a placement decision (issue #15 item 3, docs/placement.md "Cost hints"): the model fit (when the
// workload gives a model) and what the placement costs an hour, from each cluster's `fleet.io/cost-per-gpu-hour`
// label, against the cheapest feasible alternative in the same snapshot. Pure; the loop computes them with the
// decision and stores them with it.
//
// chosen: over the decision's bindings, replicas × GPUs per replica × the cluster's cost; a cluster without the
//   label is listed as unknown and left out of the sum (the estimate then says it is incomplete).
// cheapest alternative: the clusters that passed every filter (bound, or rejected only as NotSelected, Spread or
//   InsufficientCapacity) and have a known cost, cheapest first (then by name); each is asked, alone, how many
//   replicas it can take now (the engine on that one cluster, with the workload's own bindings counted as its
//   own). Divided: the cheapest fill the replicas until all are placed (PickN: at most N clusters). Duplicated:
//   the cheapest K clusters that each take all replicas, K being the number the decision chose (PickN: N).
//   It is computed from the snapshot the placement round started with: what other workloads decided in the same
//   round is not deducted.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "placement/decision.hpp"
#include "placement/model_placement.hpp"
#include "placement/snapshot.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

// Larger costs are refused as labels go (a typo, not a price).
inline constexpr double kMaxCostPerGpuHour = 1e6;

// The cluster's cost label as a number in [0, kMaxCostPerGpuHour]; nullopt when absent or not such a number.
std::optional<double> cost_per_gpu_hour(const ClusterSnapshot& cluster);

struct ClusterCost {
  std::string cluster;
  int replicas = 0;
  int gpus = 0;
  std::optional<double> cost_per_gpu_hour;
};

struct CostEstimate {
  double per_hour = 0;  // over the clusters with a known cost
  int replicas = 0;
  int gpus = 0;
  bool complete = false;  // every replica wanted is covered and every cluster's cost is known
  std::vector<ClusterCost> clusters;
  std::vector<std::string> unknown_cost;  // clusters without a cost label
};

struct PlacementHints {
  std::optional<ModelPlacement> model;
  int gpus_per_replica = 0;
  CostEstimate chosen;
  std::optional<CostEstimate> alternative;  // nullopt: no feasible cluster with a known cost
  std::string note;                         // what the alternative is, or why there is none
};

// The round's snapshot with what the hints need of it, computed once per round.
class HintContext {
 public:
  explicit HintContext(Snapshot snapshot);
  const std::vector<GpuShape>& shapes() const { return shapes_; }
  const ClusterSnapshot* find(std::string_view cluster) const;

 private:
  Snapshot snapshot_;
  std::vector<GpuShape> shapes_;
};

// `placed` is the workload as the engine got it (with_model_resources applied).
PlacementHints placement_hints(const HintContext& context, const Workload& placed, std::optional<ModelPlacement> model,
                               const Decision& decision, const std::vector<ClusterBinding>& current);

}  // namespace fleet::placement
