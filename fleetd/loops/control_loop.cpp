#include "fleetd/loops/control_loop.hpp"

#include <memory>
#include <pqxx/pqxx>

#include "common/log.hpp"

namespace fleet {

ControlLoop::ControlLoop(Options options, const Clock& clock, Tick tick)
    : options_(std::move(options)), clock_(clock), tick_(std::move(tick)) {}

ControlLoop::~ControlLoop() {
  stop();
}

void ControlLoop::start() {
  thread_ = std::thread([this] { run(); });
}

void ControlLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ControlLoop::run() {
  std::unique_ptr<pqxx::connection> conn;
  auto backoff = std::chrono::milliseconds(0);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // The first round waits a period too: the process has just started, nothing is overdue yet.
      if (cv_.wait_for(lock, options_.period + backoff, [this] { return stopping_; })) return;
    }
    const auto started = clock_.steady_now();
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(options_.database_url);
      pqxx::work txn(*conn);
      const bool locked = txn.exec_params("SELECT pg_try_advisory_xact_lock($1)", options_.lock_key)[0][0].as<bool>();
      if (locked) tick_(txn, clock_.wall_now());
      txn.commit();
      if (locked) {
        rounds_++;
        stats_.ran(clock_.wall_now(), std::chrono::duration<double>(clock_.steady_now() - started).count());
      }
      backoff = std::chrono::milliseconds(0);
    } catch (const std::exception& e) {
      errors_++;
      stats_.failed();
      if (conn && !conn->is_open()) conn.reset();
      backoff = std::min(std::chrono::milliseconds(5000), backoff * 2 + std::chrono::milliseconds(250));
      log::warn("control loop round failed", {{"loop", options_.name}, {"error", e.what()}});
    }
  }
}

}  // namespace fleet
