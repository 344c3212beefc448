#include "fleetd/loops/fleet_gauges.hpp"

#include "fleetd/db/lock_keys.hpp"
#include "fleetd/loops/control_loop.hpp"

namespace fleet {

FleetGauges::FleetGauges(std::string database_url, std::chrono::milliseconds period, const Clock& clock) {
  loop_ = std::make_unique<ControlLoop>(
      ControlLoop::Options{"fleet-gauges", std::move(database_url), lock_keys::kFleetGauges, period}, clock,
      [this](pqxx::transaction_base& txn, Clock::WallTime) {
        auto counts = store::read_fleet_counts(txn);
        std::lock_guard lock(mutex_);
        counts_ = std::move(counts);
      });
}

FleetGauges::~FleetGauges() {
  stop();
}

void FleetGauges::start() {
  loop_->start();
}

void FleetGauges::stop() {
  loop_->stop();
}

store::FleetCounts FleetGauges::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

LoopStats::Snapshot FleetGauges::loop_stats() const {
  return loop_->stats();
}

}  // namespace fleet
