#include "placement/selection.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace fleet::placement {

namespace {

// Chosen clusters per domain of one constraint, over the domains of all candidates.
struct DomainCounts {
  const SpreadConstraint* constraint = nullptr;
  std::map<std::string, int> counts;  // every candidate domain, 0 until chosen

  // The skew if `domain` gained one more chosen cluster.
  int skew_with(const std::string& domain) const {
    int most = 0;
    int least = std::numeric_limits<int>::max();
    for (const auto& [name, count] : counts) {
      const int c = count + (name == domain ? 1 : 0);
      most = std::max(most, c);
      least = std::min(least, c);
    }
    return counts.empty() ? 0 : most - least;
  }
};

class SpreadTracker {
 public:
  SpreadTracker(const CycleState& state, const std::vector<Candidate>& ranked) : state_(state) {
    for (const SpreadConstraint& constraint : state.workload->policy.spread) {
      DomainCounts domains;
      domains.constraint = &constraint;
      for (const Candidate& candidate : ranked) {
        const std::string value = domain_of(candidate, constraint);
        if (!value.empty()) domains.counts.emplace(value, 0);
      }
      domains_.push_back(std::move(domains));
    }
  }

  // The first constraint that choosing `candidate` breaks, among the hard ones (or all, when `strict`).
  const DomainCounts* broken_by(const Candidate& candidate, bool strict) const {
    for (const DomainCounts& domains : domains_) {
      const bool hard = domains.constraint->when_unsatisfiable == WhenUnsatisfiable::kDoNotSchedule;
      if (!hard && !strict) continue;
      const std::string value = domain_of(candidate, *domains.constraint);
      if (value.empty()) continue;
      if (domains.skew_with(value) > domains.constraint->max_skew) return &domains;
    }
    return nullptr;
  }

  void choose(const Candidate& candidate) {
    for (DomainCounts& domains : domains_) {
      const std::string value = domain_of(candidate, *domains.constraint);
      if (!value.empty()) ++domains.counts[value];
    }
  }

  std::string explain(const Candidate& candidate, const DomainCounts& domains) const {
    const std::string value = domain_of(candidate, *domains.constraint);
    std::string text = "spread by " + domains.constraint->topology_key + " (maxSkew " +
                       std::to_string(domains.constraint->max_skew) + "): " + value + " would have " +
                       std::to_string(domains.counts.at(value) + 1) + " chosen clusters, while";
    std::string sep = " ";
    for (const auto& [name, count] : domains.counts) {
      if (name == value) continue;
      text += sep + name + " has " + std::to_string(count);
      sep = ", ";
    }
    return text;
  }

 private:
  std::string domain_of(const Candidate& candidate, const SpreadConstraint& constraint) const {
    return topology_value(state_.ledger->clusters()[candidate.cluster], constraint.topology_key);
  }

  const CycleState& state_;
  std::vector<DomainCounts> domains_;
};

}  // namespace

long long rounded_score(double score) {
  // Scores are never negative; std::llround would differ only for a sum that lands within an ulp of .5, and a
  // decision's reasons must not change with the engine's internals.
  return static_cast<long long>(score + 0.5);  // NOLINT(bugprone-incorrect-roundings)
}

std::string topology_value(const ClusterSnapshot& cluster, const std::string& key) {
  if (key == "region") return cluster.region;
  if (key == "provider") return cluster.provider;
  const auto it = cluster.labels.find(key);
  return it == cluster.labels.end() ? std::string() : it->second;
}

void select_clusters(const CycleState& state, const std::vector<Candidate>& ranked, Selection& selection) {
  selection.chosen.clear();
  selection.rejected.clear();
  selection.not_selected_tail.clear();
  const Policy& policy = state.workload->policy;
  if (policy.type != PolicyType::kPickN) {
    selection.chosen = ranked;
    return;
  }
  const auto wanted = static_cast<std::size_t>(policy.number_of_clusters);
  SpreadTracker spread(state, ranked);
  std::vector<bool> taken(ranked.size(), false);
  // Strict passes keep ScheduleAnyway constraints too; the relaxed passes only the DoNotSchedule ones. Each pass
  // walks the ranking again, because a choice in one domain can make room for a skipped cluster in another.
  for (const bool strict : {true, false}) {
    bool progress = true;
    while (progress && selection.chosen.size() < wanted) {
      progress = false;
      for (std::size_t i = 0; i < ranked.size() && selection.chosen.size() < wanted; ++i) {
        if (taken[i] || spread.broken_by(ranked[i], strict) != nullptr) continue;
        taken[i] = true;
        spread.choose(ranked[i]);
        selection.chosen.push_back(ranked[i]);
        progress = true;
      }
    }
  }
  selection.not_selected_tail =
      "PickN " + std::to_string(policy.number_of_clusters) + " took clusters that fit more replicas or scored higher";
  if (!selection.chosen.empty()) {
    const Candidate& last = selection.chosen.back();
    selection.not_selected_tail += " (the last one taken fits " + std::to_string(last.fit) + ", score " +
                                   std::to_string(rounded_score(last.score)) + ")";
  }
  selection.rejected.reserve(ranked.size() - selection.chosen.size());
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    if (taken[i]) continue;
    Unchosen unchosen{
        ranked[i].cluster, RejectionCode::kNotSelected, {}, ranked[i].fit, rounded_score(ranked[i].score)};
    if (const DomainCounts* broken = spread.broken_by(ranked[i], false);
        broken != nullptr && selection.chosen.size() < wanted) {
      unchosen.code = RejectionCode::kSpread;
      unchosen.reason = spread.explain(ranked[i], *broken);
    }
    selection.rejected.push_back(std::move(unchosen));
  }
}

}  // namespace fleet::placement
