#pragma once
// Turning a request body into JSON with the limits of docs/api.md, and reading typed members with errors that
// name the field. Everything here returns kInvalid errors with the problem slugs the HTTP edge maps to statuses.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "net/http_types.hpp"

namespace fleet::api {

inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
// The one larger request: an agent heartbeat with a full inventory of up to 5,000 nodes (agents/inventory.hpp).
inline constexpr std::size_t kMaxHeartbeatBodyBytes = 16 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 32;

// Media type of a Content-Type value, lower-cased, without parameters ("application/json"); "" when absent.
std::string media_type(std::string_view content_type);

// Checks content-type against `accepted_media_types` (parameters allowed; a charset other than UTF-8 is refused)
// → 415 unsupported-media-type; size → 413 payload-too-large (the server enforces it first; this keeps the core
// safe on its own); empty, truncated, invalid UTF-8, duplicate keys, nesting deeper than kMaxJsonDepth → 400
// malformed-json; a top level other than an object → 422 invalid-field.
Result<nlohmann::json> parse_json_body(const http::Request& request,
                                       std::initializer_list<std::string_view> accepted_media_types,
                                       std::size_t max_bytes = kMaxBodyBytes);
// The same on a bare body, for callers without a Request (fleetctl reading a file).
Result<nlohmann::json> parse_json_text(std::string_view body, std::size_t max_bytes = kMaxBodyBytes);

// "a string", "an object", "null", … for messages.
std::string json_type_name(const nlohmann::json& value);

// 422 unknown-field for the first member of `object` not in `allowed`, named by its path under `path`.
Status reject_unknown_fields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                             std::string_view path);

Error missing_field(std::string_view field);                                                     // 422 missing-field
Error wrong_type(std::string_view field, std::string_view expected, const nlohmann::json& got);  // 422 invalid-field

// Typed members. An absent member is nullopt (or missing-field for the required ones); a member of another type,
// null included, is invalid-field "<path>: must be <expected>, got <type>". Callers that give null a meaning
// (merge patch) check for it before calling these.
Result<std::string> required_string(const nlohmann::json& object, std::string_view key, std::string_view path);
Result<std::optional<std::string>> optional_string(const nlohmann::json& object, std::string_view key,
                                                   std::string_view path);
Result<std::optional<bool>> optional_bool(const nlohmann::json& object, std::string_view key, std::string_view path);
// Integers only (1.0 is refused), within [min, max].
Result<std::optional<std::int64_t>> optional_integer(const nlohmann::json& object, std::string_view key,
                                                     std::string_view path, std::int64_t min, std::int64_t max);
// The member itself when it is an object / array; nullopt when absent.
Result<const nlohmann::json*> optional_object(const nlohmann::json& object, std::string_view key,
                                              std::string_view path);
Result<const nlohmann::json*> optional_array(const nlohmann::json& object, std::string_view key, std::string_view path);

}  // namespace fleet::api
