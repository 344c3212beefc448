// fleet-agent's health port: readiness from the last answered heartbeat, and its /metrics text.
#include <catch2/catch.hpp>

#include "agents/agent_health.hpp"

namespace fleet::agent {
namespace {

using namespace std::chrono_literals;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

AgentHealthSnapshot registered() {
  AgentHealthSnapshot s;
  s.version = "1.2.3";
  s.cluster = "aks-1";
  s.backend = "sim";
  s.heartbeat_interval = 10s;
  s.last_heartbeat_answered = kNow - 5s;
  return s;
}

}  // namespace

TEST_CASE("agent readiness: registered and answered within three heartbeat intervals", "[agent-health]") {
  CHECK(readiness(registered(), kNow).status == 200);
  CHECK(readiness(registered(), kNow).body == "ok: cluster aks-1\n");

  AgentHealthSnapshot unregistered;
  CHECK(readiness(unregistered, kNow).status == 503);
  CHECK(readiness(unregistered, kNow).body == "not registered with fleetd yet\n");

  AgentHealthSnapshot never = registered();
  never.last_heartbeat_answered.reset();
  CHECK(readiness(never, kNow).body == "no heartbeat answered by fleetd yet\n");

  AgentHealthSnapshot edge = registered();
  edge.last_heartbeat_answered = kNow - 30s;  // exactly 3 intervals: still ready
  CHECK(readiness(edge, kNow).status == 200);
  edge.last_heartbeat_answered = kNow - 31s;
  CHECK(readiness(edge, kNow).status == 503);
  CHECK(readiness(edge, kNow).body == "fleetd has answered no heartbeat for 31 s (allowed 30 s)\n");
}

TEST_CASE("agent metrics: counters, the interval and the last answer's time, then process metrics", "[agent-health]") {
  AgentHealthSnapshot s = registered();
  s.heartbeats_ok = 7;
  s.resyncs = 1;
  s.heartbeat_errors = 2;
  s.commands_received = 3;
  s.commands_finished = 3;
  s.reports_sent = 5;
  s.cluster = "we\"ird";
  const std::string text = render_agent_metrics(s, std::nullopt);
  CHECK(text.find("fleet_agent_info{version=\"1.2.3\",backend=\"sim\",cluster=\"we\\\"ird\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("fleet_agent_heartbeats_total{result=\"ok\"} 8\n") != std::string::npos);
  CHECK(text.find("fleet_agent_heartbeats_total{result=\"error\"} 2\n") != std::string::npos);
  CHECK(text.find("# TYPE fleet_agent_resyncs_total counter\nfleet_agent_resyncs_total 1\n") != std::string::npos);
  CHECK(text.find("fleet_agent_reports_sent_total 5\n") != std::string::npos);
  CHECK(text.find("fleet_agent_heartbeat_interval_seconds 10\n") != std::string::npos);
  CHECK(text.find("fleet_agent_last_heartbeat_timestamp_seconds 1799999995\n") != std::string::npos);
  CHECK(text.find("process_") == std::string::npos);

  ProcessStats process;
  process.cpu_seconds = 1.5;
  CHECK(render_agent_metrics(s, process).find("process_cpu_seconds_total 1.5\n") != std::string::npos);

  AgentHealthSnapshot fresh;  // before the first answer: no made-up timestamp
  CHECK(render_agent_metrics(fresh, std::nullopt).find("last_heartbeat_timestamp") == std::string::npos);
}

}  // namespace fleet::agent
