// Disruption budgets against a rollout's drain (issue #15 item 1): real PostgreSQL, fleetd and fleet-sim, two GPU
// clusters. A workload with {"minAvailable": 2} runs both its replicas on cluster a's gpu pool; a rollout upgrades
// cluster a. The drain of that pool would leave none available, so the rollout holds that step and says why; the
// placement loop counts the held pool as draining and moves the replicas to cluster b, make before break; once
// they run there the old binding goes, the hold is released, and the pool is upgraded. Checked from the records:
// the rollout's events name the hold, the workload's events are in make-before-break order, and the gpu pool's
// upgrade command was created only once the replicas ran on b (the pool was never drained under the budget).
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "common/time_format.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "integration-tests/workload_moves.hpp"

namespace drain_itest {

using namespace fleet::itest;
using nlohmann::json;

json budgeted_workload(bool pinned) {
  json w = one_gpu_workload("llm", 2);
  if (pinned) w["policy"]["affinity"] = {{"required", {{"labelSelector", "slot=a"}}}};
  w["disruptionBudget"] = {{"minAvailable", 2}};
  return w;
}

std::map<std::string, std::string> llm_bindings(FleetdProcess& fleetd) {
  std::map<std::string, std::string> out;
  const json placement = fleetd.call_json("GET", "/v1/workloads/llm/placement");
  for (const json& b : placement.value("bindings", json::array())) out[b["cluster"]] = b["state"];
  return out;
}

template <typename Pred>
void wait_until(FleetdProcess& fleetd, Pred done, int seconds = 90) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    INFO(fleetd.call_json("GET", "/v1/workloads/llm/placement").dump());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::chrono::system_clock::time_point time_of(const json& j, const char* key) {
  auto t = fleet::parse_timestamp(j.at(key).get<std::string>());
  REQUIRE(t);
  return *t;
}

TEST_CASE("fleet-sim: a rollout holds a drain that would break a workload's disruption budget until it moves",
          "[integration][placement][rollout][fleet-sim][drain]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  const fleet::agent::FleetSpec spec = slot_fleet(21);
  const std::string a = spec.clusters[0].name;
  const std::string b = spec.clusters[1].name;
  const auto manifests = dir.path() / "manifests";
  const auto sim = start_fleet_sim(fleetd, dir.path(), spec, {"--manifests-dir", manifests.string()});
  REQUIRE(wait_for_ready_clusters(fleetd, 2, "1.31.4"));

  // Both replicas on a (pinned there first, then free to go anywhere: the binding stays where it runs).
  fleetd.call_json("POST", "/v1/workloads", budgeted_workload(true).dump(), 201);
  wait_until(fleetd, [&] { return llm_bindings(fleetd) == std::map<std::string, std::string>{{a, "Running"}}; });
  REQUIRE(fleetd.call("PUT", "/v1/workloads/llm", budgeted_workload(false).dump()).status == 200);
  wait_until(fleetd, [&] {
    const json p = fleetd.call_json("GET", "/v1/workloads/llm/placement");
    return p.value("decidedGeneration", 0) == 2 &&
           llm_bindings(fleetd) == std::map<std::string, std::string>{{a, "Running"}};
  });

  const json rollout = {{"name", "upgrade-a"},
                        {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
                        {"strategy", {{"stages", {{{"name", "a"}, {"labelSelector", "slot=a"}}}}}}};
  fleetd.call_json("POST", "/v1/rollouts", rollout.dump(), 201);
  fleetd.call_json("POST", "/v1/rollouts/upgrade-a:start", "");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(150);
  for (;;) {
    const json run = fleetd.call_json("GET", "/v1/rollouts/upgrade-a");
    if (run["state"] == "Completed") break;
    INFO(run.dump() << "\n" << fleetd.call_json("GET", "/v1/workloads/llm/placement").dump());
    REQUIRE(run["state"] == "Running");
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  CHECK(llm_bindings(fleetd) == std::map<std::string, std::string>{{b, "Running"}});
  // What b runs is pinned to its GPU product, as its nodes' GPU Feature Discovery label names it.
  std::ifstream applied(manifests / b / "llm.json");
  const json objects = json::parse(applied, nullptr, false);
  REQUIRE(objects.is_array());
  const std::string product =
      objects[0]["spec"]["template"]["spec"]["nodeSelector"].value("nvidia.com/gpu.product", std::string());
  const json nodes = fleetd.call_json("GET", "/v1/clusters/" + b + "/nodes");
  bool labelled = false;
  for (const json& n : nodes["items"]) {
    labelled |= !product.empty() && n["labels"].value("nvidia.com/gpu.product", "") == product;
  }
  INFO(objects.dump());
  CHECK(labelled);

  // The rollout said why it waited.
  bool held = false;
  for (const json& e : fleetd.list_all("/v1/rollouts/upgrade-a/events?limit=1000")) {
    const std::string message = e.value("message", "");
    if (e["scope"] == "member" && message.find("waiting to drain pool gpu") != std::string::npos) {
      CHECK_THAT(message, Catch::Contains("workload llm has 2 replicas on pool gpu of " + a) &&
                              Catch::Contains("below its disruption budget (minAvailable 2)"));
      held = true;
    }
  }
  CHECK(held);

  // The workload moved make before break, and a's gpu pool was upgraded only once its replicas ran on b.
  const WorkloadMove move = workload_move(fleetd, "llm", a, b);
  CHECK(move.steps == std::vector<std::string>{"superseded", "running", "removing", "removed"});
  REQUIRE(move.running_at);
  bool upgraded = false;
  for (const json& c : fleetd.list_all("/v1/clusters/" + a + "/commands?limit=100")) {
    if (c["kind"] != "upgrade_node_pool" || c["payload"].value("pool", "") != "gpu") continue;
    upgraded = true;
    // createdAt is the executor's transaction start, which can precede by milliseconds the commit it read b's
    // Running from; the event's time is taken just before that commit. Hence the small allowance.
    CHECK(time_of(c, "createdAt") + std::chrono::milliseconds(100) >= *move.running_at);
    CHECK(c["state"] == "succeeded");
  }
  CHECK(upgraded);
}

}  // namespace drain_itest
