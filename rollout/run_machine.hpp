#pragma once
// The run machine (issue #12 item 6): state + observations + now → the next state, the events that record each
// transition, and the agent commands to issue. Pure: fleetd's executor reads the state and the observations, calls
// advance(), and writes the result in one transaction; a restart re-reads the state and decides again, and since
// command ids are derived from (run, member, step, attempt) the same commands come out.
//
// Rules:
//  - stages run in order; a stage starts when every earlier stage is final; its before-gates open first;
//  - groups of a running stage run in parallel, each behind its own before-gates;
//  - members start in order, round-robin over the groups, while the group's and the stage's concurrency allow and
//    the run is Running; a member whose cluster is gone or unreachable when its turn comes is Skipped with that
//    reason, not failed; one in flight waits for its command (an unreachable agent finishes it when it is back);
//  - maintenance windows (issue #13 item 2): a member whose turn comes while its cluster's window (the strategy's
//    maintenanceWindows rule resolved at creation) is closed does not start: it is WaitingForWindow, with an event
//    saying when the window opens and a timer no later than that; it is not a failure and takes no concurrency
//    slot, so members later in order whose windows are open start meanwhile (a closed window never blocks its
//    group). When its window opens it starts at its next turn (being earlier in order, before those after it);
//    if no slot is free then, it goes back to Pending. The window is checked before the cluster's reachability.
//    A member Upgrading or Probing when its window closes finishes the step in hand (its command is in flight)
//    and stops before the next: WaitingForWindow again, with an event, no slot held; it goes on from its next
//    step as above once the window opens. Inside a node-pool step it stops between nodes: the command carries the
//    window's end as notAfter, the agent starts no node from then on, lets the nodes in hand finish and reports the
//    step stopped; the member waits for the window the same way and the step is issued again when it opens, with
//    a new id (MemberState::stops), for the nodes left. The cluster's own window (its provider's, e.g. AKS planned
//    maintenance, which the agent reads) is a second one: a step the agent did not begin because it is closed comes
//    back stopped with notBefore, and the member waits the same way until then (at least a minute on, whatever the
//    agent's clock said; a stop with no time and no window of fleetd's waits five minutes, so that it cannot spin),
//    then the step goes again as a new command. :skip and :abort treat a WaitingForWindow member as a Pending one;
//  - failures count per group, stage and run; a count beyond the effective policy's maxFailures (minus what a
//    :resume acknowledged) pauses the run (Pause) or is recorded and passed (Continue);
//  - when a group's members are final its after-gates open; when every group is final the stage soaks for
//    afterStageWait, then its after-gates open; a stage whose members all succeeded or were skipped is Completed,
//    Failed otherwise;
//  - gates: Approval waits for :approve; Wait passes `duration` after it opened; ScheduledStart passes at
//    notBefore; HealthCheck passes after `soak` of unbroken health of its scope, fails at `timeout` (pausing the
//    run); a paused run opens no gate and starts no member, but gates already open keep their clocks;
//  - the run is Completed when every stage is final and no member failed, Failed when some did;
//  - blue-green pools (issue #13 item 4): a step with a replacement pool runs as Replace (new pool up and admitted,
//    workloads moved), a soak of the spec's blueGreen.soak with no command (the member stays Upgrading and holds
//    its slot: its upgrade is not over while it can be rolled back), then Retire (the old pool deleted); :rollback
//    within the soak runs Restore instead and the member ends Skipped (RolledBack). The soak and its Retire are the
//    step in hand: an aborted run, or a maintenance window that closes meanwhile, lets them finish (the old pool is
//    cordoned and empty; deleting it disturbs nothing);
//  - disruption budgets (issue #15 item 1): a node-pool step whose drain would take more of a workload's replicas
//    down than its budget allows is not issued; the member stays Upgrading with the reason, the decision lists the
//    held drain (the placement loop moves those replicas elsewhere, make before break), and a timer looks again
//    every few seconds. It holds its concurrency slot: the member has begun.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/command_payloads.hpp"
#include "protocol/command_status.hpp"
#include "rollout/run_state.hpp"

namespace fleet::rollout {

struct CommandObservation {
  bool final = false;  // succeeded or failed
  bool succeeded = false;
  bool probing = false;  // a node of the step is waiting for its GPU probe
  std::string message;
  double seconds = 0;    // final: from queued to finished, on fleetd's clock (for the step-duration metrics)
  bool stopped = false;  // succeeded at its notAfter (the window's end) with nodes of the pool left
  // With stopped: not begun, because the cluster's own (the provider's) maintenance window is closed until then.
  std::optional<TimePoint> not_before;
};

struct ClusterObservation {
  bool exists = false;
  std::string id;     // the registry's current id (a recreated cluster has a new one)
  std::string state;  // registering | ready | unreachable | cordoned | deleting
  int gpu_nodes = 0;
  int admitted_gpu_nodes = 0;
};

struct Observations {
  std::map<std::string, CommandObservation, std::less<>> commands;  // by command id
  std::map<std::string, ClusterObservation, std::less<>> clusters;  // by cluster name
  // "<cluster>/<pool>" → why draining that pool now would break a workload's disruption budget (issue #15 item 1,
  // placement/disruption_budget.hpp); the pool's step waits while it is here.
  std::map<std::string, std::string, std::less<>> drain_holds;
};

struct Event {
  TimePoint at{};
  std::string scope;  // "run" | "stage" | "group" | "member" | "gate"
  std::string name;   // the run's name, a stage's, "<stage>/<group>", a cluster's, a gate's
  std::string from;
  std::string to;
  std::string message;
  bool operator==(const Event&) const = default;
};

struct CommandToIssue {
  std::string id;
  std::string cluster;
  std::string cluster_id;
  protocol::CommandPayload payload;
};

// A node-pool step that waits for its drain: the placement moves the pool's replicas elsewhere meanwhile.
struct HeldDrain {
  std::string cluster;
  std::string cluster_id;
  std::string pool;
  std::string reason;
  bool operator==(const HeldDrain&) const = default;
};

// A member step whose command the decision saw finish (for metrics: what kind, how many nodes, how long).
struct FinishedStep {
  StepKind kind = StepKind::kControlPlane;
  int nodes = 0;
  bool succeeded = false;
  double seconds = 0;
};

struct Decision {
  std::vector<Event> events;
  std::vector<CommandToIssue> commands;
  std::vector<std::size_t> changed_members;  // indexes, sorted and unique
  bool run_changed = false;                  // run-level status (phase, stages, gates, counters) changed
  std::optional<TimePoint> wake_at;          // the earliest time a timer must advance the run again
  std::vector<FinishedStep> finished_steps;
  std::vector<HeldDrain> held_drains;  // every node-pool step waiting for its drain now (not only new ones)
};

// Advances the run as far as the observations allow at `now`.
Decision advance(RunState& state, const Observations& observations, TimePoint now);

// Operators' actions. Each either changes the state (and says so in the decision's events) or is refused:
// kConflict for an action the run's phase forbids (naming the phase), kNotFound for a gate/member/group/stage
// the run does not have.
// kRollback (issue #13 item 4): every member whose blue-green pool is in its soak (or the one cluster `target`
// names) has its workloads moved back and the new pool deleted (blue_green_node_pool Restore); it ends Skipped,
// reason RolledBack (:retry runs it again). A Running run is paused: no member starts until an operator resumes
// or aborts it. kConflict when no such member is soaking.
enum class ActionKind { kStart, kPause, kResume, kAbort, kSkip, kApprove, kRetry, kRollback };
enum class SkipTarget { kMember, kGroup, kStage, kGate, kWait };
struct Action {
  ActionKind kind = ActionKind::kStart;
  SkipTarget skip = SkipTarget::kMember;
  std::string target;  // cluster, "<stage>/<group>", stage, gate or stage (kWait) name
  std::string actor;   // who, for the events
  std::string reason;
};
Result<Decision> apply_action(RunState& state, const Action& action, TimePoint now);

// Counts for status and metrics.
struct MemberCounts {
  int pending = 0, upgrading = 0, probing = 0, succeeded = 0, failed = 0, skipped = 0, waiting_for_window = 0;
};
MemberCounts count_members(const RunState& state, std::optional<std::size_t> stage = std::nullopt);

std::string_view to_string(ActionKind k);

}  // namespace fleet::rollout
