#pragma once
// Agent liveness (DESIGN §5 step 2): a cluster whose agent has not sent a heartbeat for `unreachable_after` goes
// from `ready` to `unreachable`, with an audit row (actor "fleetd", action "cluster.unreachable"). The next
// heartbeat makes it `ready` again (store::save_heartbeat). Runs on one replica at a time (ControlLoop).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace fleet {

class ControlLoop;

struct LivenessOptions {
  std::string database_url;
  std::chrono::seconds heartbeat_interval{10};
  std::chrono::seconds unreachable_after{30};
};

class LivenessMonitor {
 public:
  explicit LivenessMonitor(LivenessOptions options);
  ~LivenessMonitor();
  void start();
  void stop();
  std::uint64_t marked_unreachable() const { return marked_.load(); }  // by this replica, since start
  std::uint64_t rounds() const;

 private:
  LivenessOptions options_;
  std::atomic<std::uint64_t> marked_{0};
  std::chrono::steady_clock::time_point started_;  // set before the loop's thread starts
  std::unique_ptr<ControlLoop> loop_;
};

}  // namespace fleet
