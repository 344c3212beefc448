// The pure parts of the aks upgrade driver: ARM long-running operations, the AKS request paths and bodies, the
// resume decision, the auto-upgrade conflict, the Entra token request and response, and the driver choice.
#include <catch2/catch.hpp>

#include "agents/kube/upgrade/aks_requests.hpp"
#include "agents/kube/upgrade/arm_lro.hpp"
#include "agents/kube/upgrade/driver_choice.hpp"
#include "agents/kube/upgrade/entra_token.hpp"

namespace fleet::agent::kube {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kId =
    "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/fleet-rg/providers/"
    "Microsoft.ContainerService/managedClusters/aks-1";

json cluster(const std::string& state, const std::string& target, const std::string& current) {
  return {{"id", kId},
          {"location", "westeurope"},
          {"eTag", "\"7\""},
          {"properties",
           {{"provisioningState", state},
            {"kubernetesVersion", target},
            {"currentKubernetesVersion", current},
            {"fqdn", "aks-1.hcp.westeurope.azmk8s.io"},
            {"powerState", {{"code", "Running"}}},
            {"autoUpgradeProfile", {{"upgradeChannel", "none"}}},
            {"agentPoolProfiles", json::array({{{"name", "gpu"},
                                                {"orchestratorVersion", "1.31.4"},
                                                {"currentOrchestratorVersion", "1.31.4"},
                                                {"provisioningState", "Succeeded"},
                                                {"count", 4}}})}}}};
}

json pool(const std::string& state, const std::string& target, const std::string& current,
          const std::string& image = "AKSUbuntu-2204gen2containerd-202510.01.0") {
  return {{"name", "gpu"},
          {"properties",
           {{"provisioningState", state},
            {"orchestratorVersion", target},
            {"currentOrchestratorVersion", current},
            {"nodeImageVersion", image},
            {"count", 4},
            {"upgradeSettings", {{"maxSurge", "10%"}}}}}};
}

}  // namespace

TEST_CASE("arm lro: the status resource's words, terminal or not", "[aks]") {
  CHECK(parse_lro_status(json{{"status", "InProgress"}}).state == LroState::kInProgress);
  CHECK(parse_lro_status(json{{"status", "Running"}}).state == LroState::kInProgress);
  CHECK(parse_lro_status(json::object()).state == LroState::kInProgress);
  CHECK(parse_lro_status(json{{"status", "succeeded"}}).state == LroState::kSucceeded);
  CHECK(parse_lro_status(json{{"status", "Canceled"}}).state == LroState::kCanceled);
  const LroStatus failed = parse_lro_status(
      json{{"status", "Failed"}, {"percentComplete", 40.0}, {"error", {{"code", "UpgradeFailed"}, {"message", "m"}}}});
  CHECK(failed.state == LroState::kFailed);
  CHECK(failed.error_code == "UpgradeFailed");
  CHECK(failed.error_message == "m");
  CHECK(failed.percent == 40);
}

TEST_CASE("arm lro: Azure-AsyncOperation is preferred, Location only with 202", "[aks]") {
  const http::Headers both{{"azure-asyncoperation", "https://m/op"}, {"location", "https://m/res"}};
  CHECK(lro_poll_of(200, both).kind == LroPoll::Kind::kAsyncOperation);
  CHECK(lro_poll_of(200, both).url == "https://m/op");
  CHECK(lro_poll_of(202, {{"location", "https://m/res"}}).kind == LroPoll::Kind::kLocation);
  CHECK(lro_poll_of(200, {{"location", "https://m/res"}}).kind == LroPoll::Kind::kNone);
  CHECK(lro_poll_of(409, both).kind == LroPoll::Kind::kNone);
}

TEST_CASE("arm lro: Retry-After is honoured within the floor and the cap", "[aks]") {
  CHECK(retry_after({{"retry-after", "10"}}) == 10s);
  CHECK_FALSE(retry_after({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}).has_value());
  CHECK_FALSE(retry_after({}).has_value());
  CHECK(next_poll_delay({{"retry-after", "10"}}, 15s, 2s, 60s) == 10s);
  CHECK(next_poll_delay({}, 15s, 2s, 60s) == 15s);
  CHECK(next_poll_delay({{"retry-after", "0"}}, 15s, 2s, 60s) == 2s);
  CHECK(next_poll_delay({{"retry-after", "3600"}}, 15s, 2s, 60s) == 60s);
}

TEST_CASE("arm lro: a status URL on another host gets no token", "[aks]") {
  CHECK(same_origin_target("https://management.azure.com/subscriptions/s/op?api-version=1",
                           "https://management.azure.com") == "/subscriptions/s/op?api-version=1");
  CHECK(same_origin_target("https://Management.Azure.com/x", "https://management.azure.com/") == "/x");
  CHECK_FALSE(same_origin_target("https://evil.example/x", "https://management.azure.com").has_value());
  CHECK_FALSE(same_origin_target("https://management.azure.com.evil.example/x", "https://management.azure.com"));
  CHECK_FALSE(same_origin_target("/relative", "https://management.azure.com").has_value());
}

TEST_CASE("aks requests: the cluster id is parsed and the paths carry the api-version", "[aks]") {
  auto ref = parse_aks_cluster_id(kId);
  REQUIRE(ref.ok());
  CHECK(ref->subscription == "00000000-0000-0000-0000-0000000000a1");
  CHECK(ref->resource_group == "fleet-rg");
  CHECK(ref->name == "aks-1");
  CHECK(managed_cluster_path(*ref) == kId + "?api-version=2025-05-01");
  CHECK(agent_pool_path(*ref, "gpu") == kId + "/agentPools/gpu?api-version=2025-05-01");
  CHECK(node_image_upgrade_path(*ref, "gpu") == kId + "/agentPools/gpu/upgradeNodeImageVersion?api-version=2025-05-01");
  CHECK_FALSE(parse_aks_cluster_id("aks-1").ok());
  CHECK_FALSE(parse_aks_cluster_id("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v"));
  CHECK_FALSE(parse_aks_cluster_id(kId + "/agentPools/gpu").ok());
}

TEST_CASE("aks requests: ARM errors, busy and stale answers", "[aks]") {
  const json busy = {{"error", {{"code", "OperationNotAllowed"}, {"message", "Operation is not allowed"}}}};
  const ArmError e = parse_arm_error(busy);
  CHECK(e.code == "OperationNotAllowed");
  CHECK(is_busy_error(409, e));
  CHECK(is_busy_error(409, ArmError{"AnotherOperationInProgress", ""}));
  CHECK_FALSE(is_busy_error(400, ArmError{"InvalidParameter", ""}));
  CHECK_FALSE(is_busy_error(500, e));
  CHECK(is_stale_etag(412, ArmError{}));
  CHECK(is_stale_etag(409, ArmError{"EtagMismatch", ""}));
  CHECK(parse_arm_error(json{{"error", {{"details", json::array({{{"code", "Inner"}}})}}}}).code == "Inner");
  CHECK(parse_arm_error(json("text")).code.empty());
}

TEST_CASE("aks requests: the control-plane PUT changes kubernetesVersion only", "[aks]") {
  const json body = control_plane_put_body(cluster("Succeeded", "1.31.4", "1.31.4"), "1.32.7");
  CHECK(body["properties"]["kubernetesVersion"] == "1.32.7");
  CHECK(body["location"] == "westeurope");
  // The pools keep their version: a control-plane-only upgrade.
  CHECK(body["properties"]["agentPoolProfiles"][0]["orchestratorVersion"] == "1.31.4");
  // Read-only members are not sent back.
  CHECK_FALSE(body["properties"].contains("provisioningState"));
  CHECK_FALSE(body["properties"].contains("currentKubernetesVersion"));
  CHECK_FALSE(body["properties"].contains("fqdn"));
  CHECK_FALSE(body.contains("eTag"));
  CHECK_FALSE(body["properties"]["agentPoolProfiles"][0].contains("currentOrchestratorVersion"));
}

TEST_CASE("aks requests: the pool PUT sets orchestratorVersion and maxSurge", "[aks]") {
  const json body = agent_pool_put_body(pool("Succeeded", "1.31.4", "1.31.4"), "1.32.7", "33%");
  CHECK(body["properties"]["orchestratorVersion"] == "1.32.7");
  CHECK(body["properties"]["upgradeSettings"]["maxSurge"] == "33%");
  CHECK(body["properties"]["count"] == 4);
  CHECK_FALSE(body["properties"].contains("nodeImageVersion"));
}

TEST_CASE("aks requests: the auto-upgrade channel is a conflict unless none", "[aks]") {
  json c = cluster("Succeeded", "1.31.4", "1.31.4");
  CHECK_FALSE(auto_upgrade_channel(c).has_value());
  c["properties"]["autoUpgradeProfile"]["upgradeChannel"] = "stable";
  CHECK(auto_upgrade_channel(c) == "stable");
  CHECK(disable_auto_upgrade_body(c)["properties"]["autoUpgradeProfile"]["upgradeChannel"] == "none");
  c["properties"].erase("autoUpgradeProfile");
  CHECK_FALSE(auto_upgrade_channel(c).has_value());
}

TEST_CASE("aks requests: resume follows an upgrade toward the same target instead of sending another", "[aks]") {
  CHECK(decide_upgrade(managed_cluster_view(cluster("Succeeded", "1.31.4", "1.31.4")), "1.32.7") ==
        UpgradeDecision::kSend);
  CHECK(decide_upgrade(managed_cluster_view(cluster("Upgrading", "1.32.7", "1.31.4")), "1.32.7") ==
        UpgradeDecision::kFollow);
  CHECK(decide_upgrade(managed_cluster_view(cluster("Upgrading", "1.32.5", "1.31.4")), "1.32.7") ==
        UpgradeDecision::kWaitBusy);
  CHECK(decide_upgrade(managed_cluster_view(cluster("Updating", "1.31.4", "1.31.4")), "1.32.7") ==
        UpgradeDecision::kWaitBusy);
  CHECK(decide_upgrade(managed_cluster_view(cluster("Succeeded", "1.32.7", "1.32.7")), "1.32.7") ==
        UpgradeDecision::kDone);
  // A failed attempt toward the target is sent again.
  CHECK(decide_upgrade(managed_cluster_view(cluster("Failed", "1.32.7", "1.31.4")), "1.32.7") ==
        UpgradeDecision::kSend);
  CHECK(decide_upgrade(agent_pool_view(pool("Upgrading", "1.32.7", "1.31.4")), "1.32.7") == UpgradeDecision::kFollow);
  CHECK(decide_upgrade(agent_pool_view(pool("Scaling", "1.31.4", "1.31.4")), "1.32.7") == UpgradeDecision::kWaitBusy);
}

TEST_CASE("aks requests: node-image decisions", "[aks]") {
  CHECK(decide_node_image_upgrade(pool("UpgradingNodeImageVersion", "1.31.4", "1.31.4"), "") ==
        UpgradeDecision::kFollow);
  CHECK(decide_node_image_upgrade(pool("Succeeded", "1.31.4", "1.31.4", "img-2"), "img-2") == UpgradeDecision::kDone);
  CHECK(decide_node_image_upgrade(pool("Succeeded", "1.31.4", "1.31.4", "img-1"), "img-2") == UpgradeDecision::kSend);
  CHECK(decide_node_image_upgrade(pool("Succeeded", "1.31.4", "1.31.4", "img-1"), "") == UpgradeDecision::kSend);
  CHECK(decide_node_image_upgrade(pool("Upgrading", "1.32.7", "1.31.4"), "") == UpgradeDecision::kWaitBusy);
}

TEST_CASE("entra token: the client-credentials request with a federated assertion", "[aks]") {
  WorkloadIdentity id;
  id.authority = "https://login.microsoftonline.com";
  id.tenant_id = "tenant-1";
  id.client_id = "client 1";
  CHECK(token_path(id) == "/tenant-1/oauth2/v2.0/token");
  id.authority = "https://double.example/entra";
  CHECK(token_path(id) == "/entra/tenant-1/oauth2/v2.0/token");
  CHECK(token_request_body(id, "a.b.c") ==
        "grant_type=client_credentials&client_id=client%201&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        "&client_assertion=a.b.c");
}

TEST_CASE("entra token: responses and refusals", "[aks]") {
  auto ok = parse_token_response(200, json{{"token_type", "Bearer"}, {"expires_in", 3599}, {"access_token", "t"}});
  REQUIRE(ok.ok());
  CHECK(ok->token == "t");
  CHECK(ok->expires_in == 3599s);
  auto refused = parse_token_response(
      401, json{{"error", "invalid_client"}, {"error_description", "AADSTS700213: No matching federated identity"}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnauthenticated);
  CHECK(refused.error().message.find("AADSTS700213") != std::string::npos);
  CHECK_FALSE(parse_token_response(200, json::object()).ok());
}

TEST_CASE("entra token: refreshed five minutes before expiry, or halfway for short tokens", "[aks]") {
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  CHECK(token_refresh_at(t0, 3600s) == t0 + 55min);
  CHECK(token_refresh_at(t0, 300s) == t0 + 150s);
  CHECK(token_refresh_at(t0, 0s) == t0);
}

TEST_CASE("entra token: workload identity from the webhook's variables", "[aks]") {
  std::map<std::string, std::string> env = {{"AZURE_TENANT_ID", "t"},
                                            {"AZURE_CLIENT_ID", "c"},
                                            {"AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/token"},
                                            {"AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"}};
  const auto getenv = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto id = workload_identity_from_env(getenv);
  REQUIRE(id.ok());
  CHECK(id->authority == "https://login.microsoftonline.com");
  CHECK(id->federated_token_file == "/var/run/secrets/azure/tokens/token");
  env.erase("AZURE_CLIENT_ID");
  auto missing = workload_identity_from_env(getenv);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("AZURE_CLIENT_ID") != std::string::npos);
}

TEST_CASE("upgrade driver choice: flag, configuration and what the nodes show", "[aks]") {
  CHECK(choose_upgrade_driver("aks", false, false, SeenCluster::kUnknown).kind == UpgradeDriverKind::kAks);
  CHECK(choose_upgrade_driver("aksarc", false, false, SeenCluster::kUnknown).kind == UpgradeDriverKind::kAksArc);
  CHECK(choose_upgrade_driver("auto", false, true, SeenCluster::kUnknown).kind == UpgradeDriverKind::kAksArc);
  CHECK(choose_upgrade_driver("auto", true, true, SeenCluster::kUnknown).kind == UpgradeDriverKind::kAks);
  CHECK(choose_upgrade_driver("auto", true, false, SeenCluster::kUnknown).kind == UpgradeDriverKind::kAks);
  CHECK(choose_upgrade_driver("none", true, false, SeenCluster::kAks).kind == UpgradeDriverKind::kNone);
  CHECK(choose_upgrade_driver("system-upgrade-controller", false, false, SeenCluster::kOther).kind ==
        UpgradeDriverKind::kSystemUpgradeController);
  const DriverChoice looks = choose_upgrade_driver("auto", false, false, seen_cluster(true, false, true));
  CHECK(looks.kind == UpgradeDriverKind::kNone);
  CHECK(looks.why.find("looks like an AKS cluster") != std::string::npos);
  const DriverChoice k3s = choose_upgrade_driver("auto", false, false, seen_cluster(false, true, true));
  CHECK(k3s.kind == UpgradeDriverKind::kNone);
  CHECK(k3s.why.find("--upgrade-driver system-upgrade-controller") != std::string::npos);
  CHECK(choose_upgrade_driver("auto", false, false, seen_cluster(true, true, false)).why.find("no upgrade driver") !=
        std::string::npos);
}

TEST_CASE("aks requests: a blue-green pool is the old pool's resource at the target, without what ARM computes",
          "[aks]") {
  json old = pool("Succeeded", "1.31.4", "1.31.4");
  old["id"] = kId + "/agentPools/gpu";
  old["eTag"] = "\"3\"";
  old["properties"]["vmSize"] = "Standard_ND96isr_H100_v5";
  old["properties"]["mode"] = "User";
  old["properties"]["nodeLabels"] = {{"team", "ml"}};
  old["properties"]["nodeTaints"] = json::array({"sku=gpu:NoSchedule"});
  old["properties"]["availabilityZones"] = json::array({"1", "2"});
  old["properties"]["powerState"] = {{"code", "Running"}};
  old["properties"]["creationData"] = {{"sourceResourceId", "/subscriptions/x/snapshots/s"}};
  const json body = new_agent_pool_body(old, "1.32.7");
  const json& p = body["properties"];
  CHECK(p["orchestratorVersion"] == "1.32.7");
  CHECK(p["vmSize"] == "Standard_ND96isr_H100_v5");
  CHECK(p["count"] == 4);
  CHECK(p["mode"] == "User");
  CHECK(p["nodeLabels"] == json{{"team", "ml"}});
  CHECK(p["nodeTaints"] == json::array({"sku=gpu:NoSchedule"}));
  CHECK(p["availabilityZones"] == json::array({"1", "2"}));
  for (const char* gone : {"provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "powerState",
                           "upgradeSettings", "creationData"}) {
    INFO(gone);
    CHECK_FALSE(p.contains(gone));
  }
  for (const char* gone : {"id", "name", "eTag"}) {
    INFO(gone);
    CHECK_FALSE(body.contains(gone));
  }
}

TEST_CASE("aks requests: creating a blue-green pool sends, follows, is done, or refuses a pool that is not ours",
          "[aks]") {
  CHECK(*decide_pool_creation(nullptr, "1.32.7") == UpgradeDecision::kSend);
  CHECK(*decide_pool_creation(pool("Creating", "1.32.7", ""), "1.32.7") == UpgradeDecision::kFollow);
  CHECK(*decide_pool_creation(pool("Succeeded", "1.32.7", "1.32.7"), "1.32.7") == UpgradeDecision::kDone);
  CHECK(*decide_pool_creation(pool("Failed", "1.32.7", "1.32.7"), "1.32.7") == UpgradeDecision::kSend);
  CHECK(*decide_pool_creation(pool("Canceled", "1.32.7", ""), "1.32.7") == UpgradeDecision::kSend);
  CHECK(*decide_pool_creation(pool("Scaling", "1.32.7", "1.32.7"), "1.32.7") == UpgradeDecision::kWaitBusy);
  for (const json& taken : {pool("Succeeded", "1.31.4", "1.31.4"), pool("Creating", "1.31.4", "")}) {
    auto d = decide_pool_creation(taken, "1.32.7");
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().type == "pool-exists");
    CHECK(d.error().field == "payload.newPool");
    CHECK(d.error().message ==
          "AKS already has a pool named gpu at 1.31.4 (" + taken["properties"]["provisioningState"].get<std::string>() +
              "); blue-green creates the new pool at 1.32.7, so it will not take over one that exists");
  }
}

TEST_CASE("aks requests: deleting a pool is done when it is gone and follows a delete in flight", "[aks]") {
  CHECK(decide_pool_deletion(nullptr) == UpgradeDecision::kDone);
  CHECK(decide_pool_deletion(pool("Deleting", "1.31.4", "1.31.4")) == UpgradeDecision::kFollow);
  CHECK(decide_pool_deletion(pool("Upgrading", "1.32.7", "1.31.4")) == UpgradeDecision::kWaitBusy);
  CHECK(decide_pool_deletion(pool("Succeeded", "1.31.4", "1.31.4")) == UpgradeDecision::kSend);
  CHECK(decide_pool_deletion(pool("Failed", "1.31.4", "1.31.4")) == UpgradeDecision::kSend);
}

}  // namespace fleet::agent::kube
