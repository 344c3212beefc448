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

#include "common/error.hpp"
#include "model/inventory.hpp"

namespace fleet::protocol {

// One node's changes: only the members that differ are engaged. Labels, taints and GPUs travel whole when they
// change (at most 64, 32 and 16 entries), which keeps a change self-contained and easy for fleetd to diff in SQL.
struct NodeChange {
  std::string name;
  std::optional<std::string> pool;
  std::optional<std::string> kubernetes_version;
  std::optional<std::string> node_image_version;
  std::optional<bool> schedulable;
  std::optional<model::Admission> admission;
  std::optional<model::Labels> labels;
  std::optional<std::vector<model::Taint>> taints;
  std::optional<model::ResourceList> capacity;
  std::optional<model::ResourceList> allocatable;
  std::optional<model::ResourceList> allocated;
  std::optional<std::vector<model::GpuInfo>> gpus;
  bool operator==(const NodeChange&) const = default;
};

struct InventoryDelta {
  std::optional<std::string> kubernetes_version;
  std::optional<std::string> node_image_version;
  std::vector<model::NodeInfo> added;  // by name
  std::vector<NodeChange> changed;     // by name
  std::vector<std::string> removed;    // sorted
  bool operator==(const InventoryDelta&) const = default;
  bool empty() const;
};

// What turns `from` into `to` (both canonical); empty when they are equal.
InventoryDelta diff_inventory(const model::ClusterInventory& from, const model::ClusterInventory& to);
// `base` with `delta` applied, canonical and validated. A delta that does not fit `base` (adds a node it has,
// changes or removes one it lacks) → kConflict `inventory-out-of-sync`; a result over the limits → kInvalid.
Result<model::ClusterInventory> apply_delta(model::ClusterInventory base, const InventoryDelta& delta);

nlohmann::json to_json(const NodeChange& change);
nlohmann::json to_json(const InventoryDelta& delta);
Result<InventoryDelta> delta_from_json(const nlohmann::json& j, std::string_view path = {});

}  // namespace fleet::protocol
