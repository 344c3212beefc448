#pragma once
// A fixed set of database workers, each owning one PostgreSQL connection, fed by a bounded queue. The HTTP
// threads never block on the database: they submit a job and return; the job responds when it is done.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/duration_histogram.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

// Why a job could not complete. The message is safe to show (no SQL, no secrets).
struct DbFailure {
  enum class Kind {
    kOverloaded,   // the job waited too long for a connection, or the pool is stopping
    kUnavailable,  // no connection to the database
    kContention,   // serialization failures or deadlocks went on after every retry
    kInternal,     // anything else: a bug, logged with the job's request id
  };
  Kind kind = Kind::kInternal;
  std::string message;
};

struct DbJob {
  // Runs on a worker with its connection. The worker catches what it throws:
  //  - a serialization failure or a deadlock (SQLSTATE 40001, 40P01) runs it again, a bounded number of times with
  //    jittered backoff, so `run` must not answer or change shared memory before its transaction commits;
  //  - a broken connection replaces the connection and fails the job as kUnavailable;
  //  - anything else fails it as kInternal and is logged with `request_id`.
  std::function<void(pqxx::connection_base&)> run;
  // Called instead of (or after a throwing) `run` when the job cannot complete.
  std::function<void(const DbFailure& failure)> fail;
  std::string request_id;           // for the log line of a failure
  Clock::SteadyTime enqueued_at{};  // set by submit()
};

struct RetryPolicy {
  int attempts = 4;                            // runs of a job in all, the first included
  std::chrono::milliseconds first_backoff{5};  // doubled after each retry, with ±50% jitter
};

// The pool's jobs as /metrics shows them (issue #16): how long a job waited for a worker, how long it ran on one
// (its transactions, retries and backoff included), and the jobs that failed, by DbFailure::Kind. A request's
// database latency is the two added.
struct DbJobStats {
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  DurationHistogram queue_wait_seconds{{kBuckets.begin(), kBuckets.end()}};
  DurationHistogram run_seconds{{kBuckets.begin(), kBuckets.end()}};
  std::array<std::uint64_t, 4> failures{};  // indexed by DbFailure::Kind
};
const char* failure_kind_name(DbFailure::Kind kind);  // "overloaded", "unavailable", "contention", "internal"

struct DbPoolOptions {
  std::string url;
  unsigned connections = 8;
  std::size_t max_queue = 1024;                     // submit() refuses beyond this
  std::chrono::milliseconds max_queue_wait{10000};  // a job that waited longer fails instead of running
  // Runs on every new connection before its first job (prepared statements of the hot paths).
  std::function<void(pqxx::connection_base&)> on_connect;
  RetryPolicy retry;
};

class DbPool {
 public:
  DbPool(DbPoolOptions options, const Clock& clock);
  ~DbPool();  // stop()
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // false when the queue is full or the pool is stopping (the caller answers 503).
  bool submit(DbJob job);
  // Finishes queued jobs, then joins the workers and closes the connections.
  void stop();

  std::size_t size() const { return workers_.size(); }
  std::size_t in_use() const { return in_use_.load(); }
  std::size_t waiting() const;
  std::uint64_t connect_failures() const { return connect_failures_.load(); }
  std::uint64_t retries() const { return retries_.load(); }  // runs repeated after a serialization failure or deadlock
  DbJobStats job_stats() const;

 private:
  struct Worker;  // one worker thread's connection and reconnect backoff (db_pool.cpp)
  void worker_loop();
  // Runs `job` on the worker's connection (reconnecting when needed), retrying conflicts; calls job.fail when it
  // cannot complete.
  void execute(DbJob& job, Worker& worker);
  void fail(DbJob& job, const DbFailure& failure);  // counts it, then job.fail

  DbPoolOptions options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<DbJob> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::atomic<std::size_t> in_use_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
  std::atomic<std::uint64_t> retries_{0};
  mutable std::mutex stats_mutex_;
  DbJobStats stats_;
};

}  // namespace fleet
