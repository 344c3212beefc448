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
#include "placement/cluster_verdicts.hpp"
#include "placement/division.hpp"
#include "placement/node_assignment.hpp"
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

// The lowest and highest of the scores given (+inf, -inf when none is). Not inlined: inside place() the compiler
// kept `low` on the stack, and the loop (run for every candidate and plugin) waited on that store each step.
[[gnu::noinline]] std::pair<double, double> score_range(const std::vector<std::optional<double>>& raw) {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  for (const std::optional<double>& value : raw) {
    if (!value) continue;
    const double x = *value;
    low = x < low ? x : low;
    high = x > high ? x : high;
  }
  return {low, high};
}

// Min-max rescaling per plugin, weighted sum; a plugin without an opinion on a candidate gives it 0.
// `raw`: a buffer kept between decisions.
void score_candidates(const CycleState& state, const std::vector<std::unique_ptr<ScorePlugin>>& plugins,
                      std::vector<Candidate>& candidates, std::vector<std::optional<double>>& raw) {
  raw.resize(candidates.size());
  for (const auto& plugin : plugins) {
    if (!plugin->has_opinion(state)) continue;
    plugin->score_all(state, candidates, raw);
    const auto [low, high] = score_range(raw);
    if (!(high > low)) continue;
    const double weight = plugin->weight() * 100;  // once: a virtual call the loop could not hoist
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (raw[i]) candidates[i].score += weight * (*raw[i] - low) / (high - low);
    }
  }
}

}  // namespace

// The ledger, and what stays the same for the engine's life: the plugins and the cached verdicts.
struct PlacementEngine::State {
  explicit State(Snapshot snapshot) : ledger(std::move(snapshot)), verdicts(ledger) {
    auto names = std::make_shared<std::vector<std::string>>();
    names->reserve(ledger.clusters().size());
    for (const ClusterSnapshot& cluster : ledger.clusters()) names->push_back(cluster.name);
    cluster_names = std::move(names);
  }

  // Every cluster in order: the cluster filters, the node funnel and node fit. The clusters that may take the
  // workload go to `candidates`, with what node fit found; every other gets its rejection in `pending`.
  void filter_clusters(const CycleState& state, ClusterVerdicts::FunnelTable& funnel, RejectionList& rejected,
                       std::vector<Candidate>& candidates) {
    const Workload& workload = *state.workload;
    const ClusterVerdicts::FilterTable& cached = verdicts.filters(state, cluster_filters);
    uncached.clear();
    for (std::size_t f = 0; f < cluster_filters.size(); ++f) {
      if (!cluster_filters[f]->cacheable(state)) uncached.push_back(f);
    }
    reasons.start(rejected);
    capacity_reasons.clear();
    const bool duplicated = workload.policy.division == ReplicaDivision::kDuplicated;
    const std::size_t cluster_count = ledger.clusters().size();
    pending.resize(cluster_count);
    for (std::size_t c = 0; c < cluster_count; ++c) {
      // The first filter in the list's order that refuses: an uncached one only if it runs before the first
      // cached refusal.
      std::optional<FilterOutcome> refused;
      for (const std::size_t f : uncached) {
        if (f > cached.position[c] || (refused = cluster_filters[f]->filter(state, c))) break;
      }
      if (refused) {
        pending[c] = rejected.reason(refused->code, refused->reason);
        continue;
      }
      std::uint32_t reason = cached.reason[c];
      if (reason == ClusterVerdicts::kPass) reason = verdicts.funnel_verdict(state, funnel, c);
      if (reason != ClusterVerdicts::kPass) {
        pending[c] = reasons.in_list(verdicts.reasons(), reason);
        continue;
      }
      const NodeFit fit = fit_replicas(state, c, verdicts.funnel_nodes(funnel, c), workload.replicas);
      if (fit.replicas == 0 || (duplicated && fit.replicas < workload.replicas)) {
        pending[c] = capacity_reason(state, fit, rejected);
      } else {
        pending[c] = kCandidate;
        candidates.push_back({c, fit.replicas, 0});
      }
    }
  }

  // The insufficient-capacity reason for what node fit found: a decision refuses dozens of clusters with a few
  // distinct sentences, each written and interned once.
  std::uint32_t capacity_reason(const CycleState& state, const NodeFit& fit, RejectionList& rejected) {
    for (const CapacityReason& known : capacity_reasons) {
      if (known.replicas == fit.replicas && known.largest_block == fit.largest_block &&
          known.gpu_replicas == fit.gpu_replicas) {
        return known.reason;
      }
    }
    const std::uint32_t reason = rejected.reason(RejectionCode::kInsufficientCapacity,
                                                 insufficient_capacity_reason(state, fit, state.workload->replicas));
    capacity_reasons.push_back({fit.replicas, fit.largest_block, fit.gpu_replicas, reason});
    return reason;
  }

  // The decision's rejections in cluster order, so that its list needs no sort: the filters' (`pending`), then
  // the selection's for the candidates not chosen.
  void write_rejections(const Selection& selection, RejectionList& rejected) {
    for (const Unchosen& unchosen : selection.rejected) by_cluster[unchosen.cluster] = &unchosen;
    const std::uint32_t tail = rejected.reason(RejectionCode::kNotSelected, selection.not_selected_tail);
    for (std::size_t c = 0; c < pending.size(); ++c) {
      if (pending[c] != kCandidate) {
        rejected.add_reason(c, pending[c]);
        continue;
      }
      const Unchosen* unchosen = by_cluster[c];
      if (unchosen == nullptr) continue;  // chosen
      by_cluster[c] = nullptr;            // left all null for the next decision
      if (unchosen->code == RejectionCode::kNotSelected) {
        rejected.add_not_selected(c, unchosen->fit, unchosen->score, tail);
      } else {
        rejected.add(c, unchosen->code, unchosen->reason);
      }
    }
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
  ClusterVerdicts verdicts;  // after the ledger, which it reads
  DecisionReasons reasons;
  // Buffers kept from decision to decision: a decision's are fleet-sized, and fresh ones cost page faults.
  std::vector<std::size_t> uncached;  // the uncacheable cluster filters
  std::vector<Candidate> candidates;
  std::vector<std::optional<double>> raw_scores;
  Selection selection;
  std::vector<const Unchosen*> by_cluster;  // all null between decisions
  // Per cluster, the rejection the decision will write (write_rejections): a reason id in the decision's list
  // (RejectionList::reason), or kCandidate.
  static constexpr std::uint32_t kCandidate = 0xffffffff;
  std::vector<std::uint32_t> pending;
  // This decision's insufficient-capacity reasons by what node fit found (capacity_reason).
  struct CapacityReason {
    int replicas = 0;
    int largest_block = 0;
    int gpu_replicas = 0;
    std::uint32_t reason = 0;
  };
  std::vector<CapacityReason> capacity_reasons;

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

// Rank by the replicas a cluster can take (capped at what it would be given), then by score: a PickN Divided
// workload needs clusters that hold it before it can prefer any; for Duplicated every candidate fits them all.
// The cluster index (name order) last: a total order, so an unstable sort decides as a stable one would.
void rank(const Policy& policy, std::vector<Candidate>& candidates) {
  const auto better = [](const Candidate& a, const Candidate& b) {
    if (a.fit != b.fit) return a.fit > b.fit;
    if (a.score != b.score) return a.score > b.score;
    return a.cluster < b.cluster;
  };
  // PickN without spread takes the first N of the ranking and nothing after them depends on order: only those N
  // need sorting.
  if (policy.type == PolicyType::kPickN && policy.spread.empty() &&
      static_cast<std::size_t>(policy.number_of_clusters) < candidates.size()) {
    std::partial_sort(candidates.begin(), candidates.begin() + policy.number_of_clusters, candidates.end(), better);
  } else {
    std::sort(candidates.begin(), candidates.end(), better);
  }
}

void set_outcome(const Workload& workload, Decision& decision) {
  const Policy& policy = workload.policy;
  if (policy.division == ReplicaDivision::kDuplicated) {
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
}

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
  ClusterVerdicts::FunnelTable& funnel = s.verdicts.funnel(workload);

  Decision decision;
  decision.rejected = RejectionList(s.cluster_names);
  decision.rejected.reserve(cluster_count);  // nearly every cluster, in most decisions
  std::vector<Candidate>& ranked = s.candidates;
  ranked.clear();
  s.filter_clusters(state, funnel, decision.rejected, ranked);

  // Scores only order the candidates: PickN takes the best, Divided gives remainders to the better ranked. A
  // Duplicated PickAll or PickFixed takes every candidate whole, whatever they score.
  const bool duplicated = workload.policy.division == ReplicaDivision::kDuplicated;
  if (workload.policy.type == PolicyType::kPickN || !duplicated) {
    score_candidates(state, s.score_plugins, ranked, s.raw_scores);
  }
  rank(workload.policy, ranked);
  Selection& selection = s.selection;
  select_clusters(state, ranked, selection);
  std::vector<int> shares = divide_replicas(state, selection.chosen);

  // Divided is all or nothing (as Karmada's division by available replicas): half a model server is no server, and
  // GPUs bound to a workload that cannot run whole are GPUs another workload could have used.
  const int divided_total = std::accumulate(shares.begin(), shares.end(), 0);
  if (!duplicated && divided_total < workload.replicas) {
    const std::string reason = "the chosen clusters hold only " + std::to_string(divided_total) + " of the " +
                               std::to_string(workload.replicas) +
                               " replicas (Divided places all replicas or none): " + state.replica_shape + " each";
    const std::uint32_t text = decision.rejected.reason(RejectionCode::kInsufficientCapacity, reason);
    for (const Candidate& chosen : selection.chosen) {
      s.pending[chosen.cluster] = text;
    }
    selection.chosen.clear();
    shares.clear();
  }
  for (std::size_t i = 0; i < selection.chosen.size(); ++i) {
    const Candidate& chosen = selection.chosen[i];
    if (shares[i] == 0) {
      s.pending[chosen.cluster] =
          decision.rejected.reason(RejectionCode::kNotSelected,
                                   "chosen, but the division gave it no replica (all went to better-ranked clusters)");
      continue;
    }
    ClusterBinding binding{s.ledger.clusters()[chosen.cluster].name, shares[i], {}};
    if (state.pins_nodes) {
      binding.nodes =
          assign_nodes(state, s.ledger, chosen.cluster, s.verdicts.funnel_nodes(funnel, chosen.cluster), shares[i]);
      binding.replicas = std::accumulate(binding.nodes.begin(), binding.nodes.end(), 0,
                                         [](int sum, const NodeShare& share) { return sum + share.replicas; });
    }
    decision.replicas_bound += binding.replicas;
    decision.bindings.push_back(std::move(binding));
  }
  std::sort(decision.bindings.begin(), decision.bindings.end(),
            [](const ClusterBinding& a, const ClusterBinding& b) { return a.cluster < b.cluster; });
  s.by_cluster.resize(cluster_count, nullptr);
  s.write_rejections(selection, decision.rejected);
  if (workload.policy.type == PolicyType::kPickFixed) {
    for (const std::string& name : workload.policy.cluster_names) {
      if (!s.ledger.find_cluster(name))
        decision.rejected.push_back({name, RejectionCode::kNoSuchCluster, "no such cluster"});
    }
  }
  decision.rejected.sort_by_cluster();  // places the names that are no cluster (PickFixed); the rest is in order
  set_outcome(workload, decision);
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
