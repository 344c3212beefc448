// Crash safety of update runs (issue #12 acceptance): fleetd is killed with SIGKILL at 20 random moments of a
// three-stage run over fleet-sim clusters, and once more inside the executor's transaction (after it wrote a
// decision, before the commit: FLEETD_FAULT_ROLLOUT_CRASH_BEFORE_COMMIT). After each restart the run carries on.
// Checked at the end: the run completes; every cluster reaches its target once; no node pool is upgraded twice
// (one succeeded command per member step, the agent's queue being idempotent by id); no concurrency limit is ever
// exceeded and nothing after the approval gate starts before the approval, both read from the events.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;

namespace {

constexpr int kCrashRolloutClusters = 12;
constexpr int kKills = 20;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json get_run(FleetdProcess& fleetd) {
  return fleetd.call_json("GET", "/v1/rollouts/crash");
}

// Approves the gate when it is open; true once it has been approved.
void approve_if_open(FleetdProcess& fleetd, const json& run) {
  for (const auto& g : run["gates"]) {
    if (g["name"] == "signoff" && g["state"] == "Open") {
      fleetd.call("POST", "/v1/rollouts/crash:approve", json{{"gate", "signoff"}}.dump());
    }
  }
}

}  // namespace

TEST_CASE("rollout: kill -9 fleetd at 20 random points and once inside a transaction, the run finishes exactly once",
          "[integration][rollout][crash]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "30"})};
  auto spec = agent::generate_fleet_spec(kCrashRolloutClusters, "h100:8x50%", 5);
  REQUIRE(spec);
  spec->time_scale = 400;  // a control-plane upgrade 1.5 s, a node about 0.8 s
  const auto sim = start_fleet_sim(fleetd, dir.path(), *spec);
  const bool ready = wait_for_ready_clusters(fleetd, kCrashRolloutClusters, "", std::chrono::seconds(60));
  INFO(fleetd.call_json("GET", "/v1/clusters").dump().substr(0, 2000));
  INFO(read_file(fleet_sim_log(dir.path())).substr(0, 3000));
  REQUIRE(ready);

  const json body = json::parse(R"({"name": "crash",
    "target": {"type": "Full", "kubernetesVersion": "1.32.7", "allowUnsupported": true},
    "strategy": {"stages": [
      {"name": "canary", "updateGroups": ["canary"], "maxConcurrency": "1",
       "afterGates": [{"type": "Approval", "name": "signoff"}]},
      {"name": "wave1", "updateGroups": ["wave1"], "maxConcurrency": "50%"},
      {"name": "wave2", "updateGroups": ["wave2"], "maxConcurrency": "50%"}]}})");
  fleetd.call_json("POST", "/v1/rollouts", body.dump(), 201);
  fleetd.call_json("POST", "/v1/rollouts/crash:start", "");

  // Once inside a transaction: the restarted fleetd dies after writing its second decision, before the commit.
  std::mt19937 rng(20261203);
  std::uniform_int_distribution<int> pause_ms(200, 1800);
  int kills = 0;
  bool crashed_in_transaction = false;
  while (kills < kKills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    approve_if_open(fleetd, get_run(fleetd));
    fleetd.kill9();
    ++kills;
    if (kills == kKills / 2) {
      setenv("FLEETD_FAULT_ROLLOUT_CRASH_BEFORE_COMMIT", "2", 1);
      fleetd.restart();
      unsetenv("FLEETD_FAULT_ROLLOUT_CRASH_BEFORE_COMMIT");
      // The injected crash: the process exits by itself once the executor has written two decisions.
      const auto by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (fleetd.process().running() && std::chrono::steady_clock::now() < by) {
        try {
          approve_if_open(fleetd, get_run(fleetd));
        } catch (const std::runtime_error&) {
          // The process may die between the check and the request: that is the crash this waits for.
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      crashed_in_transaction = !fleetd.process().running();
    }
    fleetd.restart();
    if (get_run(fleetd)["state"] == "Completed") break;
  }
  WARN(kills << " kills, crashed inside a transaction: " << crashed_in_transaction);
  CHECK(crashed_in_transaction);

  json run;
  const auto done_by = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  int retries = 0;
  for (;;) {
    run = get_run(fleetd);
    approve_if_open(fleetd, run);
    // A cluster whose agent was cut off by a restart when its turn came is skipped (Unreachable), not failed:
    // :retry takes it up again with the same targets.
    if (run["state"] == "Completed" && run["counts"]["succeeded"] != kCrashRolloutClusters && retries < 3) {
      fleetd.call_json("POST", "/v1/rollouts/crash:retry", "");
      ++retries;
      continue;
    }
    if (run["state"] == "Completed") break;
    REQUIRE(run["state"] != "Failed");
    REQUIRE(std::chrono::steady_clock::now() < done_by);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(run["counts"]["succeeded"] == kCrashRolloutClusters);
  const json clusters = fleetd.call_json("GET", "/v1/clusters");
  for (const auto& c : clusters["items"]) CHECK(c["kubernetesVersion"] == "1.32.7");

  // One succeeded command per member step; no step's command ran twice.
  for (const auto& stage : run["stages"]) {
    for (const auto& m : stage["members"]) {
      const std::string cluster = m["cluster"];
      std::map<std::string, int> succeeded;  // step target → succeeded commands
      int upgrades = 0;
      const json commands = fleetd.call_json("GET", "/v1/clusters/" + cluster + "/commands?limit=1000");
      for (const auto& c : commands["items"]) {
        const std::string kind = c["kind"];
        if (kind != "upgrade_control_plane" && kind != "upgrade_node_pool") continue;
        ++upgrades;
        if (c["state"] == "succeeded")
          ++succeeded[kind + ":" + c["payload"].value("pool", "") + ":" + c["payload"].dump()];
      }
      INFO(cluster);
      CHECK(static_cast<int>(succeeded.size()) == m["steps"].get<int>());
      for (const auto& [step, n] : succeeded) CHECK(n == 1);
      CHECK(upgrades == m["steps"].get<int>());
    }
  }

  // From the events: limits, the gate, and one success per member.
  std::map<std::string, std::string> stage_of;
  std::map<std::string, int> limit;
  for (const auto& s : run["stages"]) {
    for (const auto& m : s["members"]) stage_of[m["cluster"]] = s["name"];
    limit[s["name"]] = s.value("concurrency", 1000);
  }
  std::map<std::string, int> in_flight, succeeded;
  std::set<std::string> flying;
  bool gate_passed = false;
  for (const auto& e : fleetd.list_all("/v1/rollouts/crash/events?limit=5000")) {
    if (e["scope"] == "gate" && e["to"] == "Passed") gate_passed = true;
    if (e["scope"] != "member") continue;
    const std::string cluster = e["name"];
    const bool now_flying = e["to"] == "Upgrading" || e["to"] == "Probing";
    if (now_flying && !flying.count(cluster)) {
      if (stage_of[cluster] != "canary") CHECK(gate_passed);
      flying.insert(cluster);
      CHECK(++in_flight[stage_of[cluster]] <= limit[stage_of[cluster]]);
    } else if (!now_flying && flying.count(cluster)) {
      flying.erase(cluster);
      --in_flight[stage_of[cluster]];
    }
    if (e["to"] == "Succeeded") ++succeeded[cluster];
  }
  CHECK(static_cast<int>(succeeded.size()) == kCrashRolloutClusters);
  for (const auto& [cluster, n] : succeeded) CHECK(n == 1);
}
