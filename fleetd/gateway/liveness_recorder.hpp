#pragma once
// When each cluster's agent was last heard, written to clusters.last_heartbeat in batches rather than once per
// heartbeat. A cluster's time is written when it was never written by this replica, or when the written one is
// `persist_every` old; one UPDATE carries every such cluster, every `flush_period`. Writes then follow the number
// of clusters, not the number of heartbeats. The same UPDATE turns `registering`/`unreachable` clusters `ready`.
//
// Why it is safe for the liveness monitor (unreachable when last_heartbeat < now - unreachable_after): with
// persist_every = unreachable_after - interval - 2 s, a live agent's stored time is never older than
// persist_every + interval + flush_period, 1.75 s short of unreachable_after. The price: a dead agent is marked
// between unreachable_after and unreachable_after + persist_every after its last heartbeat (30-48 s with the
// defaults), and lastHeartbeat in the API may lag by up to persist_every.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/clock.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

class DbPool;

struct LivenessRecorderOptions {
  std::chrono::milliseconds persist_every{18000};
  // A heartbeat after this much silence is written at once, in its own request: the liveness monitor may have
  // marked the cluster unreachable, and "ready on the next heartbeat" should not wait for a batch.
  std::chrono::milliseconds write_at_once_after{30000};
  std::chrono::milliseconds flush_period{250};
};

// persist_every for a heartbeat interval and an unreachable limit (see above); 0 writes every heartbeat (the
// case when unreachable_after ≤ interval + 2 s).
std::chrono::milliseconds liveness_persist_every(std::chrono::seconds heartbeat_interval,
                                                 std::chrono::seconds unreachable_after);

class LivenessRecorder {
 public:
  // Heartbeat times are wall times from `clock`: the liveness monitor compares them with its own clock's (every
  // write of clusters.last_heartbeat comes from a fleetd clock, none from the database's now()).
  LivenessRecorder(DbPool& pool, const Clock& clock, LivenessRecorderOptions options);
  ~LivenessRecorder();  // stop()
  LivenessRecorder(const LivenessRecorder&) = delete;
  LivenessRecorder& operator=(const LivenessRecorder&) = delete;

  void start();
  // Writes what is pending, then stops the flusher.
  void stop();

  // A heartbeat from `cluster` now, with the credential (its hash) it came with: the write counts only while that
  // is still the cluster's agent credential (store::write_heartbeat_times). true: write it at once with
  // write_now() (see write_at_once_after).
  bool seen(const std::string& cluster, const std::string& credential_hash);
  // Whether a heartbeat now would have to be written at once (see seen()), without recording one.
  bool needs_write_now(const std::string& cluster) const;
  // Writes `cluster`'s time now on the caller's connection (a database worker's), and records it as written.
  void write_now(pqxx::connection_base& conn, const std::string& cluster, const std::string& credential_hash);
  // A heartbeat whose own transaction set last_heartbeat (and the state) already.
  void written(const std::string& cluster);
  // A warm start: `cluster`'s last_heartbeat as stored. Its next heartbeat joins a batch unless that time is older
  // than write_at_once_after (without this, every cluster's first heartbeat after a restart is its own write).
  void prime(const std::string& cluster, Clock::WallTime last_written);

  std::uint64_t rows_written() const;
  std::uint64_t flushes() const;

  // The agents this replica heard from within `within` (fleetd_agents_connected), and how long ago the least
  // recent of them was heard (fleetd_agent_heartbeat_age_max_seconds: about one interval when all is well, nearing
  // `within` when an agent is about to be marked unreachable). Primed times (a warm start) do not count: with
  // several replicas, each counts the agents that talk to it, and the fleet's figure is the sum.
  struct ConnectedAgents {
    std::int64_t count = 0;
    double oldest_seconds = 0;
  };
  ConnectedAgents connected(std::chrono::milliseconds within) const;

 private:
  struct Entry {
    Clock::WallTime seen;
    Clock::WallTime written;      // epoch = never by this replica
    std::string credential_hash;  // of the last heartbeat seen
    bool pending = false;
    bool heard = false;  // seen by this replica (not only primed)
  };
  void run();
  void flush();
  bool in_startup_grace(Clock::WallTime now) const;

  DbPool& pool_;
  const Clock& clock_;
  LivenessRecorderOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  Clock::WallTime started_at_;
  std::unordered_map<std::string, Entry> entries_;
  std::thread thread_;
  std::uint64_t rows_written_ = 0;
  std::uint64_t flushes_ = 0;
};

}  // namespace fleet
