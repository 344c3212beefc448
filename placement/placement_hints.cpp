#include "placement/placement_hints.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "placement/cluster_properties.hpp"
#include "placement/engine.hpp"

namespace fleet::placement {
namespace {

struct Candidate {
  const ClusterSnapshot* cluster = nullptr;
  double cost = 0;
};

bool passed_filters(RejectionCode code) {
  return code == RejectionCode::kNotSelected || code == RejectionCode::kSpread ||
         code == RejectionCode::kInsufficientCapacity;
}

void add(CostEstimate& estimate, const std::string& cluster, int replicas, int gpus_per_replica,
         std::optional<double> cost) {
  const int gpus = replicas * gpus_per_replica;
  estimate.clusters.push_back({cluster, replicas, gpus, cost});
  estimate.replicas += replicas;
  estimate.gpus += gpus;
  if (cost) {
    estimate.per_hour += *cost * gpus;
  } else {
    estimate.unknown_cost.push_back(cluster);
  }
}

// How many of `wanted` replicas `cluster` alone can take now: the engine on that one cluster, every filter of the
// workload applied, its own bindings there counted as its own. Divided places all replicas or none, so a
// shortfall is searched for (monotone: if k fit, k - 1 do).
int replicas_that_fit(const ClusterSnapshot& cluster, const Workload& placed, int wanted,
                      const std::vector<ClusterBinding>& current) {
  Workload probe = placed;
  probe.policy.type = PolicyType::kPickAll;
  probe.policy.cluster_names.clear();
  probe.policy.division = ReplicaDivision::kDivided;
  probe.policy.divide_by = DivideBy::kCapacity;
  probe.policy.weights.clear();
  probe.policy.spread.clear();
  std::vector<ClusterBinding> own;
  for (const ClusterBinding& b : current) {
    if (b.cluster == cluster.name) own.push_back(b);
  }
  const Snapshot one{{cluster}};
  auto bound = [&](int replicas) {
    probe.replicas = replicas;
    PlacementEngine engine(one);
    return engine.place(probe, own).replicas_bound;
  };
  const int all = bound(wanted);
  if (all > 0 || wanted <= 1) return all;
  int low = 0;        // fits
  int high = wanted;  // does not
  while (high - low > 1) {
    const int mid = low + (high - low) / 2;
    (bound(mid) >= mid ? low : high) = mid;
  }
  return low;
}

std::vector<Candidate> candidates(const HintContext& context, const Decision& decision) {
  std::vector<Candidate> out;
  auto consider = [&](const std::string& name) {
    const ClusterSnapshot* cluster = context.find(name);
    if (cluster == nullptr) return;
    if (const std::optional<double> cost = cost_per_gpu_hour(*cluster)) out.push_back({cluster, *cost});
  };
  for (const ClusterBinding& b : decision.bindings) consider(b.cluster);
  for (const Rejection& r : decision.rejected) {
    if (passed_filters(r.code)) consider(r.cluster);
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.cluster->name < b.cluster->name;
  });
  return out;
}

std::optional<CostEstimate> alternative(const HintContext& context, const Workload& placed, const Decision& decision,
                                        const std::vector<ClusterBinding>& current) {
  const std::vector<Candidate> list = candidates(context, decision);
  if (list.empty()) return std::nullopt;
  const bool duplicated = placed.policy.division == ReplicaDivision::kDuplicated;
  const bool pick_n = placed.policy.type == PolicyType::kPickN;
  const int max_clusters = pick_n ? placed.policy.number_of_clusters
                                  : (duplicated ? std::max<int>(1, static_cast<int>(decision.bindings.size()))
                                                : static_cast<int>(list.size()));
  CostEstimate out;
  int remaining = placed.replicas;
  for (const Candidate& c : list) {
    if (static_cast<int>(out.clusters.size()) >= max_clusters || (!duplicated && remaining == 0)) break;
    const int wanted = duplicated ? placed.replicas : remaining;
    const int fit = replicas_that_fit(*c.cluster, placed, wanted, current);
    if (fit <= 0 || (duplicated && fit < wanted)) continue;
    add(out, c.cluster->name, fit, placed.resources.gpus, c.cost);
    remaining -= duplicated ? 0 : fit;
  }
  if (out.clusters.empty()) return std::nullopt;
  out.complete = duplicated ? static_cast<int>(out.clusters.size()) == max_clusters : remaining == 0;
  return out;
}

}  // namespace

std::optional<double> cost_per_gpu_hour(const ClusterSnapshot& cluster) {
  const auto it = cluster.labels.find(std::string(kCostLabel));
  if (it == cluster.labels.end()) return std::nullopt;
  const std::string& text = it->second;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  if (value < 0 || value > kMaxCostPerGpuHour) return std::nullopt;
  return value;
}

HintContext::HintContext(Snapshot snapshot) : snapshot_(std::move(snapshot)), shapes_(fleet_gpu_shapes(snapshot_)) {
  std::sort(snapshot_.clusters.begin(), snapshot_.clusters.end(),
            [](const ClusterSnapshot& a, const ClusterSnapshot& b) { return a.name < b.name; });
}

const ClusterSnapshot* HintContext::find(std::string_view cluster) const {
  const auto it = std::lower_bound(snapshot_.clusters.begin(), snapshot_.clusters.end(), cluster,
                                   [](const ClusterSnapshot& c, std::string_view name) { return c.name < name; });
  return it != snapshot_.clusters.end() && it->name == cluster ? &*it : nullptr;
}

PlacementHints placement_hints(const HintContext& context, const Workload& placed, std::optional<ModelPlacement> model,
                               const Decision& decision, const std::vector<ClusterBinding>& current) {
  PlacementHints out;
  out.model = std::move(model);
  out.gpus_per_replica = placed.resources.gpus;
  for (const ClusterBinding& b : decision.bindings) {
    const ClusterSnapshot* cluster = context.find(b.cluster);
    add(out.chosen, b.cluster, b.replicas, placed.resources.gpus,
        cluster != nullptr ? cost_per_gpu_hour(*cluster) : std::nullopt);
  }
  out.chosen.complete = decision.replicas_bound == decision.replicas_wanted && out.chosen.unknown_cost.empty();
  out.alternative = alternative(context, placed, decision, current);
  if (!out.alternative) {
    out.note = "no cluster that passed the filters has a " + std::string(kCostLabel) + " label";
  } else if (!out.alternative->complete) {
    out.note = "the feasible clusters with a known cost take only " + std::to_string(out.alternative->replicas) +
               " of the replicas now";
  } else {
    out.note = "the cheapest clusters by " + std::string(kCostLabel) + " that could take the replicas now";
  }
  return out;
}

}  // namespace fleet::placement
