// The run machine (issue #12 items 4-6): a run driven by a fake agent, with every decision checked against the
// invariants the crash-safety acceptance test checks from the events: every transition is an event, no limit is
// exceeded, nothing starts before its gates, commands only for frozen members with ids from (run, member, step,
// attempt), and a restarted executor (state through its stored JSON) decides exactly the same.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "rollout/run_machine.hpp"
#include "rollout/run_state.hpp"
#include "rollout/tests/rollout_fixtures.hpp"

namespace fleet::rollout {
namespace {

using namespace fleet::rollout::testing;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr std::int64_t kSeq = 7;

const VersionCatalog& catalog() {
  static const VersionCatalog c = small_catalog();
  return c;
}

// n clusters of `group` named prefix0..: at 1.32.3, so 1.32.7 is two steps (control plane, pool).
std::vector<ClusterFacts> fleet_of(const std::string& group, int n, const std::string& prefix) {
  std::vector<ClusterFacts> out;
  for (int i = 0; i < n; ++i) out.push_back(cluster(prefix + std::to_string(i), group, "1.32.3"));
  return out;
}

std::vector<ClusterFacts> operator+(std::vector<ClusterFacts> a, const std::vector<ClusterFacts>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The stored form and back, as a restarted fleetd reads it: the skeleton from the frozen spec, then the rows.
RunState reload(const RunState& st) {
  RunState r = initial_run_state(st.name, st.seq, st.spec, Plan{});
  auto status = run_status_from_json(json::parse(run_status_to_json(st).dump()), r);
  if (!status) FAIL("run_status_from_json: " << status.error().message);
  for (const auto& m : st.members) {
    auto back = member_from_json(json::parse(member_to_json(m).dump()));
    if (!back) FAIL("member_from_json: " << back.error().message);
    r.members.push_back(std::move(back).value());
  }
  return r;
}

std::vector<std::string> ids_of(const Decision& d) {
  std::vector<std::string> out;
  for (const auto& c : d.commands) out.push_back(c.id);
  std::sort(out.begin(), out.end());
  return out;
}

bool run_level_equal(const RunState& a, const RunState& b) {
  return a.phase == b.phase && a.message == b.message && a.stages == b.stages && a.gates == b.gates &&
         a.acknowledged_failures == b.acknowledged_failures && a.started_at == b.started_at &&
         a.finished_at == b.finished_at;
}

// The limits the strategy sets, computed here independently of the machine.
struct Limits {
  std::vector<std::optional<int>> stage;
  std::vector<std::vector<int>> group;
};
Limits limits_of(const RunState& st) {
  Limits l;
  for (std::size_t s = 0; s < st.spec.strategy.stages.size(); ++s) {
    const StageSpec& spec = st.spec.strategy.stages[s];
    int stage_members = 0;
    std::vector<int> sizes(spec.groups.size(), 0);
    for (const auto& m : st.members) {
      if (m.stage != s) continue;
      ++stage_members;
      ++sizes[m.group];
    }
    l.stage.push_back(spec.max_concurrency
                          ? std::optional<int>(spec.max_concurrency->resolve_concurrency(stage_members))
                          : std::nullopt);
    std::vector<int> groups;
    for (std::size_t g = 0; g < spec.groups.size(); ++g) {
      groups.push_back(spec.groups[g].max_concurrency ? spec.groups[g].max_concurrency->resolve_concurrency(sizes[g])
                                                      : std::max(sizes[g], 1));
    }
    l.group.push_back(std::move(groups));
  }
  return l;
}

// A run, the observations a fake agent and registry give it, and the checks made after every decision.
struct Harness {
  RunSpec spec;
  Plan plan;
  RunState st;
  Observations obs;
  TimePoint now = test_now();
  std::vector<Event> events;                                  // every event, in order
  std::vector<std::string> issued;                            // every command id issued (re-issues included)
  std::map<std::string, std::string> cluster_of;              // command id → cluster
  std::set<std::string> failing;                              // clusters whose commands fail
  std::set<std::string> holding;                              // clusters whose commands stay running
  std::vector<std::vector<std::vector<std::string>>> starts;  // [stage] → clusters started per decision
  std::vector<int> max_in_flight;                             // [stage]

  Harness(RunSpec s, const std::vector<ClusterFacts>& clusters) : spec(std::move(s)) {
    plan = plan_of(spec, clusters, catalog());
    st = initial_run_state("upgrade", kSeq, spec, plan);
    for (const auto& c : clusters) {
      ClusterObservation o;
      o.exists = true;
      o.id = c.id;
      o.state = c.state;
      for (const auto& p : c.pools) o.gpu_nodes += p.gpu_nodes;
      o.admitted_gpu_nodes = o.gpu_nodes;
      obs.clusters[c.name] = o;
    }
    starts.resize(spec.strategy.stages.size());
    max_in_flight.assign(spec.strategy.stages.size(), 0);
  }

  MemberState& member(const std::string& cluster) {
    MemberState* m = st.member(cluster);
    if (m == nullptr) FAIL("no member " << cluster);
    return *m;
  }
  std::size_t index_of(const std::string& cluster) {
    return static_cast<std::size_t>(&member(cluster) - st.members.data());
  }
  const GateState& gate(const std::string& name) {
    const GateState* g = st.gate(name);
    if (g == nullptr) FAIL("no gate " << name);
    return *g;
  }
  StagePhase stage_phase(std::size_t s) const { return st.stages.at(s).phase; }

  void check(const RunState& before, const Decision& d) {
    // Every transition is an event, and every event a transition (or a message change) of something the run has.
    std::map<std::pair<std::string, std::string>, std::vector<const Event*>> by;
    for (const auto& e : d.events) {
      CHECK(e.at == now);
      by[{e.scope, e.name}].push_back(&e);
    }
    auto chain = [&](const std::string& scope, const std::string& name, std::string_view from, std::string_view to) {
      INFO(scope << " " << name << ": " << from << " → " << to);
      auto it = by.find({scope, name});
      if (it == by.end()) {
        CHECK(from == to);
        return;
      }
      CHECK(it->second.front()->from == from);
      for (std::size_t k = 1; k < it->second.size(); ++k) CHECK(it->second[k - 1]->to == it->second[k]->from);
      CHECK(it->second.back()->to == to);
      by.erase(it);
    };
    chain("run", st.name, to_string(before.phase), to_string(st.phase));
    const Strategy& strategy = st.spec.strategy;
    for (std::size_t s = 0; s < strategy.stages.size(); ++s) {
      chain("stage", strategy.stages[s].name, to_string(before.stages[s].phase), to_string(st.stages[s].phase));
      for (std::size_t g = 0; g < strategy.stages[s].groups.size(); ++g) {
        chain("group", strategy.stages[s].name + "/" + strategy.stages[s].groups[g].name,
              to_string(before.stages[s].groups[g].phase), to_string(st.stages[s].groups[g].phase));
      }
    }
    for (std::size_t i = 0; i < st.gates.size(); ++i) {
      chain("gate", st.gates[i].name, to_string(before.gates[i].phase), to_string(st.gates[i].phase));
    }
    for (std::size_t i = 0; i < st.members.size(); ++i) {
      chain("member", st.members[i].cluster, to_string(before.members[i].phase), to_string(st.members[i].phase));
    }
    for (const auto& entry : by) FAIL_CHECK("event for an unknown " << entry.first.first << " " << entry.first.second);

    // What changed is reported, so fleetd writes it.
    REQUIRE(before.members.size() == st.members.size());
    for (std::size_t i = 0; i < st.members.size(); ++i) {
      if (before.members[i] != st.members[i]) {
        INFO("member " << st.members[i].cluster << " changed");
        CHECK(std::binary_search(d.changed_members.begin(), d.changed_members.end(), i));
      }
    }
    if (!run_level_equal(before, st)) CHECK(d.run_changed);

    // Commands: only for members in flight, for the cluster frozen into the run, with the derived id.
    std::set<std::string> ids;
    for (const auto& c : d.commands) {
      INFO("command " << c.id << " for " << c.cluster);
      CHECK(ids.insert(c.id).second);
      MemberState* m = st.member(c.cluster);
      REQUIRE(m != nullptr);
      const auto i = static_cast<std::size_t>(m - st.members.data());
      CHECK(c.cluster_id == m->cluster_id);
      CHECK(in_flight(m->phase));
      REQUIRE(m->step < m->steps.size());
      CHECK(c.id == member_command_id(st, i));
      CHECK(c.id.rfind(command_id(st.seq, i, m->step, m->attempt), 0) == 0);
      // No step begins outside the member's maintenance window, the first or a later one.
      if (m->window) CHECK(window_status(strategy.maintenance_windows[*m->window].window, now).open);
      const Step& step = m->steps[m->step];
      if (step.kind == StepKind::kControlPlane) {
        REQUIRE(std::holds_alternative<protocol::UpgradeControlPlane>(c.payload));
        CHECK(std::get<protocol::UpgradeControlPlane>(c.payload).kubernetes_version == *step.kubernetes_version);
      } else if (!step.replacement.empty()) {
        REQUIRE(std::holds_alternative<protocol::BlueGreenNodePool>(c.payload));
        const auto& p = std::get<protocol::BlueGreenNodePool>(c.payload);
        CHECK(p.pool == step.pool);
        CHECK(p.new_pool == step.replacement);
        CHECK(m->swap != SwapStage::kSoak);  // the soak waits without a command
        if (p.phase == protocol::BlueGreenPhase::kReplace) {
          CHECK(p.kubernetes_version == step.kubernetes_version);
          CHECK(p.node_image_version == step.node_image);
        }
      } else {
        REQUIRE(std::holds_alternative<protocol::UpgradeNodePool>(c.payload));
        const auto& p = std::get<protocol::UpgradeNodePool>(c.payload);
        CHECK(p.pool == step.pool);
        CHECK(p.kubernetes_version == step.kubernetes_version);
        CHECK(p.node_image_version == step.node_image);
        CHECK(p.max_surge == st.spec.node_upgrade.max_surge);
        CHECK(p.max_unavailable == st.spec.node_upgrade.max_unavailable);
        CHECK(p.max_failed_nodes == st.spec.node_upgrade.max_failed_nodes);
        // Inside a window the agent stops between nodes at its end; without one it never stops.
        if (m->window) {
          const WindowStatus w = window_status(strategy.maintenance_windows[*m->window].window, now);
          CHECK(p.not_after == std::optional(w.changes_at));
        } else {
          CHECK_FALSE(p.not_after);
        }
      }
    }

    // No limit is ever exceeded.
    const Limits limits = limits_of(st);
    for (std::size_t s = 0; s < strategy.stages.size(); ++s) {
      int stage_count = 0;
      std::vector<int> group_count(strategy.stages[s].groups.size(), 0);
      for (const auto& m : st.members) {
        if (m.stage != s || !in_flight(m.phase)) continue;
        ++stage_count;
        ++group_count[m.group];
      }
      INFO("stage " << strategy.stages[s].name << ": " << stage_count << " in flight");
      if (limits.stage[s]) CHECK(stage_count <= *limits.stage[s]);
      for (std::size_t g = 0; g < group_count.size(); ++g) CHECK(group_count[g] <= limits.group[s][g]);
      max_in_flight[s] = std::max(max_in_flight[s], stage_count);
    }

    // Nothing starts before its run, its stage (earlier stages done) and its gates.
    const bool retried =
        std::any_of(st.members.begin(), st.members.end(), [](const MemberState& m) { return m.attempt > 1; });
    const auto refs = all_gates(strategy);
    std::map<std::size_t, std::vector<std::string>> started;
    for (std::size_t i = 0; i < st.members.size(); ++i) {
      const MemberState& m = st.members[i];
      if (!not_started(before.members[i].phase) || !in_flight(m.phase)) continue;
      INFO("member " << m.cluster << " started");
      started[m.stage].push_back(m.cluster);
      // Never outside its maintenance window.
      if (m.window) {
        REQUIRE(*m.window < strategy.maintenance_windows.size());
        CHECK(window_status(strategy.maintenance_windows[*m.window].window, now).open);
      }
      CHECK(st.phase == RunPhase::kRunning);
      CHECK(st.stages[m.stage].phase == StagePhase::kRunning);
      CHECK(st.stages[m.stage].groups[m.group].phase == StagePhase::kRunning);
      if (!retried) {
        for (std::size_t e = 0; e < m.stage; ++e) CHECK(is_final(st.stages[e].phase));
      }
      for (std::size_t k = 0; k < refs.size(); ++k) {
        const GateRef* ref = &refs[k];
        if (ref->stage != m.stage || !ref->before || (ref->group && *ref->group != m.group)) continue;
        INFO("gate " << st.gates[k].name);
        CHECK((st.gates[k].phase == GatePhase::kPassed || st.gates[k].phase == GatePhase::kSkipped));
      }
    }
    // The start order, per decision (started in the order the events list them).
    for (auto& [s, names] : started) {
      std::vector<std::string> ordered;
      for (const auto& e : d.events) {
        if (e.scope == "member" && (e.from == "Pending" || e.from == "WaitingForWindow") && e.to == "Upgrading" &&
            std::find(names.begin(), names.end(), e.name) != names.end()) {
          ordered.push_back(e.name);
        }
      }
      starts[s].push_back(ordered);
    }
  }

  Decision advance_at(TimePoint t) {
    now = t;
    const RunState before = st;
    const Observations seen = obs;
    RunState twin = reload(before);
    Decision d = advance(st, obs, now);
    check(before, d);

    // A restarted executor, from the stored rows, decides exactly the same.
    Decision d2 = advance(twin, seen, now);
    CHECK(twin == st);
    CHECK(ids_of(d2) == ids_of(d));
    CHECK(d2.events == d.events);
    // Written, then a crash before the agent saw the commands: the same ids again, and no transition twice.
    RunState stored = reload(st);
    CHECK(stored == st);
    Decision again = advance(stored, seen, now);
    CHECK(again.events.empty());
    CHECK(ids_of(again) == ids_of(d));

    for (const auto& c : d.commands) {
      obs.commands.emplace(c.id, CommandObservation{});
      issued.push_back(c.id);
      cluster_of[c.id] = c.cluster;
    }
    events.insert(events.end(), d.events.begin(), d.events.end());
    return d;
  }
  Decision tick(std::chrono::seconds dt = 1s) { return advance_at(now + dt); }

  Result<Decision> act(Action a) {
    const RunState before = st;
    auto r = apply_action(st, a, now);
    if (r) {
      check(before, *r);
      events.insert(events.end(), r->events.begin(), r->events.end());
    } else {
      CHECK(st == before);  // a refusal changes nothing
    }
    return r;
  }
  Decision ok(Action a) {
    auto r = act(a);
    if (!r) FAIL(to_string(a.kind) << " refused: " << r.error().message);
    return std::move(r).value();
  }
  void refused(Action a, ErrorCode code) {
    auto r = act(a);
    INFO(to_string(a.kind) << " " << a.target);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == code);
  }

  // The agent finishes every running command it is not told to hold.
  void finish() {
    for (auto& [id, c] : obs.commands) {
      if (c.final || holding.count(cluster_of[id]) > 0) continue;
      c.final = true;
      c.succeeded = failing.count(cluster_of[id]) == 0;
      c.message = c.succeeded ? "" : "node aks-1 failed its GPU probe";
    }
  }
  bool agent_busy() const {
    for (const auto& [id, c] : obs.commands) {
      if (!c.final && holding.count(cluster_of.at(id)) == 0) return true;
    }
    return false;
  }

  // Ticks (finishing commands after each decision, sleeping until wake_at when idle) until the run is final or
  // waits on an operator, or `until` holds.
  template <typename Pred>
  void drive_until(Pred until, int max_ticks = 3000) {
    for (int i = 0; i < max_ticks; ++i) {
      if (until()) return;
      const Decision d = tick();
      if (until()) return;
      const bool busy = agent_busy();
      finish();
      if (d.events.empty() && d.commands.empty() && !busy) {
        if (d.wake_at && *d.wake_at > now) {
          now = *d.wake_at - 1s;
          continue;
        }
        return;  // stuck: waiting on an operator
      }
    }
    FAIL("the run did not settle");
  }
  void drive() {
    drive_until([&] { return is_final(st.phase); });
  }

  std::vector<std::string> member_events(const std::string& cluster) const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.scope == "member" && e.name == cluster) out.push_back(e.from + ">" + e.to);
    }
    return out;
  }
};

Action start() {
  return Action{ActionKind::kStart, SkipTarget::kMember, "", "alice", ""};
}
Action simple(ActionKind kind) {
  return Action{kind, SkipTarget::kMember, "", "alice", ""};
}
Action skip(SkipTarget what, const std::string& target) {
  return Action{ActionKind::kSkip, what, target, "alice", "testing"};
}
Action approve(const std::string& gate) {
  return Action{ActionKind::kApprove, SkipTarget::kMember, gate, "bob", ""};
}

Gate wait_gate(const std::string& name, Seconds d) {
  Gate g = gate(name, GateType::kWait);
  g.duration = d;
  return g;
}

// canary (limit 1), then waves: wave1 at 50%, wave2 one at a time, at most 3 across the stage.
RunSpec two_stage_spec() {
  Strategy s;
  s.stages.push_back(stage("canary", {group("canary", Budget{1, false})}));
  s.stages.push_back(
      stage("waves", {group("wave1", Budget{50, true}), group("wave2", Budget{1, false})}, Budget{3, false}));
  RunSpec spec = full_spec("1.32.7", s);
  spec.node_upgrade.max_surge = protocol::NodeBudget{2, false};
  spec.node_upgrade.max_failed_nodes = 1;
  return spec;
}
std::vector<ClusterFacts> two_stage_fleet() {
  return fleet_of("canary", 2, "k") + fleet_of("wave1", 4, "a") + fleet_of("wave2", 3, "b");
}

TEST_CASE("run: command ids and the initial state", "[rollout][run]") {
  CHECK(command_id(7, 2, 1, 1) == "ro.7.2.1.1");
  CHECK(command_id(123, 0, 0, 3) == "ro.123.0.0.3");
  ClusterFacts done = cluster("done", "wave1", "1.32.7");
  done.pools = {pool("system", "1.32.7", 3, kImageJan)};
  Harness h(full_spec("1.32.7", stages_of({"wave1"})), {cluster("c1", "wave1", "1.32.3"), done});
  CHECK(h.st.phase == RunPhase::kPending);
  CHECK(h.member("c1").phase == MemberPhase::kPending);
  CHECK(h.member("c1").steps == h.plan.members[0].steps);
  CHECK(h.member("c1").attempt == 1);
  CHECK(h.member("done").phase == MemberPhase::kSkipped);
  CHECK(h.member("done").skip_reason == "AlreadyAtTarget");
  CHECK(reload(h.st) == h.st);
}

TEST_CASE("run: nothing happens before :start", "[rollout][run]") {
  RunSpec spec = two_stage_spec();
  spec.strategy.stages[1].before_gates.push_back(gate("go", GateType::kApproval));
  Harness h(spec, two_stage_fleet());
  for (int i = 0; i < 3; ++i) {
    const Decision d = h.tick(1h);
    CHECK(d.events.empty());
    CHECK(d.commands.empty());
    CHECK_FALSE(d.wake_at);
    CHECK_FALSE(d.run_changed);
  }
  h.refused(simple(ActionKind::kPause), ErrorCode::kConflict);
  h.refused(simple(ActionKind::kResume), ErrorCode::kConflict);
  h.refused(simple(ActionKind::kRetry), ErrorCode::kConflict);
  h.refused(approve("go"), ErrorCode::kConflict);  // Closed
  h.refused(approve("nope"), ErrorCode::kNotFound);
  const Decision d = h.ok(start());
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].scope == "run");
  CHECK(d.events[0].from == "Pending");
  CHECK(d.events[0].to == "Running");
  CHECK(h.st.started_at == h.now);
  h.refused(start(), ErrorCode::kConflict);
  CHECK_FALSE(h.tick().commands.empty());
}

TEST_CASE("run: stages in order, limits per stage and group, the plan's batches, Completed", "[rollout][run]") {
  Harness h(two_stage_spec(), two_stage_fleet());
  h.ok(start());
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.st.finished_at == h.now);
  std::size_t steps = 0;
  for (const auto& m : h.st.members) {
    CHECK(m.phase == MemberPhase::kSucceeded);
    CHECK(m.step == m.steps.size());
    CHECK(m.started_at);
    CHECK(m.finished_at);
    steps += m.steps.size();
  }
  // Every step issued exactly once.
  CHECK(h.issued.size() == steps);
  CHECK(std::set<std::string>(h.issued.begin(), h.issued.end()).size() == steps);
  // The limits were reached, never exceeded (checked after every decision).
  CHECK(h.max_in_flight[0] == 1);
  CHECK(h.max_in_flight[1] == 3);
  // Members started as the plan's batches say.
  CHECK(h.starts[0] == h.plan.stages[0].batches);
  CHECK(h.starts[1] == h.plan.stages[1].batches);
  CHECK(h.plan.stages[1].batches.at(0) == std::vector<std::string>{"a0", "b0", "a1"});
  // Every transition an event.
  CHECK(h.member_events("a0") ==
        std::vector<std::string>{"Pending>Upgrading", "Upgrading>Upgrading", "Upgrading>Succeeded"});
  std::vector<std::string> stage_events;
  for (const auto& e : h.events) {
    if (e.scope == "stage" && e.name == "waves") stage_events.push_back(e.from + ">" + e.to);
  }
  CHECK(stage_events == std::vector<std::string>{"NotStarted>WaitingForGate", "WaitingForGate>Running",
                                                 "Running>Soaking", "Soaking>Completed"});
  CHECK(h.events.back().scope == "run");
  CHECK(h.events.back().to == "Completed");
  // Finished: more advances do nothing.
  const Decision d = h.tick();
  CHECK(d.events.empty());
  CHECK(d.commands.empty());
  const MemberCounts counts = count_members(h.st);
  CHECK(counts.succeeded == 9);
  CHECK(count_members(h.st, 0).succeeded == 2);
}

TEST_CASE("run: a probing member is in flight until its step ends", "[rollout][run]") {
  Harness h(full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false})), fleet_of("wave1", 2, "p"));
  h.ok(start());
  const Decision d = h.tick();
  REQUIRE(d.commands.size() == 1);
  h.obs.commands[d.commands[0].id].probing = true;
  h.tick();
  CHECK(h.member("p0").phase == MemberPhase::kProbing);
  CHECK(h.member("p1").phase == MemberPhase::kPending);
  h.refused(skip(SkipTarget::kMember, "p0"), ErrorCode::kConflict);
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
}

TEST_CASE("run: an Approval gate blocks until approved", "[rollout][run]") {
  RunSpec spec = two_stage_spec();
  spec.strategy.stages[0].after_gates.push_back(gate("sre-signoff", GateType::kApproval));
  spec.strategy.stages[1].groups[1].before_gates.push_back(gate("wave2-go", GateType::kApproval));
  spec.strategy.stages[1].before_gates.push_back(wait_gate("cool", 0s));
  Harness h(spec, two_stage_fleet());
  h.ok(start());
  h.drive();
  CHECK(h.st.phase == RunPhase::kRunning);
  CHECK(h.stage_phase(0) == StagePhase::kSoaking);
  CHECK(h.gate("sre-signoff").phase == GatePhase::kOpen);
  CHECK(h.gate("wave2-go").phase == GatePhase::kClosed);
  for (int i = 0; i < 5; ++i) {
    const Decision d = h.tick(1h);
    CHECK(d.commands.empty());
    CHECK(d.events.empty());
  }
  h.refused(approve("wave2-go"), ErrorCode::kConflict);  // Closed
  h.refused(approve("cool"), ErrorCode::kConflict);      // not an approval gate
  h.refused(approve("nope"), ErrorCode::kNotFound);
  const Decision d = h.ok(approve("sre-signoff"));
  CHECK(h.gate("sre-signoff").phase == GatePhase::kPassed);
  CHECK(h.gate("sre-signoff").approved_by == "bob");
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].scope == "gate");
  h.refused(approve("sre-signoff"), ErrorCode::kConflict);  // Passed
  // wave1 runs; wave2 waits for its own gate.
  h.drive();
  CHECK(h.stage_phase(0) == StagePhase::kCompleted);
  CHECK(h.gate("wave2-go").phase == GatePhase::kOpen);
  CHECK(h.st.stages[1].groups[0].phase == StagePhase::kCompleted);
  CHECK(h.st.stages[1].groups[1].phase == StagePhase::kWaitingForGate);
  for (const auto& name : {"b0", "b1", "b2"}) CHECK(h.member(name).phase == MemberPhase::kPending);
  h.ok(approve("wave2-go"));
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
}

TEST_CASE("run: a Wait gate passes at opened + duration, and wake_at says when", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  spec.strategy.stages[0].before_gates.push_back(wait_gate("cool-off", 600s));
  Harness h(spec, fleet_of("wave1", 2, "w"));
  h.ok(start());
  const TimePoint t0 = h.now + 1s;
  Decision d = h.tick();
  CHECK(h.gate("cool-off").phase == GatePhase::kOpen);
  CHECK(h.gate("cool-off").opened_at == t0);
  REQUIRE(d.wake_at);
  CHECK(*d.wake_at == t0 + 600s);
  d = h.advance_at(t0 + 599s);
  CHECK(d.commands.empty());
  CHECK(d.wake_at == t0 + 600s);
  d = h.advance_at(t0 + 600s);
  CHECK(h.gate("cool-off").phase == GatePhase::kPassed);
  CHECK(d.commands.size() == 2);
}

TEST_CASE("run: a Wait gate can be skipped", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  spec.strategy.stages[0].before_gates.push_back(wait_gate("cool-off", 600s));
  Harness h(spec, fleet_of("wave1", 2, "w"));
  h.ok(start());
  h.tick();
  h.ok(skip(SkipTarget::kGate, "cool-off"));
  CHECK(h.gate("cool-off").phase == GatePhase::kSkipped);
  CHECK(h.tick().commands.size() == 2);
  h.refused(skip(SkipTarget::kGate, "cool-off"), ErrorCode::kConflict);
  h.refused(skip(SkipTarget::kGate, "nope"), ErrorCode::kNotFound);
}

TEST_CASE("run: a ScheduledStart gate passes at notBefore", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  Gate g = gate("night", GateType::kScheduledStart);
  g.not_before = test_now() + 3600s;
  spec.strategy.stages[0].before_gates.push_back(g);
  Harness h(spec, fleet_of("wave1", 1, "n"));
  h.ok(start());
  Decision d = h.tick();
  CHECK(d.commands.empty());
  CHECK(d.wake_at == *g.not_before);
  d = h.advance_at(*g.not_before - 1s);
  CHECK(d.commands.empty());
  d = h.advance_at(*g.not_before);
  CHECK(h.gate("night").phase == GatePhase::kPassed);
  CHECK(d.commands.size() == 1);

  SECTION("in the past it passes at once") {
    RunSpec past = full_spec("1.32.7", stages_of({"wave1"}));
    Gate p = gate("past", GateType::kScheduledStart);
    p.not_before = test_now() - 3600s;
    past.strategy.stages[0].before_gates.push_back(p);
    Harness h2(past, fleet_of("wave1", 1, "n"));
    h2.ok(start());
    CHECK(h2.tick().commands.size() == 1);
  }
}

RunSpec health_spec() {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1", "wave2"}));
  Gate g = gate("gpus-healthy", GateType::kHealthCheck);
  g.soak = 300s;
  g.timeout = 1800s;
  g.min_admitted_gpu_ratio = 0.5;
  spec.strategy.stages[0].after_gates.push_back(g);
  return spec;
}
std::vector<ClusterFacts> health_fleet() {
  std::vector<ClusterFacts> cs = fleet_of("wave1", 2, "h") + fleet_of("wave2", 1, "z");
  for (auto& c : cs) c.pools.push_back(gpu_pool("gpu", "1.32.3", "570.124.06"));
  return cs;
}

TEST_CASE("run: a HealthCheck gate passes after its soak, and a break resets it", "[rollout][run]") {
  Harness h(health_spec(), health_fleet());
  h.ok(start());
  h.drive_until([&] { return h.gate("gpus-healthy").phase == GatePhase::kOpen; });
  const TimePoint t0 = *h.gate("gpus-healthy").opened_at;
  CHECK(h.gate("gpus-healthy").healthy_since == t0);
  CHECK(h.stage_phase(0) == StagePhase::kSoaking);
  Decision d = h.advance_at(t0 + 100s);
  CHECK(h.gate("gpus-healthy").phase == GatePhase::kOpen);
  REQUIRE(d.wake_at);
  CHECK(*d.wake_at <= t0 + 300s);
  // Half the GPU nodes admitted is enough for a 0.5 bound.
  h.obs.clusters["h0"].admitted_gpu_nodes = 1;
  h.advance_at(t0 + 120s);
  CHECK(h.gate("gpus-healthy").healthy_since == t0);
  // A break: unreachable.
  h.obs.clusters["h0"].state = "unreachable";
  h.advance_at(t0 + 150s);
  CHECK_FALSE(h.gate("gpus-healthy").healthy_since);
  CHECK_THAT(h.gate("gpus-healthy").message, Catch::Contains("h0 is unreachable"));
  h.obs.clusters["h0"].state = "ready";
  h.advance_at(t0 + 200s);
  CHECK(h.gate("gpus-healthy").healthy_since == t0 + 200s);
  d = h.advance_at(t0 + 499s);
  CHECK(h.gate("gpus-healthy").phase == GatePhase::kOpen);
  CHECK(h.stage_phase(1) == StagePhase::kNotStarted);
  d = h.advance_at(t0 + 500s);
  CHECK(h.gate("gpus-healthy").phase == GatePhase::kPassed);
  CHECK(h.stage_phase(0) == StagePhase::kCompleted);
  CHECK(d.commands.size() == 1);  // the next stage starts
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
}

TEST_CASE("run: a HealthCheck gate fails at its timeout and pauses the run, resume re-opens it", "[rollout][run]") {
  Harness h(health_spec(), health_fleet());
  h.ok(start());
  h.obs.clusters["h1"].admitted_gpu_nodes = 0;  // 0 of 2: below 0.5
  h.drive_until([&] { return h.gate("gpus-healthy").phase == GatePhase::kOpen; });
  const TimePoint t0 = *h.gate("gpus-healthy").opened_at;
  h.advance_at(t0 + 1799s);
  CHECK(h.gate("gpus-healthy").phase == GatePhase::kOpen);
  CHECK_THAT(h.gate("gpus-healthy").message, Catch::Contains("0 of 2 GPU nodes admitted"));
  h.advance_at(t0 + 1800s);
  CHECK(h.gate("gpus-healthy").phase == GatePhase::kFailed);
  CHECK(h.st.phase == RunPhase::kPaused);
  CHECK_THAT(h.st.message, Catch::Contains("gpus-healthy"));
  Decision d = h.advance_at(t0 + 3000s);
  CHECK(d.events.empty());
  CHECK(d.commands.empty());
  CHECK(h.stage_phase(1) == StagePhase::kNotStarted);

  SECTION("resume re-opens it with a fresh clock") {
    h.ok(simple(ActionKind::kResume));
    CHECK(h.st.phase == RunPhase::kRunning);
    CHECK(h.gate("gpus-healthy").phase == GatePhase::kOpen);
    CHECK(h.gate("gpus-healthy").opened_at == t0 + 3000s);
    h.obs.clusters["h1"].admitted_gpu_nodes = 2;
    h.advance_at(t0 + 3001s);
    CHECK(h.gate("gpus-healthy").healthy_since == t0 + 3001s);
    h.advance_at(t0 + 3301s);
    CHECK(h.gate("gpus-healthy").phase == GatePhase::kPassed);
    h.drive();
    CHECK(h.st.phase == RunPhase::kCompleted);
  }
  SECTION("or skip the failed gate, then resume") {
    h.ok(skip(SkipTarget::kGate, "gpus-healthy"));
    CHECK(h.gate("gpus-healthy").phase == GatePhase::kSkipped);
    CHECK(h.st.phase == RunPhase::kPaused);
    h.ok(simple(ActionKind::kResume));
    h.drive();
    CHECK(h.st.phase == RunPhase::kCompleted);
  }
}

TEST_CASE("run: afterStageWait holds the next stage, skipping the wait ends it", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1", "wave2"}));
  spec.strategy.stages[0].after_stage_wait = 600s;
  spec.strategy.stages[1].after_stage_wait = 600s;
  Harness h(spec, fleet_of("wave1", 2, "s") + fleet_of("wave2", 1, "t"));
  h.refused(skip(SkipTarget::kWait, "nope"), ErrorCode::kNotFound);
  h.ok(start());
  h.drive_until([&] { return h.stage_phase(0) == StagePhase::kSoaking; });
  const TimePoint until = *h.st.stages[0].soak_until;
  CHECK(until == h.now + 600s);

  SECTION("the wait passes by itself") {
    Decision d = h.advance_at(until - 1s);
    CHECK(d.wake_at == until);
    CHECK(h.stage_phase(1) == StagePhase::kNotStarted);
    d = h.advance_at(until);
    CHECK(h.stage_phase(0) == StagePhase::kCompleted);
    CHECK(d.commands.size() == 1);
  }
  SECTION("skip wait") {
    h.ok(skip(SkipTarget::kWait, "wave1"));
    h.tick();
    CHECK(h.stage_phase(0) == StagePhase::kCompleted);
    CHECK(h.stage_phase(1) == StagePhase::kRunning);
    h.drive();
    CHECK(h.st.phase == RunPhase::kCompleted);
    h.refused(skip(SkipTarget::kWait, "wave1"), ErrorCode::kConflict);  // the stage is final
  }
  SECTION("skip wait on a stage not yet soaking: it passes as soon as it gets there") {
    h.ok(skip(SkipTarget::kWait, "wave2"));
    h.advance_at(until);
    h.drive();
    CHECK(h.st.phase == RunPhase::kCompleted);
    CHECK(h.now < until + 60s);
  }
}

TEST_CASE("run: the default failure policy pauses on the first failure, resume acknowledges", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false}));
  Harness h(spec, fleet_of("wave1", 4, "f"));
  h.failing = {"f1"};
  h.ok(start());
  h.drive();
  CHECK(h.st.phase == RunPhase::kPaused);
  CHECK(h.member("f0").phase == MemberPhase::kSucceeded);
  CHECK(h.member("f1").phase == MemberPhase::kFailed);
  CHECK_THAT(h.member("f1").message, Catch::Contains("GPU probe"));
  CHECK(h.member("f2").phase == MemberPhase::kPending);
  CHECK_THAT(h.st.message, Catch::Contains("maxFailures"));
  const std::size_t issued = h.issued.size();
  for (int i = 0; i < 3; ++i) CHECK(h.tick(1h).commands.empty());
  CHECK(h.issued.size() == issued);
  h.refused(simple(ActionKind::kPause), ErrorCode::kConflict);

  h.ok(simple(ActionKind::kResume));
  CHECK(h.st.acknowledged_failures == 1);
  CHECK(h.st.stages[0].acknowledged_failures == 1);
  CHECK(h.st.stages[0].groups[0].acknowledged_failures == 1);
  h.drive();
  CHECK(h.st.phase == RunPhase::kFailed);
  CHECK(h.stage_phase(0) == StagePhase::kFailed);
  CHECK(h.st.stages[0].groups[0].phase == StagePhase::kFailed);
  CHECK(h.member("f3").phase == MemberPhase::kSucceeded);
  CHECK_THAT(h.st.message, Catch::Contains("1 member failed"));
}

TEST_CASE("run: a percent failure limit pauses only past it", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false}));
  spec.strategy.failure_policy = FailurePolicy{Budget{0, false}, OnFailure::kContinue};
  spec.strategy.stages[0].failure_policy = FailurePolicy{Budget{40, true}, OnFailure::kPause};  // 2 of 5
  Harness h(spec, fleet_of("wave1", 5, "f"));
  h.failing = {"f0", "f1", "f2"};
  h.ok(start());
  h.drive_until([&] { return h.member("f1").phase == MemberPhase::kFailed; });
  h.tick();
  CHECK(h.st.phase == RunPhase::kRunning);
  h.drive();
  CHECK(h.st.phase == RunPhase::kPaused);
  CHECK(count_members(h.st).failed == 3);
  CHECK(h.member("f3").phase == MemberPhase::kPending);
}

TEST_CASE("run: Continue records failures and goes on", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1", "wave2"}, Budget{1, false}));
  spec.strategy.failure_policy = FailurePolicy{Budget{0, false}, OnFailure::kContinue};
  Harness h(spec, fleet_of("wave1", 3, "f") + fleet_of("wave2", 2, "g"));
  h.failing = {"f0", "f2", "g1"};
  h.ok(start());
  h.drive();
  CHECK(h.st.phase == RunPhase::kFailed);
  CHECK(h.stage_phase(0) == StagePhase::kFailed);
  CHECK(h.stage_phase(1) == StagePhase::kFailed);
  CHECK(count_members(h.st).failed == 3);
  CHECK(count_members(h.st).succeeded == 2);
}

TEST_CASE("run: skip a member from every phase", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false}));
  ClusterFacts done = cluster("done", "wave1", "1.32.7");
  done.pools = {pool("system", "1.32.7", 3, kImageJan)};
  Harness h(spec, fleet_of("wave1", 5, "m") + std::vector<ClusterFacts>{done});
  h.failing = {"m1"};

  h.ok(skip(SkipTarget::kMember, "m4"));  // the run is Pending
  CHECK(h.member("m4").phase == MemberPhase::kSkipped);
  CHECK(h.member("m4").skip_reason == "Operator");
  h.refused(skip(SkipTarget::kMember, "m4"), ErrorCode::kConflict);    // Skipped
  h.refused(skip(SkipTarget::kMember, "done"), ErrorCode::kConflict);  // Skipped by the plan
  h.refused(skip(SkipTarget::kMember, "nope"), ErrorCode::kNotFound);
  h.ok(start());
  h.tick();
  CHECK(h.member("m0").phase == MemberPhase::kUpgrading);
  auto r = h.act(skip(SkipTarget::kMember, "m0"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kConflict);
  CHECK_THAT(r.error().message, Catch::Contains("running"));
  h.drive();  // m0 succeeds, m1 fails and pauses the run
  CHECK(h.st.phase == RunPhase::kPaused);
  h.refused(skip(SkipTarget::kMember, "m0"), ErrorCode::kConflict);  // Succeeded
  h.refused(skip(SkipTarget::kMember, "m1"), ErrorCode::kConflict);  // Failed
  h.ok(skip(SkipTarget::kMember, "m2"));                             // Pending, run Paused
  h.ok(simple(ActionKind::kResume));
  h.drive();
  CHECK(h.st.phase == RunPhase::kFailed);
  CHECK(h.member("m2").phase == MemberPhase::kSkipped);
  CHECK(h.member("m3").phase == MemberPhase::kSucceeded);
  // No command ever went to a skipped member.
  for (const auto& [id, cluster] : h.cluster_of) CHECK((cluster != "m2" && cluster != "m4"));
}

TEST_CASE("run: skip a group from every phase", "[rollout][run]") {
  Strategy s;
  s.stages.push_back(stage("one", {group("g1", Budget{1, false}), group("g2"), group("g3")}));
  s.stages[0].groups[1].before_gates.push_back(gate("g2-go", GateType::kApproval));
  s.stages.push_back(stage("two", {group("g4")}));
  Harness h(full_spec("1.32.7", s),
            fleet_of("g1", 3, "a") + fleet_of("g2", 2, "b") + fleet_of("g3", 1, "c") + fleet_of("g4", 2, "d"));
  h.ok(skip(SkipTarget::kGroup, "two/g4"));  // NotStarted, run Pending
  h.ok(start());
  h.tick();
  CHECK(h.st.stages[0].groups[0].phase == StagePhase::kRunning);
  CHECK(h.st.stages[0].groups[1].phase == StagePhase::kWaitingForGate);
  h.ok(skip(SkipTarget::kGroup, "one/g2"));  // WaitingForGate
  CHECK(h.gate("g2-go").phase == GatePhase::kSkipped);
  h.ok(skip(SkipTarget::kGroup, "one/g1"));  // Running, a0 in flight
  CHECK(h.member("a0").phase == MemberPhase::kUpgrading);
  CHECK(h.member("a1").phase == MemberPhase::kSkipped);
  h.refused(skip(SkipTarget::kGroup, "one"), ErrorCode::kNotFound);
  h.refused(skip(SkipTarget::kGroup, "one/nope"), ErrorCode::kNotFound);
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.member("a0").phase == MemberPhase::kSucceeded);
  CHECK(h.st.stages[0].groups[0].phase == StagePhase::kCompleted);
  CHECK(h.st.stages[0].groups[1].phase == StagePhase::kSkipped);
  CHECK(h.st.stages[0].groups[2].phase == StagePhase::kCompleted);
  CHECK(h.st.stages[1].groups[0].phase == StagePhase::kSkipped);
  CHECK(h.stage_phase(1) == StagePhase::kSkipped);
  h.refused(skip(SkipTarget::kGroup, "one/g3"), ErrorCode::kConflict);  // Completed, and so is the run
}

TEST_CASE("run: skip a stage from every phase", "[rollout][run]") {
  Strategy s = stages_of({"s0", "s1", "s2", "s3"}, Budget{1, false});
  s.stages[2].before_gates.push_back(gate("s2-go", GateType::kApproval));
  s.stages[3].after_gates.push_back(gate("s3-done", GateType::kApproval));
  Harness h(full_spec("1.32.7", s),
            fleet_of("s0", 2, "a") + fleet_of("s1", 2, "b") + fleet_of("s2", 2, "c") + fleet_of("s3", 1, "d"));
  h.ok(start());
  h.tick();
  h.ok(skip(SkipTarget::kStage, "s1"));  // NotStarted
  CHECK(h.member("b0").phase == MemberPhase::kSkipped);
  CHECK(h.member("b0").skip_reason == "Operator");
  h.ok(skip(SkipTarget::kStage, "s0"));  // Running, a0 in flight
  CHECK(h.member("a0").phase == MemberPhase::kUpgrading);
  CHECK(h.member("a1").phase == MemberPhase::kSkipped);
  h.drive_until(
      [&] { return h.stage_phase(2) == StagePhase::kWaitingForGate && h.gate("s2-go").phase == GatePhase::kOpen; });
  CHECK(h.stage_phase(0) == StagePhase::kCompleted);
  CHECK(h.stage_phase(1) == StagePhase::kSkipped);
  h.ok(skip(SkipTarget::kStage, "s2"));  // WaitingForGate
  CHECK(h.gate("s2-go").phase == GatePhase::kSkipped);
  h.drive_until(
      [&] { return h.stage_phase(3) == StagePhase::kSoaking && h.gate("s3-done").phase == GatePhase::kOpen; });
  CHECK(h.stage_phase(2) == StagePhase::kSkipped);
  CHECK(h.member("d0").phase == MemberPhase::kSucceeded);
  h.refused(skip(SkipTarget::kStage, "s0"), ErrorCode::kConflict);  // Completed
  h.refused(skip(SkipTarget::kStage, "nope"), ErrorCode::kNotFound);
  h.ok(skip(SkipTarget::kStage, "s3"));  // Soaking
  CHECK(h.gate("s3-done").phase == GatePhase::kSkipped);
  h.drive();
  CHECK(h.stage_phase(3) == StagePhase::kCompleted);
  CHECK(h.st.phase == RunPhase::kCompleted);
  h.refused(skip(SkipTarget::kStage, "s3"), ErrorCode::kConflict);
}

TEST_CASE("run: a skipped stage does not hold the next one for its afterStageWait", "[rollout][run]") {
  Strategy s = stages_of({"s0", "s1"}, Budget{1, false});
  s.stages[0].after_stage_wait = 3600s;
  Harness h(full_spec("1.32.7", s), fleet_of("s0", 2, "a") + fleet_of("s1", 1, "b"));
  h.ok(start());
  h.tick();
  h.ok(skip(SkipTarget::kStage, "s0"));  // a0 in flight, a1 skipped
  const TimePoint skipped_at = h.now;
  h.drive_until([&] { return h.member("b0").phase != MemberPhase::kPending; });
  CHECK(h.stage_phase(0) == StagePhase::kCompleted);
  CHECK(h.member("b0").phase == MemberPhase::kUpgrading);
  CHECK(h.now - skipped_at < 60s);  // not after the hour of afterStageWait
}

TEST_CASE("run: skip a gate from every phase", "[rollout][run]") {
  Strategy s = stages_of({"s0", "s1"});
  s.stages[0].before_gates.push_back(gate("open-one", GateType::kApproval));
  s.stages[1].before_gates.push_back(gate("closed-one", GateType::kApproval));
  Harness h(full_spec("1.32.7", s), fleet_of("s0", 1, "a") + fleet_of("s1", 1, "b"));
  h.ok(skip(SkipTarget::kGate, "closed-one"));  // Closed, run Pending
  h.ok(start());
  h.tick();
  CHECK(h.gate("open-one").phase == GatePhase::kOpen);
  h.ok(simple(ActionKind::kPause));
  h.ok(skip(SkipTarget::kGate, "open-one"));  // Open, run Paused
  CHECK(h.tick().commands.empty());           // paused: nothing starts
  h.ok(simple(ActionKind::kResume));
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  h.refused(skip(SkipTarget::kGate, "open-one"), ErrorCode::kConflict);
}

TEST_CASE("run: pause stops new work, in-flight steps go on", "[rollout][run]") {
  Harness h(full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false})), fleet_of("wave1", 2, "p"));
  h.ok(start());
  h.tick();
  h.ok(simple(ActionKind::kPause));
  h.refused(simple(ActionKind::kPause), ErrorCode::kConflict);
  h.drive_until([&] { return h.member("p0").phase == MemberPhase::kSucceeded; });
  CHECK(h.member("p1").phase == MemberPhase::kPending);
  CHECK(h.tick(1h).commands.empty());
  h.ok(simple(ActionKind::kResume));
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
}

TEST_CASE("run: abort from Pending, Running and Paused, refused once final", "[rollout][run]") {
  SECTION("Pending") {
    Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 2, "x"));
    h.ok(simple(ActionKind::kAbort));
    CHECK(h.st.phase == RunPhase::kAborted);
    CHECK(h.st.finished_at == h.now);
    for (const auto& m : h.st.members) {
      CHECK(m.phase == MemberPhase::kSkipped);
      CHECK(m.skip_reason == "Aborted");
    }
    CHECK(h.tick().events.empty());
    h.refused(simple(ActionKind::kAbort), ErrorCode::kConflict);
    h.refused(simple(ActionKind::kRetry), ErrorCode::kConflict);
    h.refused(simple(ActionKind::kResume), ErrorCode::kConflict);
    h.refused(start(), ErrorCode::kConflict);
    h.refused(skip(SkipTarget::kMember, "x0"), ErrorCode::kConflict);
  }
  SECTION("Running: pending members skipped, in-flight ones finish their step then stop") {
    // a0 has two steps, b0 one (a node image only), w0-w1 wait their turn.
    ClusterFacts one = cluster("b0", "wave1", "1.32.7");
    one.pools = {pool("system", "1.32.7", 3, kImageDec)};
    Strategy s;
    s.stages.push_back(stage("wave1", {group("wave1", Budget{2, false})}));
    Harness h(full_spec("1.32.7", s),
              fleet_of("wave1", 1, "a") + std::vector<ClusterFacts>{one} + fleet_of("wave1", 2, "w"));
    REQUIRE(h.member("b0").steps.size() == 1);
    h.ok(start());
    h.tick();
    CHECK(h.member("a0").phase == MemberPhase::kUpgrading);
    CHECK(h.member("b0").phase == MemberPhase::kUpgrading);
    h.ok(simple(ActionKind::kAbort));
    CHECK(h.st.phase == RunPhase::kAborted);
    CHECK(h.member("w0").phase == MemberPhase::kSkipped);
    CHECK(h.member("a0").phase == MemberPhase::kUpgrading);
    h.finish();
    const Decision d = h.tick();
    CHECK(d.commands.empty());
    CHECK(h.member("a0").phase == MemberPhase::kSkipped);
    CHECK(h.member("a0").skip_reason == "Aborted");
    CHECK(h.member("a0").step == 1);
    CHECK(h.member("b0").phase == MemberPhase::kSucceeded);
    CHECK(h.st.phase == RunPhase::kAborted);
    CHECK(h.tick().events.empty());
    h.refused(simple(ActionKind::kAbort), ErrorCode::kConflict);
  }
  SECTION("Paused") {
    Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 2, "x"));
    h.ok(start());
    h.ok(simple(ActionKind::kPause));
    h.ok(simple(ActionKind::kAbort));
    CHECK(h.st.phase == RunPhase::kAborted);
  }
  SECTION("Completed and Failed") {
    Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 1, "x"));
    h.ok(start());
    h.drive();
    REQUIRE(h.st.phase == RunPhase::kCompleted);
    h.refused(simple(ActionKind::kAbort), ErrorCode::kConflict);
    RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
    spec.strategy.failure_policy.on_failure = OnFailure::kContinue;
    Harness f(spec, fleet_of("wave1", 1, "x"));
    f.failing = {"x0"};
    f.ok(start());
    f.drive();
    REQUIRE(f.st.phase == RunPhase::kFailed);
    f.refused(simple(ActionKind::kAbort), ErrorCode::kConflict);
  }
}

TEST_CASE("run: retry re-runs failed members with the same steps, attempt + 1", "[rollout][run]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false}));
  spec.strategy.failure_policy.on_failure = OnFailure::kContinue;
  Harness h(spec, fleet_of("wave1", 3, "r"));
  h.ok(start());
  h.refused(simple(ActionKind::kRetry), ErrorCode::kConflict);  // nothing failed yet
  // r1 fails its second step.
  h.drive_until([&] { return h.member("r1").phase == MemberPhase::kUpgrading && h.member("r1").step == 1; });
  h.failing = {"r1"};
  h.drive();
  h.failing.clear();
  CHECK(h.st.phase == RunPhase::kFailed);
  const MemberState failed = h.member("r1");
  CHECK(failed.phase == MemberPhase::kFailed);
  CHECK(failed.step == 1);
  const std::string old_id = command_id(kSeq, h.index_of("r1"), 1, 1);
  CHECK(h.obs.commands.at(old_id).final);

  const Decision d = h.ok(simple(ActionKind::kRetry));
  CHECK(h.st.phase == RunPhase::kRunning);
  CHECK_FALSE(h.st.finished_at);
  CHECK(h.member("r1").phase == MemberPhase::kPending);
  CHECK(h.member("r1").attempt == 2);
  CHECK(h.member("r1").steps == failed.steps);
  CHECK(h.member("r1").skip_reason.empty());
  CHECK(h.stage_phase(0) == StagePhase::kRunning);
  CHECK(std::any_of(d.events.begin(), d.events.end(), [](const Event& e) { return e.scope == "member"; }));
  const std::size_t before = h.issued.size();
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.member("r1").phase == MemberPhase::kSucceeded);
  // The retried step's id differs only in the attempt.
  REQUIRE(h.issued.size() == before + 1);
  CHECK(h.issued.back() == command_id(kSeq, h.index_of("r1"), 1, 2));
  CHECK(old_id.substr(0, old_id.rfind('.')) == h.issued.back().substr(0, h.issued.back().rfind('.')));
  h.refused(simple(ActionKind::kRetry), ErrorCode::kConflict);  // nothing left
}

TEST_CASE("run: retry from Paused, and of members skipped at run time", "[rollout][run]") {
  SECTION("Paused by the failure policy") {
    Harness h(full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false})), fleet_of("wave1", 2, "r"));
    h.failing = {"r0"};
    h.ok(start());
    h.drive();
    REQUIRE(h.st.phase == RunPhase::kPaused);
    h.failing.clear();
    h.ok(simple(ActionKind::kRetry));
    CHECK(h.st.phase == RunPhase::kRunning);
    CHECK(h.st.acknowledged_failures == 0);
    h.drive();
    CHECK(h.st.phase == RunPhase::kCompleted);
    CHECK(h.member("r0").attempt == 2);
  }
  SECTION("unreachable at its turn, reachable later") {
    ClusterFacts done = cluster("done", "wave1", "1.32.7");
    done.pools = {pool("system", "1.32.7", 3, kImageJan)};
    Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 2, "u") + std::vector<ClusterFacts>{done});
    h.obs.clusters["u1"].state = "unreachable";
    h.ok(start());
    h.drive();
    CHECK(h.st.phase == RunPhase::kCompleted);
    CHECK(h.member("u1").phase == MemberPhase::kSkipped);
    CHECK(h.member("u1").skip_reason == "Unreachable");
    h.obs.clusters["u1"].state = "ready";
    h.ok(simple(ActionKind::kRetry));
    CHECK(h.member("u1").phase == MemberPhase::kPending);
    CHECK(h.member("u1").attempt == 2);
    CHECK(h.member("done").phase == MemberPhase::kSkipped);  // the plan's skips are not retried
    h.drive();
    CHECK(h.st.phase == RunPhase::kCompleted);
    CHECK(h.member("u1").phase == MemberPhase::kSucceeded);
    CHECK(h.issued.back() == command_id(kSeq, h.index_of("u1"), 1, 2));
  }
  SECTION("refused when Aborted") {
    Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 1, "r"));
    h.ok(start());
    h.ok(simple(ActionKind::kAbort));
    h.refused(simple(ActionKind::kRetry), ErrorCode::kConflict);
  }
}

TEST_CASE("run: frozen membership", "[rollout][run]") {
  Harness h(full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false})), fleet_of("wave1", 6, "m"));
  // A cluster that joined the group after the run was created.
  h.obs.clusters["intruder"] = ClusterObservation{true, "id-intruder", "ready", 0, 0};
  h.obs.clusters.erase("m1");                   // deleted
  h.obs.clusters["m2"].id = "id-m2-recreated";  // deleted and recreated under the same name
  h.obs.clusters["m3"].state = "unreachable";
  h.obs.clusters["m4"].state = "deleting";
  h.ok(start());
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.st.members.size() == 6);
  CHECK(h.member("m0").phase == MemberPhase::kSucceeded);
  CHECK(h.member("m5").phase == MemberPhase::kSucceeded);
  for (const auto& name : {"m1", "m2", "m3", "m4"}) {
    INFO(name);
    CHECK(h.member(name).phase == MemberPhase::kSkipped);
    CHECK_FALSE(h.member(name).message.empty());
  }
  CHECK(h.member("m1").skip_reason == "ClusterDeleted");
  CHECK(h.member("m2").skip_reason == "ClusterDeleted");
  CHECK(h.member("m3").skip_reason == "Unreachable");
  CHECK(h.member("m4").skip_reason == "ClusterDeleted");
  CHECK(count_members(h.st).failed == 0);
  for (const auto& [id, cluster] : h.cluster_of) {
    CHECK(cluster != "intruder");
    CHECK(cluster != "m1");
    CHECK(cluster != "m2");
  }

  SECTION("a cluster gone while its member is in flight is skipped, not failed") {
    Harness g(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 2, "g"));
    g.ok(start());
    const Decision d = g.tick();
    REQUIRE(d.commands.size() == 2);
    g.obs.clusters.erase("g0");
    g.obs.commands.erase(command_id(kSeq, g.index_of("g0"), 0, 1));  // its queue went with it
    g.tick();
    CHECK(g.member("g0").phase == MemberPhase::kSkipped);
    CHECK(g.member("g0").skip_reason == "ClusterDeleted");
    g.drive();
    CHECK(g.st.phase == RunPhase::kCompleted);
  }
}

TEST_CASE("run: a restarted executor issues the same command ids and repeats no transition", "[rollout][run]") {
  RunSpec spec = two_stage_spec();
  spec.strategy.stages[0].after_gates.push_back(wait_gate("settle", 60s));
  Harness h(spec, two_stage_fleet());
  h.ok(start());
  const Decision first = h.tick();
  REQUIRE(first.commands.size() == 1);
  // The executor wrote the decision and crashed before the agent saw the command.
  RunState restarted = reload(h.st);
  Observations without = h.obs;
  without.commands.erase(first.commands[0].id);
  const Decision again = advance(restarted, without, h.now);
  CHECK(again.events.empty());
  REQUIRE(again.commands.size() == 1);
  CHECK(again.commands[0].id == first.commands[0].id);
  CHECK(restarted == h.st);
  // And with the agent's view: nothing at all.
  RunState restarted2 = reload(h.st);
  const Decision quiet = advance(restarted2, h.obs, h.now);
  CHECK(quiet.events.empty());
  CHECK(quiet.commands.empty());
  // The whole run, checked the same way at every decision (Harness::advance_at).
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(std::set<std::string>(h.issued.begin(), h.issued.end()).size() == h.issued.size());
}

TEST_CASE("run: the stored halves read back exactly", "[rollout][run]") {
  RunSpec spec = health_spec();
  Harness h(spec, health_fleet());
  h.ok(start());
  h.drive_until([&] { return h.gate("gpus-healthy").phase == GatePhase::kOpen; });
  CHECK(reload(h.st) == h.st);
  const json status = run_status_to_json(h.st);
  CHECK(status["state"] == "Running");
  CHECK(status["stages"][0]["state"] == "Soaking");
  CHECK(status["gates"][0]["state"] == "Open");
  const json m = member_to_json(h.st.members[0]);
  CHECK(m["state"] == "Succeeded");
  CHECK(m["attempt"] == 1);
  // Corrupt rows are reported, never guessed at.
  RunState r = initial_run_state(h.st.name, h.st.seq, h.st.spec, Plan{});
  json bad = status;
  bad["state"] = "Sleeping";
  CHECK_FALSE(run_status_from_json(bad, r));
  bad = status;
  bad["stages"].erase(1);
  CHECK_FALSE(run_status_from_json(bad, r));
  json bad_member = m;
  bad_member["state"] = "Dancing";
  CHECK_FALSE(member_from_json(bad_member));
  bad_member.erase("steps");
  CHECK_FALSE(member_from_json(bad_member));
}

// Maintenance windows (issue #13 item 2). test_now() is Thursday 2026-01-15 00:00 UTC.
WindowRule window_rule(const std::string& selector, const std::string& window) {
  WindowRule r;
  auto sel = model::parse_label_selector(selector);
  auto w = parse_maintenance_window(json::parse(window));
  if (!sel || !w) FAIL("bad window rule in the test");
  r.selector = std::move(sel).value();
  r.window = std::move(w).value();
  return r;
}

// w0..w3 in wave1, one at a time; the even ones labelled window=later: Thursdays 03:00-04:00 in Berlin (CET in
// January: 02:00-03:00 UTC); the odd ones window=now: Thursdays 00:00-12:00 UTC, open from the start.
RunSpec window_spec(std::optional<Budget> limit = Budget{1, false}) {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}, limit));
  spec.strategy.maintenance_windows.push_back(window_rule(
      "window=later", R"({"days": ["Thu"], "start": "03:00", "duration": "1h", "timeZone": "Europe/Berlin"})"));
  spec.strategy.maintenance_windows.push_back(
      window_rule("window=now", R"({"days": ["Thu"], "start": "00:00", "duration": "12h", "timeZone": "UTC"})"));
  return spec;
}
std::vector<ClusterFacts> window_fleet(int n = 4) {
  auto fleet = fleet_of("wave1", n, "w");
  for (int i = 0; i < n; ++i) fleet[static_cast<std::size_t>(i)].labels["window"] = i % 2 == 0 ? "later" : "now";
  return fleet;
}

TEST_CASE("run: a drain a disruption budget holds waits with the reason and goes on once released", "[rollout][run]") {
  Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 2, "c"));
  const std::string why =
      "workload llm has 2 replicas on pool system; draining it would leave 0 of 2 available, "
      "below its disruption budget (minAvailable 2)";
  h.obs.drain_holds["c0/system"] = why;
  h.ok(start());
  // Each runs its control plane step; c0's pool step then waits for its drain, c1's goes on.
  h.drive_until([&] { return h.member("c1").phase == MemberPhase::kSucceeded; });
  CHECK(h.member("c0").phase == MemberPhase::kUpgrading);
  CHECK(h.member("c0").message ==
        "step 2/2: pool system → 1.32.7, " + kImageJan + " (3 nodes): waiting to drain pool system: " + why);
  const auto issued_c0 =
      std::count_if(h.issued.begin(), h.issued.end(), [&](const std::string& id) { return h.cluster_of[id] == "c0"; });
  CHECK(issued_c0 == 1);  // the control plane only
  Decision d = h.tick();
  CHECK(d.events.empty());  // held again, said once
  REQUIRE(d.held_drains.size() == 1);
  CHECK(d.held_drains[0] == HeldDrain{"c0", "id-c0", "system", why});
  REQUIRE(d.wake_at.has_value());
  CHECK(*d.wake_at == h.now + 5s);

  // The placement moved the replicas: the step is issued, and the run completes.
  h.obs.drain_holds.clear();
  d = h.tick();
  CHECK(d.held_drains.empty());
  REQUIRE(d.commands.size() == 1);
  CHECK(d.commands[0].cluster == "c0");
  CHECK(h.member("c0").message ==
        "step 2/2: pool system → 1.32.7, " + kImageJan + " (3 nodes) (its drain no longer breaks a disruption budget)");
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
}

TEST_CASE("run: an aborted run skips a member whose drain is held", "[rollout][run]") {
  Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 1, "c"));
  h.obs.drain_holds["c0/system"] = "workload llm: below its disruption budget";
  h.ok(start());
  h.drive_until([&] { return !h.tick().held_drains.empty(); });
  h.ok(simple(ActionKind::kAbort));
  h.tick();
  CHECK(h.member("c0").phase == MemberPhase::kSkipped);
  CHECK_THAT(h.member("c0").message, Catch::Contains("aborted while step 2/2"));
}

RunSpec blue_green_spec(Seconds soak) {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  spec.node_upgrade.blue_green = BlueGreenSettings{{"system"}, soak};
  return spec;
}

std::vector<protocol::BlueGreenPhase> phases_for(const Harness& h, const std::string& cluster,
                                                 const std::vector<Decision>& decisions) {
  std::vector<protocol::BlueGreenPhase> out;
  for (const auto& d : decisions) {
    for (const auto& c : d.commands) {
      if (c.cluster == cluster && std::holds_alternative<protocol::BlueGreenNodePool>(c.payload)) {
        out.push_back(std::get<protocol::BlueGreenNodePool>(c.payload).phase);
      }
    }
  }
  (void)h;
  return out;
}

TEST_CASE("blue-green: Replace, a soak without a command, then Retire, the member holding its slot meanwhile",
          "[rollout][run][blue-green]") {
  RunSpec spec = blue_green_spec(Seconds{600});
  spec.strategy.stages[0].groups[0].max_concurrency = Budget{1, false};
  Harness h(spec, fleet_of("wave1", 2, "c"));
  REQUIRE(h.member("c0").steps.size() == 2);
  const Step& pool_step = h.member("c0").steps[1];
  CHECK(pool_step.pool == "system");
  CHECK(pool_step.replacement == "system2");
  h.ok(start());
  // c0's control plane, then its Replace.
  h.drive_until([&] { return h.member("c0").swap == SwapStage::kSoak; });
  const TimePoint soak_from = h.now;
  CHECK(h.member("c0").phase == MemberPhase::kUpgrading);
  CHECK(*h.member("c0").soak_until == soak_from + 600s);
  CHECK_THAT(h.member("c0").message, Catch::Contains("workloads moved to system2; the old pool system is kept until"));
  CHECK(h.member("c1").phase == MemberPhase::kPending);  // c0 holds the one slot through its soak
  Decision d = h.tick();
  CHECK(d.commands.empty());
  REQUIRE(d.wake_at.has_value());
  CHECK(*d.wake_at == soak_from + 600s);
  // The soak runs out: Retire, with its own id.
  h.now = soak_from + 599s;
  d = h.tick();
  REQUIRE(d.commands.size() == 1);
  CHECK(d.commands[0].id == command_id(kSeq, h.index_of("c0"), 1, 1) + ".retire");
  CHECK(std::get<protocol::BlueGreenNodePool>(d.commands[0].payload).phase == protocol::BlueGreenPhase::kRetire);
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.member("c0").phase == MemberPhase::kSucceeded);
  CHECK(h.member("c0").swap == SwapStage::kReplace);
  CHECK(h.member("c1").phase == MemberPhase::kSucceeded);
}

TEST_CASE("blue-green: :rollback within the soak restores the pool, pauses the run, and :retry runs it again",
          "[rollout][run][blue-green]") {
  Harness h(blue_green_spec(Seconds{3600}), fleet_of("wave1", 2, "c"));
  h.refused(Action{ActionKind::kRollback, SkipTarget::kMember, "", "alice", ""}, ErrorCode::kConflict);
  h.ok(start());
  h.drive_until([&] { return h.member("c0").swap == SwapStage::kSoak && h.member("c1").swap == SwapStage::kSoak; });
  h.refused(Action{ActionKind::kRollback, SkipTarget::kMember, "c9", "alice", ""}, ErrorCode::kNotFound);

  // One cluster: its pool goes back, the other keeps soaking; the run pauses.
  Decision d = h.ok(Action{ActionKind::kRollback, SkipTarget::kMember, "c0", "alice", "p99 latency doubled"});
  REQUIRE(d.commands.size() == 1);
  CHECK(d.commands[0].id == command_id(kSeq, h.index_of("c0"), 1, 1) + ".restore");
  CHECK(std::get<protocol::BlueGreenNodePool>(d.commands[0].payload).phase == protocol::BlueGreenPhase::kRestore);
  CHECK(h.st.phase == RunPhase::kPaused);
  CHECK_THAT(h.st.message, Catch::Contains("rolled back by alice: p99 latency doubled (1 pool)"));
  CHECK(h.member("c0").swap == SwapStage::kRestore);
  CHECK(h.member("c1").swap == SwapStage::kSoak);
  h.refused(Action{ActionKind::kRollback, SkipTarget::kMember, "c0", "alice", ""}, ErrorCode::kConflict);
  for (const auto& c : d.commands) {
    h.obs.commands.emplace(c.id, CommandObservation{});
    h.cluster_of[c.id] = c.cluster;
  }
  h.finish();
  h.tick();
  CHECK(h.member("c0").phase == MemberPhase::kSkipped);
  CHECK(h.member("c0").skip_reason == "RolledBack");
  CHECK_THAT(h.member("c0").message, Catch::Contains("the workloads are back on system and system2 is deleted"));

  // A paused run lets c1's soak run out and retire its pool (a step in hand finishes).
  h.drive_until([&] { return h.member("c1").phase == MemberPhase::kSucceeded; });
  CHECK(h.st.phase == RunPhase::kPaused);

  // :retry runs the rolled-back member again from its Replace, with new ids.
  h.ok(simple(ActionKind::kRetry));
  CHECK(h.member("c0").attempt == 2);
  CHECK(h.member("c0").swap == SwapStage::kReplace);
  std::vector<Decision> decisions;
  decisions.push_back(h.tick());
  CHECK(phases_for(h, "c0", decisions) == std::vector{protocol::BlueGreenPhase::kReplace});
  CHECK(decisions[0].commands[0].id == command_id(kSeq, h.index_of("c0"), 1, 2));
}

TEST_CASE("blue-green: a failed Replace or Restore fails the member naming the phase", "[rollout][run][blue-green]") {
  Harness h(blue_green_spec(Seconds{60}), fleet_of("wave1", 1, "c"));
  h.ok(start());
  h.drive_until([&] { return h.member("c0").steps[1].replacement == "system2" && h.member("c0").step == 1; });
  h.failing.insert("c0");
  h.drive();
  CHECK(h.member("c0").phase == MemberPhase::kFailed);
  CHECK(h.member("c0").message == "step 2/2: pool system → system2 at 1.32.7, " + kImageJan +
                                      " (3 nodes, blue-green) failed: node aks-1 failed its GPU probe");
}

TEST_CASE("blue-green: the stored form keeps the soak, and a restarted executor waits it out the same",
          "[rollout][run][blue-green]") {
  Harness h(blue_green_spec(Seconds{900}), fleet_of("wave1", 1, "c"));
  h.ok(start());
  h.drive_until([&] { return h.member("c0").swap == SwapStage::kSoak; });
  const json stored = member_to_json(h.member("c0"));
  CHECK(stored["blueGreen"]["stage"] == "Soak");
  auto back = member_from_json(json::parse(stored.dump()));
  REQUIRE(back);
  CHECK(*back == h.member("c0"));
  h.drive();  // advance_at compares every decision with one made from the stored rows
  CHECK(h.st.phase == RunPhase::kCompleted);
}

TEST_CASE("window: members outside their window wait, the others run, and start when it opens", "[rollout][window]") {
  Harness h(window_spec(), window_fleet());
  CHECK(h.member("w0").window == std::optional<std::size_t>(0));
  CHECK(h.member("w1").window == std::optional<std::size_t>(1));
  h.ok(start());
  const Decision first = h.tick();
  // w0's turn came first: its window is closed, so it waits without taking the slot and w1 starts.
  CHECK(h.member("w0").phase == MemberPhase::kWaitingForWindow);
  CHECK_THAT(h.member("w0").message, Catch::Contains("opens at 2026-01-15T02:00:00.000Z"));
  CHECK_THAT(h.member("w0").message, Catch::Contains("maintenanceWindows[0]: Thu 03:00 for 1h Europe/Berlin"));
  CHECK(h.member("w1").phase == MemberPhase::kUpgrading);
  CHECK(h.member("w2").phase == MemberPhase::kPending);  // its turn has not come (w1 holds the slot)
  REQUIRE(first.wake_at);
  CHECK(*first.wake_at <= at("2026-01-15T02:00:00Z"));
  bool event_found = false;
  for (const auto& e : first.events) {
    if (e.scope == "member" && e.name == "w0" && e.to == "WaitingForWindow") {
      CHECK(e.from == "Pending");
      CHECK_THAT(e.message, Catch::Contains("2026-01-15T02:00:00.000Z"));
      event_found = true;
    }
  }
  CHECK(event_found);
  CHECK(count_members(h.st).waiting_for_window == 1);

  // The open ones finish; the closed ones wait (not failed, not final, the group not done).
  h.drive_until([&] {
    return h.member("w1").phase == MemberPhase::kSucceeded && h.member("w3").phase == MemberPhase::kSucceeded;
  });
  CHECK(h.now < at("2026-01-15T02:00:00Z"));
  CHECK(h.member("w0").phase == MemberPhase::kWaitingForWindow);
  CHECK(h.member("w2").phase == MemberPhase::kWaitingForWindow);
  CHECK(h.st.phase == RunPhase::kRunning);
  CHECK(h.stage_phase(0) == StagePhase::kRunning);
  const Decision idle = h.tick();
  CHECK(idle.commands.empty());
  REQUIRE(idle.wake_at);
  CHECK(*idle.wake_at == at("2026-01-15T02:00:00Z"));

  // Just before the opening nothing starts; at it, w0 (first in order) starts.
  h.advance_at(at("2026-01-15T01:59:59Z"));
  CHECK(h.member("w0").phase == MemberPhase::kWaitingForWindow);
  const Decision opened = h.advance_at(at("2026-01-15T02:00:00Z"));
  CHECK(h.member("w0").phase == MemberPhase::kUpgrading);
  CHECK(h.member("w0").started_at == at("2026-01-15T02:00:00Z"));
  REQUIRE(opened.commands.size() == 1);
  CHECK(opened.commands[0].cluster == "w0");
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  for (const auto& m : h.st.members) CHECK(m.phase == MemberPhase::kSucceeded);
  CHECK(h.member_events("w0") == std::vector<std::string>{"Pending>WaitingForWindow", "WaitingForWindow>Upgrading",
                                                          "Upgrading>Upgrading", "Upgrading>Succeeded"});
  CHECK(h.member_events("w1") ==
        std::vector<std::string>{"Pending>Upgrading", "Upgrading>Upgrading", "Upgrading>Succeeded"});
  // From the events: every start inside the member's window (Harness::check asserts it at every decision too).
  for (const auto& e : h.events) {
    if (e.scope != "member" || e.to != "Upgrading" || e.from == "Upgrading") continue;
    const MemberState& m = h.member(e.name);
    REQUIRE(m.window);
    INFO(e.name << " started at " << format_rfc3339(e.at));
    CHECK(window_status(h.spec.strategy.maintenance_windows[*m.window].window, e.at).open);
  }
}

TEST_CASE("window: without a limit, the open ones start at once and the closed ones wait", "[rollout][window]") {
  Harness h(window_spec(std::nullopt), window_fleet(6));
  h.ok(start());
  const Decision d = h.tick();
  CHECK(d.commands.size() == 3);
  for (const char* c : {"w0", "w2", "w4"}) CHECK(h.member(c).phase == MemberPhase::kWaitingForWindow);
  for (const char* c : {"w1", "w3", "w5"}) CHECK(h.member(c).phase == MemberPhase::kUpgrading);
  REQUIRE(d.wake_at);
  CHECK(*d.wake_at <= at("2026-01-15T02:00:00Z"));
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.member("w0").started_at >= at("2026-01-15T02:00:00Z"));
  CHECK(h.max_in_flight[0] == 3);
}

TEST_CASE("window: a waiting member whose window opens while the slots are taken goes back to Pending",
          "[rollout][window]") {
  Harness h(window_spec(), window_fleet(2));
  h.holding = {"w1"};
  h.ok(start());
  h.tick();
  CHECK(h.member("w0").phase == MemberPhase::kWaitingForWindow);
  CHECK(h.member("w1").phase == MemberPhase::kUpgrading);
  // The timer for the opening fires while w1 still holds the only slot.
  const Decision d = h.advance_at(at("2026-01-15T02:00:00Z"));
  CHECK(d.commands.empty());
  CHECK(h.member("w0").phase == MemberPhase::kPending);
  CHECK_THAT(h.member("w0").message, Catch::Contains("open until 2026-01-15T03:00:00.000Z"));
  h.holding.clear();
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.member_events("w0").at(1) == "WaitingForWindow>Pending");
}

TEST_CASE("window: a window closing mid-member lets the step in hand finish and stops before the next",
          "[rollout][window]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  spec.strategy.maintenance_windows.push_back(
      window_rule("", R"({"days": ["Thu"], "start": "00:00", "duration": "10m", "timeZone": "UTC"})"));
  Harness h(spec, fleet_of("wave1", 2, "c"));
  h.holding = {"c0", "c1"};
  h.ok(start());
  h.tick();
  CHECK(h.member("c0").phase == MemberPhase::kUpgrading);
  const std::size_t sent = h.issued.size();
  // The window closes at 00:10 with the control plane steps in flight: nothing changes, no event.
  const Decision closed = h.advance_at(at("2026-01-15T00:30:00Z"));
  CHECK(closed.events.empty());
  CHECK(h.member("c0").phase == MemberPhase::kUpgrading);
  // c0's step ends: the step in hand was let finish, the next one is not sent, and the member waits for its window.
  h.holding = {"c1"};
  h.finish();
  const Decision stopped = h.tick();
  CHECK(stopped.commands.empty());
  CHECK(h.issued.size() == sent);
  CHECK(h.member("c0").phase == MemberPhase::kWaitingForWindow);
  CHECK(h.member("c0").step == 1);
  CHECK_THAT(h.member("c0").message, Catch::Contains("step 1/2 done after its maintenance window closed"));
  CHECK_THAT(h.member("c0").message, Catch::Contains("step 2 waits for it to open at 2026-01-22T00:00:00.000Z"));
  REQUIRE(stopped.wake_at);
  CHECK(*stopped.wake_at <= at("2026-01-22T00:00:00Z"));
  CHECK(count_members(h.st).waiting_for_window == 1);
  // It holds no slot meanwhile; the run is still running, not failed.
  CHECK(h.st.phase == RunPhase::kRunning);
  // Next week's window: it goes on from its next step, with the same targets; c1 (its step ended in the closed
  // window too) likewise.
  h.holding.clear();
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.member("c0").phase == MemberPhase::kSucceeded);
  CHECK(h.member("c1").phase == MemberPhase::kSucceeded);
  CHECK(h.issued.size() == 4);  // two steps each, none twice
  CHECK(h.now >= at("2026-01-22T00:00:00Z"));
  CHECK(h.member_events("c0") == std::vector<std::string>{"Pending>Upgrading", "Upgrading>WaitingForWindow",
                                                          "WaitingForWindow>Upgrading", "Upgrading>Succeeded"});
  // From the events: every step began inside the window (Harness::check asserts it of every command too).
  for (const auto& e : h.events) {
    if (e.scope != "member" || e.to != "Upgrading") continue;
    INFO(e.name << " began a step at " << format_rfc3339(e.at));
    CHECK(window_status(h.spec.strategy.maintenance_windows[0].window, e.at).open);
  }
}

TEST_CASE("window: a node-pool step carries the window's end, and one the agent stopped there goes on next window",
          "[rollout][window]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  spec.strategy.maintenance_windows.push_back(
      window_rule("", R"({"days": ["Thu"], "start": "00:00", "duration": "10m", "timeZone": "UTC"})"));
  Harness h(spec, fleet_of("wave1", 1, "c"));
  h.now = at("2026-01-15T00:00:00Z");
  h.ok(start());
  h.drive_until([&] { return h.member("c0").step == 1; });  // the control plane is done; the pool step is sent
  const std::string first = h.issued.back();
  CHECK(first == command_id(kSeq, 0, 1, 1));
  // The pool step's payload says where the window ends (Harness::check compares it with the window too).
  // The agent reached it with nodes left: it stopped between nodes. Its clock was a little ahead of fleetd's: the
  // member waits for fleetd's clock to reach the window's end too, sending nothing.
  h.now = at("2026-01-15T00:09:57Z");
  CommandObservation& obs = h.obs.commands.at(first);
  obs.final = obs.succeeded = obs.stopped = true;
  obs.message = "pool system stopped at its notAfter after 1 of 3 nodes; 2 left";
  const Decision early = h.tick();
  CHECK(early.commands.empty());
  CHECK(h.member("c0").phase == MemberPhase::kUpgrading);
  CHECK(h.member("c0").stops == 0);
  REQUIRE(early.wake_at);
  CHECK(*early.wake_at == at("2026-01-15T00:10:00Z"));
  CHECK(h.tick().events.empty());  // said once
  h.now = at("2026-01-15T00:10:30Z");
  const Decision stopped = h.tick();
  CHECK(stopped.commands.empty());
  CHECK(h.member("c0").phase == MemberPhase::kWaitingForWindow);
  CHECK(h.member("c0").step == 1);  // the step is not done
  CHECK(h.member("c0").stops == 1);
  CHECK_THAT(h.member("c0").message, Catch::Contains("stopped between nodes at its maintenance window's end (pool "
                                                     "system stopped at its notAfter after 1 of 3 nodes; 2 left)"));
  REQUIRE(stopped.wake_at);
  CHECK(*stopped.wake_at == at("2026-01-22T00:00:00Z"));
  // Next week's window: the same step again, under a new id, for the nodes left; then the run completes.
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(std::find(h.issued.begin(), h.issued.end(), first + ".w1") != h.issued.end());
  CHECK(h.member("c0").stops == 0);
  CHECK(h.member_events("c0") == std::vector<std::string>{"Pending>Upgrading", "Upgrading>Upgrading",
                                                          "Upgrading>Upgrading", "Upgrading>WaitingForWindow",
                                                          "WaitingForWindow>Upgrading", "Upgrading>Succeeded"});
}

TEST_CASE(
    "window: a step the cluster's own window (the provider's) kept from beginning waits until the agent's "
    "time, then goes again as a new command",
    "[rollout][window]") {
  Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 2, "c"));
  h.now = at("2026-01-15T00:00:00Z");
  h.ok(start());
  h.tick();
  const std::string first = member_command_id(h.st, h.index_of("c0"));
  REQUIRE(std::find(h.issued.begin(), h.issued.end(), first) != h.issued.end());
  // The agent read the cluster's AKS planned maintenance: closed until Saturday 02:00; it began nothing.
  const TimePoint opens = at("2026-01-17T02:00:00Z");
  CommandObservation& obs = h.obs.commands.at(first);
  obs.final = obs.succeeded = obs.stopped = true;
  obs.not_before = opens;
  obs.message = "not begun: AKS planned maintenance aksManagedAutoUpgradeSchedule is closed";
  const Decision waiting = h.tick();
  CHECK(waiting.commands.empty());
  MemberState& c0 = h.member("c0");
  CHECK(c0.phase == MemberPhase::kWaitingForWindow);
  CHECK(c0.step == 0);  // nothing of the step was done
  CHECK(c0.stops == 1);
  REQUIRE(c0.provider_closed_until);
  CHECK(*c0.provider_closed_until == opens);
  CHECK(c0.message ==
        "step 1/2: control plane → 1.32.7 not begun: the cluster's own maintenance window is closed (not begun: AKS "
        "planned maintenance aksManagedAutoUpgradeSchedule is closed); it is sent again when it opens at "
        "2026-01-17T02:00:00.000Z");
  REQUIRE(waiting.wake_at);
  CHECK(*waiting.wake_at <= opens);
  // Stored and read back as it is.
  auto back = member_from_json(member_to_json(c0));
  REQUIRE(back.ok());
  CHECK(*back == c0);
  CHECK(member_to_json(c0)["providerWindow"]["closedUntil"] == "2026-01-17T02:00:00.000Z");

  // Until then nothing is sent for c0 (c1 goes on); at its opening the step goes again under a new id.
  h.now = at("2026-01-17T01:59:00Z");
  h.drive_until([&] { return h.member("c1").phase == MemberPhase::kSucceeded; });
  CHECK(std::find(h.issued.begin(), h.issued.end(), first + ".w1") == h.issued.end());
  CHECK(h.member("c0").phase == MemberPhase::kWaitingForWindow);
  h.now = opens;
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(std::find(h.issued.begin(), h.issued.end(), first + ".w1") != h.issued.end());
  CHECK_FALSE(h.member("c0").provider_closed_until);
  CHECK(h.member("c0").stops == 0);
}

TEST_CASE("window: an agent clock behind fleetd's, or a stop with no time given, cannot make a step spin",
          "[rollout][window]") {
  Harness h(full_spec("1.32.7", stages_of({"wave1"})), fleet_of("wave1", 1, "c"));
  h.now = at("2026-01-15T00:00:00Z");
  h.ok(start());
  h.tick();
  const std::string first = h.issued.back();
  CommandObservation& obs = h.obs.commands.at(first);
  obs.final = obs.succeeded = obs.stopped = true;
  const TimePoint decided = h.now + 1s;  // tick() decides a second on
  SECTION("a time already past waits a minute") {
    obs.not_before = decided - std::chrono::minutes(1);
    h.tick();
    REQUIRE(h.member("c0").provider_closed_until);
    CHECK(*h.member("c0").provider_closed_until == decided + std::chrono::minutes(1));
  }
  SECTION("no time, and no window of fleetd's: five minutes") {
    obs.message = "stopped";
    h.tick();
    REQUIRE(h.member("c0").provider_closed_until);
    CHECK(*h.member("c0").provider_closed_until == decided + std::chrono::minutes(5));
    CHECK_THAT(h.member("c0").message,
               Catch::Contains("stopped by the agent (stopped) with no maintenance window to wait for; sent again at " +
                               format_rfc3339(decided + std::chrono::minutes(5))));
  }
  CHECK(h.member("c0").phase == MemberPhase::kWaitingForWindow);
  CHECK(h.tick().commands.empty());
  h.now = at("2026-01-15T00:06:00Z");
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
}

TEST_CASE("window: a member stopped between steps whose window opens while the slots are taken waits its turn",
          "[rollout][window]") {
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false}));
  spec.strategy.maintenance_windows.push_back(
      window_rule("env=prod", R"({"days": ["Thu"], "start": "00:00", "duration": "10m", "timeZone": "UTC"})"));
  std::vector<ClusterFacts> fleet = fleet_of("wave1", 2, "c");
  fleet[0].labels["env"] = "prod";  // c0 has the window, c1 none
  Harness h(spec, fleet);
  h.holding = {"c0"};
  h.ok(start());
  h.tick();
  REQUIRE(h.member("c0").phase == MemberPhase::kUpgrading);
  h.advance_at(at("2026-01-15T00:30:00Z"));
  h.holding.clear();
  h.finish();
  h.tick();
  // c0 stopped after its control plane; its slot went to c1.
  CHECK(h.member("c0").phase == MemberPhase::kWaitingForWindow);
  CHECK(h.member("c1").phase == MemberPhase::kUpgrading);
  h.holding = {"c1"};
  h.advance_at(at("2026-01-22T00:00:00Z"));
  CHECK(h.member("c0").phase == MemberPhase::kPending);
  CHECK_THAT(h.member("c0").message, Catch::Contains("(step 2/2 next)"));
  h.holding.clear();
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(h.max_in_flight[0] == 1);
}

TEST_CASE("window: skip, abort and the stored form of a waiting member", "[rollout][window]") {
  Harness h(window_spec(std::nullopt), window_fleet(4));
  h.ok(start());
  h.tick();
  REQUIRE(h.member("w0").phase == MemberPhase::kWaitingForWindow);
  REQUIRE(h.member("w2").phase == MemberPhase::kWaitingForWindow);

  // The stored halves carry the phase and the resolved window (Harness checks the full round trip each decision).
  const json stored = member_to_json(h.member("w0"));
  CHECK(stored["state"] == "WaitingForWindow");
  CHECK(stored["window"] == 0);
  auto back = member_from_json(stored);
  REQUIRE(back);
  CHECK(*back == h.member("w0"));
  CHECK(parse_member_phase("WaitingForWindow") == MemberPhase::kWaitingForWindow);
  CHECK(to_string(MemberPhase::kWaitingForWindow) == "WaitingForWindow");
  CHECK_FALSE(is_final(MemberPhase::kWaitingForWindow));
  CHECK_FALSE(in_flight(MemberPhase::kWaitingForWindow));
  json old_row = member_to_json(h.member("w1"));  // a row from before windows: no "window" member
  old_row.erase("window");
  auto old = member_from_json(old_row);
  REQUIRE(old);
  CHECK_FALSE(old->window);

  // :skip works as for a Pending member.
  const Decision skipped = h.ok(skip(SkipTarget::kMember, "w0"));
  CHECK(h.member("w0").phase == MemberPhase::kSkipped);
  CHECK(h.member("w0").skip_reason == "Operator");
  REQUIRE(skipped.events.size() == 1);
  CHECK(skipped.events[0].from == "WaitingForWindow");
  h.refused(skip(SkipTarget::kMember, "w1"), ErrorCode::kConflict);  // Upgrading
  // :abort skips the waiting ones too; nothing was ever sent to them.
  h.ok(simple(ActionKind::kAbort));
  CHECK(h.member("w2").phase == MemberPhase::kSkipped);
  CHECK(h.member("w2").skip_reason == "Aborted");
  h.drive_until([&] { return count_members(h.st).upgrading + count_members(h.st).probing == 0; });
  for (const auto& [id, cluster] : h.cluster_of) CHECK((cluster != "w0" && cluster != "w2"));
}

TEST_CASE("window: a group skip takes waiting members, and a paused run starts none at the opening",
          "[rollout][window]") {
  Harness h(window_spec(std::nullopt), window_fleet(4));
  h.ok(start());
  h.tick();
  h.ok(simple(ActionKind::kPause));
  const Decision paused = h.advance_at(at("2026-01-15T02:30:00Z"));
  CHECK(paused.commands.empty());
  CHECK(h.member("w0").phase == MemberPhase::kWaitingForWindow);
  h.ok(skip(SkipTarget::kGroup, "wave1/wave1"));
  CHECK(h.member("w0").phase == MemberPhase::kSkipped);
  CHECK(h.member("w2").phase == MemberPhase::kSkipped);
  h.ok(simple(ActionKind::kResume));
  h.drive();
  CHECK(h.st.phase == RunPhase::kCompleted);
  CHECK(count_members(h.st).skipped == 2);
}

TEST_CASE("window: the plan's batches and estimate wait for a closed window, as the run does", "[rollout][window]") {
  // One slot; w0 and w2 wait for a window that opens at 02:00Z (two hours after the plan), w1 and w3 are in theirs.
  const RunSpec spec = window_spec();
  const Plan plan = plan_of(spec, window_fleet(4), catalog());
  REQUIRE(plan.stages.size() == 1);
  const std::vector<std::vector<std::string>> batches = {{"w1"}, {"w3"}, {"w0"}, {"w2"}};
  CHECK(plan.stages[0].batches == batches);
  const Seconds member = member_of(plan, "w0").estimate;
  REQUIRE(member > Seconds(0));
  REQUIRE(2 * member < std::chrono::hours(2));  // w1 and w3 are done before the window opens
  CHECK(plan.stages[0].estimate == std::chrono::hours(2) + 2 * member);
  CHECK(plan.estimate == plan.stages[0].estimate);

  // Without the windows: the order of the group, and only the members' own time.
  RunSpec no_windows = spec;
  no_windows.strategy.maintenance_windows.clear();
  const Plan free = plan_of(no_windows, window_fleet(4), catalog());
  const std::vector<std::vector<std::string>> in_order = {{"w0"}, {"w1"}, {"w2"}, {"w3"}};
  CHECK(free.stages[0].batches == in_order);
  CHECK(free.stages[0].estimate == 4 * member);
}

TEST_CASE("window: the plan's estimate stops a member between steps where its window closes, as the run does",
          "[rollout][window]") {
  // Thursday 00:00-00:05 UTC, the plan made at its opening: the control plane (600 s by default) ends after it.
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  spec.strategy.maintenance_windows.push_back(
      window_rule("", R"({"days": ["Thu"], "start": "00:00", "duration": "5m", "timeZone": "UTC"})"));
  const Plan plan = plan_of(spec, fleet_of("wave1", 1, "c"), catalog());
  const MemberPlan& m = member_of(plan, "c0");
  REQUIRE(m.steps.size() == 2);
  REQUIRE(m.step_estimates.size() == 2);
  CHECK(m.step_estimates[0] + m.step_estimates[1] == m.estimate);
  REQUIRE(m.step_estimates[0] > std::chrono::minutes(5));
  // The node pool waits for next Thursday's window.
  CHECK(plan.stages[0].estimate == std::chrono::hours(7 * 24) + m.step_estimates[1]);
  CHECK(plan.stages[0].batches == std::vector<std::vector<std::string>>{{"c0"}});  // a resumption is not a start
  bool warned = false;
  for (const auto& w : plan.warnings) warned |= w.find("waits for the window before the next") != std::string::npos;
  CHECK(warned);

  // A window the first step ends inside: the next begins at once, and may run past the window's end.
  spec.strategy.maintenance_windows[0] =
      window_rule("", R"({"days": ["Thu"], "start": "00:00", "duration": "15m", "timeZone": "UTC"})");
  const Plan wide = plan_of(spec, fleet_of("wave1", 1, "c"), catalog());
  CHECK(wide.stages[0].estimate == member_of(wide, "c0").estimate);
}

TEST_CASE("window: the plan says which window applies to each cluster", "[rollout][window]") {
  RunSpec spec = window_spec();
  auto fleet = window_fleet(2);
  fleet.push_back(cluster("free", "wave1", "1.32.3"));  // no window label: no rule matches
  const Plan plan = plan_of(spec, fleet, catalog());
  CHECK(member_of(plan, "w0").window == std::optional<std::size_t>(0));
  CHECK(member_of(plan, "w1").window == std::optional<std::size_t>(1));
  CHECK_FALSE(member_of(plan, "free").window);
  CHECK(std::find_if(plan.warnings.begin(), plan.warnings.end(), [](const std::string& w) {
          return w.find("estimates count the waits for maintenance windows") != std::string::npos;
        }) != plan.warnings.end());
  const json j = to_json(plan, spec);
  auto member_json = [&](const std::string& name) {
    for (const auto& m : j["members"]) {
      if (m["cluster"] == name) return m;
    }
    FAIL("no member " << name);
    return json();
  };
  const json w0 = member_json("w0");
  CHECK(w0["maintenanceWindow"]["index"] == 0);
  CHECK(w0["maintenanceWindow"]["clusterSelector"] == "window=later");
  CHECK(w0["maintenanceWindow"]["window"]["timeZone"] == "Europe/Berlin");
  CHECK(w0["maintenanceWindow"]["openNow"] == false);
  CHECK(w0["maintenanceWindow"]["opensAt"] == "2026-01-15T02:00:00.000Z");
  CHECK(member_json("w1")["maintenanceWindow"]["openNow"] == true);
  CHECK(member_json("w1")["maintenanceWindow"]["closesAt"] == "2026-01-15T12:00:00.000Z");
  CHECK_FALSE(member_json("free").contains("maintenanceWindow"));
  // A run takes the plan's resolution, frozen.
  RunState st = initial_run_state("upgrade", kSeq, spec, plan);
  CHECK(st.member("w0")->window == std::optional<std::size_t>(0));
  CHECK_FALSE(st.member("free")->window);
}

}  // namespace
}  // namespace fleet::rollout
