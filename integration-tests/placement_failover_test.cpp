// Re-placement when a cluster is gone (issue #15 item 1, the part built so far): real PostgreSQL, fleetd and two
// fleet-sim processes, each running half of a four-cluster GPU fleet (--shard). Workloads are placed and run; then
// the process whose clusters run more of them is killed, so its clusters stop heartbeating. Past fleetd's
// --unreachable-after grace they are unreachable, and the placement loop moves every replica they held to the live
// clusters, where the sim agents run them (Running comes from the agents' inventory). The old bindings are being
// deleted (their delete_workload waits for agents that are not coming back in this test), and each move is in the
// workload's events with its reason.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "integration-tests/workload_moves.hpp"

namespace failover_itest {

using namespace fleet::itest;
using nlohmann::json;

constexpr int kFailoverWorkloads = 12;

json gpu_workload(int i) {
  return one_gpu_workload("svc-" + std::to_string(i), 1);
}

// The workload's bindings by cluster: state.
std::map<std::string, std::string> bindings_of(FleetdProcess& fleetd, const std::string& workload) {
  std::map<std::string, std::string> out;
  const json placement = fleetd.call_json("GET", "/v1/workloads/" + workload + "/placement");
  for (const json& b : placement.value("bindings", json::array())) {
    out[b["cluster"].get<std::string>()] = b["state"].get<std::string>();
  }
  return out;
}

// Every workload runs on a cluster of `live` (and only there, but for bindings being deleted elsewhere).
bool all_run_on(FleetdProcess& fleetd, const std::set<std::string>& live) {
  for (int i = 0; i < kFailoverWorkloads; ++i) {
    int running = 0;
    for (const auto& [cluster, state] : bindings_of(fleetd, "svc-" + std::to_string(i))) {
      if (live.contains(cluster) && state == "Running") ++running;
      if (!live.contains(cluster) && state != "Deleting") return false;
    }
    if (running != 1) return false;
  }
  return true;
}

TEST_CASE("fleet-sim: workloads on clusters that stop heartbeating move to live clusters and run there",
          "[integration][placement][fleet-sim][failover]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "4"})};
  auto spec = fleet::agent::generate_fleet_spec(4, "h100:8x100%", 7);
  REQUIRE(spec);
  spec->time_scale = 2000;
  std::filesystem::create_directories(dir.path() / "shard-0");
  std::filesystem::create_directories(dir.path() / "shard-1");
  // --shard I/2 runs the spec's clusters I and I + 2.
  std::unique_ptr<ChildProcess> shards[2] = {
      start_fleet_sim(fleetd, dir.path() / "shard-0", *spec, {"--shard", "0/2"}),
      start_fleet_sim(fleetd, dir.path() / "shard-1", *spec, {"--shard", "1/2"})};
  REQUIRE(wait_for_ready_clusters(fleetd, 4));
  const std::set<std::string> halves[2] = {{spec->clusters[0].name, spec->clusters[2].name},
                                           {spec->clusters[1].name, spec->clusters[3].name}};

  for (int i = 0; i < kFailoverWorkloads; ++i) fleetd.call_json("POST", "/v1/workloads", gpu_workload(i).dump(), 201);
  std::set<std::string> everywhere = halves[0];
  everywhere.insert(halves[1].begin(), halves[1].end());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!all_run_on(fleetd, everywhere)) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  // The process whose clusters run more of the workloads is the one that dies (the engine packs, so it may be all).
  std::vector<std::string> on_half[2];
  for (int i = 0; i < kFailoverWorkloads; ++i) {
    const std::string name = "svc-" + std::to_string(i);
    for (const auto& [cluster, state] : bindings_of(fleetd, name))
      on_half[halves[0].contains(cluster) ? 0 : 1].push_back(name);
  }
  const int doomed = on_half[0].size() >= on_half[1].size() ? 0 : 1;
  const std::set<std::string>& lost = halves[doomed];
  const std::set<std::string>& live = halves[1 - doomed];
  const std::vector<std::string>& moved = on_half[doomed];
  REQUIRE_FALSE(moved.empty());

  shards[doomed]->signal(SIGKILL);
  REQUIRE(shards[doomed]->wait(std::chrono::seconds(10)) >= 0);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!all_run_on(fleetd, live)) {
    INFO(fleetd.call_json("GET", "/v1/workloads/" + moved.front() + "/placement").dump());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  for (const std::string& name : moved) {
    INFO(name);
    bool unbound = false;
    bool running = false;
    for (const json& e : fleetd.list_all("/v1/workloads/" + name + "/events")) {
      const std::string cluster = e.value("cluster", "");
      const std::string message = e.value("message", "");
      if (e["type"] == "Unbound" && lost.contains(cluster) && message.find("ClusterState") != std::string::npos) {
        unbound = true;
      }
      if (e["type"] == "Running" && live.contains(cluster)) running = true;
    }
    CHECK(unbound);
    CHECK(running);
  }
  // Workloads already on live clusters stayed where they were: nothing about them changed.
  CHECK(on_half[1 - doomed].size() + moved.size() == static_cast<std::size_t>(kFailoverWorkloads));
  for (int i = 0; i < kFailoverWorkloads; ++i) {
    const std::string name = "svc-" + std::to_string(i);
    if (std::find(moved.begin(), moved.end(), name) != moved.end()) continue;
    int unbound = 0;
    for (const json& e : fleetd.list_all("/v1/workloads/" + name + "/events")) unbound += e["type"] == "Unbound";
    CHECK(unbound == 0);
  }
}

json pinned_workload(const std::string& slot) {
  json w = gpu_workload(0);
  w["name"] = "pinned";
  w["manifests"][0]["metadata"]["name"] = "pinned";
  w["policy"]["affinity"] = {{"required", {{"labelSelector", "slot=" + slot}}}};
  return w;
}

// A two-cluster fleet (slot=a, slot=b) with the pinned workload running on a.
struct PinnedOnA {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  fleet::agent::FleetSpec spec;
  std::string a, b;
  std::unique_ptr<ChildProcess> sim;

  explicit PinnedOnA(std::uint64_t seed) : spec(slot_fleet(seed)), a(spec.clusters[0].name), b(spec.clusters[1].name) {
    sim = start_fleet_sim(fleetd, dir.path(), spec);
    REQUIRE(wait_for_ready_clusters(fleetd, 2));
    fleetd.call_json("POST", "/v1/workloads", pinned_workload("a").dump(), 201);
    wait_for([&] { return bindings_of(fleetd, "pinned") == std::map<std::string, std::string>{{a, "Running"}}; });
  }

  void wait_for(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done()) {
      INFO(fleetd.call_json("GET", "/v1/workloads/pinned/placement").dump());
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
};

TEST_CASE("fleet-sim: a move off a live cluster is make before break: the old binding goes once the new one runs",
          "[integration][placement][fleet-sim][failover]") {
  PinnedOnA f(11);
  // The affinity now names the other cluster.
  REQUIRE(f.fleetd.call("PUT", "/v1/workloads/pinned", pinned_workload("b").dump()).status == 200);
  f.wait_for([&] { return bindings_of(f.fleetd, "pinned") == std::map<std::string, std::string>{{f.b, "Running"}}; });
  // In the events, in order: the move (a kept running), b running, then a removed, and only then deleted there.
  CHECK(workload_move(f.fleetd, "pinned", f.a, f.b).steps ==
        std::vector<std::string>{"superseded", "running", "removing", "removed"});
}

// The nodes a workload's binding on `cluster` uses.
std::set<std::string> bound_nodes(FleetdProcess& fleetd, const std::string& workload, const std::string& cluster) {
  std::set<std::string> out;
  const json placement = fleetd.call_json("GET", "/v1/workloads/" + workload + "/placement");
  for (const json& b : placement.value("bindings", json::array())) {
    if (b["cluster"] != cluster) continue;
    for (const json& n : b["nodes"]) out.insert(n["node"].get<std::string>());
  }
  return out;
}

TEST_CASE("fleet-sim: replicas on a node its operator quarantines move to admitted nodes",
          "[integration][placement][fleet-sim][failover]") {
  PinnedOnA f(13);
  const std::set<std::string> before = bound_nodes(f.fleetd, "pinned", f.a);
  REQUIRE(before.size() == 1);
  const std::string node = *before.begin();
  f.fleetd.call_json("POST", "/v1/clusters/" + f.a + "/nodes/" + node + ":quarantine",
                     R"({"reason": "ECC errors on GPU 3"})", 202);
  f.wait_for([&] {
    const std::set<std::string> now = bound_nodes(f.fleetd, "pinned", f.a);
    return !now.empty() && !now.contains(node) && bindings_of(f.fleetd, "pinned")[f.a] == "Running";
  });
  bool moved = false;
  for (const json& e : f.fleetd.list_all("/v1/workloads/pinned/events")) {
    moved |=
        e["type"] == "Bound" && e.value("message", "").find("moved between nodes (was " + node) != std::string::npos;
  }
  CHECK(moved);
}

}  // namespace failover_itest
