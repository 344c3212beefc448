#pragma once
// An agent's report on a command (POST /v1/agents/{cluster}/commands/{id}): {"state", "message"?, "progress"?}.
// The agent writes it from a CommandStatus; fleetd reads it with the same limits.
#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "protocol/command_status.hpp"

namespace fleet::protocol {

inline constexpr std::size_t kMaxReportMessageBytes = 4 * 1024;
inline constexpr std::size_t kMaxReportProgressBytes = 64 * 1024;  // of compact JSON

struct CommandReport {
  std::string id;  // travels in the URL, not the body
  CommandState state = CommandState::kRunning;
  std::optional<std::string> message;
  std::optional<nlohmann::json> progress;  // an object
};

// The report for a status: its state and message, the whole status as progress.
CommandReport report_for(const CommandStatus& status);
nlohmann::json to_json(const CommandReport& report);  // the body
// A body (already a JSON object): unknown members, a state other than running/succeeded/failed, a message over
// 4 KiB or progress that is not an object of at most 64 KiB → kInvalid naming the member.
Result<CommandReport> report_from_json(const nlohmann::json& body);

}  // namespace fleet::protocol
