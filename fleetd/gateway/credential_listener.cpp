#include "fleetd/gateway/credential_listener.hpp"

#include <algorithm>
#include <chrono>
#include <pqxx/pqxx>

#include "common/log.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/store/agent_store.hpp"

namespace fleet {
namespace {

class CredentialReceiver : public pqxx::notification_receiver {
 public:
  CredentialReceiver(pqxx::connection_base& conn, HeartbeatCache& cache, std::atomic<std::uint64_t>& count)
      : pqxx::notification_receiver(conn, store::kAgentCredentialChannel), cache_(cache), count_(count) {}
  void operator()(const std::string& payload, int) override {
    ++count_;
    cache_.forget_credential(payload);
  }

 private:
  HeartbeatCache& cache_;
  std::atomic<std::uint64_t>& count_;
};

}  // namespace

CredentialListener::CredentialListener(std::string database_url, HeartbeatCache& cache)
    : database_url_(std::move(database_url)), cache_(cache) {}

CredentialListener::~CredentialListener() {
  stop();
}

void CredentialListener::start() {
  if (!database_url_.empty()) thread_ = std::thread([this] { listen_loop(); });
}

void CredentialListener::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool CredentialListener::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void CredentialListener::listen_loop() {
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping()) {
    try {
      pqxx::connection conn(database_url_);
      CredentialReceiver receiver(conn, cache_, notifications_);  // issues LISTEN
      // Anything ended while no connection listened went unheard: forget every credential (after the LISTEN, so
      // that nothing ended from here on is missed either).
      cache_.forget_all_credentials();
      listening_ = true;
      backoff = std::chrono::milliseconds(100);
      while (!stopping()) conn.await_notification(0, 250000);  // a short wait, so stop() is not kept waiting
      listening_ = false;
      return;
    } catch (const std::exception& e) {
      listening_ = false;
      log::warn("agent credential notifications: LISTEN connection lost; reconnecting",
                {{"error", e.what()}, {"retryMs", backoff.count()}});
    }
    std::unique_lock lock(mutex_);
    stop_cv_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(std::chrono::milliseconds(5000), backoff * 2);
  }
}

}  // namespace fleet
