#pragma once
// Strategies and run specs as JSON (DESIGN §6; the example there must work as written). Every error is kInvalid
// and names the member by its path ("strategy.stages[1].maxConcurrency"); unknown members are refused.
//
// Strategy:
//   {"stages": [Stage...], "failurePolicy"?: FailurePolicy, "maintenanceWindows"?: [WindowRule...] (at most 16)}
// Stage:
//   {"name", "updateGroups"?: [name | Group...], "labelSelector"?: "env=prod,tier in (a,b)", "sortBy"?: label key,
//    "maxConcurrency"?: Budget, "afterStageWait"?: Duration, "beforeGates"?: [Gate...], "afterGates"?: [Gate...],
//    "failurePolicy"?: FailurePolicy}
//   exactly one of updateGroups (non-empty) and labelSelector.
// Group:   {"name", "maxConcurrency"?, "beforeGates"?, "afterGates"?, "failurePolicy"?}
// Gate:    {"type": "Approval"|"Wait"|"ScheduledStart"|"HealthCheck", "name"?, "duration"? (Wait),
//           "notBefore"? (ScheduledStart, RFC 3339), "minAdmittedGpuRatio"? (0..1, default 1), "soak"?, "timeout"?
//           (HealthCheck; defaults 0s and 1h)}; a gate without a name is named "<stage>[.<group>].<before|after>-<n>"
//           (n from 1, its place in its list); such a name, written out by to_json, is taken back in that place only
// WindowRule: {"clusterSelector"?: label selector (absent: every cluster), "window": {"days": ["Sat", "Sun"],
//           "start": "02:00", "duration": "4h", "timeZone": "Europe/Berlin"}} (maintenance_window.hpp); the first
//           rule whose selector matches a cluster applies, a cluster no rule matches has no window (always allowed)
// FailurePolicy: {"maxFailures"?: Budget (default 0), "onFailure"?: "Pause"|"Continue" (default Pause)}
// Budget:  1 | "1" | "50%"          Duration: "0s", "90s", "15m", "1h30m", "2h" or whole seconds as a number
//
// Validation: 1..32 stages with unique names (DNS labels), at most 64 groups a stage, an update group in at most one
// stage, gate names unique across the strategy, at most 8 gates a scope.
//
// RunSpec:
//   {"name", "target": {"type": "Full"|"ControlPlaneOnly"|"NodeImageOnly", "kubernetesVersion"?,
//    "nodeImageSelection"?: "Latest"|"Consistent"|"Custom"|"Previous", "nodeImageVersion"? (Custom only),
//    "rollbackOf"? (Previous only, and NodeImageOnly: rollback.hpp), "allowUnsupported"?},
//    "strategy"?: Strategy, "strategyRef"?: name  (exactly one of the two),
//    "nodeUpgrade"?: {"maxSurge"?: NodeBudget, "maxUnavailable"?: NodeBudget, "maxFailedNodes"?: 0..1000,
//                     "blueGreen"?: {"pools"?: [pool name, …] (at most 64, unique; absent or empty: every pool),
//                                    "soak"?: Duration (default "1h")}}}
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "rollout/run_spec.hpp"
#include "rollout/strategy.hpp"

namespace fleet::rollout {

Result<Seconds> duration_from_json(const nlohmann::json& j, const std::string& path);
std::string format_duration(Seconds s);  // "0s", "90s" → "1m30s", "1h30m"

Result<Gate> gate_from_json(const nlohmann::json& j, const std::string& path, const std::string& default_name);
nlohmann::json to_json(const Gate& gate);

Result<Strategy> strategy_from_json(const nlohmann::json& j, const std::string& path);
nlohmann::json to_json(const Strategy& strategy);

// A strategyRef is returned with an empty strategy; fleetd resolves it.
Result<RunSpec> run_spec_from_json(const nlohmann::json& j);
// The frozen form: always the inline strategy, strategyRef kept for the record.
nlohmann::json to_json(const RunSpec& spec);
// That frozen form read back: the inline strategy required, strategyRef optional and kept.
Result<RunSpec> frozen_run_spec_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Target& target);

// The member "nodeUpgrade" of `parent_object` (a run spec, an auto-upgrade profile): defaults when absent. Errors
// name "<parent_path>.nodeUpgrade.<member>" ("nodeUpgrade.<member>" when parent_path is empty).
Result<NodeUpgradeSettings> node_upgrade_from_json(const nlohmann::json& parent_object, std::string_view parent_path);
nlohmann::json to_json(const NodeUpgradeSettings& settings);

}  // namespace fleet::rollout
