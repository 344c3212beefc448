// Issue #15 item 1 at fleet scale (its acceptance): real PostgreSQL, fleetd and two fleet-sim processes running
// half of a 24-cluster GPU fleet each. 200 workloads are bound and run, most with a disruption budget. Then the
// process whose clusters run more of them is killed: past the liveness grace its clusters are unreachable and
// every workload comes to run on the live half. Then a rollout upgrades the live half one cluster at a time:
// each node pool's drain waits while it would break a budget, the placement moves those replicas ahead of it, and
// the run completes with every workload running. From the workloads' events: no replica on a live cluster was
// taken away before its replacement ran (the only voluntary removals are make-before-break ones), so no budget was
// broken by anything fleetd chose to do.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "integration-tests/workload_moves.hpp"

namespace replacement_itest {

using namespace fleet::itest;
using nlohmann::json;

constexpr int kReplacementClusters = 24;
constexpr int kReplacementWorkloads = 200;

json fleet_workload(int i) {
  json w = one_gpu_workload("wl-" + std::to_string(i), 1 + i % 2);
  if (i % 4 == 1) w["disruptionBudget"] = {{"maxUnavailable", 1}};  // 2 replicas: one may go
  if (i % 4 == 2) w["disruptionBudget"] = {{"minAvailable", 1}};    // 1 replica: it may not go
  if (i % 4 == 3) w["disruptionBudget"] = {{"minAvailable", "100%"}};
  return w;
}

// Every workload's bindings (cluster → state), once each is decided at its generation.
std::map<std::string, std::map<std::string, std::string>> all_bindings(FleetdProcess& fleetd, bool& decided) {
  std::map<std::string, std::map<std::string, std::string>> out;
  decided = true;
  for (const json& w : fleetd.list_all("/v1/workloads?limit=500")) {
    const std::string name = w["name"];
    const json p = fleetd.call_json("GET", "/v1/workloads/" + name + "/placement");
    decided = decided && p.value("decidedGeneration", 0) == p.value("generation", -1) && p["decision"] == "Placed";
    for (const json& b : p.value("bindings", json::array())) out[name][b["cluster"]] = b["state"];
  }
  return out;
}

// Waits until every workload is Placed and runs only on `on` (bindings elsewhere are being deleted).
void wait_running_on(FleetdProcess& fleetd, const std::set<std::string>& on, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    bool decided = false;
    const auto bindings = all_bindings(fleetd, decided);
    std::string waiting;
    for (const auto& [workload, clusters] : bindings) {
      int running = 0;
      for (const auto& [cluster, state] : clusters) {
        if (on.contains(cluster) && state == "Running") ++running;
        if (on.contains(cluster) ? state != "Running" : state != "Deleting") waiting = workload + "@" + cluster;
      }
      if (running != 1) waiting = workload;
    }
    if (decided && waiting.empty() && static_cast<int>(bindings.size()) == kReplacementWorkloads) return;
    INFO("waiting for " << waiting);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

TEST_CASE(
    "fleet-sim: 200 workloads move off a lost half of the fleet and ahead of a rollout's drains, within their budgets",
    "[integration][placement][rollout][fleet-sim][replacement]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "4"})};
  auto spec = fleet::agent::generate_fleet_spec(kReplacementClusters, "h100:8x100%", 1517);
  REQUIRE(spec);
  spec->time_scale = 2000;
  for (std::size_t i = 0; i < spec->clusters.size(); ++i) spec->clusters[i].labels["half"] = std::to_string(i % 2);
  std::filesystem::create_directories(dir.path() / "shard-0");
  std::filesystem::create_directories(dir.path() / "shard-1");
  std::unique_ptr<ChildProcess> shards[2] = {
      start_fleet_sim(fleetd, dir.path() / "shard-0", *spec, {"--shard", "0/2"}),
      start_fleet_sim(fleetd, dir.path() / "shard-1", *spec, {"--shard", "1/2"})};
  REQUIRE(wait_for_ready_clusters(fleetd, kReplacementClusters, "1.31.4"));
  std::set<std::string> halves[2];
  for (std::size_t i = 0; i < spec->clusters.size(); ++i) halves[i % 2].insert(spec->clusters[i].name);

  for (int i = 0; i < kReplacementWorkloads; ++i) {
    fleetd.call_json("POST", "/v1/workloads", fleet_workload(i).dump(), 201);
  }
  std::set<std::string> everywhere = halves[0];
  everywhere.insert(halves[1].begin(), halves[1].end());
  wait_running_on(fleetd, everywhere, std::chrono::seconds(120));

  // The half running more of them is lost; the other must hold all of them with room to drain one cluster.
  bool decided = false;
  const auto before = all_bindings(fleetd, decided);
  int on_half[2] = {0, 0};
  for (const auto& [workload, clusters] : before) {
    for (const auto& [cluster, state] : clusters) ++on_half[halves[0].contains(cluster) ? 0 : 1];
  }
  const int doomed = on_half[0] >= on_half[1] ? 0 : 1;
  const std::set<std::string>& live = halves[1 - doomed];
  int live_gpus = 0;
  for (const std::string& c : live)
    live_gpus += fleetd.call_json("GET", "/v1/clusters/" + c + "/capacity")["gpus"]["total"].get<int>();
  constexpr int kUsedGpus = kReplacementWorkloads * 3 / 2;  // 1 GPU a replica, 1 or 2 replicas
  REQUIRE(live_gpus * 2 >= kUsedGpus * 3);

  shards[doomed]->signal(SIGKILL);
  REQUIRE(shards[doomed]->wait(std::chrono::seconds(10)) >= 0);
  wait_running_on(fleetd, live, std::chrono::seconds(120));

  // The live half upgraded one cluster at a time: drains wait for the budgets, placements move ahead of them.
  const json rollout = {
      {"name", "live-half"},
      {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
      {"strategy",
       {{"stages",
         {{{"name", "live"}, {"labelSelector", "half=" + std::to_string(1 - doomed)}, {"maxConcurrency", "1"}}}}}}};
  fleetd.call_json("POST", "/v1/rollouts", rollout.dump(), 201);
  fleetd.call_json("POST", "/v1/rollouts/live-half:start", "");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  for (;;) {
    const json run = fleetd.call_json("GET", "/v1/rollouts/live-half");
    if (run["state"] == "Completed") break;
    INFO(run.dump());
    REQUIRE(run["state"] == "Running");
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  wait_running_on(fleetd, live, std::chrono::seconds(60));
  int holds = 0;
  for (const json& e : fleetd.list_all("/v1/rollouts/live-half/events?limit=5000")) {
    holds += e["scope"] == "member" && e.value("message", "").find("waiting to drain pool gpu") != std::string::npos;
  }
  CHECK(holds > 0);

  // From the events: on a live cluster, a binding was only ever taken away after its replacement ran.
  int moved = 0;
  for (int i = 0; i < kReplacementWorkloads; ++i) {
    const std::string name = "wl-" + std::to_string(i);
    for (const json& e : fleetd.list_all("/v1/workloads/" + name + "/events")) {
      const std::string message = e.value("message", "");
      if (e["type"] != "Unbound" || !live.contains(e.value("cluster", ""))) continue;
      INFO(name << ": " << e.dump());
      const bool make_before_break =
          message.find("keep running here until the new bindings run") != std::string::npos ||
          message.find("the bindings that replace them run") != std::string::npos;
      CHECK(make_before_break);
      moved += message.find("the bindings that replace them run") != std::string::npos;
    }
  }
  WARN("replicas moved ahead of drains on the live half: " << moved << " bindings; drain holds: " << holds);
  CHECK(moved > 0);
}

}  // namespace replacement_itest
