#include "protocol/command_kind.hpp"

namespace fleet::protocol {

std::string_view to_string(CommandKind kind) {
  switch (kind) {
    case CommandKind::kUpgradeControlPlane:
      return "upgrade_control_plane";
    case CommandKind::kUpgradeNodePool:
      return "upgrade_node_pool";
    case CommandKind::kRunProbe:
      return "run_probe";
    case CommandKind::kApplyWorkload:
      return "apply_workload";
    case CommandKind::kDeleteWorkload:
      return "delete_workload";
    case CommandKind::kCordonCluster:
      return "cordon_cluster";
    case CommandKind::kCordonNode:
      return "cordon_node";
    case CommandKind::kDrainNode:
      return "drain_node";
    case CommandKind::kTaintNode:
      return "taint_node";
    case CommandKind::kSetNodeAdmission:
      return "set_node_admission";
    case CommandKind::kBlueGreenNodePool:
      return "blue_green_node_pool";
  }
  return "unknown";
}

std::optional<CommandKind> parse_command_kind(std::string_view name) {
  for (CommandKind kind : kCommandKinds) {
    if (to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string command_kinds_text() {
  std::string out;
  for (CommandKind kind : kCommandKinds) {
    if (!out.empty()) out += ", ";
    out += to_string(kind);
  }
  return out;
}

}  // namespace fleet::protocol
