#include "fleetd/db/db_pool.hpp"

#include <pqxx/pqxx>

#include "common/log.hpp"

namespace fleet {

DbPool::DbPool(DbPoolOptions options) : options_(std::move(options)) {
  for (unsigned i = 0; i < options_.connections; ++i) workers_.emplace_back([this] { worker_loop(); });
}

DbPool::~DbPool() {
  stop();
}

bool DbPool::submit(DbJob job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) return false;
    job.enqueued_at = std::chrono::steady_clock::now();
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

std::size_t DbPool::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void DbPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void DbPool::worker_loop() {
  std::unique_ptr<pqxx::connection> conn;
  auto backoff = std::chrono::milliseconds(0);
  auto next_connect = std::chrono::steady_clock::time_point{};
  for (;;) {
    DbJob job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    in_use_++;
    try {
      if (std::chrono::steady_clock::now() - job.enqueued_at > options_.max_queue_wait) {
        job.fail("the database is overloaded: the request waited too long for a connection");
      } else {
        if (!conn || !conn->is_open()) {
          conn.reset();
          // Back off between reconnect attempts so a database outage is not hammered by every request.
          if (std::chrono::steady_clock::now() < next_connect) {
            throw pqxx::broken_connection("database unavailable (reconnecting)");
          }
          try {
            conn = std::make_unique<pqxx::connection>(options_.url);
            if (options_.on_connect) options_.on_connect(*conn);
            backoff = std::chrono::milliseconds(0);
          } catch (const std::exception&) {
            connect_failures_++;
            backoff = std::min(std::chrono::milliseconds(5000), backoff * 2 + std::chrono::milliseconds(100));
            next_connect = std::chrono::steady_clock::now() + backoff;
            throw;
          }
        }
        job.run(*conn);
      }
    } catch (const pqxx::broken_connection& e) {
      conn.reset();
      log::warn("database connection lost", {{"error", e.what()}});
      if (job.fail) job.fail("the database is unavailable");
    } catch (const std::exception& e) {
      if (conn && !conn->is_open()) conn.reset();
      log::error("database job failed", {{"error", e.what()}});
      if (job.fail) job.fail("internal error while talking to the database");
    }
    in_use_--;
  }
}

}  // namespace fleet
