// The aksarc upgrade driver (AKS enabled by Azure Arc, AKS on Azure Local) against the ARM test double in its AKS
// Arc shape (testing/arm_api_double.hpp, aks_arc; not Azure): the pure parts (the connected cluster id, the paths,
// the PUT body without what ARM computes, the decisions), then the driver: one PUT of the provisioned cluster
// instance upgrades the control plane and every pool, a pool step reads the pool and sends nothing, what the API
// cannot do is refused with nothing sent, a failed operation, Location polling, a 409, an upgrade in flight after an
// agent restart, the step timeout; then through the kubernetes backend.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>

#include "agents/kube/tests/aks_fixture.hpp"
#include "agents/kube/upgrade/aksarc_requests.hpp"
#include "agents/testing/start_command.hpp"

namespace fleet::agent::kube {

using namespace aks_testing;

namespace aksarc_driver_test {

const std::string kConnected =
    "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/edge-rg/providers/Microsoft.Kubernetes/"
    "connectedClusters/store-0042";

protocol::UpgradeControlPlane cluster_to(const std::string& v) {
  return protocol::UpgradeControlPlane{*model::parse_kubernetes_version(v)};
}

protocol::UpgradeNodePool pool_to(const std::string& pool, const std::string& v) {
  protocol::UpgradeNodePool p;
  p.pool = pool;
  if (!v.empty()) p.kubernetes_version = *model::parse_kubernetes_version(v);
  return p;
}

}  // namespace aksarc_driver_test

using aksarc_driver_test::cluster_to;
using aksarc_driver_test::kConnected;
using aksarc_driver_test::pool_to;

TEST_CASE("aksarc requests: the connected cluster id, the instance's paths and what a PUT leaves out", "[aksarc]") {
  auto ref = parse_connected_cluster_id(kConnected);
  REQUIRE(ref.ok());
  CHECK(ref->resource_group == "edge-rg");
  CHECK(ref->name == "store-0042");
  CHECK(provisioned_cluster_path(*ref) ==
        kConnected +
            "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default"
            "?api-version=2024-01-01");
  CHECK(arc_agent_pool_path(*ref, "gpu") ==
        kConnected +
            "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default/agentPools/gpu"
            "?api-version=2024-01-01");
  auto managed = parse_connected_cluster_id(
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-1");
  REQUIRE_FALSE(managed.ok());
  CHECK(managed.error().message ==
        "the Arc connected cluster id \"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/"
        "managedClusters/aks-1\" is not an Arc connected cluster's resource id; expected "
        "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Kubernetes/connectedClusters/NAME "
        "(az connectedk8s show --query id)");
  CHECK(managed.error().field == "aksarc-cluster-id");

  const json instance = {
      {"id", kConnected + "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default"},
      {"extendedLocation", {{"type", "CustomLocation"}, {"name", "/subscriptions/s/customLocations/cl"}}},
      {"systemData", {{"createdBy", "someone"}}},
      {"properties",
       {{"provisioningState", "Succeeded"},
        {"kubernetesVersion", "1.31.4"},
        {"status", {{"currentState", "Succeeded"}}},
        {"controlPlane", {{"count", 3}}},
        {"agentPoolProfiles", json::array({{{"name", "gpu"},
                                            {"count", 2},
                                            {"kubernetesVersion", "1.31.4"},
                                            {"provisioningState", "Succeeded"},
                                            {"status", json::object()}}})}}}};
  const json body = provisioned_cluster_put_body(instance, "1.32.7");
  CHECK(body["properties"]["kubernetesVersion"] == "1.32.7");
  CHECK(body["extendedLocation"] == instance["extendedLocation"]);
  CHECK(body["properties"]["controlPlane"]["count"] == 3);
  CHECK(body["properties"]["agentPoolProfiles"][0] == json{{"name", "gpu"}, {"count", 2}});
  CHECK_FALSE(body["properties"].contains("provisioningState"));
  CHECK_FALSE(body["properties"].contains("status"));
  CHECK_FALSE(body.contains("systemData"));
}

TEST_CASE("aksarc requests: the instance and a pool decide as the whole cluster's version says", "[aksarc]") {
  const auto inst = [](const std::string& state, const std::string& version) {
    return json{{"properties", {{"provisioningState", state}, {"kubernetesVersion", version}}}};
  };
  CHECK(decide_arc_upgrade(inst("Succeeded", "1.31.4"), "1.32.7") == UpgradeDecision::kSend);
  CHECK(decide_arc_upgrade(inst("Upgrading", "1.32.7"), "1.32.7") == UpgradeDecision::kFollow);
  CHECK(decide_arc_upgrade(inst("Updating", "1.31.4"), "1.32.7") == UpgradeDecision::kWaitBusy);
  CHECK(decide_arc_upgrade(inst("Succeeded", "1.32.7"), "1.32.7") == UpgradeDecision::kDone);
  CHECK(decide_arc_upgrade(inst("Failed", "1.32.7"), "1.32.7") == UpgradeDecision::kSend);

  json pool = inst("Succeeded", "1.32.7");
  pool["name"] = "gpu";
  CHECK(*decide_arc_pool(pool, "1.32.7") == UpgradeDecision::kDone);
  pool["properties"]["provisioningState"] = "Upgrading";
  CHECK(*decide_arc_pool(pool, "1.32.7") == UpgradeDecision::kWaitBusy);
  pool["properties"] = {{"provisioningState", "Succeeded"}, {"kubernetesVersion", "1.31.4"}};
  auto alone = decide_arc_pool(pool, "1.32.7");
  REQUIRE_FALSE(alone.ok());
  CHECK(alone.error().type == "pool-follows-cluster");
  CHECK(alone.error().message ==
        "AKS Arc upgrades node pools with the cluster (a pool's kubernetesVersion is the provisioned cluster's), so "
        "pool gpu (at 1.31.4) cannot be upgraded to 1.32.7 on its own: upgrade_control_plane to it upgrades every "
        "pool");
}

TEST_CASE("aksarc driver: one PUT of the instance upgrades the control plane and every pool", "[aksarc]") {
  AksFixture f(true);
  auto driver = make_aksarc_driver(f.arc_options());
  CHECK(driver->name() == "aksarc");
  CHECK_FALSE(driver->replaces_node_pools());
  auto ctx = f.context();
  auto out = driver->upgrade_control_plane(ctx, cluster_to("1.32.7"));
  REQUIRE(out.ok());
  CHECK(*out == "the AKS Arc cluster upgraded to 1.32.7, control plane and node pools");

  const auto writes = f.writes();
  REQUIRE(writes.size() == 1);
  const ArmRecordedRequest& put = writes[0];
  CHECK(put.method == "PUT");
  CHECK(put.path ==
        f.arm->cluster_id() + "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default");
  CHECK(put.query == "api-version=2024-01-01");
  CHECK(put.if_match.empty());  // AKS Arc's instance carries no eTag
  CHECK(put.authorization == "Bearer arm-token-1");
  const json body = json::parse(put.body);
  CHECK(body["properties"]["kubernetesVersion"] == "1.32.7");
  CHECK(body["extendedLocation"]["type"] == "CustomLocation");
  REQUIRE(body["properties"]["agentPoolProfiles"].size() == 2);
  for (const json& p : body["properties"]["agentPoolProfiles"]) CHECK_FALSE(p.contains("kubernetesVersion"));

  CHECK(f.arm->managed_cluster()["properties"]["provisioningState"] == "Succeeded");
  CHECK(f.arm->pool("gpu").value()["properties"]["kubernetesVersion"] == "1.32.7");
  CHECK(f.arm->pool("system").value()["properties"]["kubernetesVersion"] == "1.32.7");
  CHECK(f.count_events("upgrade_started") == 1);
  CHECK(f.count_events("control_plane_upgraded") == 1);
  {
    std::lock_guard lock(f.mutex);
    CHECK(f.events.front().message ==
          "AKS Arc upgrades the control plane and then every node pool to 1.32.7 (its API has no control-plane-only "
          "upgrade)");
  }

  auto again = driver->upgrade_control_plane(ctx, cluster_to("1.32.7"));
  REQUIRE(again.ok());
  CHECK(*again == "the AKS Arc cluster is already at 1.32.7");
  CHECK(f.writes().size() == 1);
}

TEST_CASE("aksarc driver: the cluster's upgrade reports every node as its kubelet reaches the target", "[aksarc]") {
  AksFixture f(true);
  std::atomic<int> reads{0};
  std::vector<std::string> asked;
  // Control plane and pools together: one more node at the target on each read of the node cache, and every one
  // once the double has ended the instance's upgrade.
  f.pool_nodes = [&](const std::string& pool) {
    asked.push_back(pool);
    const int upgraded = reads++;
    const bool ended = f.arm->pool("system").value()["properties"]["kubernetesVersion"] == "1.32.7";
    std::vector<PoolNode> nodes;
    nodes.reserve(5);
    for (int i = 0; i < 5; ++i) {
      nodes.push_back(PoolNode{"moc-" + std::to_string(i), ended || i <= upgraded ? "1.32.7" : "1.31.4", kImage});
    }
    return nodes;
  };
  auto driver = make_aksarc_driver(f.arc_options());
  auto ctx = f.context();
  REQUIRE(driver->upgrade_control_plane(ctx, cluster_to("1.32.7")).ok());
  REQUIRE_FALSE(asked.empty());
  CHECK(std::all_of(asked.begin(), asked.end(), [](const std::string& p) { return p == kEveryPool; }));
  CHECK(f.count_events("node_upgraded") == 5);
  std::lock_guard lock(f.mutex);
  CHECK(f.status.nodes_total == 5);
  CHECK(f.status.nodes_done == 5);
  CHECK(f.status.details.at("moc-0") == "upgraded");
  const auto first = std::find_if(f.events.begin(), f.events.end(),
                                  [](const protocol::CommandEvent& e) { return e.type == "node_upgraded"; });
  REQUIRE(first != f.events.end());
  CHECK(first->node == "moc-0");
  CHECK(first->message == "node moc-0 reports v1.32.7");
}

TEST_CASE("aksarc driver: a pool step reads the pool, reports its nodes and sends nothing", "[aksarc]") {
  AksFixture f(true);
  f.pool_nodes = [](const std::string& pool) {
    std::vector<PoolNode> nodes;
    nodes.reserve(4);
    for (int i = 0; i < 4; ++i) nodes.push_back(PoolNode{"moc-" + pool + "-" + std::to_string(i), "1.32.7", kImage});
    return pool == kEveryPool ? std::vector<PoolNode>() : nodes;  // the cluster's step reports none here
  };
  auto driver = make_aksarc_driver(f.arc_options());
  auto ctx = f.context();
  SECTION("after the cluster's upgrade") {
    REQUIRE(driver->upgrade_control_plane(ctx, cluster_to("1.32.7")).ok());
    auto out = driver->upgrade_node_pool(ctx, pool_to("gpu", "1.32.7"));
    REQUIRE(out.ok());
    CHECK(*out == "AKS Arc pool gpu is at 1.32.7 (pools are upgraded with the cluster)");
    CHECK(f.writes().size() == 1);  // the instance's PUT only
    CHECK(f.count_events("node_upgraded") == 4);
  }
  SECTION("while the cluster's upgrade is still running: waited for") {
    f.arm->start_operation("", "1.32.7");  // another client's upgrade, in flight
    auto out = driver->upgrade_node_pool(ctx, pool_to("gpu", "1.32.7"));
    REQUIRE(out.ok());
    CHECK(f.writes().empty());
    CHECK(f.count_events("upgrade_waiting") == 1);
  }
  SECTION("on its own: refused, nothing sent") {
    auto out = driver->upgrade_node_pool(ctx, pool_to("gpu", "1.32.7"));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().type == "pool-follows-cluster");
    CHECK(f.writes().empty());
  }
  SECTION("a node image only: refused, nothing sent") {
    auto out = driver->upgrade_node_pool(ctx, pool_to("gpu", ""));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().type == "unsupported-command");
    CHECK(out.error().message ==
          "AKS Arc has no node-image-only upgrade in its published API (a pool's image changes with the cluster's "
          "Kubernetes version), so pool gpu was left as it is");
    CHECK(f.arm->requests().empty());
  }
  SECTION("a pool the cluster does not have") {
    auto out = driver->upgrade_node_pool(ctx, pool_to("tpu", "1.32.7"));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().code == ErrorCode::kNotFound);
    CHECK(out.error().message.rfind("AKS Arc: pool tpu does not exist", 0) == 0);
  }
}

TEST_CASE("aksarc driver: a failed operation, a 409, an upgrade in flight and the step timeout", "[aksarc]") {
  AksFixture f(true);
  SECTION("an operation that ends Failed fails the command with ARM's error") {
    f.arm->end_operations_with(testing::OperationEnd::kFail, "KubernetesUpgradeFailed",
                               "control plane node moc-cp-0 did not become Ready");
    auto driver = make_aksarc_driver(f.arc_options());
    auto ctx = f.context();
    auto out = driver->upgrade_control_plane(ctx, cluster_to("1.32.7"));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().type == "upgrade-failed");
    CHECK(out.error().message ==
          "AKS Arc: the operation on the cluster toward 1.32.7 ended Failed: KubernetesUpgradeFailed: control plane "
          "node moc-cp-0 did not become Ready");
    CHECK(f.arm->pool("gpu").value()["properties"]["kubernetesVersion"] == "1.31.4");
  }
  SECTION("Location polling when ARM names no status resource") {
    f.arm->location_only(true);
    auto driver = make_aksarc_driver(f.arc_options());
    auto ctx = f.context();
    REQUIRE(driver->upgrade_control_plane(ctx, cluster_to("1.32.7")).ok());
    CHECK(f.arm->count("GET", "/operationresults/") >= 1);
    CHECK(f.arm->pool("gpu").value()["properties"]["kubernetesVersion"] == "1.32.7");
  }
  SECTION("a 409 waits and sends again") {
    f.arm->busy_next_writes(2);
    auto driver = make_aksarc_driver(f.arc_options());
    auto ctx = f.context();
    REQUIRE(driver->upgrade_control_plane(ctx, cluster_to("1.32.7")).ok());
    CHECK(f.writes().size() == 3);
    CHECK(f.count_events("upgrade_waiting") == 2);
  }
  SECTION("an upgrade already in flight toward the target (an agent restart) is followed, not sent again") {
    f.arm->start_operation("", "1.32.7");
    auto driver = make_aksarc_driver(f.arc_options());
    auto ctx = f.context();
    auto out = driver->upgrade_control_plane(ctx, cluster_to("1.32.7"));
    REQUIRE(out.ok());
    CHECK(*out ==
          "the AKS Arc cluster upgraded to 1.32.7, control plane and node pools (an operation already in flight was "
          "followed)");
    CHECK(f.writes().empty());
    CHECK(f.count_events("upgrade_resumed") == 1);
  }
  SECTION("an operation that never ends fails at the step timeout") {
    f.arm->end_operations_with(testing::OperationEnd::kHang);
    AksArcDriverOptions o = f.arc_options();
    o.step_timeout = 200ms;
    auto driver = make_aksarc_driver(o);
    auto ctx = f.context();
    auto out = driver->upgrade_control_plane(ctx, cluster_to("1.32.7"));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().type == "upgrade-timeout");
    CHECK(out.error().message.rfind("AKS Arc: the cluster did not reach 1.32.7 within the step timeout", 0) == 0);
  }
}

TEST_CASE("aksarc backend: the kubernetes backend upgrades through the instance and refuses blue-green pools",
          "[aksarc]") {
  BackendFixture f(true);
  KubernetesBackendOptions o = f.backend_options(true);
  REQUIRE(o.upgrade_driver == "auto");  // an Arc connected cluster id picks the aksarc driver
  auto b = BackendFixture::backend(o);
  using ::fleet::agent::testing::start_command;
  REQUIRE(start_command(*b, "cp", "upgrade_control_plane", {{"kubernetesVersion", "1.32.7"}}).ok());
  protocol::CommandStatus cp = wait_finished(*b, "cp");
  CHECK(cp.state == protocol::CommandState::kSucceeded);
  CHECK(cp.message == "the AKS Arc cluster upgraded to 1.32.7, control plane and node pools");
  CHECK(f.arm->pool("gpu").value()["properties"]["kubernetesVersion"] == "1.32.7");

  auto bg =
      start_command(*b, "bg", "blue_green_node_pool",
                    {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Replace"}, {"kubernetesVersion", "1.32.7"}});
  REQUIRE_FALSE(bg.ok());
  CHECK(bg.error().type == "unsupported-command");
  CHECK(bg.error().message.find("the aksarc upgrade driver cannot create or delete node pools") != std::string::npos);
}

}  // namespace fleet::agent::kube
