// Agent liveness: a cluster whose agent stops heartbeating becomes unreachable, and ready again on its next
// heartbeat; with two fleetd on one database the loop runs without the replicas getting in each other's way.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "agents/sim_cluster.hpp"
#include "fleetd/testing/temp_postgres.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "protocol/heartbeat_sender.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;
namespace model = fleet::model;
namespace protocol = fleet::protocol;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct SimAgent {
  std::string cluster, credential;
  model::ClusterInventory inventory;
  protocol::HeartbeatSender sender{"0.1.0-itest"};
};

SimAgent register_sim(FleetdProcess& fleetd, const agent::ClusterSpec& spec, json* registration = nullptr) {
  fleetd.call_json("POST", "/v1/clusters", json{{"name", spec.name}, {"provider", spec.provider}}.dump(), 201);
  auto bootstrap = fleetd.call_json("POST", "/v1/clusters/" + spec.name + "/bootstrap-tokens", "", 201)["token"];
  auto reg = fleetd.call("POST", "/v1/agents/register", "", {}, bootstrap.get<std::string>());
  REQUIRE(reg.status == 200);
  auto body = json::parse(reg.body);
  if (registration) *registration = body;
  return SimAgent{spec.name, body["credential"], agent::initial_inventory(spec, 7),
                  protocol::HeartbeatSender("0.1.0-itest")};
}

json heartbeat(FleetdProcess& fleetd, SimAgent& a) {
  auto r = fleetd.call("POST", "/v1/agents/" + a.cluster + "/heartbeat",
                       protocol::to_json(a.sender.next(a.inventory)).dump(), {}, a.credential);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

std::string state(FleetdProcess& fleetd, const std::string& cluster) {
  return fleetd.call_json("GET", "/v1/clusters/" + cluster)["state"];
}

// Seconds until the cluster leaves `from`, polled every 100 ms, at most `limit`; -1 if it never does.
double seconds_until_not(FleetdProcess& fleetd, const std::string& cluster, const std::string& from, double limit) {
  auto start = SteadyClock::now();
  while (std::chrono::duration<double>(SteadyClock::now() - start).count() < limit) {
    if (state(fleetd, cluster) != from) return std::chrono::duration<double>(SteadyClock::now() - start).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return -1;
}

int audit_count(FleetdProcess& fleetd, const std::string& action, const std::string& name) {
  int n = 0;
  const auto audit = fleetd.call_json("GET", "/v1/audit?limit=1000");  // kept: the loop references into it
  for (const auto& e : audit["items"]) {
    if (e["action"] == action && e["objectName"] == name) {
      REQUIRE(e["actor"] == "fleetd");
      n++;
    }
  }
  return n;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a cluster without heartbeats becomes unreachable and returns to ready on the next one",
          "[integration][agents][liveness]") {
  TempDir dir;
  FleetdProcess fleetd(
      FleetdOptions(dir.path() / "data", "", {"--heartbeat-interval", "1", "--unreachable-after", "3"}));
  auto spec = agent::generate_fleet_spec(2, "h100:8x100%", 7);
  REQUIRE(spec);
  json registration;
  SimAgent a = register_sim(fleetd, spec->clusters[0], &registration);
  SimAgent b = register_sim(fleetd, spec->clusters[1]);
  REQUIRE(registration["heartbeatIntervalSeconds"] == 1);

  auto first = heartbeat(fleetd, a);
  REQUIRE(first["heartbeatIntervalSeconds"] == 1);
  REQUIRE(state(fleetd, a.cluster) == "ready");
  // Heartbeats every second keep it ready past the 3 s limit.
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    heartbeat(fleetd, a);
    REQUIRE(state(fleetd, a.cluster) == "ready");
  }
  const std::string rv = fleetd.call_json("GET", "/v1/clusters/" + a.cluster)["resourceVersion"];

  // Silence: unreachable after 3 s, checked every half interval.
  double took = seconds_until_not(fleetd, a.cluster, "ready", 10);
  std::cerr << "unreachable " << took << " s after the last heartbeat (limit 3 s)\n";
  REQUIRE(took > 0);
  CHECK(took >= 2.5);
  CHECK(took <= 5.0);
  auto marked = fleetd.call_json("GET", "/v1/clusters/" + a.cluster);
  REQUIRE(marked["state"] == "unreachable");
  REQUIRE(marked["resourceVersion"] != rv);
  REQUIRE(audit_count(fleetd, "cluster.unreachable", a.cluster) == 1);
  REQUIRE(fleetd.call("GET", "/metrics").body.find("fleetd_clusters_marked_unreachable_total 1") != std::string::npos);
  // A cluster that never heartbeated is registering, not unreachable.
  REQUIRE(state(fleetd, b.cluster) == "registering");

  // The next heartbeat (a delta) brings it back.
  REQUIRE(heartbeat(fleetd, a)["resync"] == false);
  REQUIRE(state(fleetd, a.cluster) == "ready");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  REQUIRE(state(fleetd, a.cluster) == "ready");
  REQUIRE(audit_count(fleetd, "cluster.unreachable", a.cluster) == 1);
}

TEST_CASE("two fleetd on one database run the liveness loop without conflicts", "[integration][agents][liveness]") {
  auto pg = fleet::testing::TempPostgres::start();
  REQUIRE(pg);
  std::string url = (*pg)->connection_url();
  TempDir dir;
  const std::string token = create_admin_token(url);
  std::vector<std::string> flags = {"--heartbeat-interval",    "1", "--unreachable-after", "2",
                                    "--command-lease-seconds", "1"};
  FleetdProcess fa(FleetdOptions(dir.path() / "a", url, flags, token));
  FleetdProcess fb(FleetdOptions(dir.path() / "b", url, flags, token));

  auto spec = agent::generate_fleet_spec(3, "h100:8x100%", 11);
  REQUIRE(spec);
  std::vector<SimAgent> agents;
  for (const auto& c : spec->clusters) agents.push_back(register_sim(fa, c));
  for (auto& a : agents) heartbeat(fb, a);
  for (auto& a : agents) REQUIRE(state(fa, a.cluster) == "ready");
  // The command queue across replicas: leased through one, never reported, re-delivered through the other.
  fa.call_json("POST", "/v1/clusters/" + agents[0].cluster + "/commands", R"({"id": "c1", "kind": "run_probe"})", 201);
  const std::string poll = "/v1/agents/" + agents[0].cluster + "/commands?wait=10s";
  auto first = fa.call("GET", poll, "", {}, agents[0].credential);
  REQUIRE(first.status == 200);
  REQUIRE(json::parse(first.body)["commands"][0]["attempt"] == 1);
  auto second = fb.call("GET", poll, "", {}, agents[0].credential);
  REQUIRE(second.status == 200);
  REQUIRE(json::parse(second.body)["commands"][0]["attempt"] == 2);

  for (auto& a : agents) {
    double took = seconds_until_not(fb, a.cluster, "ready", 10);
    REQUIRE(took >= 0);
    REQUIRE(state(fa, a.cluster) == "unreachable");
  }
  for (auto& a : agents) {
    REQUIRE(audit_count(fa, "cluster.unreachable", a.cluster) == 1);
    heartbeat(fa, a);
    REQUIRE(state(fb, a.cluster) == "ready");
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // several rounds of both loops on both replicas
  for (auto& a : agents) heartbeat(fb, a);
  REQUIRE(fa.terminate() == 0);
  REQUIRE(fb.terminate() == 0);
  for (const auto& log : {fa.log_path(), fb.log_path()}) {
    auto text = read_file(log);
    INFO(log);
    REQUIRE(text.find("control loop round failed") == std::string::npos);
    REQUIRE(text.find("\"level\":\"error\"") == std::string::npos);
  }
}
