// fleet-agent's health port (--health-listen, issue #16): what the kubelet's probes and a Prometheus scrape in the
// member cluster see, from a real fleet-agent (sim backend) against a real fleetd, through fleetd going away.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

#include "integration-tests/child_process.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "net/http_client.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

// The address the agent logged ("health port serving"; JSON, since its stderr is a file), waiting for it.
std::string health_address(const std::filesystem::path& log_path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const std::regex served(R"re("msg":"health port serving".*"address":"([0-9.:]+)")re");
  for (;;) {
    std::ifstream in(log_path);
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, served)) return m[1];
    }
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

fleet::http::ClientResponse get(fleet::http::Client& client, const std::string& path) {
  auto r = client.request("GET", path);
  REQUIRE(r);
  return *r;
}

// Polls `path` until it answers `status`, for at most `limit`.
bool answers_within(fleet::http::Client& client, const std::string& path, int status, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (get(client, path).status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("fleet-agent's health port: live at once, ready once fleetd answers, not ready when fleetd is gone",
          "[integration][agents][agent-health]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "edge-1", "provider": "arc"})", 201);
  const std::string token =
      fleetd.call_json("POST", "/v1/clusters/edge-1/bootstrap-tokens", "", 201)["token"].get<std::string>();
  const auto spec = dir.path() / "spec.json";
  std::ofstream(spec) << R"({"seed": 1, "clusters": [{"name": "edge-1", "provider": "arc",
    "kubernetesVersion": "1.31.4", "pools": [{"name": "system", "count": 2, "cpu": 8, "memoryGiB": 32}]}]})";
  const auto log_path = dir.path() / "agent.log";
  ChildProcess agent({FLEET_AGENT_BINARY, "--server", fleetd.base_url(), "--backend", "sim", "--sim-spec",
                      spec.string(), "--state-file", (dir.path() / "state.json").string(), "--health-listen",
                      "127.0.0.1:0", "--heartbeat-interval", "1"},
                     log_path.string(), {{"FLEET_BOOTSTRAP_TOKEN", token}});
  fleet::http::ClientOptions options;
  options.base_url = "http://" + health_address(log_path);
  options.timeout = std::chrono::seconds(5);
  auto client = fleet::http::Client::create(options);
  REQUIRE(client);
  auto& health = **client;

  CHECK(get(health, "/healthz").status == 200);
  REQUIRE(answers_within(health, "/readyz", 200, std::chrono::seconds(20)));
  CHECK(get(health, "/readyz").body == "ok: cluster edge-1\n");

  // The metrics, through Prometheus' own linter.
  const std::string metrics = get(health, "/metrics").body;
  CHECK_THAT(metrics, Catch::Contains("fleet_agent_info{version=\""));
  CHECK_THAT(metrics, Catch::Contains("cluster=\"edge-1\"} 1"));
  CHECK_THAT(metrics, Catch::Contains("\nfleet_agent_heartbeat_interval_seconds 1\n"));
  CHECK_THAT(metrics, Catch::Contains("\nfleet_agent_last_heartbeat_timestamp_seconds "));
  CHECK_THAT(metrics, Catch::Contains("\nprocess_resident_memory_bytes "));
  CHECK(std::regex_search(metrics, std::regex(R"(fleet_agent_heartbeats_total\{result="ok"\} [1-9])")));
  if (std::string(PROMTOOL_BINARY).empty()) FAIL("promtool not found when CMake ran: run scripts/setup");
  const auto file = dir.path() / "agent-metrics.txt";
  std::ofstream(file) << metrics;
  FILE* pipe = popen((std::string(PROMTOOL_BINARY) + " check metrics < '" + file.string() + "' 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string problems;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) problems += buf;
  const int status = pclose(pipe);
  INFO(problems);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  // Anything else: 404 and 405, never a crash.
  CHECK(get(health, "/v1/clusters").status == 404);
  auto post = health.request("POST", "/readyz", {}, "x");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(post->headers["allow"] == "GET, HEAD");

  // fleetd gone: within three heartbeat intervals (and a little) the agent says it is not ready, stays alive, and
  // says why; back to ready when fleetd returns.
  fleetd.kill9();
  REQUIRE(answers_within(health, "/readyz", 503, std::chrono::seconds(10)));
  CHECK_THAT(get(health, "/readyz").body, Catch::StartsWith("fleetd has answered no heartbeat for "));
  CHECK(get(health, "/healthz").status == 200);
  fleetd.restart();
  CHECK(answers_within(health, "/readyz", 200, std::chrono::seconds(30)));
  agent.signal(SIGTERM);
  CHECK(agent.wait(std::chrono::seconds(10)) == 0);
}

TEST_CASE("fleet-agent refuses a bad --health-listen with a usage error", "[integration][agents][agent-health]") {
  for (const char* bad : {"9400", "127.0.0.1:99999", "127.0.0.1:x"}) {
    const auto r = run_command({FLEET_AGENT_BINARY, "--server", "http://127.0.0.1:1", "--health-listen", bad,
                                "--bootstrap-token-file", "/nonexistent"});
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--health-listen must be HOST:PORT"));
  }
}
