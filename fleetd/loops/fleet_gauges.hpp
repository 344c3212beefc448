#pragma once
// Fleet-wide gauges for /metrics (issues #11, #16): GPU nodes by admission state, clusters by state and provider,
// open agent commands by state and kind. A control loop counts them every `period` in one read (not at scrape
// time, so that /metrics answers while the database is slow or away; the figures are then as old as the last
// round). Every replica keeps its own copy of the same fleet-wide figures: aggregate with max(), not sum().
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.hpp"
#include "fleetd/loops/loop_stats.hpp"
#include "fleetd/store/fleet_counts_store.hpp"

namespace fleet {

class ControlLoop;

class FleetGauges {
 public:
  FleetGauges(std::string database_url, std::chrono::milliseconds period, const Clock& clock);
  ~FleetGauges();
  void start();
  void stop();
  // As of the last round; empty before the first.
  store::FleetCounts counts() const;
  LoopStats::Snapshot loop_stats() const;  // fleetd_loop_*

 private:
  mutable std::mutex mutex_;
  store::FleetCounts counts_;
  std::unique_ptr<ControlLoop> loop_;
};

}  // namespace fleet
