#pragma once
// A fixed set of database workers, each owning one PostgreSQL connection, fed by a bounded queue. The HTTP
// threads never block on the database: they submit a job and return; the job responds when it is done.
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

 private:
  struct Worker;  // one worker thread's connection and reconnect backoff (db_pool.cpp)
  void worker_loop();
  // Runs `job` on the worker's connection (reconnecting when needed), retrying conflicts; calls job.fail when it
  // cannot complete.
  void execute(DbJob& job, Worker& worker);

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
};

}  // namespace fleet
