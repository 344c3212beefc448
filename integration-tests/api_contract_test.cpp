// Operations no other fast test reaches through FleetdProcess::call: stored strategies and the life of an update
// run without agents, and a workload's placement and a cluster's capacity. The response contract test
// (api/tests/contract, tag [contract]) validates these answers against api/openapi.yaml; the checks here are the
// behaviour each answer must show.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

TEST_CASE("strategies, an update run's actions and placement reads answer as documented", "[integration][contract]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  for (const char* name : {"canary-1", "wave-1"}) {
    fleetd.call_json("POST", "/v1/clusters",
                     json{{"name", name}, {"provider", "aks"}, {"labels", {{"ring", name}}}}.dump(), 201);
  }

  const json strategy = {{"name", "two-rings"},
                         {"stages",
                          {{{"name", "canary"}, {"labelSelector", "ring=canary-1"}},
                           {{"name", "waves"},
                            {"labelSelector", "ring=wave-1"},
                            {"beforeGates", {{{"type", "Approval"}, {"name", "go"}}}}}}}};
  CHECK(fleetd.call_json("POST", "/v1/strategies", strategy.dump(), 201)["name"] == "two-rings");
  CHECK(fleetd.call_json("GET", "/v1/strategies")["items"].size() == 1);
  CHECK(fleetd.call_json("GET", "/v1/strategies/two-rings")["stages"].size() == 2);

  const json spec = {{"name", "k8s-1-32"},
                     {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
                     {"strategyRef", "two-rings"}};
  // No agent has reported: every member is planned as skipped, with the reason.
  auto plan = fleetd.call_json("POST", "/v1/rollouts:plan", spec.dump());
  REQUIRE(plan["members"].size() == 2);
  for (const auto& m : plan["members"]) CHECK(m.contains("skipReason"));
  CHECK(fleetd.call_json("POST", "/v1/rollouts", spec.dump(), 201)["state"] == "Pending");
  CHECK(fleetd.call_json("GET", "/v1/rollouts")["items"].size() == 1);
  CHECK(fleetd.call_json("POST", "/v1/rollouts/k8s-1-32:plan", "")["members"].size() == 2);
  // Actions in a state that forbids them are 409 invalid-state; the ones that fit change the run.
  CHECK(fleetd.call("POST", "/v1/rollouts/k8s-1-32:resume", "").status == 409);
  CHECK(fleetd.call("POST", "/v1/rollouts/k8s-1-32:retry", "").status == 409);
  CHECK(fleetd.call("POST", "/v1/rollouts/k8s-1-32:rollback", json{{"reason", "no soak"}}.dump()).status == 409);
  CHECK(fleetd.call("POST", "/v1/rollouts/k8s-1-32:rollback", json{{"cluster", "nope"}}.dump()).status == 404);
  CHECK(fleetd.call("POST", "/v1/rollouts/k8s-1-32:rollback", json{{"pool", "gpu"}}.dump()).status == 422);
  CHECK(fleetd.call("POST", "/v1/rollouts/k8s-1-32:approve", json{{"gate", "go"}}.dump()).status == 409);
  CHECK(fleetd.call("POST", "/v1/rollouts/k8s-1-32:skip", json{{"gate", "nope"}}.dump()).status == 404);
  CHECK(fleetd.call_json("POST", "/v1/rollouts/k8s-1-32:start", "")["state"] != "Pending");
  auto pause = fleetd.call("POST", "/v1/rollouts/k8s-1-32:pause", "");
  CHECK((pause.status == 200 || pause.status == 409));
  auto abort = fleetd.call("POST", "/v1/rollouts/k8s-1-32:abort", json{{"reason", "contract test"}}.dump());
  CHECK((abort.status == 200 || abort.status == 409));
  CHECK(fleetd.call("DELETE", "/v1/rollouts/missing").status == 404);
  auto run = fleetd.call_json("GET", "/v1/rollouts/k8s-1-32");
  CHECK(run["stages"].size() == 2);
  CHECK_FALSE(fleetd.call_json("GET", "/v1/rollouts/k8s-1-32/events")["items"].empty());
  CHECK(fleetd.call("DELETE", "/v1/strategies/two-rings").status == 204);
  CHECK(fleetd.call("GET", "/v1/strategies/two-rings").status == 404);

  const json workload = {
      {"name", "web"},
      {"manifests",
       {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "web"}}}, {"data", {{"k", "v"}}}}}}};
  fleetd.call_json("POST", "/v1/workloads", workload.dump(), 201);
  auto placement = fleetd.call_json("GET", "/v1/workloads/web/placement");
  CHECK(placement["workload"] == "web");
  auto capacity = fleetd.call_json("GET", "/v1/clusters/canary-1/capacity");
  CHECK(capacity["gpus"]["total"] == 0);
  CHECK(fleetd.call("GET", "/v1/clusters/missing/capacity").status == 404);

  // An agent leases a command and reports it; then its credential and an unused bootstrap token are revoked.
  const std::string credential = register_agent(fleetd, "agent-1");
  fleetd.call_json("POST", "/v1/clusters/agent-1/commands",
                   json{{"id", "cordon-1"}, {"kind", "cordon_cluster"}, {"payload", {{"cordon", true}}}}.dump(), 201);
  auto leased = fleetd.call("GET", "/v1/agents/agent-1/commands?wait=0", "", {}, credential);
  REQUIRE(leased.status == 200);
  CHECK(json::parse(leased.body)["commands"].size() == 1);
  auto report =
      fleetd.call("POST", "/v1/agents/agent-1/commands/cordon-1", json{{"state", "succeeded"}}.dump(), {}, credential);
  REQUIRE(report.status == 200);
  CHECK(json::parse(report.body)["state"] == "succeeded");
  auto unused = fleetd.call_json("POST", "/v1/clusters/agent-1/bootstrap-tokens", "", 201);
  const std::string revoke = "/v1/clusters/agent-1/bootstrap-tokens/" + unused["id"].get<std::string>() + ":revoke";
  CHECK(fleetd.call("POST", revoke).status == 204);
  CHECK(fleetd.call("POST", "/v1/clusters/agent-1/agent:revoke").status == 204);
  CHECK(fleetd.call("GET", "/v1/agents/agent-1/commands?wait=0", "", {}, credential).status == 401);
  // A method the path lacks: 405 with Allow.
  auto put = fleetd.call("PUT", "/v1/tokens", "{}");
  CHECK(put.status == 405);
  CHECK(put.headers["allow"].find("POST") != std::string::npos);
}
