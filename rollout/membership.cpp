#include "rollout/membership.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "model/label_selector.hpp"

namespace fleet::rollout {

namespace {

bool selects(const StageSpec& stage, const ClusterFacts& cluster, std::size_t& group) {
  if (stage.selector) {
    group = 0;
    return model::matches(*stage.selector, cluster.labels);
  }
  if (cluster.update_group.empty()) return false;
  for (std::size_t g = 0; g < stage.groups.size(); ++g) {
    if (stage.groups[g].name == cluster.update_group) {
      group = g;
      return true;
    }
  }
  return false;
}

}  // namespace

Result<Membership> assign_members(const Strategy& strategy, const std::vector<ClusterFacts>& clusters) {
  Membership out;
  out.members.resize(strategy.stages.size());
  for (std::size_t s = 0; s < strategy.stages.size(); ++s) out.members[s].resize(strategy.stages[s].groups.size());

  std::vector<std::size_t> by_name(clusters.size());
  for (std::size_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
  std::sort(by_name.begin(), by_name.end(),
            [&](std::size_t a, std::size_t b) { return clusters[a].name < clusters[b].name; });

  for (std::size_t i : by_name) {
    std::optional<std::size_t> stage_of;
    std::size_t group_of = 0;
    for (std::size_t s = 0; s < strategy.stages.size(); ++s) {
      std::size_t g = 0;
      if (!selects(strategy.stages[s], clusters[i], g)) continue;
      if (stage_of) {
        return make_error(ErrorCode::kInvalid,
                          "cluster " + clusters[i].name + " falls in two stages, " + strategy.stages[*stage_of].name +
                              " and " + strategy.stages[s].name + "; a cluster may be in one stage only",
                          "strategy.stages[" + std::to_string(s) + "]", "cluster-in-two-stages");
      }
      stage_of = s;
      group_of = g;
    }
    if (stage_of) {
      out.members[*stage_of][group_of].push_back(i);
    } else {
      out.unmatched.push_back(i);
    }
  }

  for (std::size_t s = 0; s < strategy.stages.size(); ++s) {
    const std::string& key = strategy.stages[s].sort_by_label;
    if (key.empty()) continue;  // already by name
    for (auto& group : out.members[s]) {
      std::stable_sort(group.begin(), group.end(), [&](std::size_t a, std::size_t b) {
        auto ia = clusters[a].labels.find(key);
        auto ib = clusters[b].labels.find(key);
        const bool ha = ia != clusters[a].labels.end();
        const bool hb = ib != clusters[b].labels.end();
        if (ha != hb) return ha;  // clusters with the label first
        if (!ha) return false;
        return ia->second < ib->second;
      });
    }
  }
  return out;
}

std::vector<StartSlot> select_starts(const std::vector<std::size_t>& pending_counts, const std::vector<int>& running,
                                     const std::vector<int>& group_limits, std::optional<int> stage_limit) {
  std::vector<StartSlot> out;
  const std::size_t groups = pending_counts.size();
  std::vector<std::size_t> taken(groups, 0);
  std::vector<int> in_flight = running;
  int stage_in_flight = 0;
  for (int r : running) stage_in_flight += r;
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t g = 0; g < groups; ++g) {
      if (stage_limit && stage_in_flight >= *stage_limit) return out;
      if (taken[g] >= pending_counts[g] || in_flight[g] >= group_limits[g]) continue;
      out.push_back({g, taken[g]});
      ++taken[g];
      ++in_flight[g];
      ++stage_in_flight;
      progress = true;
    }
  }
  return out;
}

}  // namespace fleet::rollout
