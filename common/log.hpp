#pragma once
// Structured logs: one JSON object a line on stderr. Secrets (tokens, credentials) are never passed here.
#include <nlohmann/json.hpp>
#include <string_view>

namespace fleet::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void set_min_level(Level level);
// "debug" | "info" | "warn" | "error" (what the --log-level flags accept); anything else leaves the level as is.
void set_min_level(std::string_view name);
// Lets a hot path skip building the fields of a line that would be dropped.
bool enabled(Level level);
void set_component(std::string component);  // "fleetd", "fleet-agent", …; written into every line

// Writes {"ts": RFC 3339 UTC, "level", "component", "msg", ...fields} as one line, atomically.
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
