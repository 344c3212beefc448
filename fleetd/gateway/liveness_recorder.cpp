#include "fleetd/gateway/liveness_recorder.hpp"

#include <algorithm>
#include <future>
#include <pqxx/pqxx>
#include <vector>

#include "common/log.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/store/liveness_store.hpp"

namespace fleet {

std::chrono::milliseconds liveness_persist_every(std::chrono::seconds heartbeat_interval,
                                                 std::chrono::seconds unreachable_after) {
  // Margin for a heartbeat that is a little late and for the flush period.
  auto every = std::chrono::duration_cast<std::chrono::milliseconds>(unreachable_after - heartbeat_interval) -
               std::chrono::seconds(2);
  return std::max(std::chrono::milliseconds(0), every);
}

LivenessRecorder::LivenessRecorder(DbPool& pool, const Clock& clock, LivenessRecorderOptions options)
    : pool_(pool), clock_(clock), options_(options) {}

LivenessRecorder::~LivenessRecorder() {
  stop();
}

void LivenessRecorder::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  started_at_ = clock_.wall_now();
  thread_ = std::thread([this] { run(); });
}

void LivenessRecorder::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !started_) {
      stopping_ = true;
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  flush();
}

bool LivenessRecorder::seen(const std::string& cluster, const std::string& credential_hash) {
  const auto now = clock_.wall_now();
  std::lock_guard lock(mutex_);
  Entry& e = entries_[cluster];
  e.seen = now;
  e.heard = true;
  e.credential_hash = credential_hash;
  if (now - e.written >= options_.write_at_once_after && !in_startup_grace(now)) return true;
  if (now - e.written >= options_.persist_every) e.pending = true;
  return false;
}

bool LivenessRecorder::needs_write_now(const std::string& cluster) const {
  const auto now = clock_.wall_now();
  std::lock_guard lock(mutex_);
  if (in_startup_grace(now)) return false;
  auto it = entries_.find(cluster);
  return it == entries_.end() || now - it->second.written >= options_.write_at_once_after;
}

// Right after fleetd starts, every agent looks long silent (fleetd was away, not they) and the liveness monitor
// marks nothing for as long (liveness_monitor.cpp): writing each agent's first heartbeat at once would be
// thousands of single-row transactions in one interval, so they join the batches instead.
bool LivenessRecorder::in_startup_grace(Clock::WallTime now) const {
  return started_ && now - started_at_ < options_.write_at_once_after;
}

void LivenessRecorder::write_now(pqxx::connection_base& conn, const std::string& cluster,
                                 const std::string& credential_hash) {
  pqxx::work txn(conn);
  store::write_heartbeat_times(txn, {{cluster, clock_.wall_now(), credential_hash}});
  txn.commit();
  written(cluster);
  std::lock_guard lock(mutex_);
  ++rows_written_;
}

void LivenessRecorder::written(const std::string& cluster) {
  const auto now = clock_.wall_now();
  std::lock_guard lock(mutex_);
  Entry& e = entries_[cluster];
  e.seen = now;
  e.heard = true;
  e.written = now;
  e.pending = false;
}

void LivenessRecorder::prime(const std::string& cluster, Clock::WallTime last_written) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = entries_.try_emplace(cluster);
  if (!inserted) return;  // heard already: that is newer
  it->second.seen = last_written;
  it->second.written = last_written;
}

std::uint64_t LivenessRecorder::rows_written() const {
  std::lock_guard lock(mutex_);
  return rows_written_;
}

LivenessRecorder::ConnectedAgents LivenessRecorder::connected(std::chrono::milliseconds within) const {
  const auto now = clock_.wall_now();
  ConnectedAgents out;
  std::lock_guard lock(mutex_);
  for (const auto& [cluster, e] : entries_) {
    if (!e.heard || now - e.seen > within) continue;
    out.count++;
    out.oldest_seconds = std::max(out.oldest_seconds, std::chrono::duration<double>(now - e.seen).count());
  }
  return out;
}

std::uint64_t LivenessRecorder::flushes() const {
  std::lock_guard lock(mutex_);
  return flushes_;
}

void LivenessRecorder::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.flush_period, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    flush();
    lock.lock();
  }
}

void LivenessRecorder::flush() {
  std::vector<store::HeartbeatTime> batch;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, e] : entries_) {
      if (!e.pending) continue;
      e.pending = false;
      e.written = e.seen;
      batch.push_back({name, e.seen, e.credential_hash});
    }
  }
  if (batch.empty()) return;
  auto done = std::make_shared<std::promise<bool>>();
  auto result = done->get_future();
  const auto n = batch.size();
  DbJob job;
  job.run = [batch, done](pqxx::connection_base& conn) {
    pqxx::work txn(conn);
    store::write_heartbeat_times(txn, batch);
    txn.commit();
    done->set_value(true);
  };
  job.fail = [done](const DbFailure& failure) {
    log::warn("cannot record heartbeat times; retrying", {{"error", failure.message}});
    done->set_value(false);
  };
  bool ok = pool_.submit(std::move(job)) && result.get();
  std::lock_guard lock(mutex_);
  if (ok) {
    rows_written_ += n;
    ++flushes_;
    return;
  }
  // Not written: mark them pending again so the next round carries them.
  for (const auto& row : batch) {
    auto it = entries_.find(row.cluster);
    if (it != entries_.end()) {
      it->second.pending = true;
      it->second.written = {};
    }
  }
}

}  // namespace fleet
