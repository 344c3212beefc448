// Overrides through the API (issue #15 item 2): create with Idempotency-Key, conflict, list (and by workload),
// read, replace with If-Match (generation bumped only by a change, and the named workloads placed again), 422s
// naming the member, delete, and the audit rows without the patches' values. Tagged [contract]: the response
// contract test (api/tests/contract) validates these answers against api/openapi.yaml.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

json override_doc(const std::string& image) {
  return {{"name", "web-images"},
          {"workloads", {"web"}},
          {"rules",
           {{{"clusterSelector", {{"labelSelector", "region=westeurope"}}},
             {"jsonPatches",
              {{{"op", "replace"}, {"path", "/0/spec/template/spec/containers/0/image"}, {"value", image}}}}}}}};
}

json workload() {
  return json::parse(R"({"name": "web", "manifests": [{"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}]})");
}

// The placement loop's first decision changes the workload's state (and resourceVersion); wait for it so that the
// generation read next is not moved under the test by something else.
json settled_workload(FleetdProcess& fleetd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  json w = fleetd.call_json("GET", "/v1/workloads/web");
  while (w["state"] == "Pending" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    w = fleetd.call_json("GET", "/v1/workloads/web");
  }
  return w;
}

}  // namespace

TEST_CASE("overrides: create, list, read, replace, refuse, delete, audit", "[integration][overrides][contract]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  fleetd.call_json("POST", "/v1/workloads", workload().dump(), 201);
  const json before = settled_workload(fleetd);

  auto created = fleetd.call("POST", "/v1/overrides", override_doc("web:1-eu").dump(), {{"idempotency-key", "k-1"}});
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.headers["location"] == "/v1/overrides/web-images");
  const json o = json::parse(created.body);
  CHECK(o["generation"] == 1);
  CHECK(o["rules"][0]["clusterSelector"]["labelSelector"] == "region=westeurope");
  CHECK(created.headers["etag"] == "\"" + o["resourceVersion"].get<std::string>() + "\"");
  // The same key replays the answer; a second create of the name is 409.
  auto replay = fleetd.call("POST", "/v1/overrides", override_doc("web:1-eu").dump(), {{"idempotency-key", "k-1"}});
  CHECK(replay.status == 201);
  CHECK(replay.headers["idempotent-replayed"] == "true");
  CHECK(fleetd.call("POST", "/v1/overrides", override_doc("web:1-eu").dump()).status == 409);
  // The workload it names is placed again: its generation moved.
  CHECK(fleetd.call_json("GET", "/v1/workloads/web")["generation"].get<int>() == before["generation"].get<int>() + 1);

  CHECK(fleetd.call_json("GET", "/v1/overrides")["items"].size() == 1);
  CHECK(fleetd.call_json("GET", "/v1/overrides?workload=web")["items"].size() == 1);
  CHECK(fleetd.call_json("GET", "/v1/overrides?workload=other")["items"].empty());
  CHECK(fleetd.call_json("GET", "/v1/overrides/web-images")["workloads"] == json{"web"});
  CHECK(fleetd.call("GET", "/v1/overrides/missing").status == 404);

  // 422s name the member.
  json bad = override_doc("x");
  bad["rules"][0]["jsonPatches"][0]["path"] = "spec/replicas";
  auto refused = fleetd.call("POST", "/v1/overrides", bad.dump());
  CHECK(refused.status == 422);
  CHECK(json::parse(refused.body)["field"] == "rules[0].jsonPatches[0].path");
  bad = override_doc("x");
  bad["rules"][0]["jsonPatches"][0].erase("value");
  CHECK(json::parse(fleetd.call("POST", "/v1/overrides", bad.dump()).body)["field"] == "rules[0].jsonPatches[0].value");

  // Replace: a stale If-Match is 412; the same document changes nothing; a change bumps generation.
  CHECK(
      fleetd.call("PUT", "/v1/overrides/web-images", override_doc("web:2-eu").dump(), {{"if-match", "\"1\""}}).status ==
      412);
  const json read = fleetd.call_json("GET", "/v1/overrides/web-images");
  CHECK(fleetd.call_json("PUT", "/v1/overrides/web-images", read.dump())["generation"] == 1);
  auto changed = fleetd.call("PUT", "/v1/overrides/web-images", override_doc("web:2-eu").dump(),
                             {{"if-match", "\"" + read["resourceVersion"].get<std::string>() + "\""}});
  INFO(changed.body);
  REQUIRE(changed.status == 200);
  CHECK(json::parse(changed.body)["generation"] == 2);

  auto deleted = fleetd.call("DELETE", "/v1/overrides/web-images");
  REQUIRE(deleted.status == 200);
  CHECK(json::parse(deleted.body)["state"] == "Deleted");
  CHECK(fleetd.call("DELETE", "/v1/overrides/web-images").status == 404);

  // Audited, without the values an override sets.
  const json audit = fleetd.call_json("GET", "/v1/audit?limit=100");
  int override_rows = 0;
  for (const auto& entry : audit["items"]) {
    if (!entry.value("action", "").starts_with("override.")) continue;
    ++override_rows;
    CHECK(entry.dump().find("web:2-eu") == std::string::npos);
  }
  CHECK(override_rows >= 5);
}
