// Agent registration: one-time bootstrap tokens traded for a per-cluster credential.
#include <catch2/catch.hpp>
#include <fstream>
#include <pqxx/pqxx>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

TEST_CASE("bootstrap tokens register an agent once, for their own cluster only", "[integration][agents]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "edge-1", "provider": "arc"})", 201);
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "edge-2", "provider": "arc"})", 201);
  auto viewer = fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();

  // Minting needs the operator role and an existing cluster.
  REQUIRE(fleetd.call("POST", "/v1/clusters/edge-1/bootstrap-tokens", "", {}, viewer).status == 403);
  REQUIRE(fleetd.call("POST", "/v1/clusters/nope/bootstrap-tokens").status == 404);
  REQUIRE(fleetd.call("POST", "/v1/clusters/edge-1/bootstrap-tokens", R"({"ttlSeconds": 5})").status == 422);
  auto minted = fleetd.call_json("POST", "/v1/clusters/edge-1/bootstrap-tokens", R"({"ttlSeconds": 600})", 201);
  REQUIRE(minted["cluster"] == "edge-1");
  std::string bootstrap = minted["token"];

  // The bootstrap token, not an API token, authenticates registration; it names the cluster.
  REQUIRE(fleetd.call("POST", "/v1/agents/register", R"({"agentVersion": "0.1.0"})", {}, std::string("")).status ==
          401);
  REQUIRE(fleetd.call("POST", "/v1/agents/register", "", {}, fleetd.admin_token()).status == 401);
  auto reg = fleetd.call("POST", "/v1/agents/register", R"({"agentVersion": "0.1.0"})", {}, bootstrap);
  REQUIRE(reg.status == 200);
  auto body = json::parse(reg.body);
  REQUIRE(body["cluster"] == "edge-1");
  REQUIRE(body["credential"].get<std::string>().rfind("fltd_", 0) == 0);

  // A used token is refused, and so is garbage in the body.
  auto again = fleetd.call("POST", "/v1/agents/register", "", {}, bootstrap);
  REQUIRE(again.status == 401);
  REQUIRE(json::parse(again.body)["type"] == "urn:fleetd:problem:unauthenticated");
  auto other = fleetd.call_json("POST", "/v1/clusters/edge-2/bootstrap-tokens", "", 201)["token"].get<std::string>();
  REQUIRE(fleetd.call("POST", "/v1/agents/register", R"({"agentVersion": 7})", {}, other).status == 422);
  REQUIRE(fleetd.call("POST", "/v1/agents/register", R"({"cluster": "edge-1"})", {}, other).status == 422);
  // The failed attempts did not consume it; it registers edge-2, never edge-1.
  auto reg2 = fleetd.call("POST", "/v1/agents/register", "", {}, other);
  REQUIRE(reg2.status == 200);
  REQUIRE(json::parse(reg2.body)["cluster"] == "edge-2");

  // An expired token is refused. Expiry is forced in the database: the shortest TTL is a minute.
  auto late = fleetd.call_json("POST", "/v1/clusters/edge-1/bootstrap-tokens", "", 201)["token"].get<std::string>();
  {
    pqxx::connection conn(fleetd.database_url());
    pqxx::work txn(conn);
    txn.exec("UPDATE bootstrap_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
    txn.commit();
  }
  REQUIRE(fleetd.call("POST", "/v1/agents/register", "", {}, late).status == 401);

  // fleetctl mints them too (operator), printing only the secret on stdout.
  const std::string config = (dir.path() / "data" / "fleetctl.json").string();
  auto made = run_command(
      {fleetctl_binary(), "--config", config, "create", "bootstrap-token", "--cluster", "edge-1", "--ttl", "15m"});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  std::string from_cli = made.out.substr(0, made.out.find('\n'));
  REQUIRE(fleetd.call("POST", "/v1/agents/register", "", {}, from_cli).status == 200);
  REQUIRE(run_command({fleetctl_binary(), "--config", config, "create", "bootstrap-token", "--cluster", "edge-1",
                       "--ttl", "5x"})
              .exit_code == 2);
  REQUIRE(run_command({fleetctl_binary(), "--config", config, "create", "bootstrap-token", "--cluster", "nope"})
              .exit_code == 3);

  // An agent credential is not an API token.
  REQUIRE(fleetd.call("GET", "/v1/clusters", "", {}, body["credential"].get<std::string>()).status == 401);

  // Registration is audited under the agent's name.
  auto audit = fleetd.call_json("GET", "/v1/audit?limit=50");
  int registrations = 0;
  for (const auto& e : audit["items"]) {
    if (e["action"] == "agent.register") {
      ++registrations;
      REQUIRE(e["actor"].get<std::string>().rfind("agent:edge-", 0) == 0);
    }
  }
  REQUIRE(registrations == 3);
}
