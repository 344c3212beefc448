// A staged run carried out on a k3s cluster by the system-upgrade-controller driver, end to end (issue #13 item 1):
// real PostgreSQL and fleetd, and fleet-agent --backend kubernetes --upgrade-driver system-upgrade-controller,
// against the Kubernetes API TEST DOUBLE with a TEST DOUBLE of the controller (agents/kube/testing; not an API
// server, not rancher/system-upgrade-controller): it reads the Plans the agent applies, upgrades the selected nodes'
// kubelets one at a time and writes the Plans' status. A Full run to 1.32.7 applies the control plane's Plan, then
// each pool's, and completes; fleetd's inventory shows every node at the target.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "agents/kube/testing/suc_controller_double.hpp"
#include "integration-tests/cluster_doubles.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

namespace suc_rollout_itest {

using namespace fleet::itest;
using fleet::agent::kube::testing::SucControllerDouble;
using nlohmann::json;

const std::string kPlans = "/apis/upgrade.cattle.io/v1/namespaces/system-upgrade/plans/";

json k3s_node(const std::string& name, const std::string& pool, bool server) {
  json labels = {{"kubernetes.io/hostname", name}, {"node.kubernetes.io/pool", pool}};
  if (server) labels["node-role.kubernetes.io/control-plane"] = "true";
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", json::object()},
          {"status",
           {{"capacity", {{"cpu", "4"}, {"memory", "16Gi"}}},
            {"allocatable", {{"cpu", "4"}, {"memory", "16Gi"}}},
            {"nodeInfo", {{"kubeletVersion", "v1.31.4+k3s1"}, {"osImage", "Ubuntu 24.04.1 LTS"}}}}}};
}

TEST_CASE("system-upgrade-controller driver end to end: a staged run upgrades a k3s cluster through Plans",
          "[integration][rollout][kube][suc]") {
  TempDir dir;
  KubeClusterDouble cluster(dir.path(), "v1.31.4+k3s1");
  cluster.kube->put_node(k3s_node("server-0", "server", true));
  cluster.kube->put_node(k3s_node("worker-0", "workers", false));
  cluster.kube->put_node(k3s_node("worker-1", "workers", false));
  SucControllerDouble controller(
      *cluster.kube, {kPlans + "fleet-control-plane", kPlans + "fleet-pool-server", kPlans + "fleet-pool-workers"});

  FleetdProcess fleetd(FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"}));
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "edge-k3s-1", "provider": "arc", "labels": {"ring": "one"}})",
                   201);
  const auto agent =
      cluster.start_agent(fleetd, "edge-k3s-1", dir.path(),
                          {"--upgrade-driver", "system-upgrade-controller", "--suc-poll-interval", "0.5"});
  REQUIRE(wait_for_ready_clusters(fleetd, 1, "1.31.4+k3s1"));  // the version as k3s spells it

  const json run = full_run_to_end(fleetd, "k3s-full", "1.32.7");
  INFO(run.dump());
  REQUIRE(run["state"] == "Completed");
  CHECK(run["stages"][0]["members"][0]["state"] == "Succeeded");

  // The Plans the agent applied: one each, for the version, the control plane's first.
  CHECK(cluster.kube->count_requests("PATCH", kPlans + "fleet-control-plane") == 1);
  CHECK(cluster.kube->count_requests("PATCH", kPlans + "fleet-pool-workers") == 1);
  const auto workers = cluster.kube->object(kPlans + "fleet-pool-workers");
  REQUIRE(workers.has_value());
  CHECK((*workers)["spec"]["version"] == "v1.32.7+k3s1");
  std::vector<std::string> order;
  for (const auto& r : cluster.kube->requests()) {
    if (r.method == "PATCH" && r.path.rfind(kPlans, 0) == 0) order.push_back(r.path.substr(kPlans.size()));
  }
  REQUIRE_FALSE(order.empty());
  CHECK(order.front() == "fleet-control-plane");
  CHECK(controller.upgraded() == 3);  // each node once

  wait_for_nodes_at(fleetd, "edge-k3s-1", "1.32.7+k3s1", 3);  // fleetd's inventory catches up
}

}  // namespace suc_rollout_itest
