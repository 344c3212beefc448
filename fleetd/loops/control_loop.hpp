#pragma once
// A periodic control loop (DESIGN §1): its own thread and its own PostgreSQL connection, so a slow database never
// takes a request worker and request load never delays the loop. Each tick is one transaction that first takes
// pg_try_advisory_xact_lock(lock_key): with several replicas on one database, exactly one runs a given round and
// the others skip it; the lock ends with the transaction, so a replica that dies holds nothing.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace pqxx {
class transaction_base;
}

namespace fleet {

class ControlLoop {
 public:
  struct Options {
    std::string name;  // for logs: "liveness", "command-leases"
    std::string database_url;
    std::int64_t lock_key = 0;
    std::chrono::milliseconds period{1000};
  };
  // Runs inside the locked transaction; the loop commits after it returns (and rolls back if it throws).
  using Tick = std::function<void(pqxx::transaction_base& txn)>;

  ControlLoop(Options options, Tick tick);
  ~ControlLoop();  // stop()
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  void start();
  void stop();  // idempotent; waits for a running tick

  std::uint64_t rounds() const { return rounds_.load(); }  // ticks this replica ran (held the lock)
  std::uint64_t errors() const { return errors_.load(); }

 private:
  void run();

  Options options_;
  Tick tick_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> rounds_{0};
  std::atomic<std::uint64_t> errors_{0};
};

}  // namespace fleet
