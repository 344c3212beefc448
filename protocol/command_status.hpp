#pragma once
// What an agent knows about a command it runs: its status (progress while running, the result once finished) and
// the step events on the way, the same for every backend. The agent reports a status to fleetd as the report's
// `progress` (protocol/command_report.hpp) and logs the events.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace fleet::protocol {

enum class CommandState { kRunning, kSucceeded, kFailed };
std::string_view to_string(CommandState state);  // "running" | "succeeded" | "failed"
inline bool is_final(CommandState state) {
  return state != CommandState::kRunning;
}

struct CommandStatus {
  std::string id;
  std::string kind;
  CommandState state = CommandState::kRunning;
  std::string message;
  double started_at = 0;  // seconds on the backend's clock (simulated seconds for the sim)
  std::optional<double> finished_at;
  int nodes_total = 0;  // nodes the command acts on (0 for control-plane and cordon commands)
  int nodes_done = 0;   // finished, either way
  int nodes_failed = 0;
  nlohmann::json details = nlohmann::json::object();  // per-node outcome, {"node": "admitted" | "quarantined" | …}
  // upgrade_node_pool with notAfter (a maintenance window's end, issue #13 item 2): it reached notAfter with nodes
  // left and stopped before the next one; the state is succeeded, and the nodes done are done. JSON "stopped": true.
  bool stopped = false;
  // Stopped before it began because the cluster's own maintenance window (the provider's: AKS planned maintenance)
  // is closed: when it opens, on the wall clock. With stopped = true and nothing done; JSON "notBefore" (RFC 3339).
  // fleetd holds the member (WaitingForWindow) until then and sends the step again.
  std::optional<std::chrono::system_clock::time_point> not_before;
  bool operator==(const CommandStatus&) const = default;
};
nlohmann::json to_json(const CommandStatus& status);

// One step of progress. `type` is one of: command_started, command_succeeded, command_failed,
// control_plane_upgraded, cluster_cordoned, cluster_uncordoned, node_cordoned, node_drained, node_drain_timed_out,
// node_upgraded, node_upgrade_failed, node_admitted, node_quarantined, node_uncordoned.
struct CommandEvent {
  double at = 0;
  std::string command_id;
  std::string type;
  std::string node;  // empty when the event is not about one node
  std::string message;
  bool operator==(const CommandEvent&) const = default;
};
nlohmann::json to_json(const CommandEvent& event);
// The events that end a command: each command id finishes at most once per agent.
bool is_finish_event(const CommandEvent& event);

}  // namespace fleet::protocol
