#include "fleetd/heartbeat_cache.hpp"

#include <utility>

namespace fleet {

HeartbeatCache::HeartbeatCache(std::chrono::milliseconds credential_ttl, std::size_t max_clusters)
    : credential_ttl_(credential_ttl), max_clusters_(max_clusters) {}

std::optional<std::string> HeartbeatCache::credential_owner(const std::string& credential_hash) {
  std::lock_guard lock(mutex_);
  auto it = credentials_.find(credential_hash);
  if (it == credentials_.end()) return std::nullopt;
  if (Clock::now() >= it->second.expires) {
    credentials_.erase(it);
    return std::nullopt;
  }
  return it->second.cluster;
}

void HeartbeatCache::remember_credential(const std::string& credential_hash, const std::string& cluster) {
  std::lock_guard lock(mutex_);
  // Bounded: a flood of distinct credentials (valid ones only reach here) cannot grow the map without end.
  if (credentials_.size() >= max_clusters_) credentials_.clear();
  credentials_[credential_hash] = {cluster, Clock::now() + credential_ttl_};
}

HeartbeatCache::DeltaOutcome HeartbeatCache::apply_delta(const std::string& cluster,
                                                         const agent::HeartbeatEnvelope& envelope) {
  std::lock_guard lock(mutex_);
  auto it = inventories_.find(cluster);
  if (it == inventories_.end()) return NoEntry{};
  auto outcome = agent::apply_heartbeat(it->second.stored, envelope);
  if (!outcome) {
    // Over the limits: the database path reports the error with the same rules.
    return NoEntry{};
  }
  if (auto* resync = std::get_if<agent::ResyncNeeded>(&*outcome)) {
    inventories_.erase(it);  // the agent sends a full inventory next; that goes through the database
    return std::move(*resync);
  }
  auto& applied = std::get<agent::HeartbeatApplied>(*outcome);
  DeltaApplied out;
  out.generation = it->second.generation;
  out.needs_write = !applied.changes.empty() || envelope.agent_version != it->second.agent_version;
  if (!out.needs_write) it->second.stored = applied.stored;  // only the sequence moved
  out.applied = std::move(applied);
  return out;
}

void HeartbeatCache::put(const std::string& cluster, CachedInventory entry) {
  std::lock_guard lock(mutex_);
  auto it = inventories_.find(cluster);
  if (it != inventories_.end()) {
    if (it->second.generation > entry.generation) return;
    it->second = std::move(entry);
    return;
  }
  if (inventories_.size() >= max_clusters_) inventories_.clear();  // a cold cache costs one resync per agent
  inventories_.emplace(cluster, std::move(entry));
}

void HeartbeatCache::erase(const std::string& cluster) {
  std::lock_guard lock(mutex_);
  inventories_.erase(cluster);
}

std::size_t HeartbeatCache::size() const {
  std::lock_guard lock(mutex_);
  return inventories_.size();
}

}  // namespace fleet
