#include "agents/sim_backend.hpp"

#include <chrono>
#include <utility>

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
