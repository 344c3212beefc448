#pragma once
// Which clusters a strategy takes, in which stage and group, in which order (issue #12 item 2). A stage takes the
// clusters of its update groups, or those its label selector matches (one group named after the stage); members
// are ordered by the stage's sortBy label (clusters without it last), then by name.
#include <cstddef>
#include <vector>

#include "common/error.hpp"
#include "rollout/cluster_facts.hpp"
#include "rollout/strategy.hpp"

namespace fleet::rollout {

struct Membership {
  // [stage][group] → indexes into the clusters given, in execution order.
  std::vector<std::vector<std::vector<std::size_t>>> members;
  std::vector<std::size_t> unmatched;  // clusters no stage selects, by name
};

// kInvalid `cluster-in-two-stages` naming the first cluster two stages select, and both stages.
Result<Membership> assign_members(const Strategy& strategy, const std::vector<ClusterFacts>& clusters);

// The order members start in, shared by the planner's estimate and the run machine, so a plan's batches are what
// the run does: round-robin over the groups in order, one member a turn, while the group's limit and the stage's
// allow. `pending[g]` are group g's members waiting (in order); `running[g]` its members in flight. Returns the
// (group, index into pending[g]) pairs to start, in start order.
struct StartSlot {
  std::size_t group = 0;
  std::size_t index = 0;
};
std::vector<StartSlot> select_starts(const std::vector<std::size_t>& pending_counts, const std::vector<int>& running,
                                     const std::vector<int>& group_limits, std::optional<int> stage_limit);

}  // namespace fleet::rollout
