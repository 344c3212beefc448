#pragma once
// Heartbeats without the database when nothing changed (issue #3: "database writes proportional to what changed,
// not to the number of heartbeats"). Each replica keeps, per cluster, the inventory it last stored with its
// sequence and generation (migrations/0005), and the owner of each agent credential it has checked:
//   - a delta numbered last+1 applies to the cached inventory in memory; when it changes nothing, the heartbeat is
//     answered with no SQL at all. The common case, an empty delta from the same agent version, only moves the
//     sequence: no copy of the inventory, one map lookup and an assignment under the lock;
//   - when it changes something, the write goes through only if the stored generation is still the cached one
//     (compare-and-set), so two replicas never build on each other's stale copies;
//   - anything unexpected (no entry, a gap, a failed compare-and-set) falls back to the database path or a resync,
//     which is always safe. Once this replica asked an agent for a full inventory, it answers every delta of that
//     agent with the same request until the full inventory is written: the database path, which accepts any delta
//     after the last written sequence (protocol::SequenceCheck::kAfterStored), never sees those deltas.
// Cached inventories are immutable and shared: the lock guards only the map and the sequence numbers, and the
// slower work (applying a non-empty delta, diffing) runs outside it, so heartbeats of different clusters never
// wait on each other's copies.
// Pure and thread-safe: no I/O here.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "common/clock.hpp"
#include "common/expiring_set.hpp"
#include "protocol/heartbeat.hpp"

namespace fleet {

struct CachedInventory {
  protocol::StoredInventory stored;  // canonical, as apply_heartbeat returns it
  std::int64_t generation = 0;
  std::string agent_version;
};

class HeartbeatCache {
 public:
  struct NoEntry {};
  struct DeltaApplied {
    std::uint64_t sequence = 0;   // the heartbeat's, now the cached one unless a write is needed
    std::int64_t generation = 0;  // of the cached base: the compare-and-set value for a write
    bool needs_write = false;     // something a user or the store sees changed
    // Only when needs_write: what to store and what differs (the cache is not touched until put()).
    std::optional<protocol::HeartbeatApplied> applied;
  };
  using DeltaOutcome = std::variant<NoEntry, protocol::ResyncNeeded, DeltaApplied>;

  // The credential TTL is longer than a heartbeat interval, or every heartbeat would look it up again. It is not
  // what ends a credential: forget_credential() does, when a re-registration, a revocation or a deletion commits
  // (credential_listener.hpp), and every write an agent makes checks its credential in its own transaction.
  explicit HeartbeatCache(const Clock& clock, std::chrono::milliseconds credential_ttl = std::chrono::seconds(60),
                          std::size_t max_clusters = 1'000'000,
                          std::chrono::milliseconds unknown_credential_ttl = std::chrono::seconds(5));

  // The cluster an agent credential (its hash) belongs to, while the remembered answer is fresh.
  std::optional<std::string> credential_owner(const std::string& credential_hash);
  // Which forgets have happened: read it before the database lookup whose answer is then remembered. An answer
  // read before a forget may be the forgotten one, so remember_credential() and prime_credential() drop it when
  // any forget came in between (rare, and the next request looks it up again).
  using CredentialEpoch = std::uint64_t;
  CredentialEpoch credential_epoch() const;
  void remember_credential(const std::string& credential_hash, const std::string& cluster, CredentialEpoch read_at);
  // The same for a warm start: the answer expires somewhere between half the TTL and the TTL (by the hash), so
  // thousands of credentials loaded at once are not looked up again all in the same second.
  void prime_credential(const std::string& credential_hash, const std::string& cluster, CredentialEpoch read_at);
  // A credential that ended (replaced, revoked, its cluster deleted): credential_owner() no longer knows it.
  void forget_credential(const std::string& credential_hash);
  // Every credential: after notifications may have been missed (the LISTEN connection was down).
  void forget_all_credentials();
  // Credentials the database did not know, for unknown_credential_ttl (issue #10): an agent path answers them 401
  // without a database worker. Safe because fleetd alone mints credentials (random, at registration): none can be
  // presented before it exists, and one that ended never comes back.
  bool known_unknown_credential(const std::string& credential_hash);
  void remember_unknown_credential(const std::string& credential_hash);

  // A delta against the cached inventory. When nothing needs writing, the cache already holds the result (the
  // heartbeat is done); otherwise the caller writes with generation as the compare-and-set value and calls put()
  // with generation + 1, or erase() if the write lost.
  DeltaOutcome apply_delta(const std::string& cluster, const protocol::HeartbeatEnvelope& envelope);

  // Stores what was written, unless the cache holds a newer generation already; ends a demand_full().
  void put(const std::string& cluster, CachedInventory entry);
  // A warm start's entry, read from the database (unless the cluster has one already): the stored sequence,
  // generation and agent version, without the inventory. That is all an unchanged delta needs; the first delta
  // that changes something finds no inventory here and goes to the database, which loads it. The database holds
  // the sequence of the last heartbeat written, not of the unchanged ones acknowledged since, so until its first
  // delta this entry takes any later sequence (protocol::SequenceCheck::kAfterStored) instead of exactly the next one.
  void prime(const std::string& cluster, std::uint64_t sequence, std::int64_t generation, std::string agent_version);
  // Forgets the cluster's inventory and answers its deltas with a resync until put() (this replica asked the agent
  // for a full inventory, or lost a compare-and-set).
  void demand_full(const std::string& cluster);
  std::size_t size() const;  // clusters whose unchanged heartbeats are answered from memory

 private:
  struct Entry {
    std::shared_ptr<const model::ClusterInventory> inventory;  // null: not loaded (a warm start's entry)
    std::uint64_t sequence = 0;
    std::int64_t generation = 0;
    std::string agent_version;
    bool exact = true;  // the sequence is the last one acknowledged (false: the last one written; see prime())
  };
  struct Credential {
    std::string cluster;
    Clock::SteadyTime expires;
  };
  void demand_full_locked(const std::string& cluster);  // mutex_ held

  const Clock& clock_;
  std::chrono::milliseconds credential_ttl_;
  std::size_t max_clusters_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> inventories_;
  std::unordered_set<std::string> full_demanded_;
  std::unordered_map<std::string, Credential> credentials_;
  CredentialEpoch credential_epoch_ = 0;  // forgets so far
  // Its own lock: a 401 answered from here does not wait for mutex_. A flood of distinct hashes costs a lookup
  // each, and no memory.
  static constexpr std::size_t kMaxUnknownCredentials = 10'000;
  ExpiringSet unknown_credentials_;
};

}  // namespace fleet
