#pragma once
// JSON text into nlohmann::json with the limits every untrusted document gets: a size cap, a nesting cap, valid
// UTF-8 and no duplicate member names (legal JSON, but two parsers could read two different documents). Nothing
// here knows HTTP: the edge (api/json_body.hpp) adds media types, fleetctl uses it for files.
#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet {

inline constexpr std::size_t kMaxJsonTextBytes = 1024 * 1024;
inline constexpr int kMaxJsonDepth = 32;

// Over max_bytes → kTooLarge `payload-too-large`; empty, truncated, invalid UTF-8, duplicate names or nesting deeper
// than kMaxJsonDepth → kInvalid `malformed-json`, saying where. Any JSON value is accepted at the top level.
Result<nlohmann::json> parse_json_text(std::string_view text, std::size_t max_bytes = kMaxJsonTextBytes);

}  // namespace fleet
