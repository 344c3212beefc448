#include "protocol/heartbeat.hpp"

#include <limits>
#include <utility>

#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"
#include "protocol/heartbeat_unknown_fields.hpp"

namespace fleet::protocol {

using nlohmann::json;

json to_json(const HeartbeatEnvelope& e) {
  json j = {{"agentVersion", e.agent_version}, {"sequence", e.sequence}, {"full", e.full}};
  if (e.inventory) j["inventory"] = to_json(*e.inventory);
  if (e.delta) j["delta"] = to_json(*e.delta);
  if (!e.probe_results.empty()) {
    j["probeResults"] = json::array();
    for (const ProbeResult& r : e.probe_results) j["probeResults"].push_back(to_json(r));
  }
  if (!e.unguarded_nodes.empty()) {
    j["unguardedNodes"] = json::array();
    for (const UnguardedNode& n : e.unguarded_nodes) j["unguardedNodes"].push_back(to_json(n));
  }
  if (!e.workload_statuses.empty()) {
    j["workloadStatuses"] = json::array();
    for (const WorkloadStatus& w : e.workload_statuses) j["workloadStatuses"].push_back(to_json(w));
  }
  return j;
}

Result<HeartbeatEnvelope> heartbeat_from_json(const json& j) {
  if (!j.is_object()) return model::wrong_type("(root)", "an object", j);
  HeartbeatEnvelope e;
  auto version = model::required_string(j, "agentVersion", "");
  if (!version) return version.error();
  if (std::string p = model::token_problem(*version, kMaxAgentVersionLength); !p.empty()) {
    return model::invalid_field("agentVersion", p);
  }
  e.agent_version = std::move(version).value();
  e.unknown_fields = unknown_heartbeat_fields(j);
  auto seq = model::optional_uint64(j, "sequence", "");
  if (!seq) return seq.error();
  if (!*seq) return model::missing_field("sequence");
  // Stored as a PostgreSQL bigint: a larger one would wrap to a negative number there.
  if (**seq > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return model::invalid_field("sequence", "at most 9223372036854775807");
  }
  e.sequence = **seq;
  auto full = model::optional_bool(j, "full", "");
  if (!full) return full.error();
  if (!*full) return model::missing_field("full");
  e.full = **full;
  if (e.full) {
    if (j.contains("delta")) return model::invalid_field("delta", "must be absent when full is true");
    auto it = j.find("inventory");
    if (it == j.end()) return model::missing_field("inventory");
    auto inv = model::inventory_from_json(*it, "inventory");
    if (!inv) return inv.error();
    e.inventory = std::move(inv).value();
  } else {
    if (j.contains("inventory")) return model::invalid_field("inventory", "must be absent when full is false");
    auto it = j.find("delta");
    if (it == j.end()) return model::missing_field("delta");
    auto d = delta_from_json(*it, "delta");
    if (!d) return d.error();
    e.delta = std::move(d).value();
  }
  if (auto s = model::optional_list(j, "probeResults", "", kMaxProbeResultsPerHeartbeat, "results",
                                    probe_result_from_json, e.probe_results);
      !s) {
    return s.error();
  }
  if (auto s = model::optional_list(j, "unguardedNodes", "", kMaxUnguardedPerHeartbeat, "nodes",
                                    unguarded_node_from_json, e.unguarded_nodes);
      !s) {
    return s.error();
  }
  if (auto s = model::optional_list(j, "workloadStatuses", "", kMaxWorkloadStatusesPerHeartbeat, "workloads",
                                    workload_status_from_json, e.workload_statuses);
      !s) {
    return s.error();
  }
  return e;
}

Result<HeartbeatOutcome> apply_heartbeat(const std::optional<StoredInventory>& stored,
                                         const HeartbeatEnvelope& envelope, SequenceCheck check) {
  if (envelope.full) {
    if (!envelope.inventory) return model::invalid_field("inventory", "a full heartbeat needs an inventory");
    model::ClusterInventory inv = *envelope.inventory;
    model::canonicalize(inv);
    if (auto s = model::validate_inventory(inv); !s) return s.error();
    model::ClusterInventory previous = stored ? stored->inventory : model::ClusterInventory{};
    model::canonicalize(previous);
    InventoryDelta changes = diff_inventory(previous, inv);
    if (!stored) {
      // Nothing stored before: the cluster-level versions are new too, even when empty strings compare equal.
      changes.kubernetes_version = inv.kubernetes_version;
      changes.node_image_version = inv.node_image_version;
    }
    return HeartbeatOutcome{HeartbeatApplied{{envelope.sequence, std::move(inv)}, std::move(changes)}};
  }
  if (!envelope.delta) return model::invalid_field("delta", "a delta heartbeat needs a delta");
  if (!stored) return HeartbeatOutcome{ResyncNeeded{"no inventory is stored for this cluster yet"}};
  const bool follows =
      check == SequenceCheck::kNext ? envelope.sequence == stored->sequence + 1 : envelope.sequence > stored->sequence;
  if (!follows) {
    return HeartbeatOutcome{ResyncNeeded{"heartbeat sequence " + std::to_string(envelope.sequence) +
                                         " does not follow the stored " + std::to_string(stored->sequence)}};
  }
  model::ClusterInventory previous = stored->inventory;
  model::canonicalize(previous);
  auto applied = apply_delta(previous, *envelope.delta);
  if (!applied) {
    if (applied.error().code == ErrorCode::kConflict) return HeartbeatOutcome{ResyncNeeded{applied.error().message}};
    return applied.error();
  }
  // Re-diffing rather than passing the delta on drops no-op entries a sender may have included.
  InventoryDelta changes = diff_inventory(previous, *applied);
  return HeartbeatOutcome{HeartbeatApplied{{envelope.sequence, std::move(applied).value()}, std::move(changes)}};
}

}  // namespace fleet::protocol
