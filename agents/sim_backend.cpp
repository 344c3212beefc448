#include "agents/sim_backend.hpp"

#include <chrono>
#include <utility>

#include "admission/probe_result_wire.hpp"

namespace fleet::agent {

SimBackend::SimBackend(SimCluster cluster, std::function<double()> clock)
    : cluster_(std::move(cluster)), clock_(std::move(clock)) {}

Result<model::ClusterInventory> SimBackend::inventory() {
  cluster_.advance(clock_());
  return cluster_.inventory();
}

Result<StartResult> SimBackend::start(const protocol::Command& command) {
  return cluster_.start(command, clock_());
}

std::vector<protocol::CommandEvent> SimBackend::poll() {
  cluster_.advance(clock_());
  return cluster_.take_events();
}

std::optional<protocol::CommandStatus> SimBackend::status(std::string_view command_id) const {
  return cluster_.status(command_id);
}

std::vector<protocol::ProbeResult> SimBackend::take_probe_results() {
  const double now = clock_();
  cluster_.advance(now);
  const auto shift = std::chrono::system_clock::now() - SimCluster::wall_time(now);
  std::vector<protocol::ProbeResult> out;
  for (const admission::ProbeRecord& record : cluster_.take_probe_records()) {
    protocol::ProbeResult r = admission::to_probe_result(record);
    r.started_at += shift;
    r.finished_at += shift;
    out.push_back(std::move(r));
  }
  return out;
}

void SimBackend::set_admission_policy(const admission::AdmissionPolicy& policy) {
  cluster_.set_admission_policy(policy, clock_());
}

std::optional<double> SimBackend::seconds_until_due() const {
  auto due = cluster_.next_due();
  if (!due) return std::nullopt;
  double left = *due - clock_();
  return left > 0 ? left : 0.0;
}

bool SimBackend::disconnected() const {
  return cluster_.should_disconnect(clock_());
}

std::function<double()> scaled_steady_clock(double time_scale) {
  auto start = std::chrono::steady_clock::now();
  return [start, time_scale] {
    std::chrono::duration<double> real = std::chrono::steady_clock::now() - start;
    return real.count() * time_scale;
  };
}

}  // namespace fleet::agent
