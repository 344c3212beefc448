// kill -9 fleetd while agent commands are queued and leased (issue #3 acceptance): after the restart no command
// is lost and none runs twice to completion. The agents are fleet-sim's; their step log has one "command
// finished" line each time a backend finishes a command, so each id must appear there exactly once.
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <set>
#include <thread>

#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

constexpr int kQueueClusters = 5;

std::vector<std::string> cluster_names(FleetdProcess& fleetd) {
  std::vector<std::string> names;
  const json list = fleetd.call_json("GET", "/v1/clusters?limit=100");  // kept: the loop reads into it
  for (const auto& c : list["items"]) names.push_back(c["name"]);
  return names;
}

void enqueue(FleetdProcess& fleetd, const std::string& cluster, const std::string& id, const std::string& kind,
             const json& payload) {
  auto r = fleetd.call("POST", "/v1/clusters/" + cluster + "/commands",
                       json{{"id", id}, {"kind", kind}, {"payload", payload}}.dump(), {{"Idempotency-Key", id}});
  INFO(r.body);
  REQUIRE(r.status == 201);
}

std::map<std::string, std::string> command_states(FleetdProcess& fleetd, const std::vector<std::string>& ids) {
  std::map<std::string, std::string> states;
  for (const auto& id : ids) states[id] = fleetd.call_json("GET", "/v1/commands/" + id)["state"];
  return states;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return pred();
}

}  // namespace

TEST_CASE("kill -9 of fleetd with queued and leased commands loses none and finishes none twice",
          "[integration][agents][commands]") {
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--command-lease-seconds", "3"})};
  const auto sim_log = fleet_sim_log(dir.path());
  auto sim = start_fleet_sim(fleetd, dir.path(),
                             {"--clusters", std::to_string(kQueueClusters), "--seed", "5", "--time-scale", "50"});
  REQUIRE(eventually(
      [&] {
        auto items = fleetd.call_json("GET", "/v1/clusters?limit=100")["items"];
        return items.size() == kQueueClusters &&
               std::all_of(items.begin(), items.end(), [](const json& c) { return c["state"] == "ready"; });
      },
      std::chrono::seconds(60)));
  const auto clusters = cluster_names(fleetd);

  // Long-running node pool upgrades (3 system nodes one at a time: about 18 s at time scale 50), then instant
  // cordon commands.
  std::vector<std::string> ids;
  for (const auto& c : clusters) {
    enqueue(fleetd, c, "up-" + c, "upgrade_node_pool",
            {{"pool", "system"}, {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202511.01.0"}});
    ids.push_back("up-" + c);
  }
  std::map<std::string, std::string> upgrades;
  bool all_running = eventually(
      [&] {
        upgrades = command_states(fleetd, ids);
        return std::all_of(upgrades.begin(), upgrades.end(), [](const auto& kv) { return kv.second == "running"; });
      },
      std::chrono::seconds(20));
  INFO("upgrades: " << json(upgrades).dump());
  REQUIRE(all_running);
  for (const auto& c : clusters) {
    for (int i = 0; i < 4; ++i) {
      const std::string id = "cordon-" + c + "-" + std::to_string(i);
      enqueue(fleetd, c, id, "cordon_cluster", {{"cordon", i % 2 == 0}});
      ids.push_back(id);
    }
  }

  // Freeze the agents so that the next commands stay queued, then kill fleetd under them.
  sim->signal(SIGSTOP);
  for (const auto& c : clusters) {
    for (int i = 4; i < 7; ++i) {
      const std::string id = "cordon-" + c + "-" + std::to_string(i);
      enqueue(fleetd, c, id, "cordon_cluster", {{"cordon", i % 2 == 0}});
      ids.push_back(id);
    }
  }
  auto before = command_states(fleetd, ids);
  std::map<std::string, int> by_state;
  for (const auto& [id, st] : before) by_state[st]++;
  INFO("states before the kill: " << json(by_state).dump());
  CHECK(by_state["queued"] >=
        kQueueClusters);  // most of the 15 sent while frozen (a poll answered just before the freeze may take some)
  CHECK(by_state["running"] + by_state["leased"] >= kQueueClusters);
  fleetd.kill9();
  sim->signal(SIGCONT);
  // Long enough for the upgrades' 3 s leases to expire while fleetd is down: they come back as queued and are
  // delivered again, and the agents must answer from what they did, not run them again.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  fleetd.restart();

  std::map<std::string, std::string> after;
  bool all_final = eventually(
      [&] {
        after = command_states(fleetd, ids);
        return std::all_of(after.begin(), after.end(),
                           [](const auto& kv) { return kv.second == "succeeded" || kv.second == "failed"; });
      },
      std::chrono::seconds(90));
  INFO("states after the restart: " << json(after).dump());
  REQUIRE(all_final);
  for (const auto& [id, st] : after) CHECK(st == "succeeded");

  sim->signal(SIGTERM);
  sim->wait(std::chrono::seconds(10));
  std::map<std::string, int> finished;
  int redelivered = 0;
  std::ifstream log(sim_log);
  for (std::string line; std::getline(log, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.value("msg", "") == "command finished") finished[j.value("commandId", "")]++;
    if (j.value("msg", "") == "command already known; reporting its state again") ++redelivered;
  }
  REQUIRE(finished.size() == ids.size());
  for (const auto& id : ids) {
    INFO(id);
    CHECK(finished[id] == 1);
  }
  WARN(ids.size() << " commands, each finished once; " << redelivered << " deliveries answered from the stored result");
}
