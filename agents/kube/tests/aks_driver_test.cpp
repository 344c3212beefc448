// The aks upgrade driver against the ARM / Entra test double (testing/arm_api_double.hpp) over HTTPS with a
// throwaway CA: what goes out for each upgrade, long-running operations to success and to failure, 409 waits,
// the step timeout, resuming an operation in flight, the auto-upgrade conflict and the token exchange; then the
// same through the kubernetes backend, including an agent restart mid-operation. Poll intervals are milliseconds
// (Retry-After from the double is capped by the injected poll_cap), so every test runs in well under a second.
#include <catch2/catch.hpp>

#include "agents/kube/tests/aks_fixture.hpp"
#include "agents/testing/start_command.hpp"

namespace fleet::agent::kube {

using ::fleet::agent::testing::start_command;
using testing::OperationEnd;
using namespace aks_testing;

TEST_CASE("aks driver: a control-plane upgrade sends one PUT of kubernetesVersion and follows it", "[aks]") {
  AksFixture f;
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE(out.ok());
  CHECK(*out == "the AKS control plane upgraded to 1.32.7");

  const std::vector<std::string> calls = f.arm_calls();
  REQUIRE(calls.size() >= 5);
  CHECK(calls[0] == "GET /");                                                         // the auto-upgrade channel
  CHECK(calls[1] == "GET /");                                                         // the resume decision
  CHECK(calls[2] == "GET /maintenanceConfigurations/aksManagedAutoUpgradeSchedule");  // none: no window
  CHECK(calls[3] == "PUT /");
  CHECK(calls.back() == "GET /op-1");
  const auto writes = f.writes();
  REQUIRE(writes.size() == 1);
  const ArmRecordedRequest& put = writes[0];
  CHECK(put.query == "api-version=2025-05-01");
  CHECK(put.authorization == "Bearer arm-token-1");
  CHECK(put.content_type == "application/json");
  CHECK_FALSE(put.if_match.empty());
  const json body = json::parse(put.body);
  CHECK(body["properties"]["kubernetesVersion"] == "1.32.7");
  for (const json& pool : body["properties"]["agentPoolProfiles"]) CHECK(pool["orchestratorVersion"] == "1.31.4");
  CHECK_FALSE(body["properties"].contains("provisioningState"));

  const json mc = f.arm->managed_cluster();
  CHECK(mc["properties"]["currentKubernetesVersion"] == "1.32.7");
  CHECK(mc["properties"]["provisioningState"] == "Succeeded");
  CHECK(f.count_events("upgrade_started") == 1);
  CHECK(f.count_events("upgrade_progress") >= 2);  // InProgress …, Succeeded
  CHECK(f.count_events("control_plane_upgraded") == 1);
  CHECK(f.arm->token_requests() == 1);

  // Already at the target: nothing is sent, and the cached token is used again.
  auto again = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE(again.ok());
  CHECK(*again == "the AKS control plane is already at 1.32.7");
  CHECK(f.writes().size() == 1);
  CHECK(f.arm->token_requests() == 1);
}

TEST_CASE("aks driver: a pool upgrade PUTs orchestratorVersion and maxSurge and reports each node", "[aks]") {
  AksFixture f;
  std::atomic<int> reads{0};
  // The kubelets report the new version one node per read of the node cache, as AKS surges through the pool.
  f.pool_nodes = [&](const std::string& pool) {
    std::vector<PoolNode> nodes;
    nodes.reserve(4);
    const int upgraded = reads++;
    for (int i = 0; i < 4; ++i) {
      nodes.push_back(PoolNode{"aks-" + pool + "-" + std::to_string(i), i <= upgraded ? "1.32.7" : "1.31.4", kImage});
    }
    return nodes;
  };
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, pool_upgrade("gpu", "1.32.7"));
  REQUIRE(out.ok());
  CHECK(*out == "AKS pool gpu upgraded to 1.32.7");

  const auto writes = f.writes();
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].method == "PUT");
  CHECK(writes[0].path == f.arm->cluster_id() + "/agentPools/gpu");
  CHECK(writes[0].query == "api-version=2025-05-01");
  const json body = json::parse(writes[0].body);
  CHECK(body["properties"]["orchestratorVersion"] == "1.32.7");
  CHECK(body["properties"]["upgradeSettings"]["maxSurge"] == "33%");
  CHECK(f.arm->pool("gpu").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
  CHECK(f.arm->pool("system").value()["properties"]["currentOrchestratorVersion"] == "1.31.4");
  CHECK(f.count_events("node_upgraded") == 4);
  std::lock_guard lock(f.mutex);
  CHECK(f.status.nodes_total == 4);
  CHECK(f.status.nodes_done == 4);
  CHECK(f.status.details["aks-gpu-3"] == "upgraded");
}

TEST_CASE("aks driver: a node-image upgrade POSTs upgradeNodeImageVersion and follows the 202", "[aks]") {
  AksFixture f;
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, pool_upgrade("gpu", ""));
  REQUIRE(out.ok());
  CHECK(*out == "AKS pool gpu upgraded to node image AKSUbuntu-2204gen2containerd-202511.03.0");
  const auto writes = f.writes();
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].method == "POST");
  CHECK(writes[0].path == f.arm->cluster_id() + "/agentPools/gpu/upgradeNodeImageVersion");
  CHECK(writes[0].body.empty());
  CHECK(f.arm->pool("gpu").value()["properties"]["nodeImageVersion"] == "AKSUbuntu-2204gen2containerd-202511.03.0");

  // Asked for the image the pool already runs: nothing is sent.
  protocol::UpgradeNodePool same = pool_upgrade("gpu", "");
  same.node_image_version = "AKSUbuntu-2204gen2containerd-202511.03.0";
  auto again = driver->upgrade_node_pool(ctx, same);
  REQUIRE(again.ok());
  CHECK(again->find("already runs") != std::string::npos);
  CHECK(f.writes().size() == 1);
}

TEST_CASE("aks driver: an operation that ends Failed fails the command with ARM's error", "[aks]") {
  AksFixture f;
  f.arm->end_operations_with(OperationEnd::kFail, "UpgradeFailed",
                             "Upgrade failed: node aks-gpu-0 did not become Ready");
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, pool_upgrade("gpu", "1.32.7"));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().type == "upgrade-failed");
  CHECK(out.error().message ==
        "AKS: the operation on pool gpu toward 1.32.7 ended Failed: UpgradeFailed: Upgrade failed: node aks-gpu-0 did "
        "not become Ready");
  CHECK(f.writes().size() == 1);  // a failed operation is not retried by the driver
}

TEST_CASE("aks driver: Location polling when ARM names no status resource", "[aks]") {
  AksFixture f;
  f.arm->location_only(true);
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE(out.ok());
  CHECK(f.arm->count("GET", "/operationresults/op-1") >= 2);  // 202 until done
  CHECK(f.arm->count("GET", "/operations/") == 0);

  f.arm->end_operations_with(OperationEnd::kCancel, "OperationCanceled", "The operation was canceled by a user.");
  auto failed = driver->upgrade_node_pool(ctx, pool_upgrade("gpu", "1.32.7"));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message.find("OperationCanceled") != std::string::npos);
}

TEST_CASE("aks driver: a 409 OperationNotAllowed waits and sends again", "[aks]") {
  AksFixture f;
  f.arm->busy_next_writes(2);
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE(out.ok());
  CHECK(f.writes().size() == 3);
  CHECK(f.count_events("upgrade_waiting") == 2);
  CHECK(f.arm->managed_cluster()["properties"]["currentKubernetesVersion"] == "1.32.7");
}

TEST_CASE("aks driver: another operation in flight is waited for, then the upgrade is sent", "[aks]") {
  AksFixture f;
  f.arm->start_operation("system", "1.31.5");  // someone upgrades the system pool; the cluster answers 409
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, pool_upgrade("gpu", "1.32.7"));
  REQUIRE(out.ok());
  CHECK(f.count_events("upgrade_waiting") >= 1);
  CHECK(f.arm->pool("system").value()["properties"]["currentOrchestratorVersion"] == "1.31.5");
  CHECK(f.arm->pool("gpu").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
}

TEST_CASE("aks driver: a stale If-Match reads again and sends again", "[aks]") {
  AksFixture f;
  f.arm->stale_next_writes(1);
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  REQUIRE(driver->upgrade_control_plane(ctx, control_plane("1.32.7")).ok());
  CHECK(f.writes().size() == 2);
}

TEST_CASE("aks driver: an operation that never ends fails at the step timeout", "[aks]") {
  AksFixture f;
  f.arm->end_operations_with(OperationEnd::kHang);
  AksDriverOptions o = f.options();
  o.step_timeout = 150ms;
  auto driver = make_aks_driver(o);
  auto ctx = f.context();
  auto out = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().type == "upgrade-timeout");
  CHECK(out.error().message.find("AKS: the control plane did not reach 1.32.7 within the step timeout") == 0);
  CHECK(out.error().message.find("follows it instead of sending another request") != std::string::npos);
  CHECK(f.writes().size() == 1);
}

TEST_CASE("aks driver: an upgrade already in flight toward the target is followed, not sent again", "[aks]") {
  AksFixture f;
  // What a restarted agent finds: ARM is upgrading the pool to the target its previous run asked for.
  f.arm->start_operation("gpu", "1.32.7");
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, pool_upgrade("gpu", "1.32.7"));
  REQUIRE(out.ok());
  CHECK(*out == "AKS pool gpu upgraded to 1.32.7 (an operation already in flight was followed)");
  CHECK(f.writes().empty());
  CHECK(f.count_events("upgrade_resumed") == 1);
  CHECK(f.arm->pool("gpu").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
}

TEST_CASE("aks driver: the cluster's auto-upgrade channel is a conflict", "[aks]") {
  AksFixture f;
  f.arm->set_auto_upgrade_channel("stable");
  auto ctx = f.context();
  {
    auto driver = make_aks_driver(f.options());
    auto out = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().code == ErrorCode::kConflict);
    CHECK(out.error().type == "auto-upgrade-conflict");
    CHECK(out.error().message.find("auto-upgrade channel is \"stable\"") != std::string::npos);
    CHECK(out.error().message.find("--aks-disable-auto-upgrade") != std::string::npos);
    CHECK(f.writes().empty());
    CHECK(f.count_events("upgrade_conflict") == 1);
  }
  AksDriverOptions o = f.options();
  o.disable_auto_upgrade = true;
  auto driver = make_aks_driver(o);
  auto out = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE(out.ok());
  const auto writes = f.writes();
  REQUIRE(writes.size() == 2);
  CHECK(json::parse(writes[0].body)["properties"]["autoUpgradeProfile"]["upgradeChannel"] == "none");
  CHECK(json::parse(writes[0].body)["properties"]["kubernetesVersion"] == "1.31.4");
  CHECK(json::parse(writes[1].body)["properties"]["kubernetesVersion"] == "1.32.7");
  CHECK(f.arm->managed_cluster()["properties"]["autoUpgradeProfile"]["upgradeChannel"] == "none");
}

TEST_CASE("aks driver: the federated token is exchanged at the Entra token endpoint", "[aks]") {
  AksFixture f;
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  REQUIRE(driver->upgrade_control_plane(ctx, control_plane("1.32.7")).ok());
  const auto requests = f.arm->requests();
  REQUIRE_FALSE(requests.empty());
  const ArmRecordedRequest& token = requests.front();
  CHECK(token.method == "POST");
  CHECK(token.path == "/" + f.arm->options().tenant_id + "/oauth2/v2.0/token");
  CHECK(token.content_type == "application/x-www-form-urlencoded");
  CHECK(token.authorization.empty());
  CHECK(token.body.find("grant_type=client_credentials") != std::string::npos);
  CHECK(token.body.find("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer") !=
        std::string::npos);
  CHECK(token.body.find("scope=https%3A%2F%2Fmanagement.azure.com%2F.default") != std::string::npos);
  CHECK(token.body.find("client_assertion=eyJhbGciOiJSUzI1NiJ9.federated.sig") != std::string::npos);
  CHECK(f.arm->token_requests() == 1);  // cached for every later call
}

TEST_CASE("aks driver: a refused federated token fails with Entra's reason and sends nothing to ARM", "[aks]") {
  AksFixture f;
  f.arm->refuse_tokens(true);
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto out = driver->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == ErrorCode::kUnauthenticated);
  CHECK(out.error().message.find("AADSTS700213") != std::string::npos);
  CHECK(out.error().message.find("federated identity credential") != std::string::npos);
  CHECK(f.arm_calls().empty());

  std::filesystem::remove(f.token_file);
  auto missing = make_aks_driver(f.options());
  auto no_file = missing->upgrade_control_plane(ctx, control_plane("1.32.7"));
  REQUIRE_FALSE(no_file.ok());
  CHECK(no_file.error().message.find("cannot read the federated token file") != std::string::npos);
}

TEST_CASE("aks driver: a 401 from ARM exchanges the token again, once", "[aks]") {
  AksFixture f;
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  REQUIRE(driver->upgrade_control_plane(ctx, control_plane("1.32.7")).ok());
  f.arm->revoke_tokens();
  auto out = driver->upgrade_node_pool(ctx, pool_upgrade("gpu", "1.32.7"));
  REQUIRE(out.ok());
  CHECK(f.arm->token_requests() == 2);
  CHECK(f.writes().back().authorization == "Bearer arm-token-2");
}

TEST_CASE("aks driver: a pool AKS does not have, and a version upgrade that also asked for an image", "[aks]") {
  AksFixture f;
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  auto missing = driver->upgrade_node_pool(ctx, pool_upgrade("nope", "1.32.7"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message.find("AKS: pool nope does not exist") == 0);
  CHECK(f.writes().empty());

  protocol::UpgradeNodePool both = pool_upgrade("gpu", "1.32.7");
  both.node_image_version = "AKSUbuntu-2204gen2containerd-202512.01.0";
  auto out = driver->upgrade_node_pool(ctx, both);
  REQUIRE(out.ok());
  CHECK(*out ==
        "AKS pool gpu upgraded to 1.32.7 (node image AKSUbuntu-2204gen2containerd-202511.03.0; "
        "AKSUbuntu-2204gen2containerd-202512.01.0 was requested)");
}

// Through the kubernetes backend, as fleet-agent runs it.

TEST_CASE("aks backend: without a driver an upgrade is refused, naming the AKS label it saw", "[aks]") {
  BackendFixture f;
  auto b = BackendFixture::backend(f.backend_options(false));
  auto started = start_command(*b, "u1", "upgrade_control_plane", {{"kubernetesVersion", "1.32.7"}});
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().type == "unsupported-command");
  CHECK(started.error().message.find("looks like an AKS cluster") != std::string::npos);
  CHECK(started.error().message.find("--aks-cluster-id") != std::string::npos);
}

TEST_CASE("aks backend: upgrade_control_plane and upgrade_node_pool run through the aks driver", "[aks]") {
  BackendFixture f;
  auto b = BackendFixture::backend(f.backend_options(true));
  REQUIRE(start_command(*b, "cp", "upgrade_control_plane", {{"kubernetesVersion", "1.32.7"}}).ok());
  protocol::CommandStatus cp = wait_finished(*b, "cp");
  CHECK(cp.state == protocol::CommandState::kSucceeded);
  CHECK(cp.message == "the AKS control plane upgraded to 1.32.7");
  REQUIRE(start_command(*b, "np", "upgrade_node_pool", {{"pool", "gpu"}, {"kubernetesVersion", "1.32.7"}}).ok());
  protocol::CommandStatus np = wait_finished(*b, "np");
  CHECK(np.state == protocol::CommandState::kSucceeded);
  CHECK(np.nodes_total == 1);  // the pool's nodes from the node cache
  std::vector<std::string> types;
  for (const auto& e : b->poll()) types.push_back(e.command_id + ":" + e.type);
  CHECK(std::find(types.begin(), types.end(), "cp:command_started") != types.end());
  CHECK(std::find(types.begin(), types.end(), "cp:upgrade_started") != types.end());
  CHECK(std::find(types.begin(), types.end(), "cp:control_plane_upgraded") != types.end());
  CHECK(std::find(types.begin(), types.end(), "np:upgrade_progress") != types.end());
  CHECK(std::find(types.begin(), types.end(), "np:command_succeeded") != types.end());
  CHECK(f.arm->count("PUT", "/managedClusters/aks-westeurope-1") == 2);  // the cluster, then the pool
  CHECK(f.arm->count("PUT", "/agentPools/gpu") == 1);
}

TEST_CASE("aks backend: an agent restart mid-operation resumes without a second PUT", "[aks]") {
  BackendFixture f;
  f.arm->end_operations_with(OperationEnd::kHang);
  const json payload = {{"pool", "gpu"}, {"kubernetesVersion", "1.32.7"}, {"maxSurge", "1"}};
  {
    auto first = BackendFixture::backend(f.backend_options(true));
    REQUIRE(start_command(*first, "np", "upgrade_node_pool", payload).ok());
    REQUIRE(eventually([&] { return f.arm->count("PUT", "/agentPools/gpu") == 1; }));
    REQUIRE(eventually([&] { return f.arm->count("GET", "/operations/") >= 1; }));
  }  // the agent stops while ARM is still upgrading the pool
  f.arm->release_hung_operations(2);
  auto second = BackendFixture::backend(f.backend_options(true));
  REQUIRE(start_command(*second, "np", "upgrade_node_pool", payload).ok());
  protocol::CommandStatus s = wait_finished(*second, "np");
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.message == "AKS pool gpu upgraded to 1.32.7 (an operation already in flight was followed)");
  CHECK(f.arm->count("PUT", "/agentPools/gpu") == 1);
  CHECK(f.arm->pool("gpu").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
}

}  // namespace fleet::agent::kube
