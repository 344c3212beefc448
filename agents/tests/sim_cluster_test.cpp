#include "agents/sim_cluster.hpp"
#include "agents/testing/start_command.hpp"
#include "common/time_format.hpp"

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

namespace fleet::agent {
namespace {

using ::fleet::agent::testing::command_of;
using ::fleet::agent::testing::start_command;
using nlohmann::json;

ClusterSpec cluster_spec(int system_nodes = 3, int gpu_nodes = 4) {
  ClusterSpec c;
  c.name = "aks-westeurope-1";
  c.region = "westeurope";
  c.pools.push_back(make_pool("system", system_nodes, 8, 32));
  c.pools.push_back(
      make_pool("gpu", gpu_nodes, 96, 1024, GpuSpec{"NVIDIA H100 80GB HBM3", 8, 80, "550.90.07", "12.4"}));
  return c;
}

FaultRates rates(double upgrade, double probe, double drain, double disconnect = 0) {
  return FaultRates{upgrade, probe, drain, disconnect};
}

SimCluster make_sim(FaultRates faults = {}, std::uint64_t seed = 7, ClusterSpec spec = cluster_spec()) {
  return SimCluster(std::move(spec), SimOptions{Durations{}, faults, seed});
}

json pool_payload(json extra = json::object()) {
  json payload = {{"pool", "gpu"}, {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202511.01.0"}};
  payload.merge_patch(extra);
  return payload;
}

protocol::Command pool_upgrade(std::string id, json extra = json::object()) {
  return command_of(std::move(id), "upgrade_node_pool", pool_payload(std::move(extra)));
}

protocol::CommandStatus run_to_end(SimCluster& sim, const protocol::Command& c, double start = 0) {
  auto r = sim.start(c, start);
  REQUIRE(r.ok());
  while (auto due = sim.next_due()) sim.advance(*due);
  auto s = sim.status(c.id);
  REQUIRE(s.has_value());
  REQUIRE(s->state != protocol::CommandState::kRunning);
  return *s;
}

std::vector<std::string> types_for(const std::vector<protocol::CommandEvent>& events, const std::string& node) {
  std::vector<std::string> out;
  for (const protocol::CommandEvent& e : events) {
    if (e.node == node) out.push_back(e.type);
  }
  return out;
}

int count_type(const std::vector<protocol::CommandEvent>& events, std::string_view type) {
  return static_cast<int>(
      std::count_if(events.begin(), events.end(), [&](const protocol::CommandEvent& e) { return e.type == type; }));
}

// Nodes are never left cordoned and forgotten, and admission state agrees with the taints.
void check_node_invariants(const SimCluster& sim) {
  REQUIRE(model::validate_inventory(sim.inventory()).ok());
  for (const model::NodeInfo& n : sim.inventory().nodes) {
    INFO(n.name);
    CHECK(n.schedulable == !sim.cordoned());
    if (n.admission == model::Admission::kAdmitted) {
      CHECK_FALSE(n.has_taint(model::kTaintGpuUnverified));
      CHECK_FALSE(n.has_taint(model::kTaintGpuQuarantined));
    }
    if (n.admission == model::Admission::kQuarantined) {
      CHECK(n.has_taint(model::kTaintGpuUnverified));
      CHECK(n.has_taint(model::kTaintGpuQuarantined));
    }
    if (n.admission == model::Admission::kPendingProbe || n.admission == model::Admission::kProbing) {
      CHECK(n.has_taint(model::kTaintGpuUnverified));
    }
  }
}

TEST_CASE("a sim cluster's inventory follows its spec", "[agent]") {
  SimCluster sim = make_sim();
  const model::ClusterInventory& inv = sim.inventory();
  CHECK(model::validate_inventory(inv).ok());
  CHECK(inv.kubernetes_version == "1.31.4");
  CHECK(inv.node_image_version == kDefaultNodeImageVersion);
  REQUIRE(inv.nodes.size() == 7);
  int gpu_nodes = 0;
  std::set<std::string> uuids;
  for (const model::NodeInfo& n : inv.nodes) {
    CHECK(n.name.rfind("aks-" + n.pool + "-", 0) == 0);
    CHECK(n.labels.at("kubernetes.azure.com/agentpool") == n.pool);
    CHECK(n.labels.at("topology.kubernetes.io/region") == "westeurope");
    CHECK(n.schedulable);
    CHECK(n.admission == model::Admission::kAdmitted);
    CHECK(n.allocatable.cpu_millicores < n.capacity.cpu_millicores);
    if (n.pool == "gpu") {
      ++gpu_nodes;
      REQUIRE(n.gpus.size() == 8);
      CHECK(n.capacity.gpus == 8);
      CHECK(n.capacity.cpu_millicores == 96000);
      CHECK(n.capacity.memory_bytes == std::int64_t{1024} << 30);
      CHECK(n.gpus[3].memory_bytes == std::int64_t{80} << 30);
      CHECK(n.gpus[3].driver_version == "550.90.07");
      CHECK(n.labels.at("nvidia.com/gpu.product") == "NVIDIA-H100-80GB-HBM3");
      for (const model::GpuInfo& g : n.gpus) uuids.insert(g.uuid);
    } else {
      CHECK(n.gpus.empty());
    }
  }
  CHECK(gpu_nodes == 4);
  CHECK(uuids.size() == 32);
  // Same spec and seed → same inventory; another seed → other names and uuids.
  CHECK(make_sim().inventory() == inv);
  CHECK_FALSE(make_sim({}, 8).inventory() == inv);

  ClusterSpec pending = cluster_spec();
  pending.pools[1].initial_admission = model::Admission::kPendingProbe;
  pending.provider = "arc";
  SimCluster fresh = make_sim({}, 7, pending);
  for (const model::NodeInfo& n : fresh.inventory().nodes) {
    CHECK(n.name.rfind("moc-", 0) == 0);
    if (!n.gpus.empty()) {
      // Pending GPU nodes are probed from the start, one at a time (at most 1 node or 10% probe at once).
      CHECK((n.admission == model::Admission::kPendingProbe || n.admission == model::Admission::kProbing));
      CHECK(n.has_taint(model::kTaintGpuUnverified));
    }
  }
  fresh.advance(4 * 15);
  for (const model::NodeInfo& n : fresh.inventory().nodes) CHECK(n.admission == model::Admission::kAdmitted);
  const auto records = fresh.take_probe_records();
  CHECK(records.size() == 4);
  for (const auto& r : records) CHECK(r.trigger == admission::Trigger::kJoin);
}

TEST_CASE("commands: unsupported kinds and bad payloads are rejected", "[agent]") {
  SimCluster sim = make_sim();
  auto r = start_command(sim, "c1", "cordon_node", {{"node", sim.inventory().nodes[0].name}}, 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().type == "unsupported-command");
  CHECK_THAT(r.error().message, Catch::Contains("the sim does not run cordon_node; it runs upgrade_control_plane"));
  CHECK(start_command(sim, "c0", "no_such_kind", json::object(), 0).error().field == "kind");
  CHECK(start_command(sim, "c2", "upgrade_node_pool", json::array(), 0).error().field == "payload");
  CHECK(start_command(sim, "", "run_probe", json::object(), 0).error().field == "id");
  CHECK(start_command(sim, "c3", "upgrade_node_pool", {{"pool", "gpu"}}, 0).error().field == "payload");
  CHECK(start_command(sim, "c4", "upgrade_node_pool", {{"pool", "nope"}, {"nodeImageVersion", "x"}}, 0).error().code ==
        ErrorCode::kNotFound);
  CHECK(start_command(sim, "c5", "upgrade_node_pool", pool_payload({{"maxSurge", 0}, {"maxUnavailable", 0}}), 0)
            .error()
            .field == "payload.maxUnavailable");
  CHECK(start_command(sim, "c6", "upgrade_node_pool", pool_payload({{"maxSurge", "lots"}}), 0).error().field ==
        "payload.maxSurge");
  CHECK(start_command(sim, "c7", "upgrade_node_pool", pool_payload({{"maxSurge", "120%"}}), 0).error().field ==
        "payload.maxSurge");
  CHECK(start_command(sim, "c8", "upgrade_control_plane", json::object(), 0).error().field ==
        "payload.kubernetesVersion");
  CHECK(start_command(sim, "c9", "upgrade_control_plane", {{"kubernetesVersion", "1.33.0"}}, 0).error().field ==
        "payload.kubernetesVersion");  // skips 1.32
  CHECK(start_command(sim, "c10", "upgrade_control_plane", {{"kubernetesVersion", "1.30.1"}}, 0).error().field ==
        "payload.kubernetesVersion");  // downgrade
  auto newer = sim.start(pool_upgrade("c11", {{"kubernetesVersion", "1.32.7"}}), 0);
  CHECK(newer.error().code == ErrorCode::kConflict);  // nodes may not pass the control plane
  auto probe = start_command(sim, "c12", "run_probe", {{"nodes", {"missing-node"}}}, 0);
  CHECK(probe.error().code == ErrorCode::kNotFound);
  CHECK(probe.error().field == "payload.nodes[0]");
  std::string system_node = sim.inventory().nodes[4].name;  // "aks-system-…" sorts after "aks-gpu-…"
  CHECK(start_command(sim, "c13", "run_probe", {{"nodes", {system_node}}}, 0).error().code == ErrorCode::kInvalid);
  CHECK(sim.take_events().empty());  // nothing was started
  CHECK_FALSE(sim.status("c1").has_value());
}

TEST_CASE("control-plane upgrade takes controlPlaneUpgradeSeconds", "[agent]") {
  SimCluster sim = make_sim();
  protocol::Command c = command_of("cp-1", "upgrade_control_plane", {{"kubernetesVersion", "1.32.7"}});
  auto r = sim.start(c, 100);
  REQUIRE(r.ok());
  CHECK(r->started);
  CHECK(r->status.state == protocol::CommandState::kRunning);
  CHECK(sim.next_due() == 700);
  sim.advance(699.5);
  CHECK(sim.status("cp-1")->state == protocol::CommandState::kRunning);
  CHECK(sim.inventory().kubernetes_version == "1.31.4");
  // Another upgrade while this one runs is refused.
  CHECK(sim.start(pool_upgrade("pool-1"), 699.5).error().code == ErrorCode::kConflict);
  sim.advance(700);
  protocol::CommandStatus s = *sim.status("cp-1");
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.finished_at == 700);
  CHECK(sim.inventory().kubernetes_version == "1.32.7");
  auto events = sim.take_events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "command_started");
  CHECK(events[1].type == "control_plane_upgraded");
  CHECK(events[1].at == 700);
  CHECK(events[2].type == "command_succeeded");
  CHECK(sim.take_events().empty());
  // At target already: succeeds at once.
  auto again = start_command(sim, "cp-2", "upgrade_control_plane", {{"kubernetesVersion", "1.32.7"}}, 800);
  REQUIRE(again.ok());
  CHECK(again->status.state == protocol::CommandState::kSucceeded);
  // Now the nodes may follow.
  CHECK(sim.start(pool_upgrade("pool-2", {{"kubernetesVersion", "1.32.7"}}), 800).ok());
}

TEST_CASE("node pool upgrade: cordon, drain, upgrade, probe, admit, one node at a time", "[agent]") {
  SimCluster sim = make_sim();
  protocol::Command c = pool_upgrade("up-1");
  auto r = sim.start(c, 0);
  REQUIRE(r.ok());
  CHECK(r->status.nodes_total == 4);
  const std::string first = sim.inventory().nodes[0].name;
  const std::string second = sim.inventory().nodes[1].name;

  sim.advance(59);
  CHECK_FALSE(sim.inventory().find_node(first)->schedulable);
  CHECK(sim.inventory().find_node(second)->schedulable);  // maxSurge 1, maxUnavailable 0 → one at a time
  sim.advance(60 + 240);  // drained at 60, upgraded at 300: unverified until the probe passes
  const model::NodeInfo* n = sim.inventory().find_node(first);
  CHECK(n->node_image_version == "AKSUbuntu-2204gen2containerd-202511.01.0");
  CHECK(n->admission == model::Admission::kProbing);  // the admission machine probes it at once
  CHECK(n->has_taint(model::kTaintGpuUnverified));
  CHECK(model::format_taint(n->taints.back()) == "fleet.io/gpu-unverified=:NoSchedule");
  CHECK_FALSE(n->schedulable);
  sim.advance(315);  // probe passed: admitted, uncordoned, and the next node is cordoned
  n = sim.inventory().find_node(first);
  CHECK(n->admission == model::Admission::kAdmitted);
  CHECK_FALSE(n->has_taint(model::kTaintGpuUnverified));
  CHECK(n->schedulable);
  CHECK_FALSE(sim.inventory().find_node(second)->schedulable);
  CHECK(sim.status("up-1")->nodes_done == 1);

  sim.advance(10000);
  protocol::CommandStatus s = *sim.status("up-1");
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.finished_at == 4 * 315);
  CHECK(s.nodes_done == 4);
  CHECK(s.nodes_failed == 0);
  CHECK(s.details[first] == "upgraded");
  check_node_invariants(sim);
  auto events = sim.take_events();
  CHECK(types_for(events, first) ==
        std::vector<std::string>{"node_cordoned", "node_drained", "node_upgraded", "node_admitted", "node_uncordoned"});
  CHECK(events.back().type == "command_succeeded");
  // The system pool was not touched, so the cluster's node image stays.
  CHECK(sim.inventory().node_image_version == kDefaultNodeImageVersion);
  // A second run finds nothing to do.
  auto again = sim.start(pool_upgrade("up-2"), 20000);
  REQUIRE(again.ok());
  CHECK(again->status.state == protocol::CommandState::kSucceeded);
  CHECK(again->status.nodes_total == 0);
}

TEST_CASE("node pool upgrade honours maxSurge and maxUnavailable", "[agent]") {
  auto max_cordoned = [](json budget, double* finished) {
    SimCluster sim = make_sim({}, 7, cluster_spec(3, 8));
    REQUIRE(sim.start(pool_upgrade("u", budget), 0).ok());
    int worst = 0;
    for (double t = 0; t <= 20000; t += 5) {
      sim.advance(t);
      int cordoned = 0;
      for (const model::NodeInfo& n : sim.inventory().nodes) cordoned += !n.schedulable;
      worst = std::max(worst, cordoned);
    }
    *finished = *sim.status("u")->finished_at;
    return worst;
  };
  double finished = 0;
  CHECK(max_cordoned({{"maxSurge", 1}}, &finished) == 1);
  CHECK(finished == 8 * 315);
  // 8 nodes, 3 at a time; the probes of nodes upgraded together take turns (at most 1 of 8 GPU nodes probes at
  // once), so each later batch starts 15 s after the previous one's first node: 300 + 3×15, 2×(300+15) + …
  CHECK(max_cordoned({{"maxSurge", 2}, {"maxUnavailable", 1}}, &finished) == 3);
  CHECK(finished == 960);
  CHECK(max_cordoned({{"maxSurge", "25%"}}, &finished) == 2);
  CHECK(finished == 1275);
  CHECK(max_cordoned({{"maxSurge", 0}, {"maxUnavailable", "30%"}}, &finished) == 2);  // 2.4 rounds down
  CHECK(max_cordoned({{"maxSurge", "30%"}}, &finished) == 3);                         // 2.4 rounds up
  CHECK(max_cordoned({{"maxSurge", "100%"}}, &finished) == 8);
  CHECK(finished == 300 + 8 * 15);  // all upgraded together, probed one after another
}

TEST_CASE("commands are idempotent by id", "[agent]") {
  SimCluster sim = make_sim();
  protocol::Command c = pool_upgrade("up-1");
  REQUIRE(sim.start(c, 0)->started);
  auto twice = sim.start(c, 10);
  REQUIRE(twice.ok());
  CHECK_FALSE(twice->started);
  CHECK(twice->status.state == protocol::CommandState::kRunning);
  sim.advance(5000);
  auto events = sim.take_events();
  CHECK(count_type(events, "command_started") == 1);
  CHECK(count_type(events, "node_cordoned") == 4);
  auto done = sim.start(c, 6000);
  REQUIRE(done.ok());
  CHECK_FALSE(done->started);
  CHECK(done->status == *sim.status("up-1"));
  CHECK(done->status.state == protocol::CommandState::kSucceeded);
  CHECK(sim.take_events().empty());
  protocol::Command other = pool_upgrade("up-1", {{"maxSurge", 2}});
  auto reused = sim.start(other, 6000);
  REQUIRE_FALSE(reused.ok());
  CHECK(reused.error().code == ErrorCode::kConflict);
  CHECK(reused.error().field == "id");
}

TEST_CASE("faults: drain timeout and upgrade failure restore the node — probe failure quarantines", "[agent]") {
  SECTION("drain timeout") {
    SimCluster sim = make_sim(rates(0, 0, 1.0));
    protocol::CommandStatus s = run_to_end(sim, pool_upgrade("u"));
    CHECK(s.state == protocol::CommandState::kFailed);
    CHECK(s.nodes_failed == 1);  // maxFailedNodes 0: stops after the first failure
    CHECK(s.message.find("3 nodes not started") != std::string::npos);
    const std::string first = sim.inventory().nodes[0].name;
    CHECK(s.details[first] == "drain_timed_out");
    CHECK(sim.inventory().find_node(first)->node_image_version == kDefaultNodeImageVersion);
    CHECK(types_for(sim.take_events(), first) ==
          std::vector<std::string>{"node_cordoned", "node_drain_timed_out", "node_uncordoned"});
    check_node_invariants(sim);
  }
  SECTION("upgrade failure") {
    SimCluster sim = make_sim(rates(1.0, 0, 0));
    protocol::CommandStatus s = run_to_end(sim, pool_upgrade("u", {{"maxFailedNodes", 10}}));
    CHECK(s.state == protocol::CommandState::kSucceeded);  // within the budget, every node was tried
    CHECK(s.nodes_failed == 4);
    CHECK(s.message.find("4 failed") != std::string::npos);
    for (const model::NodeInfo& n : sim.inventory().nodes) CHECK(n.node_image_version == kDefaultNodeImageVersion);
    check_node_invariants(sim);
  }
  SECTION("probe failure") {
    SimCluster sim = make_sim(rates(0, 1.0, 0));
    protocol::CommandStatus s = run_to_end(sim, pool_upgrade("u", {{"maxSurge", "100%"}}));
    CHECK(s.state == protocol::CommandState::kFailed);
    CHECK(s.nodes_failed == 4);  // all four were in flight together
    for (const model::NodeInfo& n : sim.inventory().nodes) {
      if (n.gpus.empty()) continue;
      CHECK(n.admission == model::Admission::kQuarantined);
      CHECK(n.has_taint(model::kTaintGpuQuarantined));
      CHECK(n.has_taint(model::kTaintGpuUnverified));
      CHECK(n.node_image_version == "AKSUbuntu-2204gen2containerd-202511.01.0");
      CHECK(n.allocatable.gpus == 7);
      CHECK(std::count_if(n.gpus.begin(), n.gpus.end(),
                          [](const model::GpuInfo& g) { return g.health == "unhealthy"; }) == 1);
    }
    check_node_invariants(sim);
  }
}

TEST_CASE("fault rates hold statistically (seeded)", "[agent]") {
  // 1000 GPU nodes all in flight at once; each rate 0.1. Expected counts: drain timeouts 100, upgrade failures
  // 0.9·0.1·1000 = 90, quarantines 0.81·0.1·1000 = 81; the bounds are about ±4 standard deviations.
  SimCluster sim = make_sim(rates(0.1, 0.1, 0.1), 5, cluster_spec(0, 1000));
  protocol::CommandStatus s = run_to_end(sim, pool_upgrade("u", {{"maxSurge", "100%"}, {"maxFailedNodes", 1000}}));
  auto events = sim.take_events();
  int drains = count_type(events, "node_drain_timed_out");
  int upgrades = count_type(events, "node_upgrade_failed");
  int quarantines = count_type(events, "node_quarantined");
  CHECK(drains >= 60);
  CHECK(drains <= 140);
  CHECK(upgrades >= 53);
  CHECK(upgrades <= 127);
  CHECK(quarantines >= 47);
  CHECK(quarantines <= 115);
  CHECK(s.nodes_failed == drains + upgrades + quarantines);
  CHECK(count_type(events, "node_admitted") == 1000 - s.nodes_failed);
  check_node_invariants(sim);

  SimCluster none = make_sim({}, 5, cluster_spec(0, 300));
  CHECK(run_to_end(none, pool_upgrade("u", {{"maxSurge", "100%"}})).nodes_failed == 0);
}

TEST_CASE("same seed and inputs give the same events, however often advance() is called", "[agent]") {
  FaultRates faults = rates(0.2, 0.2, 0.2);
  auto scenario = [&](std::uint64_t seed, double tick) {
    SimCluster sim = make_sim(faults, seed, cluster_spec(5, 12));
    std::vector<protocol::CommandEvent> all;
    REQUIRE(start_command(sim, "cp", "upgrade_control_plane", {{"kubernetesVersion", "1.32.7"}}, 0).ok());
    sim.advance(1000);
    REQUIRE(
        sim.start(pool_upgrade("gpu-up", {{"kubernetesVersion", "1.32.7"}, {"maxSurge", 3}, {"maxFailedNodes", 12}}),
                  1000)
            .ok());
    for (double t = 1000; t <= 1000 + 12 * 315; t += tick) sim.advance(t);
    REQUIRE(start_command(sim, "probe", "run_probe", json::object(), 6000).ok());
    REQUIRE(start_command(sim, "sys-up", "upgrade_node_pool",
                          {{"pool", "system"}, {"kubernetesVersion", "1.32.7"}, {"maxFailedNodes", 5}}, 6000)
                .ok());
    sim.advance(20000);
    all = sim.take_events();
    return std::make_pair(all, sim.inventory());
  };
  auto [a, inv_a] = scenario(7, 1);
  auto [b, inv_b] = scenario(7, 1);
  auto [c, inv_c] = scenario(7, 250);
  CHECK(a == b);
  CHECK(inv_a == inv_b);
  CHECK(a == c);  // coarser advance() calls, same events at the same simulated times
  CHECK(inv_a == inv_c);
  auto [d, inv_d] = scenario(8, 1);
  CHECK_FALSE(a == d);
  CHECK(count_type(a, "command_started") == 4);
  CHECK(count_type(a, "command_succeeded") + count_type(a, "command_failed") == 4);
  CHECK(std::is_sorted(a.begin(), a.end(),
                       [](const protocol::CommandEvent& x, const protocol::CommandEvent& y) { return x.at < y.at; }));
}

TEST_CASE("run_probe admits or quarantines GPU nodes", "[agent]") {
  ClusterSpec spec = cluster_spec();
  spec.pools[1].initial_admission = model::Admission::kPendingProbe;
  SimCluster sim = make_sim({}, 7, spec);
  protocol::CommandStatus s = run_to_end(sim, command_of("p", "run_probe", json::object()), 0);
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.nodes_total == 4);
  CHECK(s.finished_at == 4 * 15);  // one at a time
  for (const model::NodeInfo& n : sim.inventory().nodes) {
    CHECK(n.admission == model::Admission::kAdmitted);
    CHECK(n.taints.empty());
  }
  check_node_invariants(sim);

  SimCluster failing = make_sim(rates(0, 1.0, 0));
  std::string target = failing.inventory().nodes[1].name;
  s = run_to_end(failing, command_of("p", "run_probe", {{"nodes", {target}}}), 0);
  CHECK(s.state == protocol::CommandState::kFailed);
  CHECK(s.nodes_total == 1);
  CHECK(failing.inventory().find_node(target)->admission == model::Admission::kQuarantined);
  CHECK(failing.inventory().nodes[0].admission == model::Admission::kAdmitted);
  check_node_invariants(failing);

  SimCluster cpu_only = make_sim({}, 7, cluster_spec(3, 0));
  CHECK(run_to_end(cpu_only, command_of("p", "run_probe", json::object())).state == protocol::CommandState::kSucceeded);

  SimCluster busy = make_sim();
  REQUIRE(busy.start(pool_upgrade("u"), 0).ok());
  busy.advance(10);
  auto clash = start_command(busy, "p", "run_probe", {{"nodes", {busy.inventory().nodes[0].name}}}, 10);
  CHECK(clash.error().code == ErrorCode::kConflict);
}

TEST_CASE("a failed simulated probe names a check, in a report of gpu-probe's schema", "[agent]") {
  SimCluster sim = make_sim(rates(0, 1.0, 0), 3);
  const std::string target = sim.inventory().nodes[0].name;
  protocol::CommandStatus s = run_to_end(sim, command_of("p", "run_probe", {{"nodes", {target}}}), 0);
  CHECK(s.state == protocol::CommandState::kFailed);
  auto records = sim.take_probe_records();
  REQUIRE(records.size() == 1);
  const auto& r = records[0];
  CHECK(r.trigger == admission::Trigger::kManual);
  CHECK_FALSE(r.verdict.admitted);
  REQUIRE(r.verdict.failed_checks.size() == 1);
  const std::set<std::string> checks = {
      "memory_test", "hbm_bandwidth", "gemm_bf16_correctness", "ecc_uncorrected_volatile",
      "pcie_link",   "straggler_hbm"};
  CHECK(checks.count(r.verdict.failed_checks[0]) == 1);
  REQUIRE(r.report.has_value());
  CHECK(r.report->gpus.size() == 8);
  CHECK(r.gpu_uuids.size() == 8);
  // The quarantine taint names the check; the GPU the report blames is unhealthy.
  const model::NodeInfo* n = sim.inventory().find_node(target);
  CHECK(n->admission == model::Admission::kQuarantined);
  bool named = false;
  for (const auto& taint : n->taints)
    named |= taint.key == model::kTaintGpuQuarantined && taint.value == r.verdict.failed_checks[0];
  CHECK(named);
  CHECK(n->allocatable.gpus == 7);
  // The seed chooses the check: across seeds, more than one of them comes up.
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    SimCluster other = make_sim(rates(0, 1.0, 0), seed);
    run_to_end(other, command_of("p", "run_probe", {{"nodes", {other.inventory().nodes[0].name}}}), 0);
    for (const auto& rec : other.take_probe_records()) seen.insert(rec.verdict.failed_checks.at(0));
  }
  CHECK(seen.size() >= 4);
}

TEST_CASE("set_node_admission: an operator admits or quarantines a GPU node at once, with the reason", "[agent]") {
  SimCluster sim = make_sim(rates(0, 1.0, 0), 3);
  const std::string target = sim.inventory().nodes[0].name;
  run_to_end(sim, command_of("p", "run_probe", {{"nodes", {target}}}), 0);
  REQUIRE(sim.inventory().find_node(target)->admission == model::Admission::kQuarantined);
  protocol::CommandStatus s = run_to_end(
      sim, command_of("a", "set_node_admission", {{"node", target}, {"admission", "admitted"}, {"reason", "reseated"}}),
      100);
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.message == "node " + target + " admitted by an operator: reseated");
  const model::NodeInfo* n = sim.inventory().find_node(target);
  CHECK(n->admission == model::Admission::kAdmitted);
  for (const auto& taint : n->taints) {
    CHECK(taint.key != model::kTaintGpuQuarantined);
    CHECK(taint.key != model::kTaintGpuUnverified);
  }
  s = run_to_end(
      sim,
      command_of("q", "set_node_admission", {{"node", target}, {"admission", "quarantined"}, {"reason", "XID 79"}}),
      200);
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(sim.inventory().find_node(target)->admission == model::Admission::kQuarantined);
  CHECK(sim.take_probe_records().size() == 1);  // the one probe; the operator's word is no probe result
  // A node that does not exist, or has no GPUs, is refused.
  auto missing = sim.start(
      command_of("m", "set_node_admission", {{"node", "nope"}, {"admission", "admitted"}, {"reason", "x"}}), 300);
  CHECK(missing.error().code == ErrorCode::kNotFound);
  std::string cpu_node;
  for (const auto& node : sim.inventory().nodes) {
    if (node.gpus.empty()) cpu_node = node.name;
  }
  if (!cpu_node.empty()) {
    auto cpu = sim.start(
        command_of("c", "set_node_admission", {{"node", cpu_node}, {"admission", "admitted"}, {"reason", "x"}}), 300);
    CHECK(cpu.error().code == ErrorCode::kInvalid);
  }
}

TEST_CASE("admitted GPU nodes are probed again on the admission schedule", "[agent]") {
  SimCluster sim = make_sim();
  CHECK_FALSE(sim.next_due().has_value());  // nothing runs: re-probes do not keep the shell awake
  sim.advance(7 * 24 * 3600.0 - 1);
  CHECK(sim.take_probe_records().empty());
  sim.advance(7 * 24 * 3600.0 + 4 * 15);
  auto records = sim.take_probe_records();
  REQUIRE(records.size() == 4);
  for (const auto& r : records) CHECK(r.trigger == admission::Trigger::kSchedule);
  check_node_invariants(sim);
}

TEST_CASE("cordon_cluster cordons every node — upgrades leave them cordoned until uncordon", "[agent]") {
  SimCluster sim = make_sim();
  auto r = start_command(sim, "cordon", "cordon_cluster", json::object(), 0);
  REQUIRE(r.ok());
  CHECK(r->status.state == protocol::CommandState::kSucceeded);
  CHECK(sim.cordoned());
  for (const model::NodeInfo& n : sim.inventory().nodes) CHECK_FALSE(n.schedulable);
  REQUIRE(sim.start(pool_upgrade("u", {{"maxSurge", 2}}), 0).ok());
  sim.advance(100);
  // Uncordoning in the middle of an upgrade frees the idle nodes; the ones in flight stay cordoned until done.
  REQUIRE(start_command(sim, "uncordon", "cordon_cluster", {{"cordon", false}}, 100).ok());
  CHECK_FALSE(sim.cordoned());
  int cordoned = 0;
  for (const model::NodeInfo& n : sim.inventory().nodes) cordoned += !n.schedulable;
  CHECK(cordoned == 2);
  sim.advance(10000);
  CHECK(sim.status("u")->state == protocol::CommandState::kSucceeded);
  check_node_invariants(sim);
  auto events = sim.take_events();
  CHECK(events[1].type == "cluster_cordoned");
  CHECK(events[1].message == "7 nodes cordoned");
  CHECK(count_type(events, "cluster_uncordoned") == 1);
  CHECK(start_command(sim, "bad", "cordon_cluster", {{"cordon", "yes"}}, 10000).error().field == "payload.cordon");
}

TEST_CASE("agentDisconnect is a seeded per-window query", "[agent]") {
  CHECK_FALSE(make_sim().should_disconnect(0));
  SimCluster always = make_sim(rates(0, 0, 0, 1.0));
  CHECK(always.should_disconnect(12345));
  SimCluster some = make_sim(rates(0, 0, 0, 0.3));
  int disconnected = 0;
  for (int w = 0; w < 10000; ++w) {
    bool d = some.should_disconnect(w * 60.0 + 1);
    CHECK(d == some.should_disconnect(w * 60.0 + 59));  // constant within a window
    disconnected += d;
  }
  CHECK(disconnected > 2800);
  CHECK(disconnected < 3200);
  SimCluster same = make_sim(rates(0, 0, 0, 0.3));
  for (int w = 0; w < 100; ++w) CHECK(same.should_disconnect(w * 60.0) == some.should_disconnect(w * 60.0));
}

TEST_CASE("status and events have a JSON form", "[agent]") {
  SimCluster sim = make_sim();
  protocol::CommandStatus s = run_to_end(sim, pool_upgrade("u"));
  json j = to_json(s);
  CHECK(j["state"] == "succeeded");
  CHECK(j["nodesTotal"] == 4);
  CHECK(j["finishedAt"] == 1260.0);
  auto events = sim.take_events();
  json e = to_json(events[1]);
  CHECK(e["type"] == "node_cordoned");
  CHECK(e["commandId"] == "u");
  CHECK(e.contains("node"));
  CHECK_FALSE(to_json(events[0]).contains("node"));
}

TEST_CASE("a pool upgrade stops between nodes at its notAfter, and a second command does the nodes left",
          "[agent][sim]") {
  SimCluster sim = make_sim();  // 4 GPU nodes, one at a time
  // notAfter one simulated second in: the first node is in hand then and finishes; no other starts.
  auto r = sim.start(pool_upgrade("stop.1", {{"notAfter", format_rfc3339(SimCluster::wall_time(1))}}), 0);
  REQUIRE(r.ok());
  while (auto due = sim.next_due()) sim.advance(*due);
  auto first = sim.status("stop.1");
  REQUIRE(first);
  CHECK(first->state == protocol::CommandState::kSucceeded);
  CHECK(first->stopped);
  CHECK(first->nodes_done == 1);
  CHECK_THAT(first->message, Catch::Contains("stopped at its notAfter after 1 of 4 nodes; 3 left"));
  CHECK(protocol::to_json(*first)["stopped"] == true);
  check_node_invariants(sim);  // the node in hand was restored; the others were never touched

  // The same step again (a new id, no notAfter): only the three left.
  auto rest = run_to_end(sim, pool_upgrade("stop.2"), sim.now());
  CHECK(rest.state == protocol::CommandState::kSucceeded);
  CHECK_FALSE(rest.stopped);
  CHECK(rest.nodes_total == 3);
  check_node_invariants(sim);

  // Delivered after its notAfter: nothing starts, and it says so.
  SimCluster late = make_sim();
  late.advance(100);
  auto none = late.start(pool_upgrade("late.1", {{"notAfter", format_rfc3339(SimCluster::wall_time(50))}}), 100);
  REQUIRE(none.ok());
  CHECK(none->status.stopped);
  CHECK(none->status.nodes_done == 0);
  CHECK_THAT(none->status.message, Catch::Contains("no node started"));
}

}  // namespace
}  // namespace fleet::agent
