#pragma once
// The inventory agents report, in PostgreSQL: loaded as the base a heartbeat delta applies to, and written back
// as only what changed (nodes upserted or deleted, their GPUs replaced), so database writes follow change, not
// heartbeat count.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "protocol/heartbeat.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

// The stored inventory of a cluster, its generation (migrations/0005) and the agent version, with the agent row
// locked for this transaction. `stored` is nullopt when the agent has not sent an inventory yet (or a stored node
// no longer parses: then a resync rebuilds it). nullopt when `credential_hash` (hex) is not the cluster's current
// agent credential: the lock and the check are one statement, so no re-registration, revocation or deletion can
// come between them (issue #10).
struct LoadedInventory {
  std::optional<protocol::StoredInventory> stored;
  std::int64_t generation = 0;
  std::string agent_version;
};
std::optional<LoadedInventory> load_inventory(pqxx::transaction_base& txn, std::string_view cluster,
                                              std::string_view credential_hash);

// What a replica needs to know about an agent to answer its unchanged heartbeats and its polls from memory after
// a (re)start. Not the inventory: reading and parsing 200,000 nodes takes longer than agents wait.
struct AgentSnapshot {
  std::string cluster;
  std::string credential_hash;  // hex, as hash_token() makes it; "" when revoked
  std::uint64_t sequence = 0;   // of the last heartbeat written; 0: no inventory stored yet
  std::int64_t generation = 0;
  std::string agent_version;
  std::optional<double> last_heartbeat_epoch;  // seconds since the epoch; nullopt when never heard
  bool commands_open = false;                  // queued, leased or running commands
};
// A page of registered agents in cluster-name order, after `after` (empty: from the start), at most `limit`:
// one query, no locks.
std::vector<AgentSnapshot> load_agent_page(pqxx::transaction_base& txn, const std::string& after, int limit);

// Writes an applied heartbeat if the stored generation is still `generation` and `credential_hash` (hex) is still
// the cluster's agent credential (compare-and-set; false, and nothing written, when another writer got there
// first or the credential was replaced, revoked or its cluster deleted): the changed nodes and GPUs, the agent's
// sequence and version, generation + 1, and the cluster's versions, state `ready` and last_heartbeat (moved
// forward to `heard_at`, a fleetd clock's time like every liveness time: store/liveness_store.hpp).
bool save_heartbeat(pqxx::transaction_base& txn, std::string_view cluster, std::string_view credential_hash,
                    const protocol::HeartbeatApplied& applied, std::string_view agent_version, std::int64_t generation,
                    Clock::WallTime heard_at);

}  // namespace fleet::store

namespace fleet::store {

// The nodes of a cluster as their agent reported them (JSON text each), by name; nullopt when no such cluster.
std::optional<std::vector<std::string>> list_node_json(pqxx::transaction_base& txn, std::string_view cluster);

// How many GPUs the node has as its agent last reported; nullopt when the cluster has no such node.
std::optional<int> node_gpu_count(pqxx::transaction_base& txn, std::string_view cluster, std::string_view node);

// GPU nodes (nodes with at least one GPU) by admission state, over the whole fleet.
std::map<std::string, std::int64_t> gpu_nodes_by_admission(pqxx::transaction_base& txn);

struct GpuFilter {
  std::string model, cluster, health, admission;  // empty = any
};
struct GpuRow {
  std::string cluster, node, admission;  // where it is, and whether its node is admitted
  model::GpuInfo gpu;
  std::string last_probe_json;  // {"verdict", "finishedAt", "reason", "id"} of the node's last probe; "" if none
};
struct GpuPage {
  std::vector<GpuRow> items;
  bool more = false;
  std::vector<std::pair<std::string, std::int64_t>> totals_by_model;  // over the whole filter, not the page
};
// Keyset paging on (cluster, node, index): rows strictly after `after` when given.
GpuPage list_gpus(pqxx::transaction_base& txn, const GpuFilter& filter,
                  const std::optional<std::tuple<std::string, std::string, int>>& after, int limit);

}  // namespace fleet::store
