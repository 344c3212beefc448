// The cluster registry end to end: real fleetd on embedded PostgreSQL.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {
json cluster_body(const std::string& name, json labels = json::object()) {
  return {{"name", name}, {"provider", "aks"}, {"region", "westeurope"}, {"labels", labels}, {"updateGroup", "canary"}};
}
}  // namespace

TEST_CASE("cluster CRUD round trip with resourceVersion, ETag, If-Match and audit", "[integration][clusters]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));

  auto created = fleetd.call("POST", "/v1/clusters", cluster_body("aks-westeurope-1", {{"env", "prod"}}).dump());
  REQUIRE(created.status == 201);
  auto c = json::parse(created.body);
  REQUIRE(c["name"] == "aks-westeurope-1");
  REQUIRE(c["state"] == "registering");
  REQUIRE(c["labels"]["env"] == "prod");
  REQUIRE(created.headers["location"] == "/v1/clusters/aks-westeurope-1");
  std::string rv = c["resourceVersion"];
  REQUIRE(created.headers["etag"] == "\"" + rv + "\"");
  REQUIRE_FALSE(created.headers["x-request-id"].empty());

  auto got = fleetd.call_json("GET", "/v1/clusters/aks-westeurope-1");
  REQUIRE(got == c);

  // Duplicate name → 409 already-exists.
  auto dup = fleetd.call("POST", "/v1/clusters", cluster_body("aks-westeurope-1").dump());
  REQUIRE(dup.status == 409);
  REQUIRE(json::parse(dup.body)["type"] == "urn:fleetd:problem:already-exists");

  // Merge patch with a current If-Match.
  auto patched =
      fleetd.call("PATCH", "/v1/clusters/aks-westeurope-1",
                  R"({"labels": {"env": null, "tier": "gold"}, "taints": [{"key": "gpu", "effect": "NoSchedule"}]})",
                  {{"content-type", "application/merge-patch+json"}, {"if-match", "\"" + rv + "\""}});
  REQUIRE(patched.status == 200);
  auto p = json::parse(patched.body);
  REQUIRE(p["labels"] == json{{"tier", "gold"}});
  REQUIRE(p["taints"][0]["key"] == "gpu");
  REQUIRE(std::stoll(p["resourceVersion"].get<std::string>()) > std::stoll(rv));

  // The old version is stale now → 412, nothing changes.
  auto stale = fleetd.call("PATCH", "/v1/clusters/aks-westeurope-1", R"({"region": "eastus"})",
                           {{"content-type", "application/merge-patch+json"}, {"if-match", rv}});
  REQUIRE(stale.status == 412);
  REQUIRE(fleetd.call_json("GET", "/v1/clusters/aks-westeurope-1")["region"] == "westeurope");

  // Delete, then 404.
  REQUIRE(fleetd.call("DELETE", "/v1/clusters/aks-westeurope-1").status == 204);
  auto gone = fleetd.call("GET", "/v1/clusters/aks-westeurope-1");
  REQUIRE(gone.status == 404);
  REQUIRE(gone.headers["content-type"] == "application/problem+json");

  // Every mutation attempt is in the audit log with its outcome.
  auto audit = fleetd.call_json("GET", "/v1/audit?limit=10");
  std::multiset<std::string> seen;
  for (const auto& e : audit["items"])
    seen.insert(e["action"].get<std::string>() + ":" + e["outcome"].get<std::string>());
  REQUIRE(seen.count("cluster.create:success") == 1);
  REQUIRE(seen.count("cluster.create:already-exists") == 1);
  REQUIRE(seen.count("cluster.patch:success") == 1);
  REQUIRE(seen.count("cluster.patch:precondition-failed") == 1);
  REQUIRE(seen.count("cluster.delete:success") == 1);
  REQUIRE(audit["items"][0]["requestId"].get<std::string>().size() > 0);
}

TEST_CASE("list pages with limit/continue in stable order and filters with label selectors",
          "[integration][clusters]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "c-%02d", i);
    json labels = {{"env", i % 2 ? "prod" : "dev"}, {"idx", std::to_string(i)}};
    if (i % 5 == 0) labels["tier"] = "gold";
    if (i % 3 == 0) labels["gpu"] = "h100";
    REQUIRE(fleetd.call("POST", "/v1/clusters", cluster_body(name, labels).dump()).status == 201);
  }
  std::vector<std::string> names;
  std::string cont;
  int pages = 0;
  do {
    auto page = fleetd.call_json("GET", "/v1/clusters?limit=7" + (cont.empty() ? "" : "&continue=" + cont));
    for (const auto& c : page["items"]) names.push_back(c["name"]);
    cont = page.contains("continue") ? page["continue"].get<std::string>() : "";
    ++pages;
  } while (!cont.empty());
  REQUIRE(pages == 4);
  REQUIRE(names.size() == 25);
  REQUIRE(std::is_sorted(names.begin(), names.end()));

  auto count = [&](const std::string& selector) {
    return fleetd.call_json("GET", "/v1/clusters?labelSelector=" + selector)["items"].size();
  };
  REQUIRE(count("env%3Dprod") == 12);
  REQUIRE(count("env%3Dprod,tier!%3Dgold") == 10);  // odd indexes minus 5, 15
  REQUIRE(count("tier") == 5);                      // exists
  REQUIRE(count("!gpu") == 16);                     // 0,3,…,24 have gpu (9)
  REQUIRE(count("idx%20in%20(1,2,3)") == 3);
  REQUIRE(count("env%20notin%20(prod),!tier") == 10);  // even and not multiple of 5: 13 - 3
  REQUIRE(count("env%3D%3Ddev,gpu%3Dh100") == 5);      // 0,6,12,18,24
}

TEST_CASE("Idempotency-Key replays the first response and refuses another body", "[integration][clusters]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  auto body = cluster_body("idem-1").dump();
  auto first = fleetd.call("POST", "/v1/clusters", body, {{"idempotency-key", "key-123"}});
  REQUIRE(first.status == 201);
  auto again = fleetd.call("POST", "/v1/clusters", body, {{"idempotency-key", "key-123"}});
  REQUIRE(again.status == 201);
  REQUIRE(again.body == first.body);
  REQUIRE(again.headers["idempotent-replayed"] == "true");
  auto other = fleetd.call("POST", "/v1/clusters", cluster_body("idem-2").dump(), {{"idempotency-key", "key-123"}});
  REQUIRE(other.status == 409);
  REQUIRE(json::parse(other.body)["type"] == "urn:fleetd:problem:idempotency-key-reused");
  REQUIRE(fleetd.call("GET", "/v1/clusters/idem-2").status == 404);

  // Concurrent retries with one key create exactly one cluster and all see 201.
  std::vector<std::thread> threads;
  threads.reserve(6);
  std::atomic<int> created{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto client = fleet::http::Client::create([&] {
        fleet::http::ClientOptions o;
        o.base_url = fleetd.base_url();
        o.timeout = std::chrono::milliseconds(30000);
        return o;
      }());
      auto r = (*client)->request("POST", "/v1/clusters",
                                  {{"authorization", "Bearer " + fleetd.admin_token()},
                                   {"content-type", "application/json"},
                                   {"idempotency-key", "race"}},
                                  cluster_body("idem-race").dump());
      if (r && r->status == 201) created++;
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(created == 6);
}

TEST_CASE("tokens: roles, 401/403, revocation, offline creation", "[integration][auth]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  auto viewer = fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer", "description": "ro"})", 201);
  auto op = fleetd.call_json("POST", "/v1/tokens", R"({"role": "operator"})", 201);
  std::string vt = viewer["token"], ot = op["token"];

  REQUIRE(fleetd.call("GET", "/v1/clusters", "", {}, std::string("")).status == 401);
  REQUIRE(fleetd.call("GET", "/v1/clusters", "", {}, std::string("fltd_garbage")).status == 401);
  REQUIRE(fleetd.call("GET", "/v1/clusters", "", {}, vt).status == 200);
  REQUIRE(fleetd.call("POST", "/v1/clusters", cluster_body("x").dump(), {}, vt).status == 403);
  REQUIRE(fleetd.call("POST", "/v1/clusters", cluster_body("x").dump(), {}, ot).status == 201);
  REQUIRE(fleetd.call("GET", "/v1/tokens", "", {}, ot).status == 403);

  REQUIRE(fleetd.call("DELETE", "/v1/tokens/" + viewer["id"].get<std::string>()).status == 204);
  REQUIRE(fleetd.call("GET", "/v1/clusters", "", {}, vt).status == 401);
  REQUIRE(fleetd.call("DELETE", "/v1/tokens/not-a-uuid").status == 404);
  // A refused create is audited with its reason (issue #10).
  REQUIRE(fleetd.call("POST", "/v1/tokens", R"({"role": "root"})").status == 422);

  // `fleetd token create` while fleetd runs: straight to the database; the token works at once.
  auto made = run_command(
      {fleetd_binary(), "token", "create", "--role", "viewer", "--data-dir", (dir.path() / "data").string()});
  REQUIRE(made.exit_code == 0);
  std::string offline = made.out.substr(0, made.out.find('\n'));
  REQUIRE(offline.rfind("fltd_", 0) == 0);
  REQUIRE(fleetd.call("GET", "/v1/clusters", "", {}, offline).status == 200);
  auto revoked = run_command({fleetd_binary(), "token", "revoke", "00000000-0000-0000-0000-000000000000", "--data-dir",
                              (dir.path() / "data").string()});
  CHECK(revoked.exit_code == 3);
  // Token changes beside the API are audited too: the embedded admin token, the CLI's create and revoke.
  const auto audit = fleetd.call_json("GET", "/v1/audit?limit=1000");
  std::set<std::string> seen;
  for (const auto& e : audit["items"]) {
    if (e["objectKind"] == "token") seen.insert(e["actor"].get<std::string>() + " " + e["action"].get<std::string>());
  }
  CHECK(seen.count("fleetd token.create") == 1);
  CHECK(seen.count("cli:fleetd-token-create token.create") == 1);
  CHECK(seen.count("cli:fleetd-token-revoke token.revoke") == 1);
  std::set<std::string> refusals;
  for (const auto& e : audit["items"]) {
    const std::string action = e["action"];
    if (action == "request.forbidden" || (action == "token.create" && e["outcome"] != "success")) {
      refusals.insert(action + " " + e["outcome"].get<std::string>() + " " + e["objectName"].get<std::string>() + " " +
                      e["detail"].value("method", ""));
    }
  }
  // The two 403s above (a viewer creating a cluster, an operator listing tokens), with the route and the actor's
  // token; and the refused role.
  CHECK(refusals == std::set<std::string>{"request.forbidden forbidden /v1/clusters POST",
                                          "request.forbidden forbidden /v1/tokens GET",
                                          "token.create invalid-field  "});
  // fleetd is still healthy afterwards (the command left its database alone).
  REQUIRE(fleetd.call("GET", "/readyz", "", {}, std::string("")).status == 200);

  // The log never contains a token.
  std::ifstream log(fleetd.log_path());
  std::stringstream ss;
  ss << log.rdbuf();
  REQUIRE(ss.str().find(vt) == std::string::npos);
  REQUIRE(ss.str().find(fleetd.admin_token()) == std::string::npos);
}

TEST_CASE("operational endpoints: healthz, readyz, metrics, openapi, version, request ids", "[integration][ops]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  REQUIRE(fleetd.call("GET", "/healthz", "", {}, std::string("")).status == 200);
  REQUIRE(fleetd.call("GET", "/readyz", "", {}, std::string("")).status == 200);
  // A burst of probes costs at most one database check a second (#10: /readyz is unauthenticated).
  auto readiness_checks = [&fleetd] {
    auto text = fleetd.call("GET", "/metrics", "", {}, std::string("")).body;
    const std::string series = "\nfleetd_readiness_checks_total ";
    const auto at = text.find(series);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size()));
  };
  const double checks_before = readiness_checks();
  REQUIRE(checks_before >= 1);
  const auto burst_started = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) REQUIRE(fleetd.call("GET", "/readyz", "", {}, std::string("")).status == 200);
  const double burst_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - burst_started).count();
  const double checks = readiness_checks() - checks_before;
  INFO(checks << " database checks for 200 probes in " << burst_seconds << " s");
  CHECK(checks <= 1 + burst_seconds);  // one a second at most
  fleetd.call("GET", "/v1/clusters/nope");
  auto metrics = fleetd.call("GET", "/metrics", "", {}, std::string(""));
  REQUIRE(metrics.status == 200);
  REQUIRE(
      metrics.body.find("fleetd_http_requests_total{route=\"/v1/clusters/{name}\",method=\"GET\",status=\"404\"} 1") !=
      std::string::npos);
  REQUIRE(metrics.body.find("fleetd_http_request_duration_seconds_bucket") != std::string::npos);
  REQUIRE(metrics.body.find("fleetd_db_pool_in_use") != std::string::npos);
  REQUIRE(metrics.body.find("fleetd_build_info") != std::string::npos);
  auto openapi = json::parse(fleetd.call("GET", "/openapi.json", "", {}, std::string("")).body);
  REQUIRE(openapi["openapi"].get<std::string>().rfind("3.", 0) == 0);
  REQUIRE(openapi["paths"].contains("/v1/clusters/{name}"));
  REQUIRE(fleetd.call_json("GET", "/version").contains("version"));
  auto with_id = fleetd.call("GET", "/healthz", "", {{"x-request-id", "trace-abc.1"}}, std::string(""));
  REQUIRE(with_id.headers["x-request-id"] == "trace-abc.1");
  auto bad_id = fleetd.call("GET", "/healthz", "", {{"x-request-id", "bad id with spaces"}}, std::string(""));
  REQUIRE(bad_id.headers["x-request-id"] != "bad id with spaces");
  REQUIRE_FALSE(bad_id.headers["x-request-id"].empty());
}

TEST_CASE("audit rows carry the server's own request id beside the client's", "[integration][auth]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  // Two requests under one client id (clients choose it, and may reuse it), and one without.
  REQUIRE(fleetd.call("POST", "/v1/clusters", cluster_body("rid-1").dump(), {{"x-request-id", "same-id"}}).status ==
          201);
  REQUIRE(fleetd.call("POST", "/v1/clusters", cluster_body("rid-2").dump(), {{"x-request-id", "same-id"}}).status ==
          201);
  auto plain = fleetd.call("POST", "/v1/clusters", cluster_body("rid-3").dump());
  REQUIRE(plain.status == 201);
  std::map<std::string, json> rows;
  const json audit = fleetd.call_json("GET", "/v1/audit?limit=100");  // held: a loop over a temporary's member dangles
  for (const auto& e : audit["items"]) {
    if (e["action"] == "cluster.create") rows[e["objectName"].get<std::string>()] = e;
  }
  REQUIRE(rows.size() == 3);
  CHECK(rows["rid-1"]["requestId"] == "same-id");
  CHECK(rows["rid-2"]["requestId"] == "same-id");
  const std::string s1 = rows["rid-1"]["serverRequestId"], s2 = rows["rid-2"]["serverRequestId"];
  CHECK(s1.size() == 16);
  CHECK(s2.size() == 16);
  CHECK(s1 != s2);
  // Without a client id, the one id is the server's, and it is what the response said.
  CHECK(rows["rid-3"]["requestId"] == rows["rid-3"]["serverRequestId"]);
  CHECK(rows["rid-3"]["requestId"] == plain.headers["x-request-id"]);
}
