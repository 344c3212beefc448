#pragma once
// Wakes long-polling agents when their cluster gets a command. One thread LISTENs on PostgreSQL's
// `fleet_commands` channel (so a command enqueued through any replica wakes the waiter on this one); waiters are
// callbacks parked in memory with a deadline, so a held poll occupies no database worker and no thread. A second
// thread fires deadlines.
//
// No lost wake-ups: a poller reads generation(cluster) before its claim query and parks with it; a notification
// that arrived after that read (its command may have committed after the claim's snapshot) wakes it at once.
// Notifications missed while the LISTEN connection was down count as a notification of every cluster.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"

namespace fleet {

class CommandNotifier {
 public:
  struct Options {
    std::string database_url;  // empty: no LISTEN thread (in-process notify() only; tests)
    std::size_t max_waiters = 20000;
    // Waiting polls per cluster (issue #10): an agent holds one; a client that opens more for one cluster takes
    // none from the others. Beyond it the newest wins: the oldest waiter of the cluster is answered (kSuperseded).
    std::size_t max_waiters_per_cluster = 2;
  };
  // kSuperseded: a newer poll of the same cluster took this one's place (Options::max_waiters_per_cluster).
  enum class Wake { kNotified, kTimeout, kShutdown, kSuperseded };
  using Generation = std::uint64_t;
  using Deadline = Clock::SteadyTime;

  // Deadlines are on `clock`'s steady time. The timer thread looks at the clock at least once a second, so a test's
  // ManualClock moving on is seen within a second (or at once through expire_due()).
  CommandNotifier(Options options, const Clock& clock);
  ~CommandNotifier();  // stop()
  CommandNotifier(const CommandNotifier&) = delete;
  CommandNotifier& operator=(const CommandNotifier&) = delete;

  void start();
  // Wakes every waiter with kShutdown and refuses new ones, then joins the threads. Idempotent.
  void stop();

  Generation generation(const std::string& cluster) const;
  // The newest generation of any cluster: a cluster whose generation is at most this value, read before a query,
  // was not notified after it.
  Generation latest() const;
  // `on_wake` runs exactly once, on a notifier thread (it must not block): when `cluster` is notified after
  // `seen` (at once if that has happened already), at `deadline`, on stop(), or when newer polls of the cluster
  // push it out (kSuperseded, on the parking thread). false, and no call, when the notifier is stopping or holds
  // max_waiters already.
  bool park(const std::string& cluster, Generation seen, Deadline deadline, std::function<void(Wake)> on_wake);
  // Answers every waiter whose deadline has passed on the clock (kTimeout); what the timer thread does.
  void expire_due();
  Deadline now() const { return clock_.steady_now(); }

  // Quiet clusters: a claim that left nothing claimable for `cluster` (it took fewer than its limit), with `seen`
  // read before it, records that. Until the cluster is notified again (a command queued or a lease returned),
  // known_empty() says so, and a poll can park without asking the database: with thousands of agents polling, most
  // polls then cost no SQL.
  void mark_empty(const std::string& cluster, Generation seen);
  // true, with the generation to park with, when nothing can be queued for `cluster` since a claim left it empty.
  bool known_empty(const std::string& cluster, Generation& seen) const;

  // What the LISTEN thread calls per notification; also usable in-process.
  void notify(const std::string& cluster);
  void notify_all();

  std::size_t waiters() const;
  bool stopping() const;
  bool listening() const { return listening_.load(); }
  std::uint64_t notifications() const { return notifications_.load(); }
  std::uint64_t superseded() const { return superseded_.load(); }  // waiters pushed out by newer polls

 private:
  struct Waiter {
    std::string cluster;
    Deadline deadline;
    std::function<void(Wake)> on_wake;
  };
  Generation generation_locked(const std::string& cluster) const;
  void listen_loop();
  void timer_loop();

  // The waiters whose deadline is at or before `now`, removed; mutex_ held.
  std::vector<std::function<void(Wake)>> take_due_locked(Deadline now);
  // Removes one waiter and returns its callback (to call with the mutex released); mutex_ held.
  std::function<void(Wake)> remove_waiter_locked(std::uint64_t id);

  Options options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable timer_cv_;
  std::condition_variable stop_cv_;  // interrupts the LISTEN reconnect back-off
  bool stopping_ = false;
  Generation counter_ = 0;
  Generation all_ = 0;  // the generation of the last notify_all
  std::unordered_map<std::string, Generation> cluster_generation_;
  std::unordered_map<std::string, Generation> empty_at_;  // generation when a claim last left it empty
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, Waiter> waiters_;
  std::unordered_multimap<std::string, std::uint64_t> by_cluster_;
  std::set<std::pair<Deadline, std::uint64_t>> by_deadline_;
  std::thread listen_thread_;
  std::thread timer_thread_;
  std::atomic<bool> listening_{false};
  std::atomic<std::uint64_t> notifications_{0};
  std::atomic<std::uint64_t> superseded_{0};
};

}  // namespace fleet
