#pragma once
// Ended agent credentials reach every replica's cache at once (issue #10). A re-registration, a revocation or a
// cluster's deletion ends a credential in the database, and a trigger NOTIFYs its hash on
// store::kAgentCredentialChannel when that commits (migrations/0012). One thread per replica LISTENs there and
// forgets each hash in the HeartbeatCache, as CommandNotifier does for commands. Notifications missed while the
// LISTEN connection was down count as the end of every credential: the cache forgets them all, and each agent's
// next request looks its credential up again.
//
// Eviction is what makes a replaced credential get 401 at once on the paths the cache answers alone (an unchanged
// heartbeat, a poll with nothing queued). It is not what keeps a stale credential from writing: every write an
// agent makes checks the credential in its own transaction.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace fleet {

class HeartbeatCache;

class CredentialListener {
 public:
  CredentialListener(std::string database_url, HeartbeatCache& cache);
  ~CredentialListener();  // stop()
  CredentialListener(const CredentialListener&) = delete;
  CredentialListener& operator=(const CredentialListener&) = delete;

  void start();
  void stop();  // idempotent

  bool listening() const { return listening_.load(); }
  std::uint64_t notifications() const { return notifications_.load(); }

 private:
  void listen_loop();
  bool stopping() const;

  std::string database_url_;
  HeartbeatCache& cache_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;  // interrupts the reconnect back-off
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<bool> listening_{false};
  std::atomic<std::uint64_t> notifications_{0};
};

}  // namespace fleet
