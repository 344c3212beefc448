#pragma once
// Deletes spent records (store/record_sweep_store.hpp: Idempotency-Key records past 24 h, bootstrap tokens a day
// after they were used, revoked or expired) every `period`, on one replica at a time (ControlLoop). A sweep that
// deleted something writes one audit row (actor `fleetd`, action `records.sweep`, the counts in its detail), so
// what fleetd removed on its own is on record like what people remove.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "fleetd/loops/loop_stats.hpp"

namespace fleet {

class ControlLoop;

struct RecordSweeperOptions {
  std::string database_url;
  std::chrono::milliseconds period{std::chrono::minutes(5)};
};

class RecordSweeper {
 public:
  RecordSweeper(RecordSweeperOptions options, const Clock& clock);
  ~RecordSweeper();
  void start();
  void stop();
  std::uint64_t deleted() const { return deleted_.load(); }  // rows of both kinds, by this replica since start
  LoopStats::Snapshot loop_stats() const;                    // fleetd_loop_*

 private:
  std::atomic<std::uint64_t> deleted_{0};
  std::unique_ptr<ControlLoop> loop_;
};

}  // namespace fleet
