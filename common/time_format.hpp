#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fleet {

// RFC 3339 UTC with milliseconds, e.g. 2026-11-23T01:02:03.456Z.
std::string format_rfc3339(std::chrono::system_clock::time_point t);
// The years a timestamp may have: std::chrono::system_clock counts nanoseconds in 64 bits, so it ends in April 2262
// (and a later date would wrap into the past, silently). Parsers refuse anything outside.
inline constexpr int kEarliestYear = 1970;
inline constexpr int kLatestYear = 2261;

// Accepts what format_rfc3339 writes and PostgreSQL's "2026-11-23 01:02:03.456789+00".
std::optional<std::chrono::system_clock::time_point> parse_timestamp(
    std::string_view s);  // years kEarliestYear..kLatestYear

}  // namespace fleet
