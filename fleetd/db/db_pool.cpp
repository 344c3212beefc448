#include "fleetd/db/db_pool.hpp"

#include <pqxx/pqxx>
#include <random>

#include "common/log.hpp"

namespace fleet {

struct DbPool::Worker {
  std::unique_ptr<pqxx::connection> conn;
  Clock::SteadyTime next_connect{};
  std::chrono::milliseconds backoff{0};
  std::minstd_rand jitter{std::random_device{}()};
};

namespace {

// A failure of the connection itself (the job did not reach the database, or lost it): a new one is needed.
struct Reconnecting : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

DbPool::DbPool(DbPoolOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {
  for (unsigned i = 0; i < options_.connections; ++i) workers_.emplace_back([this] { worker_loop(); });
}

DbPool::~DbPool() {
  stop();
}

bool DbPool::submit(DbJob job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) return false;
    job.enqueued_at = clock_.steady_now();
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
  Worker worker;
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
    const auto picked = clock_.steady_now();
    {
      std::lock_guard lock(stats_mutex_);
      stats_.queue_wait_seconds.observe(std::chrono::duration<double>(picked - job.enqueued_at).count());
    }
    if (picked - job.enqueued_at > options_.max_queue_wait) {
      fail(job, {DbFailure::Kind::kOverloaded,
                 "the database is overloaded: the request waited too long for a "
                 "connection"});
    } else {
      execute(job, worker);
      std::lock_guard lock(stats_mutex_);
      stats_.run_seconds.observe(std::chrono::duration<double>(clock_.steady_now() - picked).count());
    }
    in_use_--;
  }
}

const char* failure_kind_name(DbFailure::Kind kind) {
  switch (kind) {
    case DbFailure::Kind::kOverloaded:
      return "overloaded";
    case DbFailure::Kind::kUnavailable:
      return "unavailable";
    case DbFailure::Kind::kContention:
      return "contention";
    case DbFailure::Kind::kInternal:
      return "internal";
  }
  return "internal";
}

DbJobStats DbPool::job_stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void DbPool::fail(DbJob& job, const DbFailure& failure) {
  {
    std::lock_guard lock(stats_mutex_);
    stats_.failures.at(static_cast<std::size_t>(failure.kind))++;
  }
  if (job.fail) job.fail(failure);
}

void DbPool::execute(DbJob& job, Worker& worker) {
  auto fail = [&](DbFailure::Kind kind, std::string message) { this->fail(job, {kind, std::move(message)}); };
  auto backoff = options_.retry.first_backoff;
  for (int attempt = 1;; ++attempt) {
    try {
      if (!worker.conn || !worker.conn->is_open()) {
        worker.conn.reset();
        // Back off between reconnect attempts so a database outage is not hammered by every request.
        if (clock_.steady_now() < worker.next_connect) throw Reconnecting("database unavailable (reconnecting)");
        try {
          worker.conn = std::make_unique<pqxx::connection>(options_.url);
          if (options_.on_connect) options_.on_connect(*worker.conn);
          worker.backoff = std::chrono::milliseconds(0);
        } catch (const std::exception& e) {
          connect_failures_++;
          worker.conn.reset();
          worker.backoff =
              std::min(std::chrono::milliseconds(5000), worker.backoff * 2 + std::chrono::milliseconds(100));
          worker.next_connect = clock_.steady_now() + worker.backoff;
          throw Reconnecting(e.what());
        }
      }
      job.run(*worker.conn);
      return;
    } catch (const pqxx::serialization_failure& e) {
      if (attempt >= options_.retry.attempts) {
        log::warn("database job gave up after serialization failures",
                  {{"requestId", job.request_id}, {"attempts", attempt}, {"error", e.what()}});
        return fail(DbFailure::Kind::kContention, "too many concurrent changes to the same data; retry shortly");
      }
    } catch (const pqxx::deadlock_detected& e) {
      if (attempt >= options_.retry.attempts) {
        log::warn("database job gave up after deadlocks",
                  {{"requestId", job.request_id}, {"attempts", attempt}, {"error", e.what()}});
        return fail(DbFailure::Kind::kContention, "too many concurrent changes to the same data; retry shortly");
      }
    } catch (const Reconnecting&) {
      return fail(DbFailure::Kind::kUnavailable, "the database is unavailable");
    } catch (const pqxx::broken_connection& e) {
      worker.conn.reset();
      log::warn("database connection lost", {{"requestId", job.request_id}, {"error", e.what()}});
      return fail(DbFailure::Kind::kUnavailable, "the database is unavailable");
    } catch (const std::exception& e) {
      if (worker.conn && !worker.conn->is_open()) worker.conn.reset();
      log::error("database job failed", {{"requestId", job.request_id}, {"error", e.what()}});
      return fail(DbFailure::Kind::kInternal, "internal error");
    }
    // A serialization failure or deadlock: the transaction rolled back and nothing was answered; run it again
    // after a jittered backoff, so that the transactions that collided do not collide again in step.
    retries_++;
    std::uniform_int_distribution<long> spread(backoff.count() / 2, backoff.count() * 3 / 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(spread(worker.jitter)));
    backoff *= 2;
  }
}

}  // namespace fleet
