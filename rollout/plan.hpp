#pragma once
// The plan of an update run (issue #12 item 3): pure and deterministic, the same for the same spec, clusters,
// catalog, history and `now`. fleetd shows it for a dry run and freezes its member steps into a run at creation.
//
// Per cluster:
//  - the version path: the control plane moves one minor at a time (1.30 → 1.32 is 1.31.x then 1.32.x, the newest
//    supported patch of each intermediate minor); node pools follow the control plane and must never be more than
//    kMaxKubeletSkew minors behind it, so a pool that would fall too far behind is upgraded to the control plane's
//    version between hops; nodes are never newer than the control plane;
//  - the node image of each pool, within the pool's image line (version_catalog.hpp image_line: the OS SKU and VM
//    generation stay): Latest, the newest in the cluster's region; Consistent, the newest available in every region
//    of the run's affected pools of that line; Custom, the pinned one (of the same line);
//  - or the reason it is skipped (already at target, unreachable, stopped, no agent, target out of support or not
//    in the catalog, a GPU driver on its nodes outside the target's range, a downgrade).
// Per stage: its groups, concurrency and batches in order, and estimated durations from measured step history.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rollout/cluster_facts.hpp"
#include "rollout/run_spec.hpp"
#include "rollout/step.hpp"
#include "rollout/version_catalog.hpp"

namespace fleet::rollout {

// Kubernetes' version skew policy since 1.28: a kubelet may be up to three minors older than the API server.
inline constexpr int kMaxKubeletSkew = 3;

// Measured step durations per provider (fleetd keeps medians of finished commands); defaults until there are some.
struct StepDurations {
  Seconds control_plane{600};
  Seconds per_node{300};  // cordon + drain + upgrade + probe of one node
  bool measured = false;
};
struct StepHistory {
  std::map<std::string, StepDurations> by_provider;
  StepDurations defaults;
  const StepDurations& of(const std::string& provider) const;
};

enum class SkipReason {
  kNone,
  kAlreadyAtTarget,
  kUnreachable,
  kStopped,
  kNoAgent,
  kDeleting,
  kTargetNotInCatalog,
  kTargetUnsupported,
  kDriverIncompatible,
  kDowngrade,
  kNoNodeImage,
  kSkew,           // ControlPlaneOnly would leave a pool beyond the kubelet skew
  kChangedSince,   // a rollback: the pool runs another image than the rolled-back run put there
  kNotInStrategy,  // only in the plan's `unmatched`
};
std::string_view to_string(SkipReason r);  // "AlreadyAtTarget", …

struct MemberPlan {
  std::string cluster;
  std::string cluster_id;
  std::size_t stage = 0;
  std::size_t group = 0;
  std::string from_version;  // control plane
  std::string to_version;
  std::vector<Step> steps;  // empty when skipped
  SkipReason skip = SkipReason::kNone;
  std::string message;  // the skip's words, or a summary of the path
  Seconds estimate{0};
  std::vector<Seconds> step_estimates;  // each step's share of `estimate`, in order
  std::optional<std::size_t> window;    // the strategy's maintenanceWindows rule for the cluster; nullopt: none
};

struct GroupPlan {
  std::string name;
  std::vector<std::size_t> members;  // indexes into Plan::members, in execution order
  int concurrency = 1;
};

struct StagePlan {
  std::string name;
  std::vector<GroupPlan> groups;
  std::optional<int> concurrency;                 // stage-wide, when the strategy sets one
  std::vector<std::vector<std::string>> batches;  // the order clusters start in, as if each batch waited for the last
  Seconds estimate{0};                            // members, after-stage wait and Wait gates; approvals not counted
};

struct Plan {
  std::vector<MemberPlan> members;  // in stage, group, position order
  std::vector<StagePlan> stages;
  std::vector<std::string> unmatched;  // clusters no stage selects
  Seconds estimate{0};
  int approvals = 0;  // approval gates on the way (time the estimate cannot know)
  std::vector<std::string> warnings;
  TimePoint made_at{};  // the input's `now`: where each member's maintenance window stood is told as of then
};

// One pool's change by an earlier run: the image it ran before (`from`) and the one the run put there (`to`).
struct RollbackPin {
  std::string from;
  std::string to;
  bool operator==(const RollbackPin&) const = default;
};

struct PlanInput {
  const RunSpec* spec = nullptr;
  std::vector<ClusterFacts> clusters;  // every cluster the strategy may select (fleetd passes the whole registry)
  const VersionCatalog* catalog = nullptr;
  StepHistory history;
  TimePoint now{};
  // nodeImageSelection Previous: "cluster/pool" → the images before and after target.rollback_of changed the pool
  // (fleetd reads them from that run's steps; rollback_pins in rollback.hpp).
  std::map<std::string, RollbackPin> previous_images;
};

// Errors (kInvalid): a cluster selected by two stages (naming both), a Custom image not in the catalog.
Result<Plan> make_plan(const PlanInput& input);

nlohmann::json to_json(const Plan& plan, const RunSpec& spec);

}  // namespace fleet::rollout
