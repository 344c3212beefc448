#pragma once
// A periodic control loop (DESIGN §1): its own thread and its own PostgreSQL connection, so a slow database never
// takes a request worker and request load never delays the loop. Each tick is one transaction that first takes
// pg_try_advisory_xact_lock(lock_key): with several replicas on one database, exactly one runs a given round and
// the others skip it; the lock ends with the transaction, so a replica that dies holds nothing.
//
// The pattern every loop follows (loops/liveness_monitor.cpp is the example): the tick reads the state it needs
// through the stores, calls a pure function with that state and `now` (which returns the decision as data), and
// writes the decision through the stores, all in the tick's transaction. The decision is unit-tested without
// PostgreSQL; the tick is a few lines.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "fleetd/loops/loop_stats.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet {

class ControlLoop {
 public:
  struct Options {
    std::string name;  // for logs: "liveness", "command-leases"
    std::string database_url;
    std::int64_t lock_key = 0;  // from fleetd/db/lock_keys.hpp
    std::chrono::milliseconds period{1000};
  };
  // Runs inside the locked transaction with the clock's wall time; the loop commits after it returns (and rolls
  // back if it throws).
  using Tick = std::function<void(pqxx::transaction_base& txn, Clock::WallTime now)>;

  ControlLoop(Options options, const Clock& clock, Tick tick);
  ~ControlLoop();  // stop()
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  void start();
  void stop();  // idempotent; waits for a running tick

  std::uint64_t rounds() const { return rounds_.load(); }  // ticks this replica ran (held the lock)
  std::uint64_t errors() const { return errors_.load(); }
  // Rounds that held the lock, with their duration, and the failed ones (fleetd_loop_*{loop=name}).
  LoopStats::Snapshot stats() const { return stats_.snapshot(); }

 private:
  void run();

  Options options_;
  const Clock& clock_;
  Tick tick_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> rounds_{0};
  std::atomic<std::uint64_t> errors_{0};
  LoopStats stats_;
};

}  // namespace fleet
