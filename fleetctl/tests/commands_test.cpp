// Commands end to end against a scripted fake of fleetd's API (no daemon, no sockets).
#include <catch2/catch.hpp>
#include <fstream>

#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using testing::Harness;
using testing::json_response;
using testing::problem;
using testing::SeenRequest;

namespace {

nlohmann::json cluster_json(const std::string& name, const std::string& rv = "7") {
  return {{"name", name},
          {"provider", "aks"},
          {"region", "westeurope"},
          {"labels", {{"env", "dev"}}},
          {"taints", nlohmann::json::array()},
          {"state", "ready"},
          {"kubernetesVersion", "1.29.2"},
          {"resourceVersion", rv},
          {"createdAt", "2026-11-23T11:00:00.000Z"}};
}

}  // namespace

TEST_CASE("get clusters follows continue tokens and sends the selector and token", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.target.find("continue=") == std::string::npos) {
      return json_response(200, nlohmann::json{{"items", {cluster_json("a")}}, {"continue", "tok/1"}}.dump());
    }
    return json_response(200, nlohmann::json{{"items", {cluster_json("b")}}}.dump());
  });
  auto r = h.run_with_server({"get", "clusters", "-l", "env in (prod,dev)"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "NAME   PROVIDER   REGION       STATE   VERSION   AGE\n"
        "a      aks        westeurope   ready   1.29.2    1h\n"
        "b      aks        westeurope   ready   1.29.2    1h\n");
  REQUIRE(h.seen().size() == 2);
  CHECK(h.seen()[0].target == "/v1/clusters?limit=500&labelSelector=env%20in%20%28prod%2Cdev%29");
  CHECK(h.seen()[1].target == "/v1/clusters?limit=500&labelSelector=env%20in%20%28prod%2Cdev%29&continue=tok%2F1");
  CHECK(h.seen()[0].headers.at("Authorization") == "Bearer secret");
  CHECK(h.last_options().base_url == "http://fleet.test:8080");

  auto json = h.run_with_server({"get", "clusters", "-o", "json"});
  REQUIRE(json.exit_code == 0);
  auto doc = nlohmann::json::parse(json.out);
  REQUIRE(doc["items"].size() == 2);
  CHECK(doc["items"][1]["name"] == "b");
}

TEST_CASE("a token from $FLEETCTL_TOKEN is quiet, --token wins over it with a warning", "[fleetctl]") {
  Harness h([](const SeenRequest&) { return json_response(200, R"({"items": []})"); });
  h.env().fleetctl_token = "from-env";
  auto quiet = h.run({"get", "clusters", "--server", "http://fleet.test:8080"});
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.err == "No resources found.\n");
  REQUIRE(h.seen().size() == 1);
  CHECK(h.seen()[0].headers.at("Authorization") == "Bearer from-env");

  auto flagged = h.run({"get", "clusters", "--server", "http://fleet.test:8080", "--token", "from-flag"});
  REQUIRE(flagged.exit_code == 0);
  CHECK(flagged.err ==
        "warning: --token puts the token where other local users can read it; set FLEETCTL_TOKEN or store it in a "
        "context (fleetctl config set-context)\nNo resources found.\n");
  REQUIRE(h.seen().size() == 2);
  CHECK(h.seen()[1].headers.at("Authorization") == "Bearer from-flag");
}

TEST_CASE("get clusters --limit stops after N items — empty lists say so on stderr", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.target.find("labelSelector=env%3Dnone") != std::string::npos) return json_response(200, R"({"items": []})");
    return json_response(200,
                         nlohmann::json{{"items", {cluster_json("a"), cluster_json("b")}}, {"continue", "x"}}.dump());
  });
  auto limited = h.run_with_server({"get", "clusters", "--limit", "2", "-o", "json"});
  REQUIRE(limited.exit_code == 0);
  CHECK(nlohmann::json::parse(limited.out)["items"].size() == 2);
  REQUIRE(h.seen().size() == 1);
  CHECK(h.seen()[0].target == "/v1/clusters?limit=2");

  auto empty = h.run_with_server({"get", "clusters", "-l", "env=none"});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.empty());
  CHECK(empty.err == "No resources found.\n");
  auto empty_json = h.run_with_server({"get", "clusters", "-l", "env=none", "-o", "json"});
  CHECK(nlohmann::json::parse(empty_json.out) == nlohmann::json::parse(R"({"items": []})"));
}

TEST_CASE("get cluster NAME and describe — -o json prints the object itself", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.target == "/v1/clusters/a") return json_response(200, cluster_json("a").dump());
    return json_response(404, problem("not-found", 404, "cluster \\\"x\\\" not found"));
  });
  auto one = h.run_with_server({"get", "cluster", "a", "-o", "json"});
  REQUIRE(one.exit_code == 0);
  CHECK(nlohmann::json::parse(one.out)["name"] == "a");
  auto yaml = h.run_with_server({"get", "cluster", "a", "-o", "yaml"});
  CHECK_THAT(yaml.out, Catch::Contains("name: a"));
  auto described = h.run_with_server({"describe", "cluster", "a"});
  REQUIRE(described.exit_code == 0);
  CHECK_THAT(described.out, Catch::StartsWith("Name:              a\n"));

  auto missing = h.run_with_server({"get", "cluster", "x"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err == "Error from server (not-found): cluster \"x\" not found\n");
}

TEST_CASE("exit codes for each class of server answer and for transport failures", "[fleetctl]") {
  for (auto [status, slug, code] : std::vector<std::tuple<int, std::string, int>>{{401, "unauthenticated", 5},
                                                                                  {403, "forbidden", 5},
                                                                                  {404, "not-found", 3},
                                                                                  {409, "already-exists", 4},
                                                                                  {412, "precondition-failed", 4},
                                                                                  {422, "invalid-field", 1},
                                                                                  {415, "unsupported-media-type", 1},
                                                                                  {400, "invalid-query", 1},
                                                                                  {500, "internal", 6},
                                                                                  {503, "unavailable", 6}}) {
    Harness h([&](const SeenRequest&) { return json_response(status, problem(slug, status, "nope")); });
    auto r = h.run_with_server({"delete", "cluster", "a"});
    INFO(status);
    CHECK(r.exit_code == code);
    CHECK(r.err == "Error from server (" + slug + "): nope\n");
  }
  Harness unreachable;  // the factory fails like a refused connection
  auto r = unreachable.run_with_server({"get", "clusters"});
  CHECK(r.exit_code == 6);
  CHECK(r.err == "error: cannot reach http://fleet.test:8080: connection refused\n");

  Harness transport([](const SeenRequest&) -> Result<http::ClientResponse> {
    return make_error(ErrorCode::kUnavailable, "cannot reach http://fleet.test:8080: timed out after 30000 ms");
  });
  CHECK(transport.run_with_server({"get", "clusters"}).exit_code == 6);
}

TEST_CASE("usage errors exit 2 before any request", "[fleetctl]") {
  Harness h([](const SeenRequest&) { return json_response(200, "{}"); });
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{},
                                             {"get"},
                                             {"get", "clusters", "-o", "xml"},
                                             {"get", "clusters", "-l", "env in (a"},
                                             {"get", "clusters", "--limit", "zero"},
                                             {"get", "clusters", "--limit", "0"},
                                             {"get", "cluster", "Bad_Name"},
                                             {"label", "cluster", "a"},
                                             {"label", "cluster", "a", "k=v", "k-"},
                                             {"label", "cluster", "a", "bad key=v"},
                                             {"taint", "cluster", "a", "k=v:Never"},
                                             {"create", "cluster", "a"},
                                             {"create", "cluster", "a", "--provider", "gke"},
                                             {"create", "cluster", "a", "--provider", "aks", "--label", "novalue"},
                                             {"create", "cluster", "a", "--provider", "aks", "--taint", "k=v"},
                                             {"create", "cluster", "a", "--provider", "aks", "--region", "West Europe"},
                                             {"create", "token", "--role", "root"},
                                             {"create", "token"},
                                             {"delete", "cluster"},
                                             {"frobnicate"},
                                             {"--request-timeout", "0", "version"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO(joined);
    auto r = h.run_with_server(args);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  CHECK(h.seen().empty());
  CHECK(h.run({"--help"}).exit_code == 0);
}

TEST_CASE("label: GET, then merge patch of labels with If-Match — --overwrite rules", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "GET") return json_response(200, cluster_json("a", "7").dump(), {{"etag", "\"7\""}});
    return json_response(200, cluster_json("a", "8").dump());
  });
  auto r = h.run_with_server({"label", "cluster", "a", "team=ml", "env-"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "cluster/a labeled\n");
  REQUIRE(h.seen().size() == 2);
  const auto& patch = h.seen()[1];
  CHECK(patch.method == "PATCH");
  CHECK(patch.target == "/v1/clusters/a");
  CHECK(patch.headers.at("If-Match") == "\"7\"");
  CHECK(patch.headers.at("Content-Type") == "application/merge-patch+json");
  CHECK(nlohmann::json::parse(patch.body) == nlohmann::json::parse(R"({"labels": {"team": "ml", "env": null}})"));

  auto refused = h.run_with_server({"label", "cluster", "a", "env=prod"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "error: 'env' already has a value (dev), and --overwrite is false\n");
  CHECK(h.seen().size() == 3);  // only the GET

  auto overwritten = h.run_with_server({"label", "cluster", "a", "env=prod", "--overwrite"});
  CHECK(overwritten.exit_code == 0);
  CHECK(nlohmann::json::parse(h.seen().back().body) == nlohmann::json::parse(R"({"labels": {"env": "prod"}})"));

  auto unchanged = h.run_with_server({"label", "cluster", "a", "env=dev"});
  CHECK(unchanged.exit_code == 0);
  CHECK(unchanged.out == "cluster/a not labeled\n");
}

TEST_CASE("taint: PATCH of the whole array with If-Match, retried after a 412", "[fleetctl]") {
  int gets = 0;
  int patches = 0;
  Harness h([&](const SeenRequest& req) {
    if (req.method == "GET") {
      ++gets;
      // No ETag header: the If-Match falls back to the body's resourceVersion.
      return json_response(200, cluster_json("a", std::to_string(6 + gets)).dump());
    }
    ++patches;
    if (patches == 1) return json_response(412, problem("precondition-failed", 412, "stale"));
    return json_response(200, cluster_json("a").dump());
  });
  auto r = h.run_with_server({"taint", "cluster", "a", "dedicated=ml:NoSchedule", "gpu:NoExecute"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "cluster/a tainted\n");
  CHECK(gets == 2);
  CHECK(patches == 2);
  const auto& last = h.seen().back();
  CHECK(last.headers.at("If-Match") == "\"8\"");
  CHECK(nlohmann::json::parse(last.body) == nlohmann::json::parse(R"({"taints": [
      {"key": "dedicated", "value": "ml", "effect": "NoSchedule"},
      {"key": "gpu", "value": "", "effect": "NoExecute"}]})"));

  auto missing = h.run_with_server({"taint", "cluster", "a", "nope-"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "error: taint \"nope\" not found\n");
}

TEST_CASE("taint: a 412 that persists ends with exit 4 after bounded retries", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "GET") return json_response(200, cluster_json("a").dump());
    return json_response(412, problem("precondition-failed", 412, "resourceVersion 7 is stale"));
  });
  auto r = h.run_with_server({"taint", "cluster", "a", "k:NoSchedule"});
  CHECK(r.exit_code == 4);
  CHECK(h.seen().size() == 6);  // three GET + PATCH rounds
}

TEST_CASE("create cluster from flags and from -f", "[fleetctl]") {
  Harness h([](const SeenRequest& req) { return json_response(201, req.body); });
  auto r = h.run_with_server({"create", "cluster", "aks-1", "--provider", "aks", "--region", "westeurope", "--label",
                              "env=prod", "--label", "tier=gold", "--taint", "gpu=a100:NoSchedule", "--update-group",
                              "canary"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "cluster/aks-1 created\n");
  CHECK(h.seen()[0].method == "POST");
  CHECK(h.seen()[0].target == "/v1/clusters");
  CHECK(nlohmann::json::parse(h.seen()[0].body) == nlohmann::json::parse(R"({
      "name": "aks-1", "provider": "aks", "region": "westeurope", "labels": {"env": "prod", "tier": "gold"},
      "taints": [{"key": "gpu", "value": "a100", "effect": "NoSchedule"}], "updateGroup": "canary"})"));

  const auto file = h.dir() / "body.json";
  std::ofstream(file) << R"({"name": "arc-1", "provider": "arc"})";
  auto from_file = h.run_with_server({"create", "cluster", "-f", file.string(), "-o", "json"});
  REQUIRE(from_file.exit_code == 0);
  CHECK(nlohmann::json::parse(from_file.out)["name"] == "arc-1");
  CHECK(h.run_with_server({"create", "cluster", "other", "-f", file.string()}).exit_code == 2);
  CHECK(h.run_with_server({"create", "cluster", "-f", file.string(), "--provider", "aks"}).exit_code == 2);
  CHECK(h.run_with_server({"create", "cluster", "-f", (h.dir() / "missing.json").string()}).exit_code == 2);
}

TEST_CASE("tokens: create prints the secret alone, get lists, delete revokes", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "POST") {
      return json_response(
          201,
          R"({"id":"t1","role":"viewer","description":"ci","createdAt":"2026-11-23T11:00:00Z","token":"fleet_s3cret"})");
    }
    if (req.method == "GET") {
      return json_response(
          200, R"({"items":[{"id":"t1","role":"viewer","description":"ci","createdAt":"2026-11-23T11:00:00Z"}]})");
    }
    return json_response(204, "");
  });
  auto created = h.run_with_server({"create", "token", "--role", "viewer", "--description", "ci"});
  REQUIRE(created.exit_code == 0);
  CHECK(created.out == "fleet_s3cret\n");
  CHECK_THAT(created.err, Catch::Contains("t1"));
  CHECK(nlohmann::json::parse(h.seen()[0].body) == nlohmann::json::parse(R"({"role":"viewer","description":"ci"})"));

  auto listed = h.run_with_server({"get", "tokens"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out == "ID   ROLE     STATUS   DESCRIPTION   AGE\nt1   viewer   Active   ci            1h\n");
  CHECK(h.seen()[1].target == "/v1/tokens");

  auto deleted = h.run_with_server({"delete", "token", "t1"});
  REQUIRE(deleted.exit_code == 0);
  CHECK(deleted.out == "token \"t1\" revoked\n");
  CHECK(h.seen()[2].method == "DELETE");
  CHECK(h.seen()[2].target == "/v1/tokens/t1");
}

TEST_CASE("version: client always, server from GET /version", "[fleetctl]") {
  Harness h([](const SeenRequest&) {
    return json_response(200, R"({"version":"0.1.0","gitCommit":"abc123","buildDate":"2026-11-23"})");
  });
  auto r = h.run_with_server({"version"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("Client Version: "));
  CHECK_THAT(r.out, Catch::Contains("Server Version: 0.1.0 (commit abc123, built 2026-11-23)"));
  CHECK(h.seen()[0].target == "/version");
  auto json = h.run_with_server({"version", "-o", "json"});
  CHECK(nlohmann::json::parse(json.out)["serverVersion"]["gitCommit"] == "abc123");

  Harness down;
  auto offline = down.run_with_server({"version"});
  CHECK(offline.exit_code == 6);
  CHECK_THAT(offline.out, Catch::StartsWith("Client Version: "));
  CHECK(down.run({"version", "--client"}).exit_code == 0);
}

TEST_CASE("garbage from the server never crashes a command", "[fleetctl]") {
  for (const char* body : {"", "not json", "[]", "{\"items\": 5}", "{\"items\": [1, \"x\", null]}", "null"}) {
    Harness h([&](const SeenRequest&) { return json_response(200, body); });
    INFO(body);
    for (std::vector<std::string> args :
         std::vector<std::vector<std::string>>{{"get", "clusters"},
                                               {"get", "clusters", "-o", "wide"},
                                               {"get", "cluster", "a"},
                                               {"describe", "cluster", "a"},
                                               {"label", "cluster", "a", "k=v"},
                                               {"taint", "cluster", "a", "k:NoSchedule"},
                                               {"get", "tokens"},
                                               {"version"}}) {
      auto r = h.run_with_server(args);
      CHECK(r.exit_code >= 0);
      CHECK(r.exit_code <= 6);
    }
  }
}

}  // namespace fleet::ctl
