// Node-image rollback (issue #13 item 5) with fleet-sim: a NodeImageOnly run moves every pool to the newest image,
// then a second run with nodeImageSelection Previous and rollbackOf the first puts each pool back on the image it
// ran before. Checked: the rollback's plan pins each step to the pool's old image (and records the one it leaves),
// warns that no minor version is downgraded; creating it is refused while the first run is not finished and
// accepted once it is; after it every cluster reports its old image again and the same Kubernetes
// version; an unknown rollbackOf or a rollback with a Kubernetes target is 422.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;

namespace {

constexpr int kRollbackClusters = 4;

// cluster → its reported node image.
std::map<std::string, std::string> node_images(FleetdProcess& fleetd) {
  std::map<std::string, std::string> out;
  const json clusters = fleetd.call_json("GET", "/v1/clusters?limit=1000");
  for (const auto& c : clusters["items"]) out[c["name"]] = c["nodeImageVersion"];
  return out;
}

json run_to_completion(FleetdProcess& fleetd, const std::string& name) {
  fleetd.call_json("POST", "/v1/rollouts/" + name + ":start", "");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    json run = fleetd.call_json("GET", "/v1/rollouts/" + name);
    if (run["state"] == "Completed") return run;
    INFO(run.dump());
    REQUIRE(run["state"] == "Running");
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

json image_run(const std::string& name, json target) {
  return {{"name", name},
          {"target", std::move(target)},
          {"strategy", {{"stages", {{{"name", "all"}, {"labelSelector", "env"}, {"maxConcurrency", "2"}}}}}}};
}

}  // namespace

TEST_CASE("fleet-sim: a node-image rollback puts every pool back on the image it ran before the earlier run",
          "[integration][rollout][rollback][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "30"})};
  auto spec = agent::generate_fleet_spec(kRollbackClusters, "h100:8x50%", 21);
  REQUIRE(spec);
  spec->time_scale = 2000;
  const auto sim = start_fleet_sim(fleetd, dir.path(), *spec);
  REQUIRE(wait_for_ready_clusters(fleetd, kRollbackClusters, "1.31.4"));
  const std::map<std::string, std::string> before = node_images(fleetd);
  REQUIRE(before.size() == kRollbackClusters);

  const json up = image_run("img-up", {{"type", "NodeImageOnly"}, {"allowUnsupported", true}});
  fleetd.call_json("POST", "/v1/rollouts", up.dump(), 201);
  const json back = image_run("img-back", {{"type", "NodeImageOnly"},
                                           {"nodeImageSelection", "Previous"},
                                           {"rollbackOf", "img-up"},
                                           {"allowUnsupported", true}});
  // While img-up is not finished, its changes are not all known: a rollback of it is refused.
  const auto busy = fleetd.call("POST", "/v1/rollouts", back.dump());
  CHECK(busy.status == 409);
  CHECK_THAT(busy.body, Catch::Contains("abort it or wait for it to finish"));

  const json upgraded = run_to_completion(fleetd, "img-up");
  const int succeeded = upgraded["counts"]["succeeded"];
  REQUIRE(succeeded > 0);  // the catalog has newer images than fleet-sim's AKS clusters start on
  // The clusters report their new images with their next heartbeat.
  std::map<std::string, std::string> after;
  int moved = 0;
  for (int i = 0; i < 50 && moved < succeeded; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    after = node_images(fleetd);
    moved = 0;
    for (const auto& [cluster, image] : after) moved += image != before.at(cluster) ? 1 : 0;
  }
  REQUIRE(moved == succeeded);

  // The plan: each changed pool back on its old image, recording the one it leaves; the minor version stays.
  const json plan = fleetd.call_json("POST", "/v1/rollouts:plan", back.dump());
  bool warned = false;
  for (const auto& w : plan["warnings"]) {
    warned |= w.get<std::string>().find("a minor version is never downgraded") != std::string::npos;
  }
  CHECK(warned);
  int planned = 0;
  for (const auto& m : plan["members"]) {
    INFO(m.dump());
    const std::string cluster = m["cluster"];
    if (after.at(cluster) == before.at(cluster)) {
      CHECK(m["skipReason"] == "AlreadyAtTarget");
      continue;
    }
    ++planned;
    REQUIRE_FALSE(m["steps"].empty());
    for (const auto& s : m["steps"]) {
      CHECK(s["kind"] == "NodePool");
      CHECK(s["nodeImage"] == before.at(cluster));
      CHECK(s["fromNodeImage"] == after.at(cluster));
      CHECK_FALSE(s.contains("kubernetesVersion"));
    }
  }
  CHECK(planned == moved);

  fleetd.call_json("POST", "/v1/rollouts", back.dump(), 201);
  const json rolled = run_to_completion(fleetd, "img-back");
  CHECK(rolled["counts"]["succeeded"] == moved);
  for (int i = 0; i < 50 && node_images(fleetd) != before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(node_images(fleetd) == before);
  const json clusters = fleetd.call_json("GET", "/v1/clusters?limit=1000");
  for (const auto& c : clusters["items"]) CHECK(c["kubernetesVersion"] == "1.31.4");

  // Refused: an unknown earlier run, and a rollback that would touch Kubernetes versions.
  json unknown = back;
  unknown["name"] = "img-back-2";
  unknown["target"]["rollbackOf"] = "no-such-run";
  const auto missing = fleetd.call("POST", "/v1/rollouts:plan", unknown.dump());
  CHECK(missing.status == 422);
  CHECK_THAT(missing.body, Catch::Contains("no rollout named \\\"no-such-run\\\""));
  json full = back;
  full["target"]["type"] = "Full";
  full["target"]["kubernetesVersion"] = "1.31.4";
  const auto refused = fleetd.call("POST", "/v1/rollouts:plan", full.dump());
  CHECK(refused.status == 422);
  CHECK_THAT(refused.body, Catch::Contains("never downgraded"));
}
