#include "fleetd/gateway/command_notifier.hpp"

#include <algorithm>
#include <pqxx/pqxx>
#include <vector>

#include "common/log.hpp"
#include "fleetd/store/command_store.hpp"

namespace fleet {
namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, CommandNotifier& notifier)
      : pqxx::notification_receiver(conn, store::kCommandChannel), notifier_(notifier) {}
  void operator()(const std::string& payload, int) override { notifier_.notify(payload); }

 private:
  CommandNotifier& notifier_;
};

}  // namespace

CommandNotifier::CommandNotifier(Options options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

CommandNotifier::~CommandNotifier() {
  stop();
}

void CommandNotifier::start() {
  timer_thread_ = std::thread([this] { timer_loop(); });
  if (!options_.database_url.empty()) listen_thread_ = std::thread([this] { listen_loop(); });
}

void CommandNotifier::stop() {
  std::vector<std::function<void(Wake)>> woken;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, w] : waiters_) woken.push_back(std::move(w.on_wake));
    waiters_.clear();
    by_cluster_.clear();
    by_deadline_.clear();
  }
  timer_cv_.notify_all();
  stop_cv_.notify_all();
  for (auto& f : woken) f(Wake::kShutdown);
  if (timer_thread_.joinable()) timer_thread_.join();
  if (listen_thread_.joinable()) listen_thread_.join();
}

CommandNotifier::Generation CommandNotifier::generation_locked(const std::string& cluster) const {
  auto it = cluster_generation_.find(cluster);
  Generation g = it == cluster_generation_.end() ? 0 : it->second;
  return std::max(g, all_);
}

CommandNotifier::Generation CommandNotifier::generation(const std::string& cluster) const {
  std::lock_guard lock(mutex_);
  return generation_locked(cluster);
}

CommandNotifier::Generation CommandNotifier::latest() const {
  std::lock_guard lock(mutex_);
  return counter_;
}

void CommandNotifier::mark_empty(const std::string& cluster, Generation seen) {
  std::lock_guard lock(mutex_);
  empty_at_[cluster] = seen;
}

bool CommandNotifier::known_empty(const std::string& cluster, Generation& seen) const {
  std::lock_guard lock(mutex_);
  auto it = empty_at_.find(cluster);
  if (it == empty_at_.end()) return false;
  Generation now = generation_locked(cluster);
  if (now != it->second) return false;
  seen = now;
  return true;
}

bool CommandNotifier::park(const std::string& cluster, Generation seen, Deadline deadline,
                           std::function<void(Wake)> on_wake) {
  std::function<void(Wake)> wake_now;  // notified since `seen`: answered at once, outside the lock
  std::vector<std::function<void(Wake)>> superseded;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || waiters_.size() >= options_.max_waiters) return false;
    if (generation_locked(cluster) != seen) {
      wake_now = std::move(on_wake);
    } else {
      // Newest wins: make room by answering the cluster's oldest waiters (the smallest ids).
      auto [begin, end] = by_cluster_.equal_range(cluster);
      std::vector<std::uint64_t> ids;
      for (auto it = begin; it != end; ++it) ids.push_back(it->second);
      std::sort(ids.begin(), ids.end());
      const std::size_t keep = options_.max_waiters_per_cluster > 0 ? options_.max_waiters_per_cluster - 1 : 0;
      for (std::size_t i = 0; i + keep < ids.size(); ++i) superseded.push_back(remove_waiter_locked(ids[i]));
      auto id = ++next_id_;
      bool earliest = by_deadline_.empty() || deadline < by_deadline_.begin()->first;
      by_deadline_.emplace(deadline, id);
      by_cluster_.emplace(cluster, id);
      waiters_.emplace(id, Waiter{cluster, deadline, std::move(on_wake)});
      if (earliest) timer_cv_.notify_one();
    }
  }
  for (auto& f : superseded) f(Wake::kSuperseded);
  if (wake_now) wake_now(Wake::kNotified);
  return true;
}

std::function<void(CommandNotifier::Wake)> CommandNotifier::remove_waiter_locked(std::uint64_t id) {
  auto w = waiters_.find(id);
  by_deadline_.erase(std::make_pair(w->second.deadline, id));
  auto [begin, end] = by_cluster_.equal_range(w->second.cluster);
  for (auto it = begin; it != end; ++it) {
    if (it->second == id) {
      by_cluster_.erase(it);
      break;
    }
  }
  std::function<void(Wake)> on_wake = std::move(w->second.on_wake);
  waiters_.erase(w);
  superseded_++;
  return on_wake;
}

void CommandNotifier::notify(const std::string& cluster) {
  notifications_++;
  std::vector<std::function<void(Wake)>> woken;
  {
    std::lock_guard lock(mutex_);
    cluster_generation_[cluster] = ++counter_;
    auto [begin, end] = by_cluster_.equal_range(cluster);
    for (auto it = begin; it != end; ++it) {
      auto w = waiters_.find(it->second);
      by_deadline_.erase(std::make_pair(w->second.deadline, it->second));
      woken.push_back(std::move(w->second.on_wake));
      waiters_.erase(w);
    }
    by_cluster_.erase(begin, end);
  }
  for (auto& f : woken) f(Wake::kNotified);
}

void CommandNotifier::notify_all() {
  std::vector<std::function<void(Wake)>> woken;
  {
    std::lock_guard lock(mutex_);
    all_ = ++counter_;
    for (auto& [id, w] : waiters_) woken.push_back(std::move(w.on_wake));
    waiters_.clear();
    by_cluster_.clear();
    by_deadline_.clear();
  }
  for (auto& f : woken) f(Wake::kNotified);
}

std::size_t CommandNotifier::waiters() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

bool CommandNotifier::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

std::vector<std::function<void(CommandNotifier::Wake)>> CommandNotifier::take_due_locked(Deadline now) {
  std::vector<std::function<void(Wake)>> woken;
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
    auto id = by_deadline_.begin()->second;
    by_deadline_.erase(by_deadline_.begin());
    auto w = waiters_.find(id);
    auto [begin, end] = by_cluster_.equal_range(w->second.cluster);
    for (auto it = begin; it != end; ++it) {
      if (it->second == id) {
        by_cluster_.erase(it);
        break;
      }
    }
    woken.push_back(std::move(w->second.on_wake));
    waiters_.erase(w);
  }
  return woken;
}

void CommandNotifier::expire_due() {
  std::vector<std::function<void(Wake)>> woken;
  {
    std::lock_guard lock(mutex_);
    woken = take_due_locked(clock_.steady_now());
  }
  for (auto& f : woken) f(Wake::kTimeout);
}

void CommandNotifier::timer_loop() {
  // Never longer than this between looks at the clock: an injected clock may move without telling anyone.
  constexpr std::chrono::milliseconds kMaxSleep{1000};
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (by_deadline_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    const auto first = by_deadline_.begin()->first;
    const auto now = clock_.steady_now();
    if (now < first) {
      timer_cv_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(first - now, kMaxSleep));
      continue;
    }
    auto woken = take_due_locked(now);
    lock.unlock();
    for (auto& f : woken) f(Wake::kTimeout);
    lock.lock();
  }
}

void CommandNotifier::listen_loop() {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    try {
      pqxx::connection conn(options_.database_url);
      Receiver receiver(conn, *this);  // issues LISTEN
      listening_ = true;
      backoff = std::chrono::milliseconds(100);
      // Anything notified while this connection was not listening is lost: every waiter claims once more.
      notify_all();
      for (;;) {
        {
          std::lock_guard lock(mutex_);
          if (stopping_) break;
        }
        conn.await_notification(0, 250000);  // a short wait, so stop() is not kept waiting
      }
      listening_ = false;
      return;
    } catch (const std::exception& e) {
      listening_ = false;
      log::warn("command notifications: LISTEN connection lost; reconnecting",
                {{"error", e.what()}, {"retryMs", backoff.count()}});
    }
    std::unique_lock lock(mutex_);
    stop_cv_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(std::chrono::milliseconds(5000), backoff * 2);
  }
}

}  // namespace fleet
