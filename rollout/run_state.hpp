#pragma once
// The persisted state of an update run (DESIGN §6): the run, its stages and groups, its gates, its members. fleetd
// stores it (rollouts and rollout_members rows) and hands it to the run machine (rollout/run_machine.hpp), which
// returns the next state; every change is an Event written in the same transaction.
//
// run     Pending → Running ⇄ Paused → Completed | Failed | Aborted   (Failed: finished with failed members)
// stage   NotStarted → WaitingForGate → Running → Soaking → Completed | Failed | Skipped
// group   the stage's states, within its stage
// member  Pending → Upgrading → Probing → Succeeded | Failed | Skipped
//         Pending ⇄ WaitingForWindow → Upgrading | Skipped   (its turn came outside its maintenance window)
// gate    Closed → Open → Passed | Failed | Skipped            (Open: the gate is reached and being evaluated)
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "rollout/plan.hpp"
#include "rollout/run_spec.hpp"
#include "rollout/step.hpp"

namespace fleet::rollout {

enum class RunPhase { kPending, kRunning, kPaused, kCompleted, kFailed, kAborted };
enum class StagePhase { kNotStarted, kWaitingForGate, kRunning, kSoaking, kCompleted, kFailed, kSkipped };
enum class MemberPhase { kPending, kUpgrading, kProbing, kSucceeded, kFailed, kSkipped, kWaitingForWindow };
enum class GatePhase { kClosed, kOpen, kPassed, kFailed, kSkipped };

std::string_view to_string(RunPhase p);
std::string_view to_string(StagePhase p);
std::string_view to_string(MemberPhase p);
std::string_view to_string(GatePhase p);
std::optional<RunPhase> parse_run_phase(std::string_view s);
std::optional<StagePhase> parse_stage_phase(std::string_view s);
std::optional<MemberPhase> parse_member_phase(std::string_view s);
std::optional<GatePhase> parse_gate_phase(std::string_view s);

inline bool is_final(RunPhase p) {
  return p == RunPhase::kCompleted || p == RunPhase::kFailed || p == RunPhase::kAborted;
}
inline bool is_final(StagePhase p) {
  return p == StagePhase::kCompleted || p == StagePhase::kFailed || p == StagePhase::kSkipped;
}
inline bool is_final(MemberPhase p) {
  return p == MemberPhase::kSucceeded || p == MemberPhase::kFailed || p == MemberPhase::kSkipped;
}
inline bool in_flight(MemberPhase p) {
  return p == MemberPhase::kUpgrading || p == MemberPhase::kProbing;
}
// Not started yet: Pending, or WaitingForWindow (not a failure, holds no concurrency slot).
inline bool not_started(MemberPhase p) {
  return p == MemberPhase::kPending || p == MemberPhase::kWaitingForWindow;
}

struct GateState {
  std::string name;  // as in the strategy (all_gates order)
  GatePhase phase = GatePhase::kClosed;
  std::optional<TimePoint> opened_at;
  std::optional<TimePoint> healthy_since;  // HealthCheck: the start of the current unbroken healthy stretch
  std::string message;
  std::string approved_by;
  bool operator==(const GateState&) const = default;
};

struct GroupState {
  StagePhase phase = StagePhase::kNotStarted;
  int acknowledged_failures = 0;  // failures already answered by a :resume
  bool operator==(const GroupState&) const = default;
};

struct StageState {
  StagePhase phase = StagePhase::kNotStarted;
  std::vector<GroupState> groups;
  std::optional<TimePoint> soak_until;  // afterStageWait's end, once the members are done
  int acknowledged_failures = 0;
  bool operator==(const StageState&) const = default;
};

// Where a blue-green step (Step::replacement, issue #13 item 4) stands; each stage but kSoak is one
// blue_green_node_pool command. kReplace: the new pool is made and the workloads moved (the step's first command).
// kSoak: no command; the old pool is kept, cordoned and empty, until soak_until. kRetire: the old pool is deleted.
// kRestore: a :rollback moves the workloads back and deletes the new pool. Other steps stay kReplace.
enum class SwapStage { kReplace, kSoak, kRetire, kRestore };
std::string_view to_string(SwapStage s);
std::optional<SwapStage> parse_swap_stage(std::string_view s);

struct MemberState {
  std::string cluster;
  std::string cluster_id;
  std::size_t stage = 0;
  std::size_t group = 0;
  MemberPhase phase = MemberPhase::kPending;
  std::vector<Step> steps;
  std::size_t step = 0;  // the step running or next; == steps.size() once all are done
  int attempt = 1;       // bumped by :retry; part of the command ids
  std::string from_version;
  std::string to_version;
  std::string skip_reason;  // "AlreadyAtTarget", "Unreachable", "Operator", …; empty unless Skipped
  // The spec's maintenanceWindows rule that applies to the cluster, resolved from its labels at creation (frozen
  // like the strategy); nullopt: no window, always allowed.
  std::optional<std::size_t> window;
  std::string message;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  // Times the current node-pool step stopped at its window's end with nodes left (issue #13 item 2): part of its
  // command id, so that the step issued again when the window opens is a new command.
  int stops = 0;
  // The cluster's own maintenance window (its provider's: AKS planned maintenance, read by the agent) was closed
  // when the current step was sent: the agent began nothing and said when it opens. The member waits until then
  // (WaitingForWindow) and the step goes again as a new command (stops); cleared when a step finishes.
  std::optional<TimePoint> provider_closed_until;
  std::string provider_window;           // the agent's words on it, for messages
  SwapStage swap = SwapStage::kReplace;  // the current step's, when it is blue-green
  std::optional<TimePoint> soak_until;   // kSoak: when the old pool is deleted
  bool operator==(const MemberState&) const = default;
};

struct RunState {
  std::string name;
  std::int64_t seq = 0;  // the run's number in fleetd: part of its command ids
  RunSpec spec;          // frozen at creation
  RunPhase phase = RunPhase::kPending;
  std::string message;  // why it is paused, failed or aborted
  std::vector<StageState> stages;
  std::vector<GateState> gates;  // in all_gates(spec.strategy) order
  std::vector<MemberState> members;
  int acknowledged_failures = 0;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  bool operator==(const RunState&) const = default;

  GateState* gate(std::string_view name);
  const GateState* gate(std::string_view name) const;
  MemberState* member(std::string_view cluster);
};

// A run with its spec and the shape the spec implies (a StageState per stage with a GroupState per group, a
// GateState per gate in all_gates order), no members, everything NotStarted / Closed: what initial_run_state fills
// from a plan and what run_status_from_json reads a stored status into.
RunState run_skeleton(std::string name, std::int64_t seq, RunSpec spec);

// The state of a new run from its frozen plan: members Pending, or Skipped with the plan's reason.
RunState initial_run_state(std::string name, std::int64_t seq, RunSpec spec, const Plan& plan);

// The command id of a member's step: "ro.<seq>.<member index>.<step>.<attempt>" (fits validate_command_id), so a
// restarted executor issues the same ids and the queue's idempotency by id does the rest.
std::string command_id(std::int64_t run_seq, std::size_t member_index, std::size_t step, int attempt);
// The command a member's current step waits for: command_id(), with ".w<stops>" after it when the step stopped at
// a window's end before, and ".retire" or ".restore" for those stages of a blue-green step (kSoak waits for none;
// its id is the Replace's, already finished).
std::string member_command_id(const RunState& state, std::size_t member_index);

// The run-level parts (phase, message, stages, gates, counters, times) as one JSON document, and a member as
// another: the two halves fleetd stores (rollouts.status, rollout_members.state). run_status_from_json reads into
// a run_skeleton of the run's spec.
nlohmann::json run_status_to_json(const RunState& state);
Status run_status_from_json(const nlohmann::json& j, RunState& state);
nlohmann::json member_to_json(const MemberState& member);
Result<MemberState> member_from_json(const nlohmann::json& j);

}  // namespace fleet::rollout
