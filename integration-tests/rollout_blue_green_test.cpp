// Blue-green node pools (issue #13 item 4) with real PostgreSQL, fleetd and fleet-sim, two GPU clusters.
// A one-GPU workload runs two replicas on cluster a's gpu pool. A run with nodeUpgrade.blueGreen on the gpu pool
// upgrades cluster a: the plan names the new pool; the agent makes it (its GPU nodes probed and admitted), moves the
// workload to it and keeps the old pool cordoned and empty for the soak; :rollback within the soak moves the workload
// back and deletes the new pool. A second run on cluster b with a one-second soak replaces its pool and then
// deletes the old one. Checked from what the agents report (nodes, pools, allocated GPUs) and from the run's
// events, which show every step. fleetd's placement follows each move: the workload's binding names the new pool's
// nodes in the soak and the old pool's after the rollback.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "integration-tests/workload_moves.hpp"

namespace blue_green_itest {

using namespace fleet::itest;
using nlohmann::json;

// pool → {nodes, allocated GPUs, cordoned nodes, Kubernetes versions} as the cluster's agent reports them.
struct PoolView {
  int nodes = 0;
  int allocated_gpus = 0;
  int cordoned = 0;
  std::set<std::string> versions;
  bool operator==(const PoolView&) const = default;
};

std::map<std::string, PoolView> pools_of(FleetdProcess& fleetd, const std::string& cluster) {
  std::map<std::string, PoolView> out;
  const json nodes = fleetd.call_json("GET", "/v1/clusters/" + cluster + "/nodes");  // kept: the loop reads into it
  for (const json& n : nodes["items"]) {
    PoolView& p = out[n["pool"].get<std::string>()];
    ++p.nodes;
    p.allocated_gpus += n["allocated"]["gpus"].get<int>();
    p.cordoned += n.value("schedulable", true) ? 0 : 1;
    p.versions.insert(n["kubernetesVersion"].get<std::string>());
  }
  return out;
}

// The pools of the nodes that fleetd's placement binds `workload` to on `cluster`, with the replicas on each.
std::map<std::string, int> bound_pools(FleetdProcess& fleetd, const std::string& workload, const std::string& cluster) {
  std::map<std::string, std::string> pool_of;
  const json nodes = fleetd.call_json("GET", "/v1/clusters/" + cluster + "/nodes");  // kept: the loop reads into it
  for (const json& n : nodes["items"]) pool_of[n["name"].get<std::string>()] = n["pool"].get<std::string>();
  std::map<std::string, int> out;
  const json placement = fleetd.call_json("GET", "/v1/workloads/" + workload + "/placement");
  for (const json& b : placement["bindings"]) {
    if (b["cluster"] != cluster) continue;
    for (const json& n : b["nodes"]) {
      const auto it = pool_of.find(n["node"].get<std::string>());
      out[it == pool_of.end() ? "(gone)" : it->second] += n["replicas"].get<int>();
    }
  }
  return out;
}

json member_of(FleetdProcess& fleetd, const std::string& run) {
  return fleetd.call_json("GET", "/v1/rollouts/" + run)["stages"][0]["members"][0];
}

template <typename Pred>
void wait_until(const std::string& what, Pred done, int seconds = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    INFO("waiting for " << what);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

json blue_green_run(const std::string& name, const std::string& slot, const std::string& soak) {
  return {{"name", name},
          {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
          {"strategy", {{"stages", {{{"name", slot}, {"labelSelector", "slot=" + slot}}}}}},
          {"nodeUpgrade", {{"blueGreen", {{"pools", {"gpu"}}, {"soak", soak}}}}}};
}

// The run's member events as "from>to: message".
std::vector<std::string> member_events(FleetdProcess& fleetd, const std::string& run) {
  std::vector<std::string> out;
  for (const json& e : fleetd.list_all("/v1/rollouts/" + run + "/events")) {
    if (e.value("scope", "") != "member") continue;
    out.push_back(e.value("from", "") + ">" + e.value("to", "") + ": " + e.value("message", ""));
  }
  return out;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

TEST_CASE("fleet-sim: a blue-green pool replaces the old one, and :rollback within the soak puts the workload back",
          "[integration][rollout][blue-green][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  const fleet::agent::FleetSpec spec = slot_fleet(33);
  const std::string a = spec.clusters[0].name;
  const std::string b = spec.clusters[1].name;
  const auto sim = start_fleet_sim(fleetd, dir.path(), spec);
  REQUIRE(wait_for_ready_clusters(fleetd, 2, "1.31.4"));

  // Two replicas on a's gpu pool.
  json workload = one_gpu_workload("llm", 2);
  workload["policy"]["affinity"] = {{"required", {{"labelSelector", "slot=a"}}}};
  fleetd.call_json("POST", "/v1/workloads", workload.dump(), 201);
  wait_until("llm on a's gpu pool", [&] { return pools_of(fleetd, a)["gpu"].allocated_gpus == 2; });
  CHECK(bound_pools(fleetd, "llm", a) == std::map<std::string, int>{{"gpu", 2}});
  const std::map<std::string, PoolView> before = pools_of(fleetd, a);
  REQUIRE(before.count("gpu2") == 0);
  const int gpu_nodes = before.at("gpu").nodes;

  // The plan names the new pool.
  const json run = blue_green_run("bg-a", "a", "10m");
  const json plan = fleetd.call_json("POST", "/v1/rollouts:plan", run.dump());
  bool planned = false;
  for (const json& s : plan["members"][0]["steps"]) {
    if (s.value("pool", "") == "gpu") {
      CHECK(s["replacementPool"] == "gpu2");
      planned = true;
    } else if (s.value("pool", "") == "system") {
      CHECK_FALSE(s.contains("replacementPool"));  // not listed: upgraded in place
    }
  }
  CHECK(planned);
  fleetd.call_json("POST", "/v1/rollouts", run.dump(), 201);
  // Nothing to roll back yet.
  CHECK(fleetd.call("POST", "/v1/rollouts/bg-a:rollback", "").status == 409);
  fleetd.call_json("POST", "/v1/rollouts/bg-a:start", "");

  // In the soak: the workload runs on gpu2 at the target; gpu is kept, cordoned and empty.
  wait_until("bg-a's soak",
             [&] { return member_of(fleetd, "bg-a").value("blueGreen", json::object()).value("stage", "") == "Soak"; });
  wait_until("the agent's report of the move", [&] { return pools_of(fleetd, a)["gpu2"].allocated_gpus == 2; });
  {
    auto soaking = pools_of(fleetd, a);
    CHECK(soaking["gpu2"].nodes == gpu_nodes);
    CHECK(soaking["gpu2"].versions == std::set<std::string>{"1.32.7"});
    CHECK(soaking["gpu2"].cordoned == 0);
    CHECK(soaking["gpu"].nodes == gpu_nodes);
    CHECK(soaking["gpu"].cordoned == gpu_nodes);
    CHECK(soaking["gpu"].allocated_gpus == 0);
  }
  // fleetd's placement follows: its binding names the new pool's nodes, so the old pool's cordoned nodes are not
  // counted as holding the workload and the new pool's are not counted as free.
  wait_until("llm's binding on gpu2", [&] {
    INFO(fleetd.call_json("GET", "/v1/workloads/llm/placement").dump());
    return bound_pools(fleetd, "llm", a) == std::map<std::string, int>{{"gpu2", 2}};
  });
  CHECK(pools_of(fleetd, a)["gpu2"].allocated_gpus == 2);
  const json member = member_of(fleetd, "bg-a");
  CHECK(member["state"] == "Upgrading");
  CHECK(member["blueGreen"].contains("soakUntil"));

  // :rollback: the workload goes back to gpu, gpu2 is deleted, the run pauses.
  const json rolled = fleetd.call_json("POST", "/v1/rollouts/bg-a:rollback", json{{"reason", "p99 regressed"}}.dump());
  CHECK(rolled["state"] == "Paused");
  wait_until("bg-a's member to be rolled back", [&] { return member_of(fleetd, "bg-a")["state"] == "Skipped"; });
  CHECK(member_of(fleetd, "bg-a")["skipReason"] == "RolledBack");
  wait_until("the agent's report of the restore", [&] { return pools_of(fleetd, a).count("gpu2") == 0; });
  {
    auto after = pools_of(fleetd, a);
    CHECK(after["gpu"].allocated_gpus == 2);  // the workload is back on the old pool
    CHECK(after["gpu"].cordoned == 0);
    CHECK(after["gpu"].nodes == gpu_nodes);
    CHECK(after["gpu"].versions == before.at("gpu").versions);
  }
  wait_until("llm's binding back on gpu", [&] {
    INFO(fleetd.call_json("GET", "/v1/workloads/llm/placement").dump());
    return bound_pools(fleetd, "llm", a) == std::map<std::string, int>{{"gpu", 2}};
  });
  CHECK(pools_of(fleetd, a)["gpu"].allocated_gpus == 2);
  const auto events = member_events(fleetd, "bg-a");
  INFO(fleetd.call_json("GET", "/v1/rollouts/bg-a/events").dump());
  CHECK(any_contains(events, "control plane → 1.32.7"));
  CHECK(any_contains(events, "pool gpu → gpu2 at 1.32.7"));
  CHECK(any_contains(events, "workloads moved to gpu2; the old pool gpu is kept until"));
  CHECK(any_contains(events, "rolled back by "));
  CHECK(any_contains(events, "Upgrading>Skipped: step"));
  CHECK(any_contains(events, "the workloads are back on gpu"));
  fleetd.call_json("POST", "/v1/rollouts/bg-a:abort", "");

  // Cluster b: a one-second soak, then the old pool is deleted.
  fleetd.call_json("POST", "/v1/rollouts", blue_green_run("bg-b", "b", "1s").dump(), 201);
  fleetd.call_json("POST", "/v1/rollouts/bg-b:start", "");
  wait_until("bg-b to complete", [&] {
    const json r = fleetd.call_json("GET", "/v1/rollouts/bg-b");
    INFO(r.dump());
    REQUIRE(r["state"] != "Failed");
    return r["state"] == "Completed";
  });
  wait_until("b's report of the retired pool", [&] { return pools_of(fleetd, b).count("gpu") == 0; });
  auto replaced = pools_of(fleetd, b);
  REQUIRE(replaced.count("gpu2") == 1);
  CHECK(replaced["gpu2"].versions == std::set<std::string>{"1.32.7"});
  CHECK(any_contains(member_events(fleetd, "bg-b"), "soak over; deleting the old pool gpu"));
}

}  // namespace blue_green_itest
