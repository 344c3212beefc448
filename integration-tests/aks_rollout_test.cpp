// A staged run carried out on an AKS cluster by the aks upgrade driver, end to end (issue #13 item 1): real
// PostgreSQL and fleetd, and fleet-agent --backend kubernetes --aks-cluster-id, against the Kubernetes API TEST
// DOUBLE and the Azure Resource Manager TEST DOUBLE (agents/kube/testing; in-memory stand-ins over HTTPS, not an API
// server or Azure). A Full run to 1.32.7 sends the control plane's PUT, then each pool's, each followed through its
// long-running operation; when ARM's operation ends, the double moves the pool's kubelets as AKS's node replacement
// would, and fleetd's inventory shows the new version. Checked from what ARM received, in order, and from the run.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration-tests/aks_cluster_doubles.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

namespace aks_rollout_itest {

using namespace fleet::itest;
using nlohmann::json;

TEST_CASE("aks driver end to end: a staged run upgrades an AKS cluster's control plane, then its pools, through ARM",
          "[integration][rollout][kube][aks]") {
  using namespace std::chrono;
  TempDir dir;
  AksClusterDoubles doubles(dir.path(), "1.31.4", 1);
  doubles.add_pool("system", 2, "1.31.4");
  doubles.add_pool("user", 1, "1.31.4");
  doubles.follow_upgrades();
  auto& arm = *doubles.arm;

  FleetdProcess fleetd(FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"}));
  fleetd.call_json("POST", "/v1/clusters",
                   R"({"name": "aks-westeurope-1", "provider": "aks", "labels": {"ring": "one"}})", 201);
  const auto agent = doubles.start_agent(fleetd, "aks-westeurope-1", dir.path());
  REQUIRE(wait_for_ready_clusters(fleetd, 1, "1.31.4"));

  const json body = {{"name", "aks-full"},
                     {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
                     {"strategy", {{"stages", {{{"name", "all"}, {"labelSelector", "ring=one"}}}}}}};
  fleetd.call_json("POST", "/v1/rollouts", body.dump(), 201);
  fleetd.call_json("POST", "/v1/rollouts/aks-full:start", "");

  json run;
  const auto deadline = steady_clock::now() + seconds(120);
  for (;;) {
    run = fleetd.call_json("GET", "/v1/rollouts/aks-full");
    if (run["state"] == "Completed" || run["state"] == "Failed") break;
    INFO(run.dump());
    REQUIRE(steady_clock::now() < deadline);
    std::this_thread::sleep_for(milliseconds(200));
  }
  INFO(run.dump());
  REQUIRE(run["state"] == "Completed");
  CHECK(run["stages"][0]["members"][0]["state"] == "Succeeded");

  // What ARM received: the control plane first, then each pool once, each at the target.
  std::vector<std::string> writes;
  for (const auto& r : arm.requests()) {
    if ((r.method != "PUT" && r.method != "POST") || r.path.rfind(arm.cluster_id(), 0) != 0) continue;  // not Entra
    const std::string tail = r.path.substr(arm.cluster_id().size());
    writes.push_back(r.method + " " + (tail.empty() ? "/" : tail));
    const json sent = json::parse(r.body);
    if (tail.empty()) {
      CHECK(sent["properties"]["kubernetesVersion"] == "1.32.7");
    } else {
      CHECK(sent["properties"]["orchestratorVersion"] == "1.32.7");
    }
  }
  REQUIRE(writes.size() == 3);
  CHECK(writes[0] == "PUT /");
  CHECK(std::set<std::string>(writes.begin() + 1, writes.end()) ==
        std::set<std::string>{"PUT /agentPools/system", "PUT /agentPools/user"});
  CHECK(arm.managed_cluster()["properties"]["currentKubernetesVersion"] == "1.32.7");
  CHECK(arm.pool("system").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
  CHECK(arm.pool("user").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");

  // The agent's inventory catches up: every node's kubelet at the target.
  const auto caught_up = steady_clock::now() + seconds(30);
  for (;;) {
    const json nodes = fleetd.call_json("GET", "/v1/clusters/aks-westeurope-1/nodes");
    int at_target = 0;
    for (const json& n : nodes["items"]) at_target += n["kubernetesVersion"] == "1.32.7" ? 1 : 0;
    if (at_target == 3) break;
    INFO(nodes.dump());
    REQUIRE(steady_clock::now() < caught_up);
    std::this_thread::sleep_for(milliseconds(200));
  }

  // The run's events name each step as it went.
  std::vector<std::string> said;
  for (const json& e : fleetd.list_all("/v1/rollouts/aks-full/events")) said.push_back(e.value("message", ""));
  const auto any = [&](const std::string& text) {
    return std::any_of(said.begin(), said.end(),
                       [&](const std::string& m) { return m.find(text) != std::string::npos; });
  };
  CHECK(any("control plane → 1.32.7"));
  CHECK(any("pool system → 1.32.7"));
  CHECK(any("pool user → 1.32.7"));
}

}  // namespace aks_rollout_itest
