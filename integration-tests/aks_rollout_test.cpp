// A staged run carried out on an AKS cluster by the aks upgrade driver, end to end (issue #13 item 1): real
// PostgreSQL and fleetd, and fleet-agent --backend kubernetes --aks-cluster-id, against the Kubernetes API TEST
// DOUBLE and the Azure Resource Manager TEST DOUBLE (agents/kube/testing; in-memory stand-ins over HTTPS, not an API
// server or Azure). A Full run to 1.32.7 sends the control plane's PUT, then each pool's, each followed through its
// long-running operation; when ARM's operation ends, the double moves the pool's kubelets as AKS's node replacement
// would, and fleetd's inventory shows the new version. Checked from what ARM received, in order, and from the run.
// The same for an AKS Arc cluster (the aksarc driver): one PUT of the provisioned cluster instance upgrades the
// control plane and every pool, and the pool steps only read their pools. And the plan of a pool whose kubelets
// differ by a patch: the oldest counts, compared as versions.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "integration-tests/cluster_doubles.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

namespace aks_rollout_itest {

using namespace fleet::itest;
using nlohmann::json;

// One cluster "<name>" with ring=one, its agent started, ready at 1.31.4; then a Full run to 1.32.7 on it, followed
// until it ends.
json full_run(FleetdProcess& fleetd, const AksClusterDoubles& doubles, const std::filesystem::path& dir,
              const std::string& cluster, const std::string& provider, std::unique_ptr<ChildProcess>& agent) {
  fleetd.call_json("POST", "/v1/clusters",
                   json{{"name", cluster}, {"provider", provider}, {"labels", {{"ring", "one"}}}}.dump(), 201);
  agent = doubles.start_agent(fleetd, cluster, dir);
  REQUIRE(wait_for_ready_clusters(fleetd, 1, "1.31.4"));
  return full_run_to_end(fleetd, "full", "1.32.7");
}

// The writes ARM received for the cluster, in order: "PUT /" (the cluster resource), "PUT /agentPools/system", ….
std::vector<std::string> arm_writes(const fleet::agent::kube::testing::ArmApiDouble& arm, const std::string& root) {
  std::vector<std::string> out;
  for (const auto& r : arm.requests()) {
    if ((r.method != "PUT" && r.method != "POST") || r.path.rfind(root, 0) != 0) continue;  // not Entra's
    const std::string tail = r.path.substr(root.size());
    out.push_back(r.method + " " + (tail.empty() ? "/" : tail));
  }
  return out;
}

bool any_event(FleetdProcess& fleetd, const std::string& text) {
  for (const json& e : fleetd.list_all("/v1/rollouts/full/events")) {
    if (e.value("message", "").find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("aks driver end to end: a staged run upgrades an AKS cluster's control plane, then its pools, through ARM",
          "[integration][rollout][kube][aks]") {
  TempDir dir;
  AksClusterDoubles doubles(dir.path(), "1.31.4", 1);
  doubles.add_pool("system", 2, "1.31.4");
  doubles.add_pool("user", 1, "1.31.4");
  doubles.follow_upgrades();
  auto& arm = *doubles.arm;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"}));
  std::unique_ptr<ChildProcess> agent;
  const json run = full_run(fleetd, doubles, dir.path(), "aks-westeurope-1", "aks", agent);
  INFO(run.dump());
  REQUIRE(run["state"] == "Completed");
  CHECK(run["stages"][0]["members"][0]["state"] == "Succeeded");

  // What ARM received: the control plane first, then each pool once, each at the target.
  const std::vector<std::string> writes = arm_writes(arm, arm.cluster_id());
  REQUIRE(writes.size() == 3);
  CHECK(writes[0] == "PUT /");
  CHECK(std::set<std::string>(writes.begin() + 1, writes.end()) ==
        std::set<std::string>{"PUT /agentPools/system", "PUT /agentPools/user"});
  for (const auto& r : arm.requests()) {
    if (r.method != "PUT") continue;
    const json sent = json::parse(r.body);
    CHECK(sent["properties"].value(r.path == arm.cluster_id() ? "kubernetesVersion" : "orchestratorVersion", "") ==
          "1.32.7");
  }
  CHECK(arm.managed_cluster()["properties"]["currentKubernetesVersion"] == "1.32.7");
  CHECK(arm.pool("system").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
  CHECK(arm.pool("user").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
  wait_for_nodes_at(fleetd, "aks-westeurope-1", "1.32.7", 3);
  CHECK(any_event(fleetd, "control plane → 1.32.7"));
  CHECK(any_event(fleetd, "pool system → 1.32.7"));
  CHECK(any_event(fleetd, "pool user → 1.32.7"));
}

TEST_CASE("aksarc driver end to end: a staged run upgrades an AKS Arc cluster with one PUT of its instance",
          "[integration][rollout][kube][aksarc]") {
  TempDir dir;
  AksClusterDoubles doubles(dir.path(), "1.31.4", 1, true);
  doubles.add_pool("system", 1, "1.31.4");
  doubles.add_pool("user", 2, "1.31.4");
  doubles.follow_upgrades();
  auto& arm = *doubles.arm;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"}));
  std::unique_ptr<ChildProcess> agent;
  const json run = full_run(fleetd, doubles, dir.path(), "arc-local-1", "arc", agent);
  INFO(run.dump());
  REQUIRE(run["state"] == "Completed");
  CHECK(run["stages"][0]["members"][0]["state"] == "Succeeded");

  // One write in all: the provisioned cluster instance's PUT; its pools followed it, and their steps read them.
  const std::string instance =
      arm.cluster_id() + "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default";
  CHECK(
      arm_writes(arm, arm.cluster_id()) ==
      std::vector<std::string>{"PUT /providers/Microsoft.HybridContainerService/provisionedClusterInstances/default"});
  CHECK(arm.count("GET", instance + "/agentPools/system") >= 1);
  CHECK(arm.count("GET", instance + "/agentPools/user") >= 1);
  CHECK(arm.pool("user").value()["properties"]["kubernetesVersion"] == "1.32.7");
  wait_for_nodes_at(fleetd, "arc-local-1", "1.32.7", 3);
  CHECK(any_event(fleetd, "pool user → 1.32.7"));
}

}  // namespace aks_rollout_itest

namespace aks_rollout_itest {

TEST_CASE("rollout plan: a pool whose kubelets differ by a patch is planned from its oldest (1.31.9, not 1.31.10)",
          "[integration][rollout][plan][kube]") {
  TempDir dir;
  KubeClusterDouble cluster(dir.path(), "v1.31.10");
  cluster.kube->put_node(aks_node("aks-system-0", "system", "1.31.10"));
  cluster.kube->put_node(aks_node("aks-user-0", "user", "1.31.10"));
  cluster.kube->put_node(aks_node("aks-user-1", "user", "1.31.9"));  // "1.31.10" < "1.31.9" as text
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"}));
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "aks-1", "provider": "aks", "labels": {"ring": "one"}})", 201);
  const auto agent = cluster.start_agent(fleetd, "aks-1", dir.path(), {});
  REQUIRE(wait_for_ready_clusters(fleetd, 1, "1.31.10"));

  const json body = {{"name", "patch"},
                     {"target", {{"type", "Full"}, {"kubernetesVersion", "1.31.10"}, {"allowUnsupported", true}}},
                     {"strategy", {{"stages", {{{"name", "all"}, {"labelSelector", "ring=one"}}}}}}};
  const json plan = fleetd.call_json("POST", "/v1/rollouts:plan", body.dump());
  INFO(plan.dump());
  std::map<std::string, std::string> version_of;  // pool → the step's kubernetesVersion ("" for an image only)
  for (const json& s : plan["members"][0]["steps"]) {
    if (s.contains("pool")) version_of[s["pool"].get<std::string>()] = s.value("kubernetesVersion", "");
  }
  CHECK(version_of["user"] == "1.31.10");  // aks-user-1 still runs 1.31.9
  CHECK(version_of["system"].empty());     // at the version already: at most its node image
}

}  // namespace aks_rollout_itest
