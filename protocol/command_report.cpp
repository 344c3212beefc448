#include "protocol/command_report.hpp"

#include <utility>

#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::protocol {

using nlohmann::json;

CommandReport report_for(const CommandStatus& status) {
  return CommandReport{status.id, status.state, status.message, to_json(status)};
}

json to_json(const CommandReport& r) {
  json j = {{"state", to_string(r.state)}};
  if (r.message) j["message"] = *r.message;
  if (r.progress) j["progress"] = *r.progress;
  return j;
}

Result<CommandReport> report_from_json(const json& body) {
  if (auto st = model::reject_unknown_fields(body, {"state", "message", "progress"}, ""); !st) return st.error();
  CommandReport r;
  auto state = model::required_string(body, "state", "");
  if (!state) return state.error();
  if (*state == "running") {
    r.state = CommandState::kRunning;
  } else if (*state == "succeeded") {
    r.state = CommandState::kSucceeded;
  } else if (*state == "failed") {
    r.state = CommandState::kFailed;
  } else {
    return model::invalid_field("state", "must be running, succeeded or failed");
  }
  auto message = model::optional_string(body, "message", "");
  if (!message) return message.error();
  if (*message && (*message)->size() > kMaxReportMessageBytes) {
    return model::invalid_field("message", "at most 4096 bytes");
  }
  r.message = std::move(*message);
  auto progress = model::optional_object(body, "progress", "");
  if (!progress) return progress.error();
  if (*progress) {
    if ((*progress)->dump().size() > kMaxReportProgressBytes) {
      return model::invalid_field("progress", "at most 64 KiB of JSON");
    }
    r.progress = **progress;
  }
  return r;
}

}  // namespace fleet::protocol
