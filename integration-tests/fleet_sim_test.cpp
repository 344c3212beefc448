// fleet-sim against a real fleetd: 50 simulated clusters register, heartbeat and become ready; the fleet's GPU
// inventory equals the spec exactly; when fleet-sim stops they turn unreachable, and when it starts again they
// come back with their saved credentials (no second registration).
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;

namespace {

constexpr int kSimClusters = 50;
constexpr std::uint64_t kSimSeed = 11;
const char* const kMix = "h100:8x40%,a100:8x30%,l40s:4x30%";

std::map<std::string, int> cluster_states(FleetdProcess& fleetd) {
  std::map<std::string, int> states;
  auto list = fleetd.call_json("GET", "/v1/clusters?limit=1000");
  for (const auto& c : list["items"]) states[c["state"].get<std::string>()]++;
  return states;
}

// Polls until every one of the kSimClusters clusters is in `state`; returns how long that took.
std::chrono::milliseconds wait_for_all(FleetdProcess& fleetd, const std::string& state, std::chrono::seconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, int> states;
  while (std::chrono::steady_clock::now() - start < timeout) {
    states = cluster_states(fleetd);
    if (states[state] == kSimClusters) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  INFO("states: " << json(states).dump());
  FAIL("not every cluster became " << state << " within " << timeout.count() << " s");
  return {};
}

long long registrations(FleetdProcess& fleetd) {
  long long n = 0;
  for (const auto& e : fleetd.list_all("/v1/audit?limit=1000")) n += e["action"] == "agent.register" ? 1 : 0;
  return n;
}

std::unique_ptr<ChildProcess> start_sim(FleetdProcess& fleetd, const std::filesystem::path& dir) {
  return start_fleet_sim(fleetd, dir,
                         {"--clusters", std::to_string(kSimClusters), "--gpu-mix", kMix, "--seed",
                          std::to_string(kSimSeed), "--time-scale", "100"});
}

}  // namespace

TEST_CASE("fleet-sim with 50 clusters registers and reports exact GPU totals and survives its own restart",
          "[integration][agents][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "3"})};

  // What the spec says the fleet has: the same generator fleet-sim runs, with the same seed.
  auto spec = agent::generate_fleet_spec(kSimClusters, kMix, kSimSeed);
  REQUIRE(spec);
  std::map<std::string, long long> expected;
  long long expected_total = 0;
  for (const auto& c : spec->clusters) {
    for (const auto& p : c.pools) {
      if (!p.gpu) continue;
      expected[p.gpu->model] += static_cast<long long>(p.count) * p.gpu->count;
      expected_total += static_cast<long long>(p.count) * p.gpu->count;
    }
  }
  REQUIRE(expected.size() == 3);

  auto sim = start_sim(fleetd, dir.path());
  auto took = wait_for_all(fleetd, "ready", std::chrono::seconds(90));
  WARN("50 clusters ready after " << took.count() << " ms");

  auto gpus = fleetd.call_json("GET", "/v1/gpus?limit=1");
  CHECK(gpus["total"].get<long long>() == expected_total);
  std::map<std::string, long long> totals;
  for (const auto& [model, n] : gpus["totals"].items()) totals[model] = n.get<long long>();
  CHECK(totals == expected);
  REQUIRE(registrations(fleetd) == kSimClusters);

  // Every cluster reports its versions and nodes.
  auto one = fleetd.call_json("GET", "/v1/clusters/" + spec->clusters[0].name);
  CHECK(one["kubernetesVersion"] == spec->clusters[0].kubernetes_version);
  auto nodes = fleetd.call_json("GET", "/v1/clusters/" + spec->clusters[0].name + "/nodes");
  std::size_t spec_nodes = 0;
  for (const auto& p : spec->clusters[0].pools) spec_nodes += static_cast<std::size_t>(p.count);
  CHECK(nodes["items"].size() == spec_nodes);

  // The state file holds one credential per cluster, readable by its owner only.
  const auto state_path = fleet_sim_state(dir.path());
  auto perms = std::filesystem::status(state_path).permissions();
  CHECK((perms & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  json state = json::parse(std::ifstream(state_path));
  CHECK(state["agents"].size() == static_cast<std::size_t>(kSimClusters));

  // Stop fleet-sim: missed heartbeats turn every cluster unreachable.
  sim->signal(SIGTERM);
  CHECK(sim->wait(std::chrono::seconds(10)) == 0);
  took = wait_for_all(fleetd, "unreachable", std::chrono::seconds(30));
  WARN("50 clusters unreachable " << took.count() << " ms after fleet-sim stopped");

  // Start it again: the saved credentials bring them back, with no new registration.
  sim = start_sim(fleetd, dir.path());
  took = wait_for_all(fleetd, "ready", std::chrono::seconds(60));
  WARN("50 clusters ready again after " << took.count() << " ms");
  CHECK(registrations(fleetd) == kSimClusters);
  json state_again = json::parse(std::ifstream(state_path));
  CHECK(state_again == state);
  gpus = fleetd.call_json("GET", "/v1/gpus?limit=1");
  CHECK(gpus["total"].get<long long>() == expected_total);
}
