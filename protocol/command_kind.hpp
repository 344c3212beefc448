#pragma once
// The one list of command kinds fleetd queues and agents run (DESIGN §5 step 3). fleetd refuses any other kind at
// queue time; a backend that cannot run a kind says so when the agent starts it.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::protocol {

enum class CommandKind {
  kUpgradeControlPlane,  // upgrade_control_plane
  kUpgradeNodePool,      // upgrade_node_pool
  kRunProbe,             // run_probe
  kApplyWorkload,        // apply_workload
  kDeleteWorkload,       // delete_workload
  kCordonCluster,        // cordon_cluster
  kCordonNode,           // cordon_node
  kDrainNode,            // drain_node
  kTaintNode,            // taint_node
  kSetNodeAdmission,     // set_node_admission
  kBlueGreenNodePool,    // blue_green_node_pool
};

inline constexpr std::array<CommandKind, 11> kCommandKinds = {
    CommandKind::kUpgradeControlPlane, CommandKind::kUpgradeNodePool,  CommandKind::kRunProbe,
    CommandKind::kApplyWorkload,       CommandKind::kDeleteWorkload,   CommandKind::kCordonCluster,
    CommandKind::kCordonNode,          CommandKind::kDrainNode,        CommandKind::kTaintNode,
    CommandKind::kSetNodeAdmission,    CommandKind::kBlueGreenNodePool};

std::string_view to_string(CommandKind kind);
std::optional<CommandKind> parse_command_kind(std::string_view name);
// "upgrade_control_plane, upgrade_node_pool, …" for messages.
std::string command_kinds_text();

}  // namespace fleet::protocol
