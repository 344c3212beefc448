#include "placement/engine.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "model/label_selector.hpp"
#include "placement/capacity_ledger.hpp"
#include "placement/cluster_filters.hpp"
#include "placement/cluster_properties.hpp"
#include "placement/division.hpp"
#include "placement/node_assignment.hpp"
#include "placement/node_filters.hpp"
#include "placement/node_fit.hpp"
#include "placement/score_plugins.hpp"
#include "placement/selection.hpp"

namespace fleet::placement {

namespace {

std::string describe_replica(const ReplicaResources& r) {
  std::string text;
  if (r.gpus > 0) {
    text = std::to_string(r.gpus) + " GPU" + (r.gpus == 1 ? "" : "s");
    if (!r.gpu_models.empty()) {
      std::string models;
      for (const std::string& model : r.gpu_models) models += (models.empty() ? "" : " or ") + model;
      text += " (" + models + ")";
    }
  }
  if (r.cpu_millicores > 0) {
    text += (text.empty() ? "" : " + ") + format_number(static_cast<double>(r.cpu_millicores) / 1000) + " CPU";
  }
  if (r.memory_bytes > 0) text += (text.empty() ? "" : " + ") + format_gib(r.memory_bytes) + " memory";
  return text;
}

CycleState pre_filter(const Workload& workload, const CapacityLedger& ledger,
                      const std::vector<ClusterBinding>& current) {
  CycleState state;
  state.workload = &workload;
  state.ledger = &ledger;
  const ReplicaResources& r = workload.resources;
  state.needs_gpus = r.gpus > 0;
  state.pins_nodes = r.gpus > 0 || r.cpu_millicores > 0 || r.memory_bytes > 0;
  state.replica_shape = describe_replica(r);
  if (!r.gpu_models.empty()) {
    state.allowed_models.assign(std::max<std::size_t>(ledger.model_count(), 1), false);
    for (const std::string& model : r.gpu_models) {
      if (const std::optional<std::uint32_t> id = ledger.model_id(model)) state.allowed_models[*id] = true;
    }
  }
  for (const ClusterBinding& binding : current) state.current[binding.cluster] = binding.nodes;
  return state;
}

// Min-max rescaling per plugin, weighted sum; a plugin without an opinion on a candidate gives it 0.
void score_candidates(const CycleState& state, const std::vector<std::unique_ptr<ScorePlugin>>& plugins,
                      std::vector<Candidate>& candidates) {
  std::vector<std::optional<double>> raw(candidates.size());
  for (const auto& plugin : plugins) {
    double low = std::numeric_limits<double>::infinity();
    double high = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      raw[i] = plugin->score(state, candidates[i]);
      if (raw[i]) {
        low = std::min(low, *raw[i]);
        high = std::max(high, *raw[i]);
      }
    }
    if (!(high > low)) continue;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (raw[i]) candidates[i].score += plugin->weight() * 100 * (*raw[i] - low) / (high - low);
    }
  }
}

}  // namespace

// The ledger, and what stays the same for the engine's life: the plugins and the node funnels already run.
struct PlacementEngine::State {
  explicit State(Snapshot snapshot) : ledger(std::move(snapshot)) {
    for (auto& base : base_funnels) base.resize(ledger.clusters().size());
    auto names = std::make_shared<std::vector<std::string>>();
    names->reserve(ledger.clusters().size());
    for (const ClusterSnapshot& cluster : ledger.clusters()) names->push_back(cluster.name);
    cluster_names = std::move(names);
  }

  const std::vector<std::uint32_t>* eligible_nodes(const CycleState& state, std::size_t cluster,
                                                   std::vector<std::optional<NodeFunnelResult>>& cache,
                                                   std::optional<FilterOutcome>& refused) const {
    std::optional<NodeFunnelResult>& result = cache[cluster];
    if (!result) {
      std::optional<NodeFunnelResult>& base = base_funnels[state.needs_gpus ? 1 : 0][cluster];
      if (!base) base = funnel.run_base(state, cluster);
      if (const auto* survivors = std::get_if<std::vector<std::uint32_t>>(&*base)) {
        result = funnel.run(state, cluster, *survivors);
      } else {
        result = base;
      }
    }
    if (const auto* outcome = std::get_if<FilterOutcome>(&*result)) {
      refused = *outcome;
      return nullptr;
    }
    return &std::get<std::vector<std::uint32_t>>(*result);
  }

  void give_back(const Workload& workload, const std::vector<ClusterBinding>& bindings) {
    for (const ClusterBinding& binding : bindings) {
      const std::optional<std::size_t> cluster = ledger.find_cluster(binding.cluster);
      if (!cluster) continue;
      for (const NodeShare& share : binding.nodes) {
        if (const std::optional<std::size_t> node = ledger.find_node(*cluster, share.node)) {
          ledger.give(*cluster, *node, workload.resources, share.replicas);
        }
      }
    }
  }

  CapacityLedger ledger;
  RejectionList::ClusterNames cluster_names;  // the ledger's, in its order (by name): every decision refers to it
  std::vector<std::unique_ptr<ClusterFilter>> cluster_filters = default_cluster_filters();
  std::vector<std::unique_ptr<ScorePlugin>> score_plugins = default_score_plugins();
  NodeFunnel funnel;
  // Node eligibility depends on the workload's node requirements and fixed node facts only: one funnel run per
  // requirement signature and cluster for the engine's life.
  std::unordered_map<std::string, std::vector<std::optional<NodeFunnelResult>>> funnels;
  // The funnel's base stages per cluster, for CPU-only [0] and GPU [1] workloads (NodeFunnel::run_base).
  mutable std::array<std::vector<std::optional<NodeFunnelResult>>, 2> base_funnels;  // a cache

  // Whether `selector` matches each cluster, worked out once per selector for the engine's life.
  const std::vector<bool>& labels_match(const model::LabelSelector& selector) {
    auto [it, added] = label_matches.try_emplace(model::to_string(selector));
    if (added) {
      it->second.reserve(ledger.clusters().size());
      for (const ClusterSnapshot& cluster : ledger.clusters()) {
        it->second.push_back(model::matches(selector, cluster.labels));
      }
    }
    return it->second;
  }
  std::unordered_map<std::string, std::vector<bool>> label_matches;
};

PlacementEngine::PlacementEngine(Snapshot snapshot) : state_(std::make_unique<State>(std::move(snapshot))) {}
PlacementEngine::~PlacementEngine() = default;
PlacementEngine::PlacementEngine(PlacementEngine&&) noexcept = default;
PlacementEngine& PlacementEngine::operator=(PlacementEngine&&) noexcept = default;

void PlacementEngine::release(const Workload& workload, const std::vector<ClusterBinding>& bindings) {
  state_->give_back(workload, bindings);
}

Snapshot PlacementEngine::current() const {
  return state_->ledger.snapshot();
}

namespace {

struct Filtered {
  std::vector<Candidate> candidates;                        // in cluster name order
  std::vector<const std::vector<std::uint32_t>*> eligible;  // per cluster index; null when refused
};

}  // namespace

Decision PlacementEngine::place(const Workload& workload, const std::vector<ClusterBinding>& current) {
  State& s = *state_;
  s.give_back(workload, current);
  CycleState state = pre_filter(workload, s.ledger, current);
  if (workload.policy.required) state.required_labels_match = &s.labels_match(workload.policy.required->labels);
  for (const PreferredTerm& term : workload.policy.preferred) {
    state.preferred_labels_match.push_back(&s.labels_match(term.term.labels));
  }
  const std::size_t cluster_count = s.ledger.clusters().size();
  auto& funnel_cache = s.funnels[node_requirements_key(workload)];
  funnel_cache.resize(cluster_count);

  Decision decision;
  decision.rejected = RejectionList(s.cluster_names);
  decision.rejected.reserve(cluster_count);  // nearly every cluster, in most decisions
  Filtered filtered;
  filtered.eligible.assign(cluster_count, nullptr);
  const bool duplicated = workload.policy.division == ReplicaDivision::kDuplicated;
  for (std::size_t c = 0; c < cluster_count; ++c) {
    std::optional<FilterOutcome> refused;
    for (const auto& filter : s.cluster_filters) {
      if ((refused = filter->filter(state, c))) break;
    }
    const std::vector<std::uint32_t>* nodes = refused ? nullptr : s.eligible_nodes(state, c, funnel_cache, refused);
    if (nodes != nullptr) {
      const NodeFit fit = fit_replicas(state, c, *nodes, workload.replicas);
      if (fit.replicas == 0 || (duplicated && fit.replicas < workload.replicas)) {
        refused = FilterOutcome{RejectionCode::kInsufficientCapacity,
                                insufficient_capacity_reason(state, fit, workload.replicas)};
      } else {
        filtered.candidates.push_back({c, fit.replicas, 0});
        filtered.eligible[c] = nodes;
      }
    }
    if (refused) decision.rejected.add(c, refused->code, refused->reason);
  }
  if (workload.policy.type == PolicyType::kPickFixed) {
    for (const std::string& name : workload.policy.cluster_names) {
      if (!s.ledger.find_cluster(name))
        decision.rejected.push_back({name, RejectionCode::kNoSuchCluster, "no such cluster"});
    }
  }

  // Scores only order the candidates: PickN takes the best, Divided gives remainders to the better ranked. A
  // Duplicated PickAll or PickFixed takes every candidate whole, whatever they score.
  if (workload.policy.type == PolicyType::kPickN || !duplicated) {
    score_candidates(state, s.score_plugins, filtered.candidates);
  }
  // Rank by the replicas a cluster can take (capped at what it would be given), then by score: a PickN Divided
  // workload needs clusters that hold it before it can prefer any; for Duplicated every candidate fits them all.
  // The cluster index (name order) last: a total order, so an unstable sort decides as a stable one would.
  std::vector<Candidate> ranked = std::move(filtered.candidates);
  const auto better = [](const Candidate& a, const Candidate& b) {
    if (a.fit != b.fit) return a.fit > b.fit;
    if (a.score != b.score) return a.score > b.score;
    return a.cluster < b.cluster;
  };
  // PickN without spread takes the first N of the ranking and nothing after them depends on order: only those N
  // need sorting.
  const Policy& pick = workload.policy;
  if (pick.type == PolicyType::kPickN && pick.spread.empty() &&
      static_cast<std::size_t>(pick.number_of_clusters) < ranked.size()) {
    std::partial_sort(ranked.begin(), ranked.begin() + pick.number_of_clusters, ranked.end(), better);
  } else {
    std::sort(ranked.begin(), ranked.end(), better);
  }
  Selection selection = select_clusters(state, ranked);
  std::vector<int> shares = divide_replicas(state, selection.chosen);

  // In cluster order, so that the rejections are two sorted runs (RejectionList::sort_by_cluster): placed by
  // cluster index, which costs less than sorting them.
  std::vector<const Unchosen*> by_cluster(cluster_count, nullptr);
  for (const Unchosen& unchosen : selection.rejected) by_cluster[unchosen.cluster] = &unchosen;
  const std::uint32_t tail = decision.rejected.text(selection.not_selected_tail);
  for (const Unchosen* slot : by_cluster) {
    if (slot == nullptr) continue;
    const Unchosen& unchosen = *slot;
    if (unchosen.code == RejectionCode::kNotSelected) {
      decision.rejected.add_not_selected(unchosen.cluster, unchosen.fit, unchosen.score, tail);
    } else {
      decision.rejected.add(unchosen.cluster, unchosen.code, unchosen.reason);
    }
  }
  // Divided is all or nothing (as Karmada's division by available replicas): half a model server is no server, and
  // GPUs bound to a workload that cannot run whole are GPUs another workload could have used.
  const int divided_total = std::accumulate(shares.begin(), shares.end(), 0);
  if (!duplicated && divided_total < workload.replicas) {
    const std::string reason = "the chosen clusters hold only " + std::to_string(divided_total) + " of the " +
                               std::to_string(workload.replicas) +
                               " replicas (Divided places all replicas or none): " + state.replica_shape + " each";
    for (const Candidate& chosen : selection.chosen) {
      decision.rejected.add(chosen.cluster, RejectionCode::kInsufficientCapacity, reason);
    }
    selection.chosen.clear();
    shares.clear();
  }
  for (std::size_t i = 0; i < selection.chosen.size(); ++i) {
    const Candidate& chosen = selection.chosen[i];
    const std::string& name = s.ledger.clusters()[chosen.cluster].name;
    if (shares[i] == 0) {
      decision.rejected.add(chosen.cluster, RejectionCode::kNotSelected,
                            "chosen, but the division gave it no replica (all went to better-ranked clusters)");
      continue;
    }
    ClusterBinding binding{name, shares[i], {}};
    if (state.pins_nodes) {
      binding.nodes = assign_nodes(state, s.ledger, chosen.cluster, *filtered.eligible[chosen.cluster], shares[i]);
      binding.replicas = std::accumulate(binding.nodes.begin(), binding.nodes.end(), 0,
                                         [](int sum, const NodeShare& share) { return sum + share.replicas; });
    }
    decision.replicas_bound += binding.replicas;
    decision.bindings.push_back(std::move(binding));
  }
  std::sort(decision.bindings.begin(), decision.bindings.end(),
            [](const ClusterBinding& a, const ClusterBinding& b) { return a.cluster < b.cluster; });
  decision.rejected.sort_by_cluster();

  const Policy& policy = workload.policy;
  if (duplicated) {
    std::size_t targets = decision.bindings.size();
    if (policy.type == PolicyType::kPickN) targets = static_cast<std::size_t>(policy.number_of_clusters);
    if (policy.type == PolicyType::kPickFixed) targets = policy.cluster_names.size();
    decision.replicas_wanted = workload.replicas * static_cast<int>(std::max<std::size_t>(targets, 1));
  } else {
    decision.replicas_wanted = workload.replicas;
  }
  if (decision.replicas_bound == 0) {
    decision.state = DecisionState::kUnplaceable;
  } else if (decision.replicas_bound < decision.replicas_wanted) {
    decision.state = DecisionState::kPartiallyPlaced;
  } else {
    decision.state = DecisionState::kPlaced;
  }
  return decision;
}

std::vector<std::size_t> batch_order(const std::vector<Workload>& workloads) {
  std::vector<std::size_t> order(workloads.size());
  std::iota(order.begin(), order.end(), 0);
  auto size = [](const Workload& w) { return static_cast<long long>(w.resources.gpus) * w.replicas; };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (size(workloads[a]) != size(workloads[b])) return size(workloads[a]) > size(workloads[b]);
    return workloads[a].name < workloads[b].name;
  });
  return order;
}

std::vector<Decision> place_batch(const Snapshot& snapshot, const std::vector<Workload>& workloads) {
  const std::vector<std::size_t> order = batch_order(workloads);
  PlacementEngine engine(snapshot);
  std::vector<Decision> decisions(workloads.size());
  for (const std::size_t i : order) decisions[i] = engine.place(workloads[i]);
  return decisions;
}

}  // namespace fleet::placement
