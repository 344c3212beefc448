#include "rollout/run_machine.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "common/time_format.hpp"
#include "rollout/membership.hpp"

namespace fleet::rollout {

namespace {

// How often an open HealthCheck gate looks again: heartbeats do not wake the executor, a timer does.
constexpr Seconds kHealthRecheck{5};
// How often a held drain looks again: the placement's moves do not wake the executor either.
constexpr Seconds kDrainHoldRecheck{5};
// A step stopped with no window to wait for is sent again after this; one the provider's window stopped waits at
// least kStoppedMinimumWait past fleetd's now, whatever the agent's clock said.
constexpr Seconds kStoppedRetry{300};
constexpr Seconds kStoppedMinimumWait{60};
// A held member's message says this; the message changes again when the step is issued.
constexpr std::string_view kWaitingToDrain = ": waiting to drain pool ";

// Skip reasons the run machine gives (the planner's are in plan.hpp).
constexpr const char* kSkipClusterDeleted = "ClusterDeleted";
constexpr const char* kSkipUnreachable = "Unreachable";
constexpr const char* kSkipOperator = "Operator";
constexpr const char* kSkipAborted = "Aborted";
constexpr const char* kSkipRolledBack = "RolledBack";  // a blue-green pool put back by :rollback

bool retryable_skip(const MemberState& m) {
  const std::string& r = m.skip_reason;
  return m.step < m.steps.size() &&
         (r == kSkipClusterDeleted || r == kSkipUnreachable || r == kSkipOperator || r == kSkipAborted ||
          r == kSkipRolledBack || r == to_string(SkipReason::kUnreachable) || r == to_string(SkipReason::kStopped) ||
          r == to_string(SkipReason::kNoAgent));
}

class Machine {
 public:
  Machine(RunState& st, TimePoint now) : st_(st), now_(now), strategy_(st.spec.strategy) {
    for (const auto& ref : all_gates(strategy_)) gate_refs_.push_back(ref);
  }

  Decision finish() {
    std::sort(d_.changed_members.begin(), d_.changed_members.end());
    d_.changed_members.erase(std::unique(d_.changed_members.begin(), d_.changed_members.end()),
                             d_.changed_members.end());
    return std::move(d_);
  }

  void advance(const Observations& obs);
  Status act(const Action& a);

 private:
  // Transitions: each one an event.
  void set_run(RunPhase to, std::string message);
  void set_stage(std::size_t s, StagePhase to, const std::string& message = {});
  void set_group(std::size_t s, std::size_t g, StagePhase to, const std::string& message = {});
  void set_member(std::size_t i, MemberPhase to, std::string message);
  void set_gate(std::size_t i, GatePhase to, std::string message);
  void wake(TimePoint t) {
    if (!d_.wake_at || t < *d_.wake_at) d_.wake_at = t;
  }

  void observe_member(std::size_t i, const Observations& obs);
  void issue(std::size_t i);
  // Blue-green steps (issue #13 item 4): a member in its soak waits for soak_until, then its Retire is issued
  // (true while it soaks or just left the soak); a finished command moves the step to its next stage (true), or
  // lets the step end as any other (false: Retire done, or not a blue-green step).
  bool soaking(std::size_t i);
  bool blue_green_done(std::size_t i);
  // A node-pool step the agent stopped at the window's end with nodes left: it waits for the window to open.
  void stopped_at_window_end(std::size_t i, const std::string& agent_message);
  // A step the agent did not begin because the cluster's own (the provider's) maintenance window is closed: the
  // member waits until the time the agent gave, then the step goes again as a new command.
  void provider_window_closed(std::size_t i, const CommandObservation& c);
  // Both: the member waits (WaitingForWindow) until `until` as if its provider's window were closed till then
  // (window_of), `said` kept for messages, and the step goes again as a new command.
  void hold_for_provider(std::size_t i, TimePoint until, std::string said, const std::string& message);
  Status rollback(const Action& a, const std::string& note);
  // A node-pool step whose drain a disruption budget holds: no command yet (true).
  bool held(std::size_t i);
  bool check_failure_policies();
  void run_stage(std::size_t s, const Observations& obs);
  void start_members(std::size_t s, const Observations& obs);
  // Opens the gates of a scope (Closed → Open) and evaluates the open ones; true when all passed or were skipped.
  bool gates_pass(std::size_t stage, std::optional<std::size_t> group, bool before, const Observations& obs);
  void evaluate_gate(std::size_t i, const Observations& obs);
  StagePhase final_phase(std::size_t s, std::optional<std::size_t> group) const;
  int failures(std::size_t s, std::optional<std::size_t> group) const;
  int members_of(std::size_t s, std::optional<std::size_t> group) const;
  // Where the member's maintenance window stands at now_; nullopt when it has none.
  // The provider's window, closed until the time the agent gave, comes first; once that is past, the strategy's.
  std::optional<WindowStatus> window_of(const MemberState& m) const {
    if (m.provider_closed_until && now_ < *m.provider_closed_until) {
      return WindowStatus{false, *m.provider_closed_until};
    }
    if (!m.window || *m.window >= strategy_.maintenance_windows.size()) return std::nullopt;
    return window_status(strategy_.maintenance_windows[*m.window].window, now_);
  }
  std::string window_text(const MemberState& m) const;
  std::string scope_name(std::size_t s, std::optional<std::size_t> g) const {
    return g ? strategy_.stages[s].name + "/" + strategy_.stages[s].groups[*g].name : strategy_.stages[s].name;
  }

  RunState& st_;
  TimePoint now_;
  const Strategy& strategy_;
  const Observations* obs_ = nullptr;  // during advance()
  std::vector<GateRef> gate_refs_;
  Decision d_;
};

void Machine::set_run(RunPhase to, std::string message) {
  if (st_.phase == to && st_.message == message) return;
  d_.events.push_back({now_, "run", st_.name, std::string(to_string(st_.phase)), std::string(to_string(to)), message});
  st_.phase = to;
  st_.message = std::move(message);
  d_.run_changed = true;
}

void Machine::set_stage(std::size_t s, StagePhase to, const std::string& message) {
  StageState& ss = st_.stages[s];
  if (ss.phase == to) return;
  d_.events.push_back(
      {now_, "stage", strategy_.stages[s].name, std::string(to_string(ss.phase)), std::string(to_string(to)), message});
  ss.phase = to;
  d_.run_changed = true;
}

void Machine::set_group(std::size_t s, std::size_t g, StagePhase to, const std::string& message) {
  GroupState& gs = st_.stages[s].groups[g];
  if (gs.phase == to) return;
  d_.events.push_back(
      {now_, "group", scope_name(s, g), std::string(to_string(gs.phase)), std::string(to_string(to)), message});
  gs.phase = to;
  d_.run_changed = true;
}

void Machine::set_member(std::size_t i, MemberPhase to, std::string message) {
  MemberState& m = st_.members[i];
  d_.events.push_back(
      {now_, "member", m.cluster, std::string(to_string(m.phase)), std::string(to_string(to)), message});
  if (to == MemberPhase::kUpgrading && not_started(m.phase)) m.started_at = now_;
  if (is_final(to)) m.finished_at = now_;
  m.phase = to;
  m.message = std::move(message);
  d_.changed_members.push_back(i);
}

void Machine::set_gate(std::size_t i, GatePhase to, std::string message) {
  GateState& g = st_.gates[i];
  if (g.phase == to && g.message == message) return;
  d_.events.push_back({now_, "gate", g.name, std::string(to_string(g.phase)), std::string(to_string(to)), message});
  if (to == GatePhase::kOpen && g.phase == GatePhase::kClosed) g.opened_at = now_;
  g.phase = to;
  g.message = std::move(message);
  d_.run_changed = true;
}

std::string step_text(const MemberState& m) {
  return "step " + std::to_string(m.step + 1) + "/" + std::to_string(m.steps.size()) + ": " + describe(m.steps[m.step]);
}

bool Machine::held(std::size_t i) {
  const MemberState& m = st_.members[i];
  const Step& step = m.steps[m.step];
  // Only a step's drain of its own pool waits for a budget: a blue-green Retire drains nothing (its pool is empty)
  // and a rollback's Restore must not wait (it puts the workloads back where they ran).
  if (step.kind != StepKind::kNodePool || obs_ == nullptr || m.swap != SwapStage::kReplace) return false;
  const auto hold = obs_->drain_holds.find(m.cluster + "/" + step.pool);
  if (hold == obs_->drain_holds.end()) return false;
  if (st_.phase == RunPhase::kAborted) {  // nothing of this step ran: it never will
    st_.members[i].skip_reason = kSkipAborted;
    set_member(i, MemberPhase::kSkipped, "the run was aborted while " + step_text(m) + " waited to drain its pool");
    return true;
  }
  d_.held_drains.push_back({m.cluster, m.cluster_id, step.pool, hold->second});
  wake(now_ + kDrainHoldRecheck);
  std::string message = step_text(m) + std::string(kWaitingToDrain) + step.pool + ": " + hold->second;
  if (m.phase != MemberPhase::kUpgrading || m.message != message) {
    set_member(i, MemberPhase::kUpgrading, std::move(message));
  }
  return true;
}

void Machine::issue(std::size_t i) {
  if (held(i)) return;
  const MemberState& m = st_.members[i];
  const Step& step = m.steps[m.step];
  if (m.phase == MemberPhase::kUpgrading && m.message.find(kWaitingToDrain) != std::string::npos) {
    set_member(i, MemberPhase::kUpgrading, step_text(m) + " (its drain no longer breaks a disruption budget)");
  }
  CommandToIssue c;
  c.id = member_command_id(st_, i);
  c.cluster = m.cluster;
  c.cluster_id = m.cluster_id;
  if (step.kind == StepKind::kControlPlane) {
    c.payload = protocol::UpgradeControlPlane{*step.kubernetes_version};
  } else if (!step.replacement.empty()) {
    protocol::BlueGreenNodePool p;
    p.pool = step.pool;
    p.new_pool = step.replacement;
    switch (m.swap) {
      case SwapStage::kReplace:
      case SwapStage::kSoak:  // not issued: observe_member waits out the soak without a command
        p.phase = protocol::BlueGreenPhase::kReplace;
        p.kubernetes_version = step.kubernetes_version;
        p.node_image_version = step.node_image;
        break;
      case SwapStage::kRetire:
        p.phase = protocol::BlueGreenPhase::kRetire;
        break;
      case SwapStage::kRestore:
        p.phase = protocol::BlueGreenPhase::kRestore;
        break;
    }
    c.payload = std::move(p);
  } else {
    protocol::UpgradeNodePool p;
    p.pool = step.pool;
    p.kubernetes_version = step.kubernetes_version;
    p.node_image_version = step.node_image;
    p.max_surge = st_.spec.node_upgrade.max_surge;
    p.max_unavailable = st_.spec.node_upgrade.max_unavailable;
    p.max_failed_nodes = st_.spec.node_upgrade.max_failed_nodes;
    // Within a maintenance window the agent stops between nodes at its end (the window's occurrence fixes it, so
    // a re-issue after a restart carries the same payload).
    if (const auto w = window_of(m); w && w->open) p.not_after = w->changes_at;
    c.payload = std::move(p);
  }
  d_.commands.push_back(std::move(c));
}

bool Machine::soaking(std::size_t i) {
  MemberState& m = st_.members[i];
  if (m.swap != SwapStage::kSoak) return false;
  const Step& step = m.steps[m.step];
  if (now_ < m.soak_until.value_or(now_)) {
    wake(*m.soak_until);
    return true;
  }
  // The soak is over (an aborted run lets it end too: the step in hand finishes): the old pool goes.
  m.swap = SwapStage::kRetire;
  m.soak_until.reset();
  set_member(i, MemberPhase::kUpgrading,
             step_text(m) + ": soak over; deleting the old pool " + step.pool + " (" + step.replacement +
                 " carries its workloads)");
  issue(i);
  return true;
}

void Machine::observe_member(std::size_t i, const Observations& obs) {
  if (soaking(i)) return;
  MemberState& m = st_.members[i];
  auto cluster = obs.clusters.find(m.cluster);
  const auto cmd = obs.commands.find(member_command_id(st_, i));
  if (cmd == obs.commands.end()) {
    if (cluster == obs.clusters.end() || !cluster->second.exists || cluster->second.id != m.cluster_id) {
      m.skip_reason = kSkipClusterDeleted;
      set_member(i, MemberPhase::kSkipped, "the cluster was deleted during its upgrade");
      return;
    }
    issue(i);  // not in the queue (a crash between decision and write, or a step just begun): the same id again
    return;
  }
  const CommandObservation& c = cmd->second;
  // A blue-green step's Retire and Restore are not the step's work on its nodes, nor is a stopped step all of it.
  if (c.final && m.swap == SwapStage::kReplace && !c.stopped) {
    const Step& done = m.steps[m.step];
    d_.finished_steps.push_back({done.kind, done.nodes, c.succeeded, c.seconds});
  }
  if (!c.final) {
    const MemberPhase want = c.probing ? MemberPhase::kProbing : MemberPhase::kUpgrading;
    if (m.phase != want) set_member(i, want, step_text(m) + (c.probing ? " (GPU probe)" : ""));
    return;
  }
  if (!c.succeeded) {
    const std::string what = m.swap == SwapStage::kRetire    ? " (deleting the old pool)"
                             : m.swap == SwapStage::kRestore ? " (its rollback)"
                                                             : "";
    set_member(i, MemberPhase::kFailed, step_text(m) + what + " failed: " + c.message);
    return;
  }
  if (c.stopped && c.not_before) return provider_window_closed(i, c);
  if (blue_green_done(i)) return;
  if (c.stopped) return stopped_at_window_end(i, c.message);
  ++m.step;
  m.stops = 0;
  m.provider_closed_until.reset();
  m.provider_window.clear();
  d_.changed_members.push_back(i);
  if (m.step >= m.steps.size()) {
    set_member(i, MemberPhase::kSucceeded, "upgraded to " + m.to_version);
    return;
  }
  if (st_.phase == RunPhase::kAborted) {
    m.skip_reason = kSkipAborted;
    set_member(i, MemberPhase::kSkipped,
               "the run was aborted after step " + std::to_string(m.step) + " of " + std::to_string(m.steps.size()));
    return;
  }
  // Its window closed while the step ran: the step in hand was let finish, and the next waits for the window to
  // open again (issue #13 item 2). Like a member whose turn comes while its window is closed, it holds no slot
  // meanwhile and, once the window is open, starts at its next turn, before the members later in order.
  if (const auto w = window_of(m); w && !w->open) {
    wake(w->changes_at);
    set_member(i, MemberPhase::kWaitingForWindow,
               "step " + std::to_string(m.step) + "/" + std::to_string(m.steps.size()) +
                   " done after its maintenance window closed (" + window_text(m) + "); step " +
                   std::to_string(m.step + 1) + " waits for it to open at " + format_rfc3339(w->changes_at));
    return;
  }
  set_member(i, MemberPhase::kUpgrading, step_text(m));
  issue(i);
}

void Machine::stopped_at_window_end(std::size_t i, const std::string& agent_message) {
  MemberState& m = st_.members[i];
  const auto w = window_of(m);
  if (!w) {
    // No window of fleetd's says when to go on, and the agent did not either: try again in a while rather than at
    // once, so that an agent that keeps stopping the step cannot make the run spin.
    const TimePoint retry = now_ + kStoppedRetry;
    return hold_for_provider(i, retry, "the agent stopped the step without saying until when: " + agent_message,
                             step_text(m) + " stopped by the agent (" + agent_message +
                                 ") with no maintenance window to wait for; sent again at " + format_rfc3339(retry));
  }
  const std::string stopped =
      step_text(m) + " stopped between nodes at its maintenance window's end (" + agent_message + ")";
  if (w->open) {
    // The agent's clock reached the window's end before fleetd's: wait for fleetd's to get there too, rather than
    // send the step again only for the agent to stop it at once.
    wake(w->changes_at);
    if (m.message != stopped) set_member(i, MemberPhase::kUpgrading, stopped);
    return;
  }
  ++m.stops;  // the step's next command is a new one
  wake(w->changes_at);
  set_member(i, MemberPhase::kWaitingForWindow,
             stopped + "; the rest waits for it to open at " + format_rfc3339(w->changes_at));
}

void Machine::provider_window_closed(std::size_t i, const CommandObservation& c) {
  // At least a minute on: an agent whose clock runs behind fleetd's must not make the step go back and forth.
  const TimePoint until = std::max(*c.not_before, now_ + kStoppedMinimumWait);
  hold_for_provider(i, until, c.message,
                    step_text(st_.members[i]) + " not begun: the cluster's own maintenance window is closed (" +
                        c.message + "); it is sent again when it opens at " + format_rfc3339(until));
}

void Machine::hold_for_provider(std::size_t i, TimePoint until, std::string said, const std::string& message) {
  MemberState& m = st_.members[i];
  ++m.stops;  // the step's next command is a new one
  m.provider_closed_until = until;
  m.provider_window = std::move(said);
  wake(until);
  set_member(i, MemberPhase::kWaitingForWindow, message);
}

bool Machine::blue_green_done(std::size_t i) {
  MemberState& m = st_.members[i];
  const Step& step = m.steps[m.step];
  if (step.replacement.empty()) return false;
  switch (m.swap) {
    case SwapStage::kReplace: {
      const Seconds soak = st_.spec.node_upgrade.blue_green ? st_.spec.node_upgrade.blue_green->soak : Seconds{0};
      m.swap = SwapStage::kSoak;
      m.soak_until = now_ + soak;
      set_member(i, MemberPhase::kUpgrading,
                 step_text(m) + ": workloads moved to " + step.replacement + "; the old pool " + step.pool +
                     " is kept until " + format_rfc3339(*m.soak_until) + " (:rollback moves them back until then)");
      soaking(i);
      return true;
    }
    case SwapStage::kRestore:
      m.skip_reason = kSkipRolledBack;
      set_member(i, MemberPhase::kSkipped,
                 step_text(m) + " rolled back: the workloads are back on " + step.pool + " and " + step.replacement +
                     " is deleted");
      return true;
    case SwapStage::kSoak:
    case SwapStage::kRetire:
      m.swap = SwapStage::kReplace;  // the step is done: the next starts at its first command
      m.soak_until.reset();
      return false;
  }
  return false;
}

int Machine::failures(std::size_t s, std::optional<std::size_t> group) const {
  int n = 0;
  for (const auto& m : st_.members) {
    if (m.stage == s && (!group || m.group == *group) && m.phase == MemberPhase::kFailed) ++n;
  }
  return n;
}

int Machine::members_of(std::size_t s, std::optional<std::size_t> group) const {
  int n = 0;
  for (const auto& m : st_.members) {
    if (m.stage == s && (!group || m.group == *group)) ++n;
  }
  return n;
}

// A breach of a Pause policy pauses the run and names the scope; Continue policies let the run go on.
bool Machine::check_failure_policies() {
  auto breached = [&](const FailurePolicy& p, int failed, int acknowledged, int members, const std::string& scope) {
    const int allowed = p.max_failures.resolve(members);
    if (failed - acknowledged <= allowed || p.on_failure != OnFailure::kPause) return false;
    set_run(RunPhase::kPaused, scope + ": " + std::to_string(failed) + " failed member" + (failed == 1 ? "" : "s") +
                                   " exceed maxFailures " + to_string(p.max_failures) + " (" + std::to_string(allowed) +
                                   " of " + std::to_string(members) + "); fix or skip them, then resume or retry");
    return true;
  };
  int run_failed = 0;
  for (std::size_t s = 0; s < strategy_.stages.size(); ++s) {
    const StageSpec& stage = strategy_.stages[s];
    for (std::size_t g = 0; g < stage.groups.size(); ++g) {
      if (breached(strategy_.policy_of(stage, stage.groups[g]), failures(s, g),
                   st_.stages[s].groups[g].acknowledged_failures, members_of(s, g), "group " + scope_name(s, g))) {
        return true;
      }
    }
    const int f = failures(s, std::nullopt);
    run_failed += f;
    if (breached(strategy_.policy_of(stage), f, st_.stages[s].acknowledged_failures, members_of(s, std::nullopt),
                 "stage " + stage.name)) {
      return true;
    }
  }
  return breached(strategy_.failure_policy, run_failed, st_.acknowledged_failures, static_cast<int>(st_.members.size()),
                  "run");
}

void Machine::evaluate_gate(std::size_t i, const Observations& obs) {
  GateState& gs = st_.gates[i];
  const GateRef& ref = gate_refs_[i];
  const Gate& g = *ref.gate;
  const TimePoint opened = gs.opened_at.value_or(now_);
  switch (g.type) {
    case GateType::kApproval:
      if (gs.message.empty()) set_gate(i, GatePhase::kOpen, "waiting for approval (" + g.name + ")");
      return;
    case GateType::kWait:
      if (now_ >= opened + g.duration)
        return set_gate(i, GatePhase::kPassed, "waited " + std::to_string(g.duration.count()) + "s");
      wake(opened + g.duration);
      return;
    case GateType::kScheduledStart:
      if (!g.not_before || now_ >= *g.not_before) return set_gate(i, GatePhase::kPassed, "scheduled start reached");
      wake(*g.not_before);
      return;
    case GateType::kHealthCheck: {
      std::string unhealthy;
      for (const auto& m : st_.members) {
        if (m.stage != ref.stage || (ref.group && m.group != *ref.group) || m.phase == MemberPhase::kSkipped) continue;
        auto c = obs.clusters.find(m.cluster);
        if (c == obs.clusters.end() || !c->second.exists) {
          unhealthy = m.cluster + " is gone";
        } else if (c->second.state != "ready") {
          unhealthy = m.cluster + " is " + c->second.state;
        } else if (c->second.gpu_nodes > 0 && static_cast<double>(c->second.admitted_gpu_nodes) <
                                                  g.min_admitted_gpu_ratio * static_cast<double>(c->second.gpu_nodes)) {
          unhealthy = m.cluster + " has " + std::to_string(c->second.admitted_gpu_nodes) + " of " +
                      std::to_string(c->second.gpu_nodes) + " GPU nodes admitted";
        }
        if (!unhealthy.empty()) break;
      }
      if (unhealthy.empty()) {
        if (!gs.healthy_since) {
          gs.healthy_since = now_;
          d_.run_changed = true;
        }
        if (now_ >= *gs.healthy_since + g.soak)
          return set_gate(i, GatePhase::kPassed, "healthy for " + std::to_string(g.soak.count()) + "s");
        wake(*gs.healthy_since + g.soak);
      } else if (gs.healthy_since) {
        gs.healthy_since.reset();
        d_.run_changed = true;
      }
      if (now_ >= opened + g.timeout) {
        set_gate(i, GatePhase::kFailed, "not healthy within " + std::to_string(g.timeout.count()) + "s: " + unhealthy);
        set_run(RunPhase::kPaused,
                "health check " + g.name + " failed: " + unhealthy + "; skip the gate or resume to check again");
        return;
      }
      set_gate(i, GatePhase::kOpen, unhealthy.empty() ? "healthy, soaking" : "waiting: " + unhealthy);
      wake(std::min(opened + g.timeout, now_ + kHealthRecheck));
      return;
    }
  }
}

bool Machine::gates_pass(std::size_t stage, std::optional<std::size_t> group, bool before, const Observations& obs) {
  bool all = true;
  for (std::size_t i = 0; i < gate_refs_.size(); ++i) {
    const GateRef& ref = gate_refs_[i];
    if (ref.stage != stage || ref.group != group || ref.before != before) continue;
    GateState& gs = st_.gates[i];
    if (gs.phase == GatePhase::kPassed || gs.phase == GatePhase::kSkipped) continue;
    all = false;
    if (gs.phase == GatePhase::kFailed || st_.phase != RunPhase::kRunning) continue;
    if (gs.phase == GatePhase::kClosed) set_gate(i, GatePhase::kOpen, "");
    evaluate_gate(i, obs);
    if (gs.phase != GatePhase::kPassed) continue;
  }
  if (all) return true;
  for (std::size_t i = 0; i < gate_refs_.size(); ++i) {
    const GateRef& ref = gate_refs_[i];
    if (ref.stage != stage || ref.group != group || ref.before != before) continue;
    if (st_.gates[i].phase != GatePhase::kPassed && st_.gates[i].phase != GatePhase::kSkipped) return false;
  }
  return true;
}

StagePhase Machine::final_phase(std::size_t s, std::optional<std::size_t> group) const {
  bool any_failed = false;
  bool all_skipped = true;
  for (const auto& m : st_.members) {
    if (m.stage != s || (group && m.group != *group)) continue;
    any_failed |= m.phase == MemberPhase::kFailed;
    all_skipped &= m.phase == MemberPhase::kSkipped;
  }
  if (any_failed) return StagePhase::kFailed;
  return all_skipped ? StagePhase::kSkipped : StagePhase::kCompleted;
}

void Machine::start_members(std::size_t s, const Observations& obs) {
  const StageSpec& stage = strategy_.stages[s];
  const std::size_t groups = stage.groups.size();
  std::optional<int> stage_limit;
  if (stage.max_concurrency) stage_limit = stage.max_concurrency->resolve_concurrency(members_of(s, std::nullopt));
  std::vector<int> limits(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    const int size = members_of(s, g);
    limits[g] = stage.groups[g].max_concurrency ? stage.groups[g].max_concurrency->resolve_concurrency(size)
                                                : std::max(size, 1);
  }
  // Members whose turn came at now_ while their window is closed: they wait without taking a slot, and the next in
  // order get theirs.
  std::set<std::size_t> closed;
  for (;;) {
    std::vector<std::vector<std::size_t>> pending(groups);
    std::vector<int> running(groups, 0);
    for (std::size_t i = 0; i < st_.members.size(); ++i) {
      const MemberState& m = st_.members[i];
      if (m.stage != s) continue;
      if (in_flight(m.phase)) ++running[m.group];
      if (not_started(m.phase) && st_.stages[s].groups[m.group].phase == StagePhase::kRunning && closed.count(i) == 0) {
        pending[m.group].push_back(i);
      }
    }
    std::vector<std::size_t> counts(groups);
    for (std::size_t g = 0; g < groups; ++g) counts[g] = pending[g].size();
    const auto slots = select_starts(counts, running, limits, stage_limit);
    if (slots.empty()) break;
    bool skipped_any = false;
    for (const auto& slot : slots) {
      const std::size_t i = pending[slot.group][slot.index];
      MemberState& m = st_.members[i];
      auto c = obs.clusters.find(m.cluster);
      if (const auto w = window_of(m); w && !w->open) {
        closed.insert(i);
        wake(w->changes_at);
        if (m.phase != MemberPhase::kWaitingForWindow) {
          set_member(
              i, MemberPhase::kWaitingForWindow,
              "outside its maintenance window (" + window_text(m) + "); it opens at " + format_rfc3339(w->changes_at));
        }
        skipped_any = true;
      } else if (c == obs.clusters.end() || !c->second.exists || c->second.id != m.cluster_id) {
        m.skip_reason = kSkipClusterDeleted;
        set_member(i, MemberPhase::kSkipped, "the cluster was deleted (or recreated) after the run was created");
        skipped_any = true;
      } else if (c->second.state == "unreachable" || c->second.state == "deleting") {
        m.skip_reason = c->second.state == "deleting" ? kSkipClusterDeleted : kSkipUnreachable;
        set_member(i, MemberPhase::kSkipped, "the cluster is " + c->second.state + " at its turn; retry it later");
        skipped_any = true;
      } else {
        set_member(i, MemberPhase::kUpgrading, step_text(m));
        issue(i);
      }
    }
    if (!skipped_any) break;  // a skipped or waiting member freed its slot: fill it
  }
  // The waiting members whose turn did not come in this look: back to Pending once their window is open (they wait
  // for a slot, not for the window), else a timer for its opening.
  for (std::size_t i = 0; i < st_.members.size(); ++i) {
    const MemberState& m = st_.members[i];
    if (m.stage != s || m.phase != MemberPhase::kWaitingForWindow || closed.count(i) != 0) continue;
    const auto w = window_of(m);
    if (!w || w->open) {
      const std::string next =
          m.step > 0 ? " (step " + std::to_string(m.step + 1) + "/" + std::to_string(m.steps.size()) + " next)" : "";
      set_member(i, MemberPhase::kPending,
                 (w ? "its maintenance window is open until " + format_rfc3339(w->changes_at) + "; waiting for its turn"
                    : "waiting for its turn") +
                     next);
    } else {
      wake(w->changes_at);
    }
  }
}

std::string Machine::window_text(const MemberState& m) const {
  if (m.provider_closed_until && now_ < *m.provider_closed_until) return "the cluster's own: " + m.provider_window;
  if (!m.window || *m.window >= strategy_.maintenance_windows.size()) return "none";
  const WindowRule& rule = strategy_.maintenance_windows[*m.window];
  const nlohmann::json w = to_json(rule.window);
  std::string days;
  for (const auto& d : w["days"]) days += (days.empty() ? "" : ",") + d.get<std::string>();
  return "maintenanceWindows[" + std::to_string(*m.window) + "]: " + days + " " + w["start"].get<std::string>() +
         " for " + w["duration"].get<std::string>() + " " + rule.window.time_zone;
}

void Machine::run_stage(std::size_t s, const Observations& obs) {
  StageState& ss = st_.stages[s];
  const StageSpec& stage = strategy_.stages[s];
  if (ss.phase == StagePhase::kNotStarted) set_stage(s, StagePhase::kWaitingForGate);
  if (ss.phase == StagePhase::kWaitingForGate) {
    if (!gates_pass(s, std::nullopt, true, obs)) return;
    set_stage(s, StagePhase::kRunning);
  }
  if (ss.phase == StagePhase::kRunning) {
    for (std::size_t g = 0; g < stage.groups.size(); ++g) {
      GroupState& gs = ss.groups[g];
      if (gs.phase == StagePhase::kNotStarted) set_group(s, g, StagePhase::kWaitingForGate);
      if (gs.phase == StagePhase::kWaitingForGate && gates_pass(s, g, true, obs)) set_group(s, g, StagePhase::kRunning);
    }
    start_members(s, obs);
    bool all_final = true;
    for (std::size_t g = 0; g < stage.groups.size(); ++g) {
      GroupState& gs = ss.groups[g];
      if (gs.phase == StagePhase::kRunning) {
        bool done = true;
        for (const auto& m : st_.members) done &= m.stage != s || m.group != g || is_final(m.phase);
        if (done) set_group(s, g, StagePhase::kSoaking);
      }
      if (gs.phase == StagePhase::kSoaking && gates_pass(s, g, false, obs)) set_group(s, g, final_phase(s, g));
      all_final &= is_final(gs.phase);
    }
    if (!all_final) return;
    if (!ss.soak_until) {
      ss.soak_until = now_ + stage.after_stage_wait;
      d_.run_changed = true;
    }
    set_stage(s, StagePhase::kSoaking,
              stage.after_stage_wait.count() > 0
                  ? "afterStageWait " + std::to_string(stage.after_stage_wait.count()) + "s"
                  : "");
  }
  if (ss.phase == StagePhase::kSoaking) {
    if (now_ < *ss.soak_until) {
      wake(*ss.soak_until);
      return;
    }
    if (!gates_pass(s, std::nullopt, false, obs)) return;
    set_stage(s, final_phase(s, std::nullopt));
  }
}

void Machine::advance(const Observations& obs) {
  obs_ = &obs;
  for (std::size_t i = 0; i < st_.members.size(); ++i) {
    if (in_flight(st_.members[i].phase)) observe_member(i, obs);
  }
  if (st_.phase != RunPhase::kRunning) return;
  if (check_failure_policies()) return;
  for (std::size_t s = 0; s < st_.stages.size(); ++s) {
    if (is_final(st_.stages[s].phase)) continue;
    bool earlier_final = true;
    for (std::size_t e = 0; e < s; ++e) earlier_final &= is_final(st_.stages[e].phase);
    if (st_.stages[s].phase == StagePhase::kNotStarted && !earlier_final) break;
    run_stage(s, obs);
    if (st_.phase != RunPhase::kRunning) return;  // a health gate paused it
  }
  bool done = true;
  for (const auto& ss : st_.stages) done &= is_final(ss.phase);
  if (!done) return;
  const MemberCounts counts = count_members(st_);
  st_.finished_at = now_;
  if (counts.failed > 0) {
    set_run(RunPhase::kFailed, std::to_string(counts.failed) + " member" + (counts.failed == 1 ? "" : "s") +
                                   " failed; :retry runs them again with the same targets");
  } else {
    set_run(RunPhase::kCompleted,
            std::to_string(counts.succeeded) + " upgraded, " + std::to_string(counts.skipped) + " skipped");
  }
}

Status Machine::rollback(const Action& a, const std::string& note) {
  std::vector<std::size_t> soaking_members;
  for (std::size_t i = 0; i < st_.members.size(); ++i) {
    const MemberState& m = st_.members[i];
    if (!a.target.empty() && m.cluster != a.target) continue;
    if (m.swap == SwapStage::kSoak && in_flight(m.phase)) soaking_members.push_back(i);
  }
  if (!a.target.empty() && st_.member(a.target) == nullptr) {
    return make_error(ErrorCode::kNotFound, "cluster " + a.target + " is not a member of the run", "cluster");
  }
  if (soaking_members.empty()) {
    return make_error(ErrorCode::kConflict,
                      (a.target.empty() ? "no member of the run" : "cluster " + a.target) +
                          " has a blue-green pool in its soak; a pool is rolled back only after its workloads moved "
                          "and before its old pool is deleted",
                      a.target.empty() ? "" : "cluster", "invalid-state");
  }
  for (std::size_t i : soaking_members) {
    MemberState& m = st_.members[i];
    const Step& step = m.steps[m.step];
    m.swap = SwapStage::kRestore;
    m.soak_until.reset();
    set_member(i, MemberPhase::kUpgrading,
               step_text(m) + ": rolled back" + note + "; moving the workloads back to " + step.pool +
                   " and deleting " + step.replacement);
    issue(i);
  }
  // A rollback says the new pools are not good: no member starts until an operator resumes (or aborts) the run.
  if (st_.phase == RunPhase::kRunning) {
    set_run(RunPhase::kPaused, "rolled back" + note + " (" + std::to_string(soaking_members.size()) + " pool" +
                                   (soaking_members.size() == 1 ? "" : "s") +
                                   "); resume to go on with the other members, or abort");
  }
  return Ok{};
}

Error refused(const RunState& st, std::string_view what) {
  return make_error(ErrorCode::kConflict,
                    "cannot " + std::string(what) + " a run that is " + std::string(to_string(st.phase)), "",
                    "invalid-state");
}

Status Machine::act(const Action& a) {
  const std::string by = a.actor.empty() ? "" : " by " + a.actor;
  const std::string why = a.reason.empty() ? "" : ": " + a.reason;
  switch (a.kind) {
    case ActionKind::kStart:
      if (st_.phase != RunPhase::kPending) return refused(st_, "start");
      st_.started_at = now_;
      set_run(RunPhase::kRunning, "started" + by);
      return Ok{};
    case ActionKind::kPause:
      if (st_.phase != RunPhase::kRunning) return refused(st_, "pause");
      set_run(RunPhase::kPaused, "paused" + by + why);
      return Ok{};
    case ActionKind::kResume: {
      if (st_.phase != RunPhase::kPaused) return refused(st_, "resume");
      // The failures that paused the run are answered: each scope tolerates its limit again from here.
      int total = 0;
      for (std::size_t s = 0; s < st_.stages.size(); ++s) {
        for (std::size_t g = 0; g < st_.stages[s].groups.size(); ++g) {
          st_.stages[s].groups[g].acknowledged_failures = failures(s, g);
        }
        st_.stages[s].acknowledged_failures = failures(s, std::nullopt);
        total += st_.stages[s].acknowledged_failures;
      }
      st_.acknowledged_failures = total;
      for (std::size_t i = 0; i < st_.gates.size(); ++i) {
        if (st_.gates[i].phase == GatePhase::kFailed) {
          st_.gates[i].opened_at = now_;
          st_.gates[i].healthy_since.reset();
          set_gate(i, GatePhase::kOpen, "resumed" + by + ": checking again");
        }
      }
      set_run(RunPhase::kRunning, "resumed" + by + why);
      return Ok{};
    }
    case ActionKind::kAbort:
      if (is_final(st_.phase)) return refused(st_, "abort");
      for (std::size_t i = 0; i < st_.members.size(); ++i) {
        if (not_started(st_.members[i].phase)) {
          st_.members[i].skip_reason = kSkipAborted;
          set_member(i, MemberPhase::kSkipped, "the run was aborted" + by);
        }
      }
      st_.finished_at = now_;
      set_run(RunPhase::kAborted, "aborted" + by + why + "; members in flight finish their current step");
      return Ok{};
    case ActionKind::kApprove: {
      if (is_final(st_.phase)) return refused(st_, "approve a gate of");
      GateState* g = st_.gate(a.target);
      const Gate* spec = find_gate(strategy_, a.target);
      if (g == nullptr || spec == nullptr) {
        return make_error(ErrorCode::kNotFound, "the run has no gate " + a.target, "gate");
      }
      if (spec->type != GateType::kApproval) {
        return make_error(ErrorCode::kConflict,
                          "gate " + a.target + " is a " + std::string(to_string(spec->type)) +
                              " gate; only Approval gates are approved (skip others)",
                          "gate", "invalid-state");
      }
      if (g->phase != GatePhase::kOpen) {
        return make_error(ErrorCode::kConflict,
                          "gate " + a.target + " is " + std::string(to_string(g->phase)) + ", not waiting for approval",
                          "gate", "invalid-state");
      }
      g->approved_by = a.actor;
      set_gate(static_cast<std::size_t>(g - st_.gates.data()), GatePhase::kPassed, "approved" + by + why);
      return Ok{};
    }
    case ActionKind::kSkip:
      break;
    case ActionKind::kRollback:
      return rollback(a, by + why);
    case ActionKind::kRetry: {
      if (st_.phase == RunPhase::kPending || st_.phase == RunPhase::kAborted) return refused(st_, "retry");
      int retried = 0;
      for (std::size_t i = 0; i < st_.members.size(); ++i) {
        MemberState& m = st_.members[i];
        if (m.phase != MemberPhase::kFailed && !(m.phase == MemberPhase::kSkipped && retryable_skip(m))) continue;
        ++m.attempt;
        m.skip_reason.clear();
        m.stops = 0;
        m.swap = SwapStage::kReplace;  // a blue-green step starts again from its Replace (new ids by attempt)
        m.soak_until.reset();
        m.finished_at.reset();
        set_member(i, MemberPhase::kPending, "retry, attempt " + std::to_string(m.attempt) + by);
        ++retried;
        StageState& ss = st_.stages[m.stage];
        if (is_final(ss.phase) || ss.phase == StagePhase::kSoaking) set_stage(m.stage, StagePhase::kRunning, "retry");
        if (is_final(ss.groups[m.group].phase) || ss.groups[m.group].phase == StagePhase::kSoaking) {
          set_group(m.stage, m.group, StagePhase::kRunning, "retry");
        }
        ss.soak_until.reset();
      }
      if (retried == 0) {
        return make_error(ErrorCode::kConflict, "the run has no failed or skipped member to retry", "",
                          "invalid-state");
      }
      for (auto& ss : st_.stages) {
        ss.acknowledged_failures = 0;
        for (auto& gs : ss.groups) gs.acknowledged_failures = 0;
      }
      st_.acknowledged_failures = 0;
      st_.finished_at.reset();
      set_run(RunPhase::kRunning, "retrying " + std::to_string(retried) + " member" + (retried == 1 ? "" : "s") + by);
      return Ok{};
    }
  }

  // Skips.
  if (is_final(st_.phase) && st_.phase != RunPhase::kFailed) return refused(st_, "skip in");
  const std::string note = "skipped" + by + why;
  auto skip_pending = [&](std::size_t s, std::optional<std::size_t> g) {
    for (std::size_t i = 0; i < st_.members.size(); ++i) {
      MemberState& m = st_.members[i];
      if (m.stage != s || (g && m.group != *g) || !not_started(m.phase)) continue;
      m.skip_reason = kSkipOperator;
      set_member(i, MemberPhase::kSkipped, note);
    }
    for (std::size_t i = 0; i < gate_refs_.size(); ++i) {
      const GateRef& ref = gate_refs_[i];
      if (ref.stage != s || (g && ref.group != g)) continue;
      if (st_.gates[i].phase != GatePhase::kPassed && st_.gates[i].phase != GatePhase::kSkipped) {
        set_gate(i, GatePhase::kSkipped, note);
      }
    }
  };
  switch (a.skip) {
    case SkipTarget::kMember: {
      MemberState* m = st_.member(a.target);
      if (m == nullptr)
        return make_error(ErrorCode::kNotFound, "cluster " + a.target + " is not a member of the run", "member");
      if (!not_started(m->phase)) {
        return make_error(
            ErrorCode::kConflict,
            "cluster " + a.target + " is " + std::string(to_string(m->phase)) +
                (in_flight(m->phase) ? "; its step is running on the cluster: wait for it or abort the run"
                                     : "; only a Pending or WaitingForWindow member can be skipped"),
            "member", "invalid-state");
      }
      m->skip_reason = kSkipOperator;
      set_member(static_cast<std::size_t>(m - st_.members.data()), MemberPhase::kSkipped, note);
      return Ok{};
    }
    case SkipTarget::kGroup: {
      for (std::size_t s = 0; s < strategy_.stages.size(); ++s) {
        for (std::size_t g = 0; g < strategy_.stages[s].groups.size(); ++g) {
          if (scope_name(s, g) != a.target) continue;
          if (is_final(st_.stages[s].groups[g].phase)) {
            return make_error(
                ErrorCode::kConflict,
                "group " + a.target + " is already " + std::string(to_string(st_.stages[s].groups[g].phase)), "group",
                "invalid-state");
          }
          skip_pending(s, g);
          return Ok{};
        }
      }
      return make_error(ErrorCode::kNotFound, "the run has no group " + a.target + " (write it stage/group)", "group");
    }
    case SkipTarget::kStage:
    case SkipTarget::kWait: {
      for (std::size_t s = 0; s < strategy_.stages.size(); ++s) {
        if (strategy_.stages[s].name != a.target) continue;
        StageState& ss = st_.stages[s];
        if (is_final(ss.phase)) {
          return make_error(ErrorCode::kConflict,
                            "stage " + a.target + " is already " + std::string(to_string(ss.phase)),
                            a.skip == SkipTarget::kStage ? "stage" : "wait", "invalid-state");
        }
        if (a.skip == SkipTarget::kStage) {
          skip_pending(s, std::nullopt);
          ss.soak_until = now_;  // a skipped stage does not hold the next one for its afterStageWait
          d_.run_changed = true;
        } else {
          ss.soak_until = now_;  // passes at once, or as soon as the stage gets there
          d_.events.push_back({now_, "stage", a.target, std::string(to_string(ss.phase)),
                               std::string(to_string(ss.phase)), "afterStageWait " + note});
          d_.run_changed = true;
        }
        return Ok{};
      }
      return make_error(ErrorCode::kNotFound, "the run has no stage " + a.target,
                        a.skip == SkipTarget::kStage ? "stage" : "wait");
    }
    case SkipTarget::kGate: {
      GateState* g = st_.gate(a.target);
      if (g == nullptr) return make_error(ErrorCode::kNotFound, "the run has no gate " + a.target, "gate");
      if (g->phase == GatePhase::kPassed || g->phase == GatePhase::kSkipped) {
        return make_error(ErrorCode::kConflict, "gate " + a.target + " is already " + std::string(to_string(g->phase)),
                          "gate", "invalid-state");
      }
      set_gate(static_cast<std::size_t>(g - st_.gates.data()), GatePhase::kSkipped, note);
      return Ok{};
    }
  }
  return Ok{};
}

}  // namespace

Decision advance(RunState& state, const Observations& observations, TimePoint now) {
  Machine m(state, now);
  m.advance(observations);
  return m.finish();
}

Result<Decision> apply_action(RunState& state, const Action& action, TimePoint now) {
  RunState before = state;
  Machine m(state, now);
  if (Status s = m.act(action); !s) {
    state = std::move(before);
    return s.error();
  }
  return m.finish();
}

MemberCounts count_members(const RunState& state, std::optional<std::size_t> stage) {
  MemberCounts c;
  for (const auto& m : state.members) {
    if (stage && m.stage != *stage) continue;
    switch (m.phase) {
      case MemberPhase::kPending:
        ++c.pending;
        break;
      case MemberPhase::kUpgrading:
        ++c.upgrading;
        break;
      case MemberPhase::kProbing:
        ++c.probing;
        break;
      case MemberPhase::kSucceeded:
        ++c.succeeded;
        break;
      case MemberPhase::kFailed:
        ++c.failed;
        break;
      case MemberPhase::kSkipped:
        ++c.skipped;
        break;
      case MemberPhase::kWaitingForWindow:
        ++c.waiting_for_window;
        break;
    }
  }
  return c;
}

std::string_view to_string(ActionKind k) {
  switch (k) {
    case ActionKind::kStart:
      return "start";
    case ActionKind::kPause:
      return "pause";
    case ActionKind::kResume:
      return "resume";
    case ActionKind::kAbort:
      return "abort";
    case ActionKind::kSkip:
      return "skip";
    case ActionKind::kApprove:
      return "approve";
    case ActionKind::kRetry:
      return "retry";
    case ActionKind::kRollback:
      return "rollback";
  }
  return "";
}

}  // namespace fleet::rollout
