#pragma once
// How one log line is written, as pure functions of its parts (log.cpp adds the clock, the lock and stderr).
// Two forms: JSON for machines (one object a line, the default when stderr is not a terminal) and a console form
// for people reading a terminal ("15:07:41.123 INFO  fleetd  msg key=value ...").
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kJson, kConsole };

struct LineParts {
  std::chrono::system_clock::time_point at;
  Level level = Level::kInfo;
  std::string_view component;
  std::string_view msg;
  const nlohmann::json* fields = nullptr;  // an object, or null/absent for none
};

const char* level_name(Level level);  // "debug" | "info" | "warn" | "error"
std::optional<Level> parse_level(std::string_view name);

// {"ts": RFC 3339 UTC, "level", "component", "msg", ...fields} and a newline. A field named like one of the four
// fixed keys replaces it (as before this split); invalid UTF-8 in a value is replaced, never thrown.
std::string format_json_line(const LineParts& line);

// "HH:MM:SS.mmm LEVEL component  msg key=value key=value" and a newline, time of day in UTC. A string value is
// written bare when it has no space, quote, '=' or control character and is not empty; otherwise JSON-quoted.
// Numbers, booleans and null as JSON; objects and arrays as compact JSON.
std::string format_console_line(const LineParts& line);

}  // namespace fleet::log
