// fleetd's /metrics as Prometheus' own linter sees it (issue #16): a live fleetd with a simulated fleet behind it,
// so the families fed by heartbeats, command polls, admission and the loops have samples, through
// `promtool check metrics` (Debian's Prometheus 2.42; scripts/setup puts it in .tools/bin).
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

const std::filesystem::path kMonitoring = std::filesystem::path(FLEET_SOURCE_DIR) / "deploy" / "monitoring";

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// promtool's verdict: its exit status and what it printed (problems, one a line). `args` e.g. "check metrics < F".
std::pair<int, std::string> promtool(const std::string& args) {
  const std::string command = std::string(PROMTOOL_BINARY) + " " + args + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST_CASE("a live fleetd's /metrics passes promtool check metrics, and its routine requests stay out of the info log",
          "[integration][metrics][promtool]") {
  if (std::string(PROMTOOL_BINARY).empty()) {
    FAIL("promtool not found when CMake ran: scripts/setup puts it in .tools/bin (Debian's prometheus package)");
  }
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  auto sim =
      start_fleet_sim(fleetd, dir.path(), {"--clusters", "3", "--gpu-mix", "h100:8x50%,l40s:4x50%", "--seed", "5"});
  // Every cluster ready.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const json clusters = fleetd.call_json("GET", "/v1/clusters");  // named: a loop over a temporary's member dangles
    int ready = 0;
    for (const auto& c : clusters["items"]) ready += c["state"] == "ready" ? 1 : 0;
    if (ready == 3) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // A command poll (agents poll only when a heartbeat says commands wait): with one agent's credential from
  // fleet-sim's state file, so the poll route's own buckets are in the output.
  const json state = json::parse(read_text(fleet_sim_state(dir.path())));
  REQUIRE(state["agents"].size() == 3);
  const auto first_agent = state["agents"].begin();
  const std::string cluster = first_agent.key();
  const auto poll = fleetd.call("GET", "/v1/agents/" + cluster + "/commands?wait=100ms", "", {},
                                first_agent.value().get<std::string>());
  CHECK(poll.status / 100 == 2);
  std::string metrics = fleetd.call("GET", "/metrics").body;
  // The fleet gauges count every 15 s: wait for the round that sees the three clusters ready.
  const auto ready_clusters = [](const std::string& text) {
    long long n = 0;
    const std::string prefix = "\nfleetd_clusters{state=\"ready\",provider=\"";
    for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
      n += std::stoll(text.substr(text.find("} ", at) + 2));
    }
    return n;
  };
  const auto gauges_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (ready_clusters(metrics) != 3) {
    REQUIRE(std::chrono::steady_clock::now() < gauges_deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    metrics = fleetd.call("GET", "/metrics").body;
  }
  CHECK_THAT(metrics, Catch::Contains("# TYPE fleetd_commands_open gauge"));
  // A few answers of other kinds, so their label values are there too.
  CHECK(fleetd.call("GET", "/v1/clusters/no-such-cluster").status == 404);
  CHECK(fleetd.call("BREW", "/v1/clusters").status == 405);
  CHECK(fleetd.call("GET", "/v1/clusters", "", {}, std::string("not-a-token")).status == 401);
  metrics = fleetd.call("GET", "/metrics").body;

  const auto file = dir.path() / "metrics.txt";
  std::ofstream(file) << metrics;
  const auto [status, problems] = promtool("check metrics < '" + file.string() + "'");
  INFO(problems);
  CHECK(status == 0);
  CHECK(problems.empty());

  // Every metric the dashboard's queries and the alert rules name is one fleetd exports (or Prometheus' own `up`).
  std::set<std::string> exported;
  for (std::size_t at = metrics.find("# TYPE "); at != std::string::npos; at = metrics.find("# TYPE ", at + 1)) {
    const std::size_t start = at + 7;
    exported.insert(metrics.substr(start, metrics.find(' ', start) - start));
  }
  for (const char* file : {"fleetd-dashboard.json", "fleetd-alerts.yaml"}) {
    const std::string text = read_text(kMonitoring / file);
    REQUIRE_FALSE(text.empty());
    const std::regex name(R"(\b(fleetd|process)_[a-z0-9_]+)");
    int named = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator(); ++it) {
      std::string metric = it->str();
      for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        const bool histogram_series = metric.size() > suffix.size() &&
                                      metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                                      exported.count(metric.substr(0, metric.size() - suffix.size())) > 0;
        if (histogram_series) metric.resize(metric.size() - suffix.size());
      }
      INFO(file << " names " << it->str());
      CHECK(exported.count(metric) == 1);
      ++named;
    }
    CHECK(named >= 10);
  }

  // What issue #16 asked for, beyond the linter: exact bounds, counters named _total, process_* metrics.
  CHECK_THAT(metrics, Catch::Contains("le=\"0.005\""));
  CHECK(metrics.find("0.0050000") == std::string::npos);
  CHECK_THAT(metrics, Catch::Contains("route=\"/v1/agents/{cluster}/commands\",method=\"GET\",le=\"55\""));
  CHECK_THAT(metrics, Catch::Contains("# TYPE fleetd_command_leases_expired_total counter"));
  CHECK_THAT(metrics, Catch::Contains("# TYPE fleetd_liveness_rows_written_total counter"));
  CHECK_THAT(metrics, Catch::Contains("# TYPE process_cpu_seconds_total counter"));
  CHECK_THAT(metrics, Catch::Contains("\nprocess_resident_memory_bytes "));
  // The operator's view (item 2): every loop has rounds and a last round; the API's jobs are timed; the three
  // agents are connected and their heartbeats counted by outcome.
  for (const char* loop : {"liveness", "fleet-gauges", "command-leases", "rollouts", "placement"}) {
    INFO(loop);
    CHECK_THAT(metrics,
               Catch::Contains("\nfleetd_loop_last_run_timestamp_seconds{loop=\"" + std::string(loop) + "\"} "));
    CHECK_THAT(metrics, Catch::Contains("\nfleetd_loop_duration_seconds_count{loop=\"" + std::string(loop) + "\"} "));
  }
  CHECK_THAT(metrics, Catch::Contains("# TYPE fleetd_loop_errors_total counter"));
  CHECK_THAT(metrics, Catch::Contains("\nfleetd_db_job_seconds_count "));
  CHECK(metrics.find("\nfleetd_db_job_seconds_count 0\n") == std::string::npos);
  CHECK_THAT(metrics, Catch::Contains("\nfleetd_db_job_failures_total{kind=\"overloaded\"} 0\n"));
  CHECK_THAT(metrics, Catch::Contains("\nfleetd_agents_connected 3\n"));
  CHECK_THAT(metrics, Catch::Contains("\nfleetd_heartbeats_received_total{outcome=\"full\"} "));
  sim->signal(SIGTERM);
  CHECK(sim->wait(std::chrono::seconds(10)) == 0);

  // The access log at info (fleetd's default): the heartbeats, polls and scrapes above are not in it, the 404,
  // 405 and 401 are (ApiService::set_routine).
  std::map<std::string, int> logged;  // route → request lines
  std::ifstream log(fleetd.log_path());
  for (std::string line; std::getline(log, line);) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "request") logged[j.value("route", "")]++;
  }
  INFO(json(logged).dump());
  CHECK(logged.count("/v1/agents/{cluster}/heartbeat") == 0);
  CHECK(logged.count("/v1/agents/{cluster}/commands") == 0);
  CHECK(logged.count("/metrics") == 0);
  CHECK(logged["/v1/clusters/{name}"] >= 1);  // the 404
  CHECK(logged["unmatched"] >= 1);            // the 405 (no route has the method)
  CHECK(logged["/v1/clusters"] >= 1);         // the 401, and the lists
}

TEST_CASE("the alert rules pass promtool check rules, and the dashboard is a Grafana dashboard with a query per panel",
          "[integration][metrics][promtool]") {
  if (std::string(PROMTOOL_BINARY).empty()) FAIL("promtool not found when CMake ran: run scripts/setup");
  const auto [status, output] = promtool("check rules '" + (kMonitoring / "fleetd-alerts.yaml").string() + "'");
  INFO(output);
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains("SUCCESS: 12 rules found"));

  const auto dashboard = json::parse(read_text(kMonitoring / "fleetd-dashboard.json"));
  CHECK(dashboard["uid"] == "fleetd-overview");
  int queries = 0;
  for (const auto& panel : dashboard["panels"]) {
    INFO(panel.value("title", "?"));
    REQUIRE(panel["gridPos"]["w"].get<int>() > 0);
    CHECK(panel["gridPos"]["x"].get<int>() + panel["gridPos"]["w"].get<int>() <= 24);  // Grafana's grid is 24 wide
    if (panel["type"] == "row") continue;
    REQUIRE_FALSE(panel["targets"].empty());
    for (const auto& target : panel["targets"]) {
      CHECK_FALSE(target["expr"].get<std::string>().empty());
      ++queries;
    }
  }
  CHECK(queries >= 20);
}
