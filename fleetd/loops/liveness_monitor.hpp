#pragma once
// The liveness loop: each tick reads the `ready` clusters heard before the cutoff, lets decide_liveness
// (loops/liveness_decision.hpp) choose, and marks those `unreachable` with an audit row each (actor "fleetd",
// action "cluster.unreachable"), in one transaction. The next heartbeat makes a cluster `ready` again
// (store::save_heartbeat, store::write_heartbeat_times). Runs on one replica at a time (ControlLoop).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "fleetd/loops/liveness_decision.hpp"
#include "fleetd/loops/loop_stats.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet {

class ControlLoop;

struct LivenessOptions {
  std::string database_url;
  std::chrono::seconds heartbeat_interval{10};
  std::chrono::seconds unreachable_after{30};
};

class LivenessMonitor {
 public:
  LivenessMonitor(LivenessOptions options, const Clock& clock);
  ~LivenessMonitor();
  void start();
  void stop();
  std::uint64_t marked_unreachable() const { return marked_.load(); }  // by this replica, since start
  std::uint64_t rounds() const;
  LoopStats::Snapshot loop_stats() const;  // fleetd_loop_*

  // One round inside the caller's transaction (what the loop runs each period); the clusters it marked.
  std::size_t tick(pqxx::transaction_base& txn, Clock::WallTime now);

 private:
  LivenessOptions options_;
  const Clock& clock_;
  LivenessPolicy policy_;  // started_at is set by start()
  std::atomic<std::uint64_t> marked_{0};
  std::unique_ptr<ControlLoop> loop_;
};

}  // namespace fleet
