#include "agents/agent_health.hpp"

#include <sstream>

#include "net/prometheus_number.hpp"

namespace fleet::agent {
namespace {

double seconds(std::chrono::system_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void counter(std::ostream& out, const char* name, const char* help, std::uint64_t value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << ' ' << value << '\n';
}

}  // namespace

HealthAnswer readiness(const AgentHealthSnapshot& s, std::chrono::system_clock::time_point now) {
  if (s.cluster.empty()) return {503, "not registered with fleetd yet\n"};
  if (!s.last_heartbeat_answered) return {503, "no heartbeat answered by fleetd yet\n"};
  const auto allowed = s.heartbeat_interval * kReadyIntervals;
  const auto age = now - *s.last_heartbeat_answered;
  if (age > allowed) {
    return {503, "fleetd has answered no heartbeat for " + prometheus_number(seconds(age)) + " s (allowed " +
                     prometheus_number(seconds(allowed)) + " s)\n"};
  }
  return {200, "ok: cluster " + s.cluster + "\n"};
}

std::string render_agent_metrics(const AgentHealthSnapshot& s, const std::optional<ProcessStats>& process) {
  std::ostringstream out;
  out << "# HELP fleet_agent_info The agent's version, backend and cluster (value 1).\n"
      << "# TYPE fleet_agent_info gauge\n"
      << "fleet_agent_info{version=\"" << prometheus_label_value(s.version) << "\",backend=\""
      << prometheus_label_value(s.backend) << "\",cluster=\"" << prometheus_label_value(s.cluster) << "\"} 1\n";
  out << "# HELP fleet_agent_heartbeats_total Heartbeats sent, by whether fleetd answered them.\n"
      << "# TYPE fleet_agent_heartbeats_total counter\n"
      // A resync is an answered heartbeat too: fleetd took it and asked for a full inventory next.
      << "fleet_agent_heartbeats_total{result=\"ok\"} " << s.heartbeats_ok + s.resyncs << '\n'
      << "fleet_agent_heartbeats_total{result=\"error\"} " << s.heartbeat_errors << '\n';
  counter(out, "fleet_agent_resyncs_total", "Heartbeats fleetd answered by asking for a full inventory.", s.resyncs);
  counter(out, "fleet_agent_commands_received_total", "Commands leased from fleetd.", s.commands_received);
  counter(out, "fleet_agent_commands_finished_total", "Commands that reached a final state here.", s.commands_finished);
  counter(out, "fleet_agent_reports_sent_total", "Command reports fleetd accepted.", s.reports_sent);
  counter(out, "fleet_agent_probe_results_sent_total", "GPU probe results fleetd accepted.", s.probe_results_sent);
  counter(out, "fleet_agent_probe_results_dropped_total",
          "GPU probe results dropped while fleetd was away (the oldest, beyond the buffer).", s.probe_results_dropped);
  out << "# HELP fleet_agent_heartbeat_interval_seconds The heartbeat interval in effect.\n"
      << "# TYPE fleet_agent_heartbeat_interval_seconds gauge\n"
      << "fleet_agent_heartbeat_interval_seconds "
      << prometheus_number(std::chrono::duration<double>(s.heartbeat_interval).count()) << '\n';
  // A timestamp rather than an age: Prometheus computes the age at query time (time() - this), and the value
  // does not go stale between scrapes. Absent until the first answer, so no alert fires on a made-up 1970.
  if (s.last_heartbeat_answered) {
    out << "# HELP fleet_agent_last_heartbeat_timestamp_seconds When fleetd last answered a heartbeat (Unix time).\n"
        << "# TYPE fleet_agent_last_heartbeat_timestamp_seconds gauge\n"
        << "fleet_agent_last_heartbeat_timestamp_seconds "
        << prometheus_number(seconds(s.last_heartbeat_answered->time_since_epoch())) << '\n';
  }
  if (process) render_process_metrics(out, *process);
  return out.str();
}

}  // namespace fleet::agent
