#include "fleetd/gateway/heartbeat_cache.hpp"

#include <functional>
#include <utility>

namespace fleet {

HeartbeatCache::HeartbeatCache(const Clock& clock, std::chrono::milliseconds credential_ttl, std::size_t max_clusters,
                               std::chrono::milliseconds unknown_credential_ttl)
    : clock_(clock),
      credential_ttl_(credential_ttl),
      max_clusters_(max_clusters),
      unknown_credentials_(unknown_credential_ttl, kMaxUnknownCredentials) {}

bool HeartbeatCache::known_unknown_credential(const std::string& credential_hash) {
  return unknown_credentials_.contains(credential_hash, clock_.steady_now());
}

void HeartbeatCache::remember_unknown_credential(const std::string& credential_hash) {
  unknown_credentials_.insert(credential_hash, clock_.steady_now());
}

void HeartbeatCache::prime_credential(const std::string& credential_hash, const std::string& cluster,
                                      CredentialEpoch read_at) {
  const auto half = credential_ttl_ / 2;
  const auto spread = std::chrono::milliseconds(
      half.count() > 0 ? static_cast<std::int64_t>(std::hash<std::string>{}(credential_hash) % half.count()) : 0);
  std::lock_guard lock(mutex_);
  if (credentials_.size() >= max_clusters_ || read_at != credential_epoch_) return;
  credentials_.emplace(credential_hash, Credential{cluster, clock_.steady_now() + half + spread});
}

std::optional<std::string> HeartbeatCache::credential_owner(const std::string& credential_hash) {
  std::lock_guard lock(mutex_);
  auto it = credentials_.find(credential_hash);
  if (it == credentials_.end()) return std::nullopt;
  if (clock_.steady_now() >= it->second.expires) {
    credentials_.erase(it);
    return std::nullopt;
  }
  return it->second.cluster;
}

HeartbeatCache::CredentialEpoch HeartbeatCache::credential_epoch() const {
  std::lock_guard lock(mutex_);
  return credential_epoch_;
}

void HeartbeatCache::remember_credential(const std::string& credential_hash, const std::string& cluster,
                                         CredentialEpoch read_at) {
  std::lock_guard lock(mutex_);
  if (read_at != credential_epoch_) return;  // the answer may predate a forget: not kept
  // Bounded: a flood of distinct credentials (valid ones only reach here) cannot grow the map without end.
  if (credentials_.size() >= max_clusters_) credentials_.clear();
  credentials_[credential_hash] = {cluster, clock_.steady_now() + credential_ttl_};
}

void HeartbeatCache::forget_credential(const std::string& credential_hash) {
  std::lock_guard lock(mutex_);
  ++credential_epoch_;
  credentials_.erase(credential_hash);
}

void HeartbeatCache::forget_all_credentials() {
  std::lock_guard lock(mutex_);
  ++credential_epoch_;
  credentials_.clear();
}

HeartbeatCache::DeltaOutcome HeartbeatCache::apply_delta(const std::string& cluster,
                                                         const protocol::HeartbeatEnvelope& envelope) {
  Entry base;
  {
    std::lock_guard lock(mutex_);
    if (full_demanded_.count(cluster)) {
      return protocol::ResyncNeeded{"fleetd asked for a full inventory and has not had it yet"};
    }
    auto it = inventories_.find(cluster);
    if (it == inventories_.end()) return NoEntry{};
    Entry& e = it->second;
    const bool follows = e.exact ? envelope.sequence == e.sequence + 1 : envelope.sequence > e.sequence;
    if (envelope.delta && envelope.delta->empty() && follows && envelope.agent_version == e.agent_version) {
      // Nothing changed, the sequence follows: the whole heartbeat is this assignment.
      e.sequence = envelope.sequence;
      e.exact = true;
      return DeltaApplied{envelope.sequence, e.generation, false, std::nullopt};
    }
    if (!e.inventory) {
      if (follows) return NoEntry{};  // a change: the database path loads the inventory and applies it
      std::string reason = "heartbeat sequence " + std::to_string(envelope.sequence) + " does not follow the stored " +
                           std::to_string(e.sequence);
      demand_full_locked(cluster);
      return protocol::ResyncNeeded{std::move(reason)};
    }
    base = e;  // shares the inventory; the copy for apply_heartbeat is made outside the lock
  }
  auto outcome =
      protocol::apply_heartbeat(protocol::StoredInventory{base.sequence, *base.inventory}, envelope,
                                base.exact ? protocol::SequenceCheck::kNext : protocol::SequenceCheck::kAfterStored);
  if (!outcome) {
    // Over the limits: the database path reports the error with the same rules.
    return NoEntry{};
  }
  if (auto* resync = std::get_if<protocol::ResyncNeeded>(&*outcome)) {
    // The agent sends a full inventory next; that goes through the database.
    demand_full(cluster);
    return std::move(*resync);
  }
  auto& applied = std::get<protocol::HeartbeatApplied>(*outcome);
  DeltaApplied out{envelope.sequence, base.generation, false, std::nullopt};
  out.needs_write = !applied.changes.empty() || envelope.agent_version != base.agent_version;
  if (out.needs_write) {
    out.applied = std::move(applied);
    return out;
  }
  // Entries that changed nothing: only the sequence moves, if no other heartbeat moved it meanwhile.
  std::lock_guard lock(mutex_);
  auto it = inventories_.find(cluster);
  if (it == inventories_.end() || it->second.generation != base.generation || it->second.sequence != base.sequence) {
    return NoEntry{};  // raced with another heartbeat of this cluster: let the database decide
  }
  it->second.sequence = envelope.sequence;
  it->second.exact = true;
  return out;
}

void HeartbeatCache::put(const std::string& cluster, CachedInventory entry) {
  Entry e{std::make_shared<const model::ClusterInventory>(std::move(entry.stored.inventory)), entry.stored.sequence,
          entry.generation, std::move(entry.agent_version), true};
  std::lock_guard lock(mutex_);
  full_demanded_.erase(cluster);
  auto it = inventories_.find(cluster);
  if (it != inventories_.end()) {
    if (it->second.generation > e.generation) return;
    it->second = std::move(e);
    return;
  }
  if (inventories_.size() >= max_clusters_) inventories_.clear();  // a cold cache costs one resync per agent
  inventories_.emplace(cluster, std::move(e));
}

void HeartbeatCache::prime(const std::string& cluster, std::uint64_t sequence, std::int64_t generation,
                           std::string agent_version) {
  Entry e{nullptr, sequence, generation, std::move(agent_version), false};
  std::lock_guard lock(mutex_);
  if (inventories_.size() >= max_clusters_ || full_demanded_.count(cluster)) return;
  inventories_.emplace(cluster, std::move(e));  // an entry from a heartbeat already is newer: kept
}

void HeartbeatCache::demand_full(const std::string& cluster) {
  std::lock_guard lock(mutex_);
  demand_full_locked(cluster);
}

void HeartbeatCache::demand_full_locked(const std::string& cluster) {
  inventories_.erase(cluster);
  if (full_demanded_.size() >= max_clusters_) full_demanded_.clear();  // bounded like the inventories
  full_demanded_.insert(cluster);
}

std::size_t HeartbeatCache::size() const {
  std::lock_guard lock(mutex_);
  return inventories_.size();
}

}  // namespace fleet
