#pragma once
// Structured logs on stderr, one entry a line: JSON for machines or a console form for people (log_line.hpp).
// Secrets (tokens, credentials) are never passed here.
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/log_line.hpp"

namespace fleet::log {

void set_min_level(Level level);
// "debug" | "info" | "warn" | "error" (what the --log-level flags accept); anything else leaves the level as is.
void set_min_level(std::string_view name);
// Lets a hot path skip building the fields of a line that would be dropped.
bool enabled(Level level);
void set_component(std::string component);  // "fleetd", "fleet-agent", …; written into every line

void set_format(Format format);
// "json" | "console" | "auto" (what the --log-format flags accept): auto is console when stderr is a terminal and
// JSON otherwise (a pipe, a file, a container runtime). False, and the format left as is, for anything else.
bool set_format(std::string_view name);

// Writes one entry (format_json_line or format_console_line) with the time now, atomically.
void write(Level level, std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kDebug, m, f);
}
inline void info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kInfo, m, f);
}
inline void warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kWarn, m, f);
}
inline void error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kError, m, f);
}

}  // namespace fleet::log
