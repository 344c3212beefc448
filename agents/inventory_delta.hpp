#pragma once
// Heartbeat inventory deltas (DESIGN §5): the agent sends its full inventory on connect and only what changed
// after, each heartbeat numbered; fleetd applies a delta only on top of the heartbeat just before it and asks for a
// full resync on a gap, so it never stores a state the agent did not have.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/inventory.hpp"
#include "common/error.hpp"

namespace fleet::agent {

// One node's changes: only the members that differ are engaged. Labels, taints and GPUs travel whole when they
// change (at most 64, 32 and 16 entries), which keeps a change self-contained and easy for fleetd to diff in SQL.
struct NodeChange {
  std::string name;
  std::optional<std::string> pool;
  std::optional<std::string> kubernetes_version;
  std::optional<std::string> node_image_version;
  std::optional<bool> schedulable;
  std::optional<Admission> admission;
  std::optional<Labels> labels;
  std::optional<std::vector<Taint>> taints;
  std::optional<ResourceList> capacity;
  std::optional<ResourceList> allocatable;
  std::optional<std::vector<GpuInfo>> gpus;
  bool operator==(const NodeChange&) const = default;
};

struct InventoryDelta {
  std::optional<std::string> kubernetes_version;
  std::optional<std::string> node_image_version;
  std::vector<NodeInfo> added;       // by name
  std::vector<NodeChange> changed;   // by name
  std::vector<std::string> removed;  // sorted
  bool operator==(const InventoryDelta&) const = default;
  bool empty() const;
};

// What turns `from` into `to` (both canonical); empty when they are equal.
InventoryDelta diff_inventory(const ClusterInventory& from, const ClusterInventory& to);
// `base` with `delta` applied, canonical and validated. A delta that does not fit `base` (adds a node it has,
// changes or removes one it lacks) → kConflict `inventory-out-of-sync`; a result over the limits → kInvalid.
Result<ClusterInventory> apply_delta(ClusterInventory base, const InventoryDelta& delta);

nlohmann::json to_json(const NodeChange& change);
nlohmann::json to_json(const InventoryDelta& delta);
Result<InventoryDelta> delta_from_json(const nlohmann::json& j, std::string_view path = {});

// ---- The heartbeat envelope ----

struct HeartbeatEnvelope {
  std::string agent_version;
  std::uint64_t sequence = 0;  // 1 for the first heartbeat after the agent starts, +1 for each one after
  bool full = false;
  std::optional<ClusterInventory> inventory;  // engaged exactly when full
  std::optional<InventoryDelta> delta;        // engaged exactly when !full
  bool operator==(const HeartbeatEnvelope&) const = default;
};

inline constexpr std::size_t kMaxAgentVersionLength = 64;

// {"agentVersion", "sequence", "full", "inventory" | "delta"}; unknown members are ignored (newer agents).
nlohmann::json to_json(const HeartbeatEnvelope& envelope);
Result<HeartbeatEnvelope> heartbeat_from_json(const nlohmann::json& j);

// ---- fleetd's side ----

struct StoredInventory {
  std::uint64_t sequence = 0;
  ClusterInventory inventory;
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

// ---- the agent's side ----

// Numbers heartbeats and decides full vs delta. Pure: the I/O shell calls next() with the current inventory,
// sends the envelope, and calls request_full() when fleetd answers "resync" or when it cannot tell whether a
// heartbeat arrived (the next delta would otherwise be built on a base fleetd may lack; the gap check would catch
// that too, one round trip later).
class HeartbeatSender {
 public:
  explicit HeartbeatSender(std::string agent_version);
  // By value: a caller done with its inventory moves it in, and a heartbeat copies no inventory at all.
  HeartbeatEnvelope next(ClusterInventory current);
  void request_full() { need_full_ = true; }
  // fleetd answered the last envelope with an error, so it certainly did not apply it (it answers 2xx only after
  // committing): forget it, so that the next one builds on what fleetd has instead of forcing a resync.
  void not_applied();
  std::uint64_t last_sequence() const { return sequence_; }

 private:
  std::string agent_version_;
  std::uint64_t sequence_ = 0;
  bool need_full_ = true;
  ClusterInventory last_sent_;
  struct Previous {
    std::uint64_t sequence = 0;
    bool need_full = true;
    ClusterInventory last_sent;
  };
  std::optional<Previous> previous_;  // the state before the last next(), for not_applied()
};

}  // namespace fleet::agent
