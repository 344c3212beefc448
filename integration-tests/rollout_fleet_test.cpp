// Staged upgrades across a simulated fleet (issue #12): 50 fleet-sim clusters (AKS and Arc, GPU and CPU pools,
// node-upgrade and probe faults on) upgraded from 1.31.4 to 1.32.7 by a three-stage run with an approval gate
// after the canary. The run is driven as an operator would through the API: approve the gate, resume after the
// failure policy pauses the run, retry the failed members. Checked from the run's events: nothing after the gate
// started before the approval, no stage or group ever had more members in flight than its limit, every member
// reached its target once; the failed GPU nodes are quarantined with their probe reports.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;

namespace {

constexpr int kRolloutClusters = 50;
constexpr std::uint64_t kRolloutSeed = 41;

const json kStrategy = json::parse(R"({"stages": [
  {"name": "canary", "updateGroups": ["canary"], "maxConcurrency": "1", "afterStageWait": "0s",
   "afterGates": [{"type": "Approval", "name": "sre-signoff"}]},
  {"name": "wave1", "updateGroups": ["wave1"], "maxConcurrency": "50%",
   "failurePolicy": {"maxFailures": "0", "onFailure": "Pause"}},
  {"name": "wave2", "updateGroups": ["wave2"], "maxConcurrency": "50%",
   "failurePolicy": {"maxFailures": "10%", "onFailure": "Pause"}}
]})");

}  // namespace

TEST_CASE("fleet-sim: a three-stage rollout over 50 clusters with an approval gate, pauses, resumes and retries",
          "[integration][rollout][fleet-sim]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "10"})};

  auto spec = agent::generate_fleet_spec(kRolloutClusters, "h100:8x40%,l40s:4x20%", kRolloutSeed);
  REQUIRE(spec);
  spec->time_scale = 2000;  // a 600 s control-plane upgrade takes 0.3 s, a node about 0.16 s
  spec->faults.node_upgrade_failure = 0.02;
  spec->faults.probe_failure = 0.02;
  const auto sim = start_fleet_sim(fleetd, dir.path(), *spec);
  // Every cluster ready with its inventory (pools and versions) stored.
  REQUIRE(wait_for_ready_clusters(fleetd, kRolloutClusters, "1.31.4"));

  const json body = {{"name", "k8s-1-32"},
                     {"target",
                      {{"type", "Full"},
                       {"kubernetesVersion", "1.32.7"},
                       {"nodeImageSelection", "Latest"},
                       {"allowUnsupported", true}}},
                     {"strategy", kStrategy}};
  // The dry run: every cluster in a stage, each with a control-plane hop then its pools, nothing written.
  auto plan = fleetd.call_json("POST", "/v1/rollouts:plan", body.dump());
  REQUIRE(plan["members"].size() == kRolloutClusters);
  CHECK(plan["unmatched"].empty());
  for (const auto& m : plan["members"]) {
    INFO(m.dump());
    REQUIRE_FALSE(m.contains("skipReason"));
    CHECK(m["steps"][0]["kind"] == "ControlPlane");
    CHECK(m["steps"][0]["kubernetesVersion"] == "1.32.7");
  }
  CHECK(fleetd.call_json("GET", "/v1/rollouts")["items"].empty());

  auto created = fleetd.call_json("POST", "/v1/rollouts", body.dump(), 201);
  CHECK(created["state"] == "Pending");
  CHECK(created["counts"]["total"] == kRolloutClusters);
  // A second run over the same clusters is refused, naming the first.
  json second = body;
  second["name"] = "k8s-1-32-again";
  auto refused = fleetd.call("POST", "/v1/rollouts", second.dump());
  CHECK(refused.status == 409);
  CHECK(refused.body.find("k8s-1-32") != std::string::npos);

  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // nothing happens before :start
  CHECK(fleetd.call_json("GET", "/v1/rollouts/k8s-1-32")["counts"]["pending"] == kRolloutClusters);
  fleetd.call_json("POST", "/v1/rollouts/k8s-1-32:start", "");

  int approvals = 0, resumes = 0, retries = 0;
  std::map<std::string, json> first_payloads;  // command payloads of failed members' failed step, attempt 1
  json run;
  const auto run_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  for (;;) {
    run = fleetd.call_json("GET", "/v1/rollouts/k8s-1-32");
    const std::string state = run["state"];
    if (state == "Completed") break;
    REQUIRE(std::chrono::steady_clock::now() < run_deadline);
    for (const auto& g : run["gates"]) {
      if (g["name"] == "sre-signoff" && g["state"] == "Open") {
        // Nothing of the later stages has started while the gate waits.
        for (std::size_t s = 1; s < run["stages"].size(); ++s) {
          for (const auto& m : run["stages"][s]["members"]) CHECK(m["state"] == "Pending");
        }
        fleetd.call_json("POST", "/v1/rollouts/k8s-1-32:approve", json{{"gate", "sre-signoff"}}.dump());
        ++approvals;
      }
    }
    if (state == "Paused") {
      INFO(run["message"]);
      CHECK(run["message"].get<std::string>().find("maxFailures") != std::string::npos);
      fleetd.call_json("POST", "/v1/rollouts/k8s-1-32:resume", "");
      ++resumes;
    }
    if (state == "Failed") {
      REQUIRE(retries < 4);
      fleetd.call_json("POST", "/v1/rollouts/k8s-1-32:retry", "");
      ++retries;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  WARN("rollout completed: " << approvals << " approval, " << resumes << " resumes, " << retries << " retries");
  CHECK(approvals == 1);
  CHECK(run["counts"]["succeeded"] == kRolloutClusters);

  // Every cluster reports the target version.
  auto clusters = fleetd.call_json("GET", "/v1/clusters?limit=1000");
  for (const auto& c : clusters["items"]) CHECK(c["kubernetesVersion"] == "1.32.7");

  // From the events: the gate passed before any wave1 member started; no limit was exceeded; each member
  // succeeded once.
  const json events = fleetd.list_all("/v1/rollouts/k8s-1-32/events?limit=5000");
  std::map<std::string, std::string> stage_of;
  for (const auto& s : run["stages"]) {
    for (const auto& m : s["members"]) stage_of[m["cluster"]] = s["name"];
  }
  std::map<std::string, int> in_flight;
  std::map<std::string, int> limit = {{"canary", 1}};
  for (const auto& s : run["stages"]) {
    if (s.contains("concurrency")) limit[s["name"]] = s["concurrency"];
  }
  std::set<std::string> flying;
  std::map<std::string, int> succeeded;
  bool gate_passed = false;
  int failures = 0;
  for (const auto& e : events) {
    if (e["scope"] == "gate" && e["name"] == "sre-signoff" && e["to"] == "Passed") gate_passed = true;
    if (e["scope"] != "member") continue;
    const std::string cluster = e["name"];
    const std::string stage = stage_of[cluster];
    const bool now_flying = e["to"] == "Upgrading" || e["to"] == "Probing";
    if (now_flying && !flying.count(cluster)) {
      if (stage != "canary") CHECK(gate_passed);
      flying.insert(cluster);
      ++in_flight[stage];
      INFO(stage);
      CHECK(in_flight[stage] <= limit[stage]);
    } else if (!now_flying && flying.count(cluster)) {
      flying.erase(cluster);
      --in_flight[stage];
    }
    if (e["to"] == "Succeeded") ++succeeded[cluster];
    if (e["to"] == "Failed") ++failures;
  }
  CHECK(succeeded.size() == kRolloutClusters);
  for (const auto& [cluster, n] : succeeded) CHECK(n == 1);
  WARN(failures << " member failures on the way");
  if (failures > 0) CHECK(retries + resumes > 0);

  // Quarantined GPU nodes carry their failing probe report.
  auto gpus = fleetd.call_json("GET", "/v1/gpus?limit=10000");
  std::set<std::pair<std::string, std::string>> quarantined;
  for (const auto& g : gpus["items"]) {
    if (g["admission"] == "quarantined") {
      quarantined.emplace(g["cluster"].get<std::string>(), g["node"].get<std::string>());
    }
  }
  for (const auto& [cluster, node] : quarantined) {
    auto probes = fleetd.call_json("GET", "/v1/clusters/" + cluster + "/nodes/" + node + "/probes");
    REQUIRE_FALSE(probes["items"].empty());
    CHECK(probes["items"][0]["admitted"] == false);
    CHECK(probes["items"][0]["verdict"] == "fail");
  }
  WARN(quarantined.size() << " GPU nodes quarantined by their probe");

  // The executor's metrics: its decisions, the steps it saw finish, members by result.
  const auto metrics = fleetd.call("GET", "/metrics", "", {}, std::string(""));
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("# TYPE fleetd_rollout_decision_seconds histogram\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_rollout_step_seconds_bucket{kind=\"node_pool\",le=\"+Inf\"} "));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_rollout_step_seconds_count{kind=\"control_plane\"} "));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_rollout_node_upgrade_seconds_count "));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_rollout_members_finished_total{result=\"succeeded\"} " +
                                           std::to_string(kRolloutClusters) + "\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_rollout_executor_leader 1\n"));
}
