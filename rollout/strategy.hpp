#pragma once
// An update strategy (issue #12 item 2, DESIGN §6): ordered stages; a stage takes clusters by update groups or by a
// label selector; groups in a stage run in parallel; concurrency per stage and per group; gates before and after a
// stage or a group; failure policies per run, stage and group. Plain data; strategy_json.hpp reads and writes it,
// membership.hpp applies it to clusters.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "model/label_selector.hpp"
#include "rollout/budget.hpp"
#include "rollout/maintenance_window.hpp"
#include "rollout/version_catalog.hpp"

namespace fleet::rollout {

using Seconds = std::chrono::seconds;

inline constexpr std::size_t kMaxStages = 32;
inline constexpr std::size_t kMaxGroupsPerStage = 64;
inline constexpr std::size_t kMaxGatesPerScope = 8;
inline constexpr std::size_t kMaxMaintenanceWindows = 16;

enum class GateType { kApproval, kWait, kScheduledStart, kHealthCheck };

struct Gate {
  std::string name;  // unique in the strategy; generated when the document gives none (see strategy_json.hpp)
  GateType type = GateType::kApproval;
  Seconds duration{0};                  // Wait
  std::optional<TimePoint> not_before;  // ScheduledStart
  // HealthCheck: every non-skipped cluster of the gate's scope is `ready` and has at least this share of its GPU
  // nodes admitted, without a break for `soak`, within `timeout` of the gate opening.
  double min_admitted_gpu_ratio = 1.0;
  Seconds soak{0};
  Seconds timeout{3600};
  bool operator==(const Gate&) const = default;
};

enum class OnFailure { kPause, kContinue };

struct FailurePolicy {
  Budget max_failures{0, false};
  OnFailure on_failure = OnFailure::kPause;
  bool operator==(const FailurePolicy&) const = default;
};

struct GroupSpec {
  std::string name;  // the update group; a selector stage has one group named after the stage
  std::optional<Budget> max_concurrency;
  std::vector<Gate> before_gates;
  std::vector<Gate> after_gates;
  std::optional<FailurePolicy> failure_policy;  // absent: the stage's
  bool operator==(const GroupSpec&) const = default;
};

struct StageSpec {
  std::string name;
  // Exactly one of the two ways to select: update groups (each a GroupSpec), or a label selector (one group).
  std::vector<GroupSpec> groups;
  std::optional<model::LabelSelector> selector;
  std::string sort_by_label;              // members ordered by this label's value (absent last), then by name
  std::optional<Budget> max_concurrency;  // across the stage; absent: no stage-wide limit
  Seconds after_stage_wait{0};
  std::vector<Gate> before_gates;
  std::vector<Gate> after_gates;
  std::optional<FailurePolicy> failure_policy;  // absent: the run's
  bool operator==(const StageSpec&) const = default;
};

// A maintenance window for the clusters a selector matches (issue #13 item 2). The strategy's list is ordered: the
// first rule whose selector matches a cluster's labels is its window; a cluster no rule matches is always allowed.
struct WindowRule {
  model::LabelSelector selector;  // empty: every cluster
  MaintenanceWindow window;
  bool operator==(const WindowRule& o) const {
    return selector == o.selector && window.days == o.window.days && window.start == o.window.start &&
           window.duration == o.window.duration && window.time_zone == o.window.time_zone;
  }
};

struct Strategy {
  std::vector<StageSpec> stages;
  FailurePolicy failure_policy;  // the run's, default 0 failures and Pause
  std::vector<WindowRule> maintenance_windows;
  bool operator==(const Strategy&) const = default;

  // The index of the rule whose window applies to a cluster with these labels; nullopt: no window.
  std::optional<std::size_t> window_for(const model::Labels& labels) const;

  // The effective policy of a stage / a group: its own, else its parent's.
  const FailurePolicy& policy_of(const StageSpec& stage) const;
  const FailurePolicy& policy_of(const StageSpec& stage, const GroupSpec& group) const;
};

// Every gate of the strategy with its scope, in order: stage before-gates, group gates, stage after-gates.
struct GateRef {
  const Gate* gate = nullptr;
  std::size_t stage = 0;
  std::optional<std::size_t> group;  // nullopt: a stage gate
  bool before = true;
};
std::vector<GateRef> all_gates(const Strategy& strategy);
const Gate* find_gate(const Strategy& strategy, std::string_view name);

std::string_view to_string(GateType t);
std::string_view to_string(OnFailure f);

}  // namespace fleet::rollout
