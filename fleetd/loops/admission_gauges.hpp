#pragma once
// Fleet-wide GPU admission gauges for /metrics (issue #11): how many GPU nodes are in each admission state. A
// control loop counts them every `period` in one read (not at scrape time, so that /metrics answers while the
// database is slow or away; the figures are then as old as the last round). Every replica keeps its own copy of
// the same fleet-wide figures: aggregate with max(), not sum().
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.hpp"

namespace fleet {

class ControlLoop;

class AdmissionGauges {
 public:
  AdmissionGauges(std::string database_url, std::chrono::milliseconds period, const Clock& clock);
  ~AdmissionGauges();
  void start();
  void stop();
  // admission state → GPU nodes in it, as of the last round; empty before the first.
  std::map<std::string, std::int64_t> gpu_nodes_by_admission() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t> counts_;
  std::unique_ptr<ControlLoop> loop_;
};

}  // namespace fleet
