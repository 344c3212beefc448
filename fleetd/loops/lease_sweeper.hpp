#pragma once
// Command leases (DESIGN §5 step 3): a leased or running command whose lease passed goes back to `queued`, or to
// `failed` ("lease expired N times") once it was delivered max_attempts times. Runs every second on one replica at
// a time (ControlLoop) and notifies the agents whose commands were requeued, so a long poll gets them within
// about a second of the expiry. (The claim also takes expired leases itself; this sweep is what wakes a waiting
// poll and what fails a command out of attempts.)
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "fleetd/loops/loop_stats.hpp"

namespace fleet {

class ControlLoop;

struct LeaseSweeperOptions {
  std::string database_url;
  int max_attempts = 5;
  std::chrono::milliseconds period{1000};
};

class LeaseSweeper {
 public:
  LeaseSweeper(LeaseSweeperOptions options, const Clock& clock);
  ~LeaseSweeper();
  void start();
  void stop();
  std::uint64_t requeued() const { return requeued_.load(); }
  std::uint64_t failed() const { return failed_.load(); }
  LoopStats::Snapshot loop_stats() const;  // fleetd_loop_*

 private:
  LeaseSweeperOptions options_;
  std::atomic<std::uint64_t> requeued_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::unique_ptr<ControlLoop> loop_;
};

}  // namespace fleet
