#include "fleetd/gateway/liveness_recorder.hpp"

#include <future>
#include <pqxx/pqxx>
#include <vector>

#include "common/log.hpp"
#include "fleetd/db/db_pool.hpp"

namespace fleet {
namespace {

// Newer times only (another replica may have written a later one); the state change bumps the resourceVersion
// as every visible change does, and is what brings an unreachable cluster back.
constexpr const char* kWriteSeen =
    "UPDATE clusters c SET last_heartbeat = v.ts, "
    "resource_version = CASE WHEN c.state IN ('registering', 'unreachable') "
    "  THEN nextval('resource_version_seq') ELSE c.resource_version END, "
    "updated_at = CASE WHEN c.state IN ('registering', 'unreachable') THEN now() ELSE c.updated_at END, "
    "state = CASE WHEN c.state IN ('registering', 'unreachable') THEN 'ready' ELSE c.state END "
    "FROM (SELECT unnest($1::text[]) AS name, to_timestamp(unnest($2::float8[])) AS ts) v "
    "WHERE c.name = v.name AND (c.last_heartbeat IS NULL OR c.last_heartbeat < v.ts)";

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

std::chrono::milliseconds liveness_persist_every(std::chrono::seconds heartbeat_interval,
                                                 std::chrono::seconds unreachable_after) {
  // Margin for a heartbeat that is a little late and for the flush period.
  auto every = std::chrono::duration_cast<std::chrono::milliseconds>(unreachable_after - heartbeat_interval) -
               std::chrono::seconds(2);
  return std::max(std::chrono::milliseconds(0), every);
}

LivenessRecorder::LivenessRecorder(DbPool& pool, LivenessRecorderOptions options) : pool_(pool), options_(options) {}

LivenessRecorder::~LivenessRecorder() {
  stop();
}

void LivenessRecorder::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  started_at_ = SystemClock::now();
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

bool LivenessRecorder::seen(const std::string& cluster) {
  const auto now = SystemClock::now();
  std::lock_guard lock(mutex_);
  Entry& e = entries_[cluster];
  e.seen = now;
  if (now - e.written >= options_.write_at_once_after && !in_startup_grace(now)) return true;
  if (now - e.written >= options_.persist_every) e.pending = true;
  return false;
}

bool LivenessRecorder::needs_write_now(const std::string& cluster) const {
  const auto now = SystemClock::now();
  std::lock_guard lock(mutex_);
  if (in_startup_grace(now)) return false;
  auto it = entries_.find(cluster);
  return it == entries_.end() || now - it->second.written >= options_.write_at_once_after;
}

// Right after fleetd starts, every agent looks long silent (fleetd was away, not they) and the liveness monitor
// marks nothing for as long (liveness_monitor.cpp): writing each agent's first heartbeat at once would be
// thousands of single-row transactions in one interval, so they join the batches instead.
bool LivenessRecorder::in_startup_grace(SystemClock::time_point now) const {
  return started_ && now - started_at_ < options_.write_at_once_after;
}

void LivenessRecorder::write_now(pqxx::connection_base& conn, const std::string& cluster) {
  const auto now = SystemClock::now();
  const std::string epoch = "{" + std::to_string(std::chrono::duration<double>(now.time_since_epoch()).count()) + "}";
  pqxx::work txn(conn);
  txn.exec_params(kWriteSeen, array_literal({cluster}), epoch);
  txn.commit();
  written(cluster);
  std::lock_guard lock(mutex_);
  ++rows_written_;
}

void LivenessRecorder::written(const std::string& cluster) {
  const auto now = SystemClock::now();
  std::lock_guard lock(mutex_);
  Entry& e = entries_[cluster];
  e.seen = now;
  e.written = now;
  e.pending = false;
}

void LivenessRecorder::prime(const std::string& cluster, SystemClock::time_point last_written) {
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
  std::vector<std::string> names;
  std::vector<std::string> times;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, e] : entries_) {
      if (!e.pending) continue;
      e.pending = false;
      e.written = e.seen;
      names.push_back(name);
      times.push_back(std::to_string(std::chrono::duration<double>(e.seen.time_since_epoch()).count()));
    }
  }
  if (names.empty()) return;
  std::string epochs = "{";
  for (std::size_t i = 0; i < times.size(); ++i) epochs += (i ? "," : "") + times[i];
  epochs += "}";
  auto done = std::make_shared<std::promise<bool>>();
  auto result = done->get_future();
  const auto n = names.size();
  DbJob job;
  job.run = [literal = array_literal(names), epochs, done](pqxx::connection_base& conn) {
    pqxx::work txn(conn);
    txn.exec_params(kWriteSeen, literal, epochs);
    txn.commit();
    done->set_value(true);
  };
  job.fail = [done](const std::string& message) {
    log::warn("cannot record heartbeat times; retrying", {{"error", message}});
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
  for (const auto& name : names) {
    auto it = entries_.find(name);
    if (it != entries_.end()) {
      it->second.pending = true;
      it->second.written = {};
    }
  }
}

}  // namespace fleet
