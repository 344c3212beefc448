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
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(options_.database_url);
      pqxx::work txn(*conn);
      if (txn.exec_params("SELECT pg_try_advisory_xact_lock($1)", options_.lock_key)[0][0].as<bool>()) {
        tick_(txn, clock_.wall_now());
        rounds_++;
      }
      txn.commit();
      backoff = std::chrono::milliseconds(0);
    } catch (const std::exception& e) {
      errors_++;
      if (conn && !conn->is_open()) conn.reset();
      backoff = std::min(std::chrono::milliseconds(5000), backoff * 2 + std::chrono::milliseconds(250));
      log::warn("control loop round failed", {{"loop", options_.name}, {"error", e.what()}});
    }
  }
}

}  // namespace fleet
