#pragma once
// What fleet-agent answers on its health port (--health-listen): liveness, readiness and its own /metrics, as pure
// functions of a snapshot of the agent's counters and `now`. health_server.cpp serves them; the kubelet's probes
// and Prometheus read them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "net/process_metrics.hpp"

namespace fleet::agent {

struct AgentHealthSnapshot {
  std::string version;
  std::string cluster;  // empty until the agent has an identity
  std::string backend;  // "sim" | "kubernetes"
  // The last heartbeat fleetd answered (a resync request included); nullopt before the first.
  std::optional<std::chrono::system_clock::time_point> last_heartbeat_answered;
  std::chrono::milliseconds heartbeat_interval{0};  // the one in effect (fleetd may change it)
  std::uint64_t heartbeats_ok = 0;
  std::uint64_t heartbeat_errors = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t commands_received = 0;
  std::uint64_t commands_finished = 0;
  std::uint64_t reports_sent = 0;
  std::uint64_t probe_results_sent = 0;
  std::uint64_t probe_results_dropped = 0;
};

struct HealthAnswer {
  int status = 200;
  std::string body;  // one line of plain text saying why
};

// How many heartbeat intervals may pass without an answer before the agent is not ready: fleetd marks a cluster
// unreachable after 3 by default, so an agent that cannot reach fleetd for that long says so too.
inline constexpr int kReadyIntervals = 3;

// Ready: registered (a cluster), and fleetd answered a heartbeat within kReadyIntervals intervals. A not-ready
// agent is not restarted (that is liveness); it tells the kubelet, and an operator's `kubectl get pods`, that this
// cluster's agent cannot reach fleetd.
HealthAnswer readiness(const AgentHealthSnapshot& s, std::chrono::system_clock::time_point now);

// The agent's metrics in the Prometheus text format (fleet_agent_*), then the process_* metrics when given.
std::string render_agent_metrics(const AgentHealthSnapshot& s, const std::optional<ProcessStats>& process);

}  // namespace fleet::agent
