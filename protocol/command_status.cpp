#include "protocol/command_status.hpp"

#include "common/time_format.hpp"

namespace fleet::protocol {

using nlohmann::json;

std::string_view to_string(CommandState state) {
  switch (state) {
    case CommandState::kRunning:
      return "running";
    case CommandState::kSucceeded:
      return "succeeded";
    case CommandState::kFailed:
      return "failed";
  }
  return "running";
}

json to_json(const CommandStatus& s) {
  json j = {{"id", s.id},
            {"kind", s.kind},
            {"state", to_string(s.state)},
            {"message", s.message},
            {"startedAt", s.started_at},
            {"finishedAt", s.finished_at ? json(*s.finished_at) : json(nullptr)},
            {"nodesTotal", s.nodes_total},
            {"nodesDone", s.nodes_done},
            {"nodesFailed", s.nodes_failed},
            {"details", s.details}};
  if (s.stopped) j["stopped"] = true;
  if (s.not_before) j["notBefore"] = format_rfc3339(*s.not_before);
  return j;
}

json to_json(const CommandEvent& e) {
  json j = {{"at", e.at}, {"commandId", e.command_id}, {"type", e.type}, {"message", e.message}};
  if (!e.node.empty()) j["node"] = e.node;
  return j;
}

bool is_finish_event(const CommandEvent& e) {
  return e.type == "command_succeeded" || e.type == "command_failed";
}

}  // namespace fleet::protocol
