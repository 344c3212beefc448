// The admission state machine on a manual clock: every trigger, the concurrency cap, timeouts, could-not-run,
// operators, restarts, and (over seeded random histories) that nothing but a passing report admits a GPU node.
#include "admission/admission_machine.hpp"

#include <catch2/catch.hpp>

#include "common/seeded_random.hpp"
#include "common/testing/manual_clock.hpp"

namespace fleet::admission {
namespace {

using model::Admission;
using namespace std::chrono_literals;

ObservedNode gpu_node(std::string name, int gpus = 8) {
  ObservedNode o;
  o.name = std::move(name);
  o.gpus = gpus;
  for (int i = 0; i < gpus; ++i) o.gpu_uuids.push_back("GPU-" + o.name + "-" + std::to_string(i));
  o.kubernetes_version = "1.31.4";
  o.node_image_version = "AKSUbuntu-2204gen2containerd-202510.01.0";
  o.driver_version = "550.90.07";
  o.taints = {{std::string(model::kTaintGpuUnverified), "", "NoSchedule"}};  // registered with the taint
  return o;
}

ProbeOutcome passing(int gpus) {
  gpuprobe::Report r;
  r.verdict = gpuprobe::Verdict::kPass;
  r.gpus.resize(static_cast<std::size_t>(gpus));
  return ProbeReport{r};
}

ProbeOutcome failing(const std::string& check, int gpus) {
  auto o = passing(gpus);
  auto& r = std::get<ProbeReport>(o).report;
  r.verdict = gpuprobe::Verdict::kFail;
  gpuprobe::CheckResult c;
  c.name = check;
  c.status = gpuprobe::CheckStatus::kFail;
  r.gpus[0].checks.push_back(c);
  return o;
}

struct Cluster {
  testing::ManualClock clock;
  AdmissionPolicy policy;
  AdmissionState state;
  std::vector<ObservedNode> nodes;

  Decision apply(const Input& input) { return admission::apply(state, input, policy, clock.wall_now()); }
  Decision observe() { return apply(Observe{nodes}); }
  const NodeAdmission& node(const std::string& name) { return state.nodes.at(name); }
  Admission state_of(const std::string& name) { return node(name).state; }
  Decision finish(const std::string& name, ProbeOutcome outcome) {
    return apply(ProbeFinished{name, node(name).probe_id, std::move(outcome)});
  }
};

std::vector<std::string> started(const Decision& d) {
  std::vector<std::string> out;
  for (const auto& s : d.start) out.push_back(s.node);
  return out;
}

const SetTaints* taints_of(const Decision& d, const std::string& node) {
  const SetTaints* last = nullptr;
  for (const auto& t : d.taints) {
    if (t.node == node) last = &t;
  }
  return last;
}

}  // namespace

TEST_CASE("admission: a joining GPU node is guarded, probed and admitted by a passing report", "[admission]") {
  Cluster c;
  c.nodes = {gpu_node("gpu-0"), gpu_node("cpu-0", 0)};
  auto d = c.observe();
  CHECK(c.state_of("cpu-0") == Admission::kAdmitted);  // nothing to prove
  CHECK(taints_of(d, "cpu-0") == nullptr);
  REQUIRE(started(d) == std::vector<std::string>{"gpu-0"});
  CHECK(d.start[0].probe_id == "gpu-0-probe-1");
  CHECK(d.start[0].trigger == Trigger::kJoin);
  CHECK(d.start[0].expect_gpus == 8);
  CHECK(d.start[0].mode == "quick");
  CHECK(c.state_of("gpu-0") == Admission::kProbing);
  REQUIRE(taints_of(d, "gpu-0"));
  CHECK(taints_of(d, "gpu-0")->taints.size() == 1);  // unverified stays while it probes

  c.clock.advance(12s);
  auto done = c.finish("gpu-0", passing(8));
  CHECK(c.state_of("gpu-0") == Admission::kAdmitted);
  REQUIRE(done.records.size() == 1);
  CHECK(done.records[0].verdict.admitted);
  CHECK(done.records[0].finished - done.records[0].started == 12s);
  CHECK(done.records[0].gpu_uuids.size() == 8);
  REQUIRE(taints_of(done, "gpu-0"));
  CHECK(taints_of(done, "gpu-0")->taints.empty());  // unverified removed: the node is proven
  CHECK(c.apply(Tick{}).empty());
}

TEST_CASE("admission: a failing probe quarantines naming the check, only a request or a repair probes it again",
          "[admission]") {
  Cluster c;
  c.nodes = {gpu_node("gpu-0")};
  c.observe();
  auto d = c.finish("gpu-0", failing("hbm_bandwidth", 8));
  CHECK(c.state_of("gpu-0") == Admission::kQuarantined);
  CHECK(c.node("gpu-0").reason == "failed: hbm_bandwidth");
  const auto* t = taints_of(d, "gpu-0");
  REQUIRE(t);
  REQUIRE(t->taints.size() == 2);
  CHECK(t->taints[1].key == model::kTaintGpuQuarantined);
  CHECK(t->taints[1].value == "hbm_bandwidth");

  c.clock.advance(30 * 24h);  // no schedule for a quarantined node
  CHECK(c.apply(Tick{}).start.empty());
  CHECK(c.apply(XidSeen{"gpu-0", 79}).start.empty());
  auto again = c.apply(ProbeRequested{"gpu-0"});
  CHECK(started(again) == std::vector<std::string>{"gpu-0"});
  CHECK(again.start[0].trigger == Trigger::kManual);
  CHECK(again.start[0].probe_id == "gpu-0-probe-2");
  c.finish("gpu-0", failing("ecc_volatile", 8));
  auto repaired = c.apply(RepairSignalled{"gpu-0"});
  REQUIRE(repaired.start.size() == 1);
  CHECK(repaired.start[0].trigger == Trigger::kRepair);
}

TEST_CASE("admission: could-not-run, a timeout and a report of the wrong GPU count quarantine", "[admission]") {
  Cluster c;
  c.policy.max_probing_nodes = 3;
  c.nodes = {gpu_node("a"), gpu_node("b"), gpu_node("c")};
  CHECK(c.observe().start.size() == 3);
  gpuprobe::Report cnr;
  cnr.verdict = gpuprobe::Verdict::kCouldNotRun;
  cnr.could_not_run = gpuprobe::CouldNotRun{"no-cuda-device", "no CUDA device"};
  c.finish("a", ProbeReport{cnr});
  CHECK(c.state_of("a") == Admission::kQuarantined);
  CHECK(c.node("a").reason == "could not run: no CUDA device");
  CHECK(c.node("a").quarantine_check == "could-not-run");
  c.finish("b", passing(7));
  CHECK(c.state_of("b") == Admission::kQuarantined);

  c.clock.advance(599s);
  CHECK(c.apply(Tick{}).cancel.empty());
  c.clock.advance(1s);
  auto expired = c.apply(Tick{});
  REQUIRE(expired.cancel.size() == 1);
  CHECK(expired.cancel[0].node == "c");
  CHECK(c.state_of("c") == Admission::kQuarantined);
  CHECK(c.node("c").reason == "timed out after 600 s");
  CHECK(c.node("c").quarantine_check == "no-report");
  REQUIRE(expired.records.size() == 1);
  CHECK(expired.records[0].verdict.verdict == "not-run");
}

TEST_CASE("admission: at most 1 node or 10% of the GPU nodes probe at once", "[admission]") {
  CHECK(max_concurrent_probes({}, 0) == 1);
  CHECK(max_concurrent_probes({}, 9) == 1);
  CHECK(max_concurrent_probes({}, 11) == 2);
  CHECK(max_concurrent_probes({}, 25) == 3);
  Cluster c;
  for (int i = 0; i < 25; ++i) c.nodes.push_back(gpu_node("n" + std::to_string(100 + i)));
  auto first = c.observe();
  CHECK(started(first) == std::vector<std::string>{"n100", "n101", "n102"});  // same time: by name
  auto next = c.finish("n101", passing(8));
  CHECK(started(next) == std::vector<std::string>{"n103"});
  int probing = 0;
  for (const auto& [name, n] : c.state.nodes) probing += n.state == Admission::kProbing;
  CHECK(probing == 3);
}

TEST_CASE("admission: upgrades, due re-probes, GPU health and XIDs probe an admitted node again", "[admission]") {
  Cluster c;
  c.policy.max_probing_nodes = 4;
  c.nodes = {gpu_node("up"), gpu_node("old"), gpu_node("sick"), gpu_node("xid")};
  c.observe();
  for (const char* n : {"up", "old", "sick", "xid"}) c.finish(n, passing(8));
  c.nodes[0].node_image_version = "AKSUbuntu-2204gen2containerd-202511.01.0";
  c.nodes[2].gpus_healthy = false;
  for (auto& n : c.nodes) n.taints.clear();  // admitted nodes no longer carry the guard
  auto d = c.observe();
  CHECK(started(d) == std::vector<std::string>{"up", "sick"});  // an upgrade first
  CHECK(d.start[0].trigger == Trigger::kUpgrade);
  CHECK(d.start[1].trigger == Trigger::kHealth);
  CHECK(c.apply(XidSeen{"xid", 13}).start.empty());  // an application's fault: nothing to prove
  auto x = c.apply(XidSeen{"xid", 79});              // fallen off the bus: drain class
  REQUIRE(x.start.size() == 1);
  CHECK(c.node("xid").reason == "XID 79 (drain)");
  c.finish("up", passing(8));
  c.finish("sick", passing(8));
  c.finish("xid", passing(8));
  c.clock.advance(7 * 24h);
  auto due = c.apply(Tick{});
  REQUIRE(due.start.size() == 4);
  for (const auto& s : due.start) CHECK(s.trigger == Trigger::kSchedule);
}

TEST_CASE("admission: GPUs held by workloads are no verdict: a re-probe waits, a new node stays guarded",
          "[admission]") {
  Cluster c;
  c.policy.max_probing_nodes = 4;
  c.nodes = {gpu_node("busy"), gpu_node("fresh")};
  c.observe();
  c.finish("busy", passing(8));
  const Clock::WallTime proven = c.node("busy").admitted_at;
  c.clock.advance(7 * 24h);
  auto due = c.apply(Tick{});
  REQUIRE(started(due) == std::vector<std::string>{"busy"});
  // The kubelet refuses the probe's pod: the node's GPUs are at work. It stays admitted, its proof as old as it was.
  auto back = c.apply(GpusBusy{"busy", c.node("busy").probe_id, "OutOfnvidia.com/gpu"});
  CHECK(c.state_of("busy") == Admission::kAdmitted);
  CHECK(c.node("busy").admitted_at == proven);
  CHECK(back.records.empty());
  CHECK(back.start.empty());
  REQUIRE(taints_of(back, "busy"));
  CHECK(taints_of(back, "busy")->taints.empty());  // the guard of the re-probe is lifted again
  CHECK(c.node("busy").reason == "re-probe postponed: OutOfnvidia.com/gpu; again in 1800 s");
  c.clock.advance(29min);
  CHECK(c.apply(Tick{}).start.empty());
  c.clock.advance(1min);
  auto again = c.apply(Tick{});
  REQUIRE(started(again) == std::vector<std::string>{"busy"});
  CHECK(again.start[0].trigger == Trigger::kSchedule);
  // A stale one changes nothing.
  CHECK(c.apply(GpusBusy{"busy", "stale", "x"}).empty());

  // A node that was never proven is never admitted for want of GPUs: it stays pending and guarded, and retries.
  c.finish("fresh", passing(8));
  c.apply(ProbeRequested{"fresh"});
  REQUIRE(c.state_of("fresh") == Admission::kProbing);
  auto wait = c.apply(GpusBusy{"fresh", c.node("fresh").probe_id, "Insufficient nvidia.com/gpu"});
  CHECK(c.state_of("fresh") == Admission::kPendingProbe);
  REQUIRE(taints_of(wait, "fresh"));
  CHECK(taints_of(wait, "fresh")->taints.size() == 1);
  CHECK(wait.start.empty());
  c.clock.advance(1800s);
  CHECK(started(c.apply(Tick{})) == std::vector<std::string>{"fresh"});
}

TEST_CASE("admission: operators admit and quarantine with a reason, a stale report changes nothing", "[admission]") {
  Cluster c;
  c.nodes = {gpu_node("a")};
  c.observe();
  const std::string first_probe = c.node("a").probe_id;
  auto q = c.apply(OperatorQuarantine{"a", "fan failure seen on site"});
  REQUIRE(q.cancel.size() == 1);  // the probe in flight is cancelled
  CHECK(c.state_of("a") == Admission::kQuarantined);
  CHECK(c.node("a").quarantine_check == "operator");
  CHECK(c.apply(ProbeFinished{"a", first_probe, passing(8)}).empty());  // too late: still quarantined
  CHECK(c.state_of("a") == Admission::kQuarantined);
  auto a = c.apply(OperatorAdmit{"a", "vendor replaced the board"});
  CHECK(c.state_of("a") == Admission::kAdmitted);
  REQUIRE(a.transitions.size() == 1);
  CHECK(a.transitions[0].trigger == Trigger::kManual);
  CHECK(a.transitions[0].reason == "admitted by an operator: vendor replaced the board");
}

TEST_CASE("admission: a node deleted mid-probe cancels it, an unguarded node gets the taint", "[admission]") {
  Cluster c;
  c.nodes = {gpu_node("a")};
  c.observe();
  c.nodes.clear();
  auto gone = c.observe();
  REQUIRE(gone.cancel.size() == 1);
  CHECK(gone.cancel[0].reason == "the node was deleted");
  CHECK(c.state.nodes.empty());

  auto bare = gpu_node("b");
  bare.taints.clear();  // registered without --register-with-taints
  c.nodes = {bare};
  auto d = c.observe();
  REQUIRE(d.unguarded.size() == 1);
  CHECK(d.unguarded[0].node == "b");
  REQUIRE(taints_of(d, "b"));
  CHECK(taints_of(d, "b")->taints[0].key == model::kTaintGpuUnverified);
}

TEST_CASE("admission: a restarted agent carries on from what it recorded on the nodes", "[admission]") {
  Cluster c;
  auto admitted = gpu_node("admitted");
  admitted.taints.clear();
  admitted.recorded = Admission::kAdmitted;
  admitted.recorded_last_probe = c.clock.wall_now() - 24h;
  auto quarantined = gpu_node("quarantined");
  quarantined.taints.push_back({std::string(model::kTaintGpuQuarantined), "hbm_bandwidth", "NoSchedule"});
  quarantined.recorded = Admission::kQuarantined;
  auto probing = gpu_node("probing");
  probing.recorded = Admission::kProbing;  // the probe was lost with the agent: probe again
  c.nodes = {admitted, quarantined, probing};
  auto d = c.observe();
  CHECK(c.state_of("admitted") == Admission::kAdmitted);
  CHECK(c.state_of("quarantined") == Admission::kQuarantined);
  CHECK(started(d) == std::vector<std::string>{"probing"});
  CHECK(d.unguarded.empty());
  c.finish("probing", passing(8));
  c.clock.advance(6 * 24h - 1h);  // the admitted node's week counts from its last probe, a day before
  CHECK(c.apply(Tick{}).start.empty());
  c.clock.advance(1h);
  CHECK(started(c.apply(Tick{})) == std::vector<std::string>{"admitted"});
}

TEST_CASE("admission: over random histories, nothing but a passing report admits a GPU node", "[admission]") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    SplitMix64 rng(seed);
    Cluster c;
    c.policy.max_probing_percent = 20;
    for (int i = 0; i < 12; ++i) c.nodes.push_back(gpu_node("n" + std::to_string(i), i % 4 == 0 ? 0 : 8));
    for (int step = 0; step < 300; ++step) {
      c.clock.advance(std::chrono::seconds(rng.below(4000)));
      Decision d;
      const auto pick = "n" + std::to_string(rng.below(12));
      switch (rng.below(8)) {
        case 0:
          if (rng.chance(0.3)) c.nodes[rng.below(12)].node_image_version = "img-" + std::to_string(step);
          if (rng.chance(0.2)) c.nodes[rng.below(12)].gpus_healthy = rng.chance(0.5);
          d = c.observe();
          break;
        case 1:
        case 2: {
          auto it = c.state.nodes.find(pick);
          if (it == c.state.nodes.end()) break;
          const int gpus = it->second.gpus;
          ProbeOutcome o = rng.chance(0.5)   ? passing(gpus)
                           : rng.chance(0.5) ? failing("hbm_bandwidth", std::max(gpus, 1))
                                             : ProbeOutcome{ProbeNotRun{"pull error"}};
          const std::string id = rng.chance(0.8) ? it->second.probe_id : "stale-probe";
          d = c.apply(ProbeFinished{pick, id, o});
          break;
        }
        case 3:
          d = c.apply(XidSeen{pick, rng.chance(0.5) ? 79u : 13u});
          break;
        case 4:
          d = c.apply(ProbeRequested{pick});
          break;
        case 5:
          d = c.apply(RepairSignalled{pick});
          break;
        case 6: {
          auto it = c.state.nodes.find(pick);
          if (it != c.state.nodes.end()) d = c.apply(GpusBusy{pick, it->second.probe_id, "OutOfnvidia.com/gpu"});
          break;
        }
        default:
          d = c.apply(Tick{});
          break;
      }
      for (const auto& t : d.transitions) {
        if (t.to != Admission::kAdmitted || c.node(t.node).gpus == 0) continue;
        const bool proven = std::any_of(d.records.begin(), d.records.end(),
                                        [&](const ProbeRecord& r) { return r.node == t.node && r.verdict.admitted; });
        // A postponed routine re-probe returns a node to admitted only on the strength of its last, passing probe.
        const bool still_proven =
            t.trigger == Trigger::kSchedule && t.from == Admission::kProbing && c.node(t.node).last_verdict == "pass";
        INFO(t.node << " admitted: " << t.reason);
        CHECK((proven || still_proven));
      }
      int probing = 0, gpu_nodes = 0;
      for (const auto& [name, n] : c.state.nodes) {
        gpu_nodes += n.gpus > 0;
        probing += n.state == Admission::kProbing;
        if (n.state == Admission::kProbing) CHECK_FALSE(n.probe_id.empty());
      }
      CHECK(probing <= max_concurrent_probes(c.policy, gpu_nodes));
    }
  }
}

}  // namespace fleet::admission
