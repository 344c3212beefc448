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

namespace pqxx {
class connection_base;
}

namespace fleet {

struct DbJob {
  // Runs on a worker with its connection. Exceptions are caught by the worker: a broken connection is
  // replaced and `fail` is called; any other exception also calls `fail`.
  std::function<void(pqxx::connection_base&)> run;
  // Called instead of (or after a throwing) `run` when the job cannot complete: no connection, queue wait too
  // long, shutdown. The message is safe to show (no secrets).
  std::function<void(const std::string& message)> fail;
  std::chrono::steady_clock::time_point enqueued_at = std::chrono::steady_clock::now();
};

struct DbPoolOptions {
  std::string url;
  unsigned connections = 8;
  std::size_t max_queue = 1024;                     // submit() refuses beyond this
  std::chrono::milliseconds max_queue_wait{10000};  // a job that waited longer fails instead of running
  // Runs on every new connection before its first job (prepared statements of the hot paths).
  std::function<void(pqxx::connection_base&)> on_connect;
};

class DbPool {
 public:
  explicit DbPool(DbPoolOptions options);
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

 private:
  void worker_loop();

  DbPoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<DbJob> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::atomic<std::size_t> in_use_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
};

}  // namespace fleet
