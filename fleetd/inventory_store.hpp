#pragma once
// The inventory agents report, in PostgreSQL: loaded as the base a heartbeat delta applies to, and written back
// as only what changed (nodes upserted or deleted, their GPUs replaced), so database writes follow change, not
// heartbeat count.
#include <optional>
#include <string>
#include <string_view>

#include "agents/inventory_delta.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

// Locks the cluster's agent row for this heartbeat. nullopt when the agent has not sent a heartbeat yet.
std::optional<agent::StoredInventory> load_inventory(pqxx::transaction_base& txn, std::string_view cluster);

// Writes an applied heartbeat: the changed nodes and GPUs, the agent's sequence and version, and the cluster's
// versions, state `ready` and last_heartbeat.
void save_heartbeat(pqxx::transaction_base& txn, std::string_view cluster, const agent::HeartbeatApplied& applied,
                    std::string_view agent_version);

// Marks the agent as seen without applying anything (a heartbeat that asked for a resync).
void touch_agent(pqxx::transaction_base& txn, std::string_view cluster);

}  // namespace fleet::store
