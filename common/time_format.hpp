#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fleet {

// RFC 3339 UTC with milliseconds, e.g. 2026-11-23T01:02:03.456Z.
std::string format_rfc3339(std::chrono::system_clock::time_point t);
// Accepts what format_rfc3339 writes and PostgreSQL's "2026-11-23 01:02:03.456789+00".
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s);

}  // namespace fleet
