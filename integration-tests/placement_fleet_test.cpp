// GPU-aware placement over a simulated fleet (issue #14): 200 workloads of mixed shapes applied through the API to
// 40 fleet-sim clusters (H100, A100 and L40S pools). The placement loop decides, queues apply_workload commands
// with the per-node assignment, and the sim agents account the GPUs per node and report them in their inventory.
// The check is against what the agents report, not fleetd's own view: on every node the GPUs the agent says are
// allocated equal what the bindings put there, and never exceed the node's healthy GPUs; no apply was refused.
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;

namespace {

constexpr int kPlacementClusters = 40;
constexpr int kWorkloads = 200;
constexpr std::uint64_t kPlacementSeed = 1405;

json make_workload(int i, std::mt19937_64& rng) {
  static const int kShapes[] = {1, 1, 1, 2, 2, 4, 4, 8};
  const int gpus = kShapes[rng() % 8];
  json w = {{"name", "wl-" + std::to_string(i)},
            {"manifests",
             {{{"apiVersion", "apps/v1"},
               {"kind", "Deployment"},
               {"metadata", {{"name", "wl-" + std::to_string(i)}}},
               {"spec", {{"template", {{"spec", {{"containers", {{{"name", "main"}, {"image", "serve:1"}}}}}}}}}}}}},
            {"replicas", 1 + static_cast<int>(rng() % 3)},
            {"resources", {{"gpus", gpus}, {"cpu", 4 * gpus}, {"memoryGiB", 32 * gpus}}}};
  json policy = {{"type", "PickN"}, {"numberOfClusters", 1 + static_cast<int>(rng() % 2)}};
  if (rng() % 3 == 0) policy["replicaDivision"] = "Divided";
  if (rng() % 4 == 0) w["resources"]["gpuModels"] = {"NVIDIA H100 80GB HBM3"};
  if (rng() % 5 == 0) policy["spread"] = {{{"topologyKey", "region"}, {"maxSkew", 1}}};
  if (rng() % 6 == 0) policy = {{"type", "PickAll"}, {"affinity", {{"required", {{"labelSelector", "env=staging"}}}}}};
  w["policy"] = policy;
  return w;
}

}  // namespace

TEST_CASE("fleet-sim: 200 workloads placed, and the agents' inventory shows every GPU booked once",
          "[integration][placement][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "10"})};
  auto spec = agent::generate_fleet_spec(kPlacementClusters, "h100:8x50%,a100:8x30%,l40s:4x20%", kPlacementSeed);
  REQUIRE(spec);
  spec->time_scale = 2000;
  const auto spec_path = dir.path() / "fleet.json";
  std::ofstream(spec_path) << agent::to_json(*spec).dump();
  const auto sim = start_fleet_sim(fleetd, dir.path(), {"--spec", spec_path.string()});

  std::vector<std::string> clusters;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    const json list = fleetd.call_json("GET", "/v1/clusters?limit=1000");
    clusters.clear();
    for (const auto& c : list["items"]) {
      if (c["state"] == "ready") clusters.push_back(c["name"]);
    }
    if (static_cast<int>(clusters.size()) == kPlacementClusters) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  int healthy_gpus = 0;
  for (const auto& name : clusters) {
    const json capacity = fleetd.call_json("GET", "/v1/clusters/" + name + "/capacity");
    healthy_gpus += capacity["gpus"]["total"].get<int>();
  }
  REQUIRE(healthy_gpus > 0);

  std::mt19937_64 rng(kPlacementSeed);
  for (int i = 0; i < kWorkloads; ++i) fleetd.call_json("POST", "/v1/workloads", make_workload(i, rng).dump(), 201);

  // Every workload decided, and every binding settled (Running, or Failed if an agent refused).
  std::map<std::string, json> placements;
  const auto settle_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    bool settled = true;
    placements.clear();
    for (int i = 0; i < kWorkloads && settled; ++i) {
      const std::string name = "wl-" + std::to_string(i);
      json p = fleetd.call_json("GET", "/v1/workloads/" + name + "/placement");
      if (!p.contains("decidedGeneration") || p["decidedGeneration"] != p["generation"]) settled = false;
      for (const auto& b : p["bindings"]) settled = settled && (b["state"] == "Running" || b["state"] == "Failed");
      placements[name] = std::move(p);
    }
    if (settled) break;
    REQUIRE(std::chrono::steady_clock::now() < settle_deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  // What the bindings put on each node (GPUs per replica from the workload, replayed from the seed).
  auto bookings = [&](const std::map<std::string, json>& at) {
    std::map<std::pair<std::string, std::string>, int> out;
    std::mt19937_64 again(kPlacementSeed);
    for (int i = 0; i < kWorkloads; ++i) {
      const json w = make_workload(i, again);
      const int gpus = w["resources"]["gpus"];
      for (const auto& b : at.at(w["name"])["bindings"]) {
        for (const auto& n : b["nodes"]) out[{b["cluster"], n["node"]}] += gpus * n["replicas"].get<int>();
      }
    }
    return out;
  };
  std::map<std::pair<std::string, std::string>, int> booked = bookings(placements);
  int bound_gpus = 0;
  for (const auto& [node, gpus] : booked) bound_gpus += gpus;
  // The workloads' states.
  std::map<std::string, int> states;
  std::mt19937_64 replay(kPlacementSeed);
  for (int i = 0; i < kWorkloads; ++i) {
    const json w = make_workload(i, replay);
    const json& p = placements.at(w["name"]);
    states[p["state"]]++;
    for (const auto& b : p["bindings"]) {
      INFO(w["name"] << " on " << b["cluster"] << ": " << b.value("message", ""));
      CHECK(b["state"] == "Running");
    }
    if (p["state"] != "Placed") CHECK_FALSE(p["rejected"].empty());  // and each with its reason
  }
  WARN("workloads by state: " << json(states).dump() << "; GPUs bound " << bound_gpus << " of " << healthy_gpus);
  CHECK(states["Placed"] > kWorkloads / 2);
  CHECK(bound_gpus > 0);

  // The agents' word: allocated GPUs per node fit the node's healthy GPUs, in every read, and equal the bookings.
  // The placements and the nodes are read one request at a time, while a partly placed workload may still gain a
  // binding and the agents report in their own time: on a disagreement both are read again, until they agree (or
  // the deadline).
  auto read_placements = [&] {
    std::map<std::string, json> now;
    for (int i = 0; i < kWorkloads; ++i) {
      const std::string name = "wl-" + std::to_string(i);
      now[name] = fleetd.call_json("GET", "/v1/workloads/" + name + "/placement");
    }
    return now;
  };
  int nodes_checked = 0;
  std::vector<std::string> mismatches;
  const auto agree_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    nodes_checked = 0;
    mismatches.clear();
    for (const auto& name : clusters) {
      const json nodes = fleetd.call_json("GET", "/v1/clusters/" + name + "/nodes");
      for (const auto& n : nodes["items"]) {
        int healthy = 0;
        for (const auto& g : n["gpus"]) healthy += g["health"] == "healthy";
        const int allocated = n["allocated"]["gpus"];
        INFO(name << "/" << n["name"].get<std::string>());
        CHECK(allocated <= healthy);  // never double-booked, whatever the timing
        const auto it = booked.find({name, n["name"]});
        const int want = it == booked.end() ? 0 : it->second;
        if (allocated != want) {
          mismatches.push_back(name + "/" + n["name"].get<std::string>() + ": allocated " + std::to_string(allocated) +
                               ", booked " + std::to_string(want));
        }
        ++nodes_checked;
      }
    }
    if (mismatches.empty() || std::chrono::steady_clock::now() >= agree_deadline) break;
    placements = read_placements();
    booked = bookings(placements);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  INFO("nodes whose agents' allocation differs from fleetd's bookings: " << json(mismatches).dump());
  CHECK(mismatches.empty());
  CHECK(nodes_checked > kPlacementClusters * 3);

  // Deleting a workload frees its GPUs on the agents.
  const std::string victim = placements.begin()->first;
  fleetd.call("DELETE", "/v1/workloads/" + victim);
  const auto delete_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (fleetd.call("GET", "/v1/workloads/" + victim).status != 404) {
    REQUIRE(std::chrono::steady_clock::now() < delete_deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  const std::string metrics = fleetd.call("GET", "/metrics").body;
  CHECK(metrics.find("fleetd_placement_decisions_total ") != std::string::npos);
  CHECK(metrics.find("fleetd_placement_decision_seconds_bucket") != std::string::npos);
  CHECK(metrics.find("fleetd_placement_gpus_bound{model=\"NVIDIA H100 80GB HBM3\"}") != std::string::npos);
}

// The placement loop keeps the parsed nodes between rounds and reads a cluster again only when its agent's
// inventory generation moved (store::FleetCache). A cluster cordoned by its agent after a round that cached it must
// not take the next workload.
TEST_CASE("placement sees an inventory change made after its last round: a cordoned cluster takes nothing",
          "[integration][placement][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "10"})};
  auto spec = agent::generate_fleet_spec(2, "h100:8x100%", kPlacementSeed);
  REQUIRE(spec);
  spec->time_scale = 2000;
  const auto spec_path = dir.path() / "fleet.json";
  std::ofstream(spec_path) << agent::to_json(*spec).dump();
  const auto sim = start_fleet_sim(fleetd, dir.path(), {"--spec", spec_path.string()});
  const std::string a = spec->clusters[0].name;
  const std::string b = spec->clusters[1].name;

  auto wait_for = [](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!done()) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  };
  auto free_gpus = [&](const std::string& cluster) {
    const auto r = fleetd.call("GET", "/v1/clusters/" + cluster + "/capacity");
    return r.status == 200 ? json::parse(r.body)["gpus"]["free"].get<int>() : 0;  // 404 until the sim creates it
  };
  wait_for([&] { return free_gpus(a) > 0 && free_gpus(b) > 0; });  // ready, and GPUs proven by their probes
  auto workload = [](const std::string& name) {
    return json{{"name", name},
                {"manifests", {{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", name}}}}}},
                {"replicas", 1},
                {"resources", {{"gpus", 1}}},
                {"policy", {{"type", "PickAll"}}}};
  };
  auto decided = [&](const std::string& name) {
    json p = fleetd.call_json("GET", "/v1/workloads/" + name + "/placement");
    return p.contains("decidedGeneration") && p["decidedGeneration"] == p["generation"] ? p : json();
  };

  // A round that reads (and caches) both clusters.
  fleetd.call_json("POST", "/v1/workloads", workload("before").dump(), 201);
  json before;
  wait_for([&] { return !(before = decided("before")).is_null(); });
  CHECK(before["bindings"].size() == 2);

  // The agent cordons every node of a; its next heartbeat stores that.
  fleetd.call_json("POST", "/v1/clusters/" + a + "/commands",
                   json{{"id", "cordon-a"}, {"kind", "cordon_cluster"}}.dump(), 201);
  wait_for(
      [&] { return fleetd.call_json("GET", "/v1/clusters/" + a + "/capacity")["nodes"]["available"].get<int>() == 0; });

  fleetd.call_json("POST", "/v1/workloads", workload("after").dump(), 201);
  json after;
  wait_for([&] { return !(after = decided("after")).is_null(); });
  INFO(after.dump());
  REQUIRE(after["bindings"].size() == 1);
  CHECK(after["bindings"][0]["cluster"] == b);
  REQUIRE(after["rejected"].size() == 1);
  CHECK(after["rejected"][0]["cluster"] == a);
  CHECK(after["rejected"][0]["code"] == "NodesUnavailable");
}
