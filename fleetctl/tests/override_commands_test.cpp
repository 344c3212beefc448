// get/describe/delete override, apply -f of kind Override, and the OVERRIDES column of describe placement (issue
// #15 item 2), against a scripted fake of fleetd's API.
#include <catch2/catch.hpp>

#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using nlohmann::json;
using testing::Harness;
using testing::json_response;
using testing::SeenRequest;

namespace {

json stored_override() {
  return json::parse(R"({"name": "web-per-region", "workloads": ["web"], "generation": 2, "resourceVersion": "57",
    "createdAt": "2026-11-23T11:00:00.000Z", "updatedAt": "2026-11-23T11:30:00.000Z",
    "rules": [
      {"clusterSelector": {"labelSelector": "region=westeurope"},
       "jsonPatches": [{"op": "test", "path": "/0/kind", "value": "Deployment"},
                       {"op": "replace", "path": "/0/spec/template/spec/containers/0/image", "value": "web:1-eu"}]},
      {"clusterSelector": {"labelSelector": ""},
       "jsonPatches": [{"op": "copy", "from": "/0/metadata/name", "path": "/0/metadata/labels/app"}]}]})");
}

}  // namespace

TEST_CASE("get overrides lists them, and --workload asks for those of one workload", "[fleetctl][override]") {
  Harness h([&](const SeenRequest&) { return json_response(200, json{{"items", {stored_override()}}}.dump()); });
  auto r = h.run_with_server({"get", "overrides", "--workload", "web"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "NAME             WORKLOADS   RULES   GENERATION   AGE\n"
        "web-per-region   web         2       2            1h\n");
  CHECK(h.seen()[0].target == "/v1/overrides?limit=500&workload=web");
}

TEST_CASE("describe override shows each rule's clusters and operations", "[fleetctl][override]") {
  Harness h([&](const SeenRequest&) { return json_response(200, stored_override().dump()); });
  auto r = h.run_with_server({"describe", "override", "web-per-region"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "Name:              web-per-region\n"
        "Workloads:         web\n"
        "Rule 0:            clusters region=westeurope\n"
        "                     test /0/kind = \"Deployment\"\n"
        "                     replace /0/spec/template/spec/containers/0/image = \"web:1-eu\"\n"
        "Rule 1:            every cluster\n"
        "                     copy /0/metadata/labels/app <- /0/metadata/name\n"
        "Generation:        2\n"
        "Resource Version:  57\n"
        "Created:           2026-11-23T11:00:00.000Z (1h ago)\n"
        "Updated:           2026-11-23T11:30:00.000Z (30m ago)\n");
  CHECK(h.seen()[0].target == "/v1/overrides/web-per-region");
}

TEST_CASE("delete override and apply -f of kind Override", "[fleetctl][override]") {
  Harness h([&](const SeenRequest& req) {
    if (req.method == "GET") return json_response(404, testing::problem("not-found", 404, "not found"));
    json answer = stored_override();
    return json_response(req.method == "POST" ? 201 : 200, answer.dump());
  });
  auto deleted = h.run_with_server({"delete", "override", "web-per-region"});
  REQUIRE(deleted.exit_code == 0);
  CHECK(deleted.out == "override/web-per-region deleted\n");
  CHECK(h.seen()[0].method == "DELETE");
  CHECK(h.seen()[0].target == "/v1/overrides/web-per-region");

  auto applied = h.run({"apply", "-f", "-", "--server", "http://fleet.test:8080"},
                       "kind: Override\nname: web-per-region\nworkloads: [web]\nrules:\n"
                       "  - jsonPatches: [{op: replace, path: /0/spec/replicas, value: 3}]\n");
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.out == "override/web-per-region created\n");
  const SeenRequest& post = h.seen().back();
  CHECK(post.method == "POST");
  CHECK(post.target == "/v1/overrides");
  CHECK(json::parse(post.body) == json::parse(R"({"name": "web-per-region", "workloads": ["web"],
    "rules": [{"jsonPatches": [{"op": "replace", "path": "/0/spec/replicas", "value": 3}]}]})"));
}

TEST_CASE("describe placement shows the overrides each cluster got", "[fleetctl][override]") {
  const json placement = json::parse(R"({"workload": "web", "state": "Placed", "generation": 3,
    "decidedGeneration": 3, "decision": "Placed", "replicasWanted": 1, "replicasBound": 2,
    "bindings": [
      {"cluster": "eu-1", "replicas": 1, "state": "Applied", "generation": 3, "nodes": [],
       "overrides": [{"override": "web-per-region", "generation": 2, "rules": [0, 1]}]},
      {"cluster": "us-1", "replicas": 1, "state": "Failed", "generation": 3, "nodes": [], "overrides": [],
       "message": "boom"}],
    "rejected": []})");
  Harness h([&](const SeenRequest&) { return json_response(200, placement.dump()); });
  auto r = h.run_with_server({"describe", "placement", "web"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Bindings:\n"
                   "CLUSTER   REPLICAS   STATE          NODES   OVERRIDES\n"
                   "eu-1      1          Applied        -       web-per-region (rules 0,1)\n"
                   "us-1      1          Failed: boom   -       -\n") != std::string::npos);
}

}  // namespace fleet::ctl
