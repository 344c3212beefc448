// Probe-gated admission across a simulated fleet (issue #11): 50 fleet-sim clusters whose GPU nodes join
// unverified and are probed by their agents (probeFailure 0.05). Every GPU node ends admitted or quarantined,
// fleetd's /v1/gpus says what the agents decided (the same SimCluster, run here in-process with the same spec and
// seed, is the reference), each quarantined node has its failing report stored, and a re-probe of a quarantined
// node asked through fleetctl runs again. Admission policies reach the agents.
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "agents/sim_cluster.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;
namespace model = fleet::model;

namespace {

constexpr int kAdmissionClusters = 50;
constexpr std::uint64_t kAdmissionSeed = 23;
constexpr double kTimeScale = 100;  // a 15 s probe takes 0.15 s

// Every GPU of the fleet, paged: (cluster, node) → admission.
std::map<std::pair<std::string, std::string>, std::string> gpu_node_admission(FleetdProcess& fleetd) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  for (const auto& g : fleetd.list_all("/v1/gpus?limit=10000")) out[{g["cluster"], g["node"]}] = g["admission"];
  return out;
}

// What each agent decided: the same clusters, run in this process on the same seed until nothing is left to do.
std::map<std::pair<std::string, std::string>, std::string> reference_admission(
    const agent::FleetSpec& spec, const fleet::admission::AdmissionPolicy& policy) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  for (std::size_t i = 0; i < spec.clusters.size(); ++i) {
    auto sim = agent::SimCluster::from_fleet_spec(spec, i);
    sim.set_admission_policy(policy, 0);
    for (int round = 0; round < 10000; ++round) {
      auto due = sim.next_due();
      if (!due) break;
      sim.advance(*due);
    }
    for (const auto& n : sim.inventory().nodes) {
      if (!n.gpus.empty()) out[{spec.clusters[i].name, n.name}] = std::string(model::to_string(n.admission));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("fleet-sim: 50 clusters prove their GPU nodes, fleetd stores every verdict, fleetctl re-probes",
          "[integration][agents][fleet-sim][admission]") {
  TempDir dir;
  const auto data_dir = dir.path() / "data";
  FleetdProcess fleetd{FleetdOptions(data_dir, {}, {"--heartbeat-interval", "1", "--unreachable-after", "5"})};

  auto spec = agent::generate_fleet_spec(kAdmissionClusters, "h100:8x50%,a100:8x30%,l40s:4x20%", kAdmissionSeed);
  REQUIRE(spec);
  spec->time_scale = kTimeScale;
  spec->faults.probe_failure = 0.05;
  for (auto& c : spec->clusters) {
    for (auto& p : c.pools) p.initial_admission = model::Admission::kPendingProbe;
  }
  const auto spec_path = dir.path() / "fleet.json";
  std::ofstream(spec_path) << agent::to_json(*spec).dump();
  // A policy for every cluster: two nodes of a cluster may probe at once. The agents read it when they start.
  fleetd.call_json("POST", "/v1/admission-policies",
                   json{{"name", "fleet-default"}, {"maxConcurrentProbes", {{"nodes", 2}}}}.dump(), 201);
  fleet::admission::AdmissionPolicy policy;
  policy.max_probing_nodes = 2;
  const auto expected = reference_admission(*spec, policy);
  std::size_t expected_quarantined = 0;
  for (const auto& [node, admission] : expected) expected_quarantined += admission == "quarantined" ? 1 : 0;
  REQUIRE(expected.size() > 200);
  REQUIRE(expected_quarantined > 0);  // the seed was chosen so that some fail

  const auto sim = start_fleet_sim(fleetd, dir.path(), {"--spec", spec_path.string()});

  // Every GPU node ends admitted or quarantined, as its agent decided.
  std::map<std::pair<std::string, std::string>, std::string> seen;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(180)) {
    seen = gpu_node_admission(fleetd);
    if (seen == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  WARN("every GPU node admitted or quarantined in fleetd after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()
       << " ms (" << expected.size() << " GPU nodes, " << expected_quarantined << " quarantined)");
  REQUIRE(seen == expected);

  // Each quarantined node has its failing report stored, naming the check; each admitted one a passing report.
  std::pair<std::string, std::string> quarantined;
  for (const auto& [node, admission] : expected) {
    auto probes = fleetd.call_json("GET", "/v1/clusters/" + node.first + "/nodes/" + node.second + "/probes");
    REQUIRE_FALSE(probes["items"].empty());
    const auto& last = probes["items"][0];
    CHECK(last["trigger"] == "join");
    CHECK(last["admitted"] == (admission == "admitted"));
    REQUIRE(last.contains("report"));
    if (admission == "quarantined") {
      quarantined = node;
      CHECK(last["verdict"] == "fail");
      REQUIRE(last["failedChecks"].size() == 1);
      CHECK(last["reason"].get<std::string>().find(last["failedChecks"][0].get<std::string>()) != std::string::npos);
      CHECK(last["report"]["verdict"] == "fail");
    } else {
      CHECK(last["verdict"] == "pass");
    }
  }
  auto failed = fleetd.call_json("GET", "/v1/probes?verdict=fail&limit=1000");
  CHECK(failed["items"].size() == expected_quarantined);
  auto nodes = fleetd.call_json("GET", "/v1/clusters/" + quarantined.first + "/nodes");
  for (const auto& n : nodes["items"]) {
    if (n["name"] == quarantined.second) CHECK(n["lastProbe"]["verdict"] == "fail");
  }

  // fleetctl shows it and asks for a re-probe, which runs again (a new result, trigger manual).
  const std::string config = (data_dir / "fleetctl.json").string();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {fleetctl_binary(), "--config", config});
    return run_command(args);
  };
  const std::string ref = quarantined.first + "/" + quarantined.second;
  auto described = ctl({"describe", "node", ref});
  INFO(described.out << described.err);
  REQUIRE(described.exit_code == 0);
  CHECK_THAT(described.out, Catch::Contains("Admission:   quarantined"));
  CHECK_THAT(described.out, Catch::Contains("CHECK"));
  auto listed = ctl({"get", "probes", "--verdict", "fail", "--cluster", quarantined.first});
  REQUIRE(listed.exit_code == 0);
  CHECK_THAT(listed.out, Catch::Contains(quarantined.second));

  auto reprobe = ctl({"probe", "node", ref, "--reason", "GPU reseated"});
  INFO(reprobe.out << reprobe.err);
  REQUIRE(reprobe.exit_code == 0);
  const std::string marker = "(command ";
  const auto at = reprobe.out.find(marker);
  REQUIRE(at != std::string::npos);
  const std::string command_id = reprobe.out.substr(at + marker.size(), reprobe.out.find(')', at) - at - marker.size());
  json command;
  for (int i = 0; i < 120; ++i) {
    command = fleetd.call_json("GET", "/v1/commands/" + command_id);
    if (command["state"] == "succeeded" || command["state"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  CHECK(command["state"] == "succeeded");
  json probes;
  for (int i = 0; i < 40; ++i) {
    probes = fleetd.call_json("GET", "/v1/clusters/" + quarantined.first + "/nodes/" + quarantined.second + "/probes");
    if (probes["items"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  REQUIRE(probes["items"].size() == 2);
  CHECK(probes["items"][0]["trigger"] == "manual");
  auto audit = fleetd.call_json("GET", "/v1/audit?limit=1000");
  bool audited = false;
  for (const auto& e : audit["items"]) audited = audited || (e["action"] == "node.probe" && e["objectName"] == ref);
  CHECK(audited);

  // An operator's quarantine of an admitted node, with a reason, reaches the agent.
  std::pair<std::string, std::string> admitted;
  for (const auto& [node, admission] : expected) {
    if (admission == "admitted") admitted = node;
  }
  CHECK(ctl({"quarantine", "node", admitted.first + "/" + admitted.second}).exit_code != 0);  // no --reason
  auto q = ctl({"quarantine", "node", admitted.first + "/" + admitted.second, "--reason", "XID 79 on GPU 2"});
  REQUIRE(q.exit_code == 0);
  std::string state;
  for (int i = 0; i < 80 && state != "quarantined"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    state = gpu_node_admission(fleetd)[admitted];
  }
  CHECK(state == "quarantined");

  sim->signal(SIGTERM);
  CHECK(sim->wait(std::chrono::seconds(10)) == 0);
  std::ifstream log(fleet_sim_log(dir.path()));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  std::size_t applied = 0;
  for (auto at = text.find("\"admission policy applied\""); at != std::string::npos;
       at = text.find("\"admission policy applied\"", at + 1)) {
    ++applied;
  }
  CHECK(applied == static_cast<std::size_t>(kAdmissionClusters));
  CHECK_THAT(text, Catch::Contains("\"policy\":\"fleet-default\""));
}
