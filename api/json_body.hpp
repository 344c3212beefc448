#pragma once
// A request body into JSON with the limits of docs/api.md: its media type and charset, then common/json_text.hpp's
// rules. The typed members of the result are read with model/json_read.hpp.
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/json_text.hpp"
#include "net/http_types.hpp"

namespace fleet::api {

inline constexpr std::size_t kMaxBodyBytes = kMaxJsonTextBytes;

// Media type of a Content-Type value, lower-cased, without parameters ("application/json"); "" when absent.
std::string media_type(std::string_view content_type);

// Checks content-type against `accepted_media_types` (parameters allowed; a charset other than UTF-8 is refused)
// → 415 unsupported-media-type; size → 413 payload-too-large (the server enforces it first; this keeps the core
// safe on its own); empty, truncated, invalid UTF-8, duplicate keys, nesting deeper than kMaxJsonDepth → 400
// malformed-json; a top level other than an object → 422 invalid-field.
Result<nlohmann::json> parse_json_body(const http::Request& request,
                                       std::initializer_list<std::string_view> accepted_media_types,
                                       std::size_t max_bytes = kMaxBodyBytes);

}  // namespace fleet::api
