// Per-cluster overrides over a simulated fleet (issue #15 item 2): real PostgreSQL, fleetd and fleet-sim. One
// workload runs on two clusters (westeurope, eastus); an override gives each its own image. The check is what the
// sim's clusters hold (fleet-sim --manifests-dir: the objects of each cluster's last apply), not fleetd's view:
// each cluster runs the image its rule gave it, the placement records which override and rules each binding got
// (and fleetctl describe placement shows it), a failing patch fails only its cluster's binding with the reason and
// sends nothing there, and deleting the override brings both back to the workload's own manifests.
// The second case: a changed workload (a new image) reaches both clusters, and the workload's events (issue #15 item 5)
// say what was decided, bound and reported, and why.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;

namespace {

constexpr const char* kImagePath = "/0/spec/template/spec/containers/0/image";

json web_workload() {
  return json::parse(R"({"name": "web", "replicas": 2, "resources": {"cpu": 1, "memoryGiB": 1},
    "manifests": [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}]})");
}

json override_doc(const json& us_patches) {
  return {{"name", "web-per-region"},
          {"workloads", {"web"}},
          {"rules",
           {{{"clusterSelector", {{"labelSelector", "region=westeurope"}}},
             {"jsonPatches", {{{"op", "replace"}, {"path", kImagePath}, {"value", "web:1-eu"}}}}},
            {{"clusterSelector", {{"labelSelector", "region=eastus"}}}, {"jsonPatches", us_patches}}}}};
}

// What the sim's cluster holds for the workload: the objects of its last apply, or null when it holds none.
json held(const std::filesystem::path& dir, const std::string& cluster) {
  std::ifstream in(dir / cluster / "web.json");
  if (!in) return nullptr;
  return json::parse(in, nullptr, false);
}

std::string image_of(const json& objects) {
  if (!objects.is_array() || objects.empty()) return "";
  return objects[0].value(json::json_pointer("/spec/template/spec/containers/0/image"), std::string());
}

// Polls `done` (every 200 ms, at most 60 s); the placement and the sim's files are in the failure message.
void wait_for(FleetdProcess& fleetd, const std::filesystem::path& manifests, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    INFO(fleetd.call_json("GET", "/v1/workloads/web/placement").dump());
    INFO(held(manifests, "eu-1").dump() << " / " << held(manifests, "us-1").dump());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// The simulated fleet of both cases: eu-1 (region westeurope) and us-1 (eastus), each with L40S nodes.
agent::FleetSpec two_clusters(std::uint64_t seed) {
  auto spec = agent::generate_fleet_spec(2, "l40s:4x100%", seed);
  REQUIRE(spec);
  spec->time_scale = 2000;
  spec->clusters[0].name = "eu-1";
  spec->clusters[0].labels["region"] = "westeurope";
  spec->clusters[1].name = "us-1";
  spec->clusters[1].labels["region"] = "eastus";
  return std::move(*spec);
}

json binding_on(const json& placement, const std::string& cluster) {
  for (const auto& b : placement["bindings"]) {
    if (b["cluster"] == cluster) return b;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("fleet-sim: an override gives two clusters different images, recorded per binding",
          "[integration][placement][overrides][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  const auto manifests = dir.path() / "manifests";
  const auto sim = start_fleet_sim(fleetd, dir.path(), two_clusters(1502), {"--manifests-dir", manifests.string()});
  REQUIRE(wait_for_ready_clusters(fleetd, 2));

  // Without an override both clusters hold the workload's own image, with the engine's replica count.
  fleetd.call_json("POST", "/v1/workloads", web_workload().dump(), 201);
  wait_for(fleetd, manifests, [&] {
    return image_of(held(manifests, "eu-1")) == "web:1" && image_of(held(manifests, "us-1")) == "web:1";
  });
  CHECK(held(manifests, "eu-1")[0]["spec"]["replicas"] == 2);

  // The override: Europe and the US each get their own image; the US also an annotation.
  const json us = {{{"op", "replace"}, {"path", kImagePath}, {"value", "web:1-us"}},
                   {{"op", "add"}, {"path", "/0/metadata/annotations"}, {"value", {{"fleet.io/region", "us"}}}}};
  fleetd.call_json("POST", "/v1/overrides", override_doc(us).dump(), 201);
  wait_for(fleetd, manifests, [&] {
    return image_of(held(manifests, "eu-1")) == "web:1-eu" && image_of(held(manifests, "us-1")) == "web:1-us";
  });
  const json us_objects = held(manifests, "us-1");
  CHECK(us_objects[0]["metadata"]["annotations"]["fleet.io/region"] == "us");
  CHECK(us_objects[0]["metadata"]["labels"]["fleet.io/workload"] == "web");  // fleetd's own labels still there
  CHECK_FALSE(held(manifests, "eu-1")[0]["metadata"].contains("annotations"));
  // Each binding records what it got.
  wait_for(fleetd, manifests, [&] {
    const json p = fleetd.call_json("GET", "/v1/workloads/web/placement");
    return binding_on(p, "eu-1")["state"] == "Running" && binding_on(p, "us-1")["state"] == "Running";
  });
  const json placement = fleetd.call_json("GET", "/v1/workloads/web/placement");
  CHECK(binding_on(placement, "eu-1")["overrides"] ==
        json::parse(R"([{"override": "web-per-region", "generation": 1, "rules": [0]}])"));
  CHECK(binding_on(placement, "us-1")["overrides"] ==
        json::parse(R"([{"override": "web-per-region", "generation": 1, "rules": [1]}])"));
  const std::string config = (dir.path() / "data" / "fleetctl.json").string();
  const auto described = run_command({fleetctl_binary(), "--config", config, "describe", "placement", "web"});
  INFO(described.err);
  REQUIRE(described.exit_code == 0);
  CHECK(described.out.find("OVERRIDES") != std::string::npos);
  CHECK(described.out.find("web-per-region (rule 0)") != std::string::npos);
  CHECK(described.out.find("web-per-region (rule 1)") != std::string::npos);

  // A patch that fails on the US cluster's manifests fails that binding, says why, and sends nothing there; Europe
  // is applied again with the new generation.
  const json current = fleetd.call_json("GET", "/v1/overrides/web-per-region");
  json failing = override_doc({{{"op", "test"}, {"path", "/0/kind"}, {"value", "StatefulSet"}}});
  failing["resourceVersion"] = current["resourceVersion"];
  fleetd.call_json("PUT", "/v1/overrides/web-per-region", failing.dump());
  wait_for(fleetd, manifests, [&] {
    const json p = fleetd.call_json("GET", "/v1/workloads/web/placement");
    return binding_on(p, "us-1")["state"] == "Failed" && binding_on(p, "eu-1")["state"] == "Running" &&
           binding_on(p, "eu-1")["overrides"][0]["generation"] == 2;
  });
  const json failed = binding_on(fleetd.call_json("GET", "/v1/workloads/web/placement"), "us-1");
  CHECK(failed["message"] ==
        "overrides not applied, nothing sent to the cluster: overrides.web-per-region.rules[1].jsonPatches[0]: test "
        "failed: /0/kind is \"Deployment\", not \"StatefulSet\"");
  CHECK(image_of(held(manifests, "us-1")) == "web:1-us");  // what it ran before, untouched
  CHECK(image_of(held(manifests, "eu-1")) == "web:1-eu");

  // Deleting the override brings both clusters back to the workload's own manifests.
  CHECK(fleetd.call("DELETE", "/v1/overrides/web-per-region").status == 200);
  wait_for(fleetd, manifests, [&] {
    return image_of(held(manifests, "eu-1")) == "web:1" && image_of(held(manifests, "us-1")) == "web:1";
  });
  wait_for(fleetd, manifests, [&] {
    const json p = fleetd.call_json("GET", "/v1/workloads/web/placement");
    return binding_on(p, "eu-1")["overrides"] == json::array() && binding_on(p, "us-1")["overrides"] == json::array();
  });
}

// Issue #15 item 5, and a changed workload reaching its clusters: a new image (generation 2) is applied again on
// every cluster that keeps the workload, and the workload's events say what was decided, bound and reported, and
// why; fleetctl describe workload ends with them.
TEST_CASE("fleet-sim: a changed workload reaches every cluster, and its events say what happened and why",
          "[integration][placement][events][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  const auto manifests = dir.path() / "manifests";
  const auto sim = start_fleet_sim(fleetd, dir.path(), two_clusters(1503), {"--manifests-dir", manifests.string()});
  REQUIRE(wait_for_ready_clusters(fleetd, 2));

  auto running = [&] {
    const json p = fleetd.call_json("GET", "/v1/workloads/web/placement");
    return binding_on(p, "eu-1")["state"] == "Running" && binding_on(p, "us-1")["state"] == "Running";
  };
  fleetd.call_json("POST", "/v1/workloads", web_workload().dump(), 201);
  wait_for(fleetd, manifests, [&] {
    return running() && image_of(held(manifests, "eu-1")) == "web:1" && image_of(held(manifests, "us-1")) == "web:1";
  });
  json events = fleetd.call_json("GET", "/v1/workloads/web/events")["items"];
  INFO(events.dump(2));
  REQUIRE(events.size() == 7);  // Decided; Bound, Applied and Running on each cluster
  CHECK(events[0]["type"] == "Decided");
  CHECK(events[0]["message"] == "generation 1: Placed: 4 of 4 replicas bound on eu-1 (2), us-1 (2)");
  // The sim's node names are generated: "2 replicas on <node> ×2: new".
  const auto ends_with = [](const json& text, const std::string& tail) {
    const std::string s = text.get<std::string>();
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  CHECK(events[1]["type"] == "Bound");
  CHECK(events[1]["cluster"] == "eu-1");
  CHECK(events[1]["generation"] == 1);
  CHECK(events[1]["message"].get<std::string>().rfind("2 replicas on ", 0) == 0);
  CHECK(ends_with(events[1]["message"], " ×2: new"));
  std::map<std::string, int> by_type;
  for (const auto& e : events) ++by_type[e["type"].get<std::string>()];
  CHECK(by_type == std::map<std::string, int>{{"Applied", 2}, {"Bound", 2}, {"Decided", 1}, {"Running", 2}});

  // A new image: the same clusters and replicas, applied again on both.
  json changed = web_workload();
  changed["manifests"][0]["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2";
  CHECK(fleetd.call_json("PUT", "/v1/workloads/web", changed.dump())["generation"] == 2);
  wait_for(fleetd, manifests, [&] {
    return image_of(held(manifests, "eu-1")) == "web:2" && image_of(held(manifests, "us-1")) == "web:2" && running();
  });
  events = fleetd.call_json("GET", "/v1/workloads/web/events")["items"];
  REQUIRE(events.size() == 14);
  CHECK(events[7]["message"] == "generation 2: Placed: 4 of 4 replicas bound on eu-1 (2), us-1 (2)");
  CHECK(ends_with(events[8]["message"], " ×2: the workload changed (generation 1 → 2)"));
  CHECK(events[8]["generation"] == 2);

  // Pages: continue from the first two to the end; a token of another list is refused.
  const json first = fleetd.call_json("GET", "/v1/workloads/web/events?limit=2");
  REQUIRE(first["items"].size() == 2);
  const json rest =
      fleetd.call_json("GET", "/v1/workloads/web/events?continue=" + first["continue"].get<std::string>());
  CHECK(rest["items"].size() == 12);
  CHECK(rest["items"][0]["seq"] == events[2]["seq"]);
  CHECK(fleetd.call("GET", "/v1/workloads/web/events?continue=bm9wZQ").status == 400);
  CHECK(fleetd.call("GET", "/v1/workloads/nope/events").status == 404);

  const std::string config = (dir.path() / "data" / "fleetctl.json").string();
  const auto described = run_command({fleetctl_binary(), "--config", config, "describe", "workload", "web"});
  INFO(described.err);
  REQUIRE(described.exit_code == 0);
  CHECK(described.out.find("Placement:   Placed, 4 of 4 replicas bound (generation 2)") != std::string::npos);
  CHECK(described.out.find("Bound     eu-1      2 replicas on ") != std::string::npos);
  CHECK(described.out.find("×2: the workload changed (generation 1 → 2)") != std::string::npos);
}
