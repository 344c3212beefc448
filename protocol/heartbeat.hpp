#pragma once
// The heartbeat (DESIGN §5 step 2): an envelope numbered by the agent that carries its full inventory or a delta
// against the previous heartbeat, and fleetd's rule for applying it to what it stored. fleetd applies a delta
// only on top of the heartbeat just before it and asks for a full resync on a gap, so it never stores a state the
// agent did not have.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/inventory.hpp"
#include "protocol/inventory_delta.hpp"
#include "protocol/probe_result.hpp"
#include "protocol/unguarded_node.hpp"
#include "protocol/workload_status.hpp"

namespace fleet::protocol {

// The one request allowed more than 1 MiB: a heartbeat with the full inventory of a cluster of up to
// model::kMaxNodes nodes.
inline constexpr std::size_t kMaxHeartbeatBytes = 16 * 1024 * 1024;

struct HeartbeatEnvelope {
  std::string agent_version;
  std::uint64_t sequence = 0;  // 1 for the first heartbeat after the agent starts, +1 for each one after
  bool full = false;
  std::optional<model::ClusterInventory> inventory;  // engaged exactly when full
  std::optional<InventoryDelta> delta;               // engaged exactly when !full
  // Probes finished since the last acknowledged heartbeat (at most kMaxProbeResultsPerHeartbeat). fleetd stores
  // them before it looks at the inventory, idempotently by probe id, so any 2xx answer means they are kept.
  std::vector<ProbeResult> probe_results;
  // GPU nodes found schedulable before admission guarded them (at most kMaxUnguardedPerHeartbeat), kept and sent
  // like probe results.
  std::vector<UnguardedNode> unguarded_nodes;
  // Workloads whose read-back state changed (protocol/workload_status.hpp, at most
  // kMaxWorkloadStatusesPerHeartbeat), the latest per workload; kept and sent like probe results.
  std::vector<WorkloadStatus> workload_statuses;
  // Decoding only, never encoded: paths of members this fleetd does not read (heartbeat_unknown_fields.hpp), which
  // the answer names in a Warning header.
  std::vector<std::string> unknown_fields;
  bool operator==(const HeartbeatEnvelope&) const = default;
};

inline constexpr std::size_t kMaxAgentVersionLength = 64;

// {"agentVersion", "sequence", "full", "inventory" | "delta", "probeResults"?, "unguardedNodes"?, "workloadStatuses"?};
// unknown members are
// ignored (newer agents) and listed in unknown_fields.
nlohmann::json to_json(const HeartbeatEnvelope& envelope);
Result<HeartbeatEnvelope> heartbeat_from_json(const nlohmann::json& j);

// ---- fleetd's side ----

struct StoredInventory {
  std::uint64_t sequence = 0;
  model::ClusterInventory inventory;
};

struct HeartbeatApplied {
  StoredInventory stored;  // what to store now
  InventoryDelta changes;  // what differs from the previous stored inventory: what fleetd writes
};
struct ResyncNeeded {
  std::string reason;  // for the response and the log
};
using HeartbeatOutcome = std::variant<HeartbeatApplied, ResyncNeeded>;

// How a delta's sequence must follow the stored one.
enum class SequenceCheck {
  // Exactly stored + 1: for a base that saw every acknowledged heartbeat (a replica's cache).
  kNext,
  // Any later sequence: for the database, which keeps the sequence of the last heartbeat that was *written*. An
  // agent sends N only after N-1 was acknowledged (a failed heartbeat is resent under its own sequence, and one
  // that was applied after all is then a repeat, which asks for a resync), and a heartbeat that changes something
  // is acknowledged only once written; so every heartbeat acknowledged after the stored one changed nothing, and
  // the stored inventory is the agent's base.
  kAfterStored,
};

// A full heartbeat always replaces the stored inventory (an agent restarts its sequence at 1). A delta applies
// only when something is stored, its sequence follows the stored one (`check`) and it fits the stored inventory;
// anything else (a gap, a repeat, a delta that does not fit) asks for a resync. Errors are for deltas whose result
// breaks the inventory limits (kInvalid), which a resync would not cure.
Result<HeartbeatOutcome> apply_heartbeat(const std::optional<StoredInventory>& stored,
                                         const HeartbeatEnvelope& envelope, SequenceCheck check = SequenceCheck::kNext);

}  // namespace fleet::protocol
