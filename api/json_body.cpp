#include "api/json_body.hpp"

#include <set>
#include <utility>
#include <vector>

#include "api/field_path.hpp"
#include "api/names.hpp"

namespace fleet::api {
namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error malformed(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message), {}, "malformed-json");
}

// Thrown from the parser callback to stop at once: nlohmann would otherwise go on reading a 1 MiB bracket bomb.
struct StopParse {
  std::string why;
};

// nlohmann's messages start with "[json.exception.parse_error.101] " and end with "; last read: '<input>'"; the
// first is noise and the second would echo raw (maybe invalid UTF-8) bytes back to the client.
std::string describe_parse_error(const json::parse_error& e) {
  std::string what = e.what();
  if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
    what.erase(0, close + 2);
  }
  if (auto last = what.find("; last read:"); last != std::string::npos) what.erase(last);
  return what;
}

std::string charset_of(std::string_view params) {
  // params: everything after the first ';'. Values may be quoted (RFC 9110 §5.6.6).
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower(trim(param.substr(0, eq))) != "charset") continue;
    std::string_view value = trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return lower(value);
  }
  return {};
}

}  // namespace

std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::string json_type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      return "nothing";
  }
  return "an unknown type";
}

Result<json> parse_json_text(std::string_view body, std::size_t max_bytes) {
  if (body.size() > max_bytes) {
    return make_error(ErrorCode::kTooLarge,
                      "request body is " + std::to_string(body.size()) + " bytes; at most " +
                          std::to_string(max_bytes) + " are allowed",
                      {}, "payload-too-large");
  }
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return malformed("request body is empty; a JSON object is expected");
  }
  std::vector<std::set<std::string>> keys;  // member names of each open object, innermost last
  json::parser_callback_t callback = [&keys](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        // `depth` counts the containers already open around this one.
        if (depth + 1 > kMaxJsonDepth) {
          throw StopParse{"JSON nesting is deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
        }
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keys.pop_back();
        break;
      case json::parse_event_t::key:
        // Duplicate names are legal JSON but ambiguous (RFC 8259 §4): two parsers could see two requests.
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          throw StopParse{"duplicate member name " +
                          json(parsed.get<std::string>()).dump(-1, ' ', true, json::error_handler_t::replace)};
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(body.begin(), body.end(), callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const StopParse& stop) {
    return malformed("request body is not acceptable JSON: " + stop.why);
  } catch (const json::parse_error& e) {
    return malformed("request body is not valid JSON at byte " + std::to_string(e.byte) + ": " +
                     describe_parse_error(e));
  } catch (const json::exception& e) {
    return malformed(std::string("request body is not valid JSON: ") + e.what());
  }
}

Result<json> parse_json_body(const http::Request& request, std::initializer_list<std::string_view> accepted,
                             std::size_t max_bytes) {
  const std::string* content_type = request.header("content-type");
  std::string accepted_list;
  for (std::string_view a : accepted) {
    if (!accepted_list.empty()) accepted_list += ", ";
    accepted_list += a;
  }
  if (!content_type) {
    return make_error(ErrorCode::kUnsupportedMedia, "Content-Type is missing; send one of: " + accepted_list, {},
                      "unsupported-media-type");
  }
  std::string type = media_type(*content_type);
  bool ok = false;
  for (std::string_view a : accepted) ok = ok || type == lower(a);
  if (!ok) {
    return make_error(ErrorCode::kUnsupportedMedia,
                      "Content-Type " + json(type).dump(-1, ' ', true, json::error_handler_t::replace) +
                          " is not supported; send one of: " + accepted_list,
                      {}, "unsupported-media-type");
  }
  auto semi = content_type->find(';');
  if (semi != std::string::npos) {
    std::string charset = charset_of(std::string_view(*content_type).substr(semi + 1));
    if (!charset.empty() && charset != "utf-8" && charset != "utf8") {
      return make_error(ErrorCode::kUnsupportedMedia, "only the UTF-8 charset is supported", {},
                        "unsupported-media-type");
    }
  }
  auto parsed = parse_json_text(request.body, max_bytes);
  if (!parsed) return parsed;
  if (!parsed->is_object())
    return invalid_field("", "request body must be a JSON object, got " + json_type_name(*parsed));
  return parsed;
}

Status reject_unknown_fields(const json& object, std::initializer_list<std::string_view> allowed,
                             std::string_view path) {
  if (!object.is_object()) return Ok{};
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (known) continue;
    std::string field = member_path(path, key);
    std::string list;
    for (std::string_view a : allowed) {
      if (!list.empty()) list += ", ";
      list += a;
    }
    std::string message = field;
    message += ": unknown field; allowed here: ";
    message += list;
    return make_error(ErrorCode::kInvalid, std::move(message), field, "unknown-field");
  }
  return Ok{};
}

Error missing_field(std::string_view field) {
  return make_error(ErrorCode::kInvalid, std::string(field) + ": required field is missing", std::string(field),
                    "missing-field");
}

Error wrong_type(std::string_view field, std::string_view expected, const json& got) {
  return invalid_field(field, "must be " + std::string(expected) + ", got " + json_type_name(got));
}

namespace {
const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}
}  // namespace

Result<std::string> required_string(const json& object, std::string_view key, std::string_view path) {
  const json* v = member(object, key);
  if (!v) return missing_field(member_path(path, key));
  if (!v->is_string()) return wrong_type(member_path(path, key), "a string", *v);
  return v->get<std::string>();
}

Result<std::optional<std::string>> optional_string(const json& object, std::string_view key, std::string_view path) {
  const json* v = member(object, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(member_path(path, key), "a string", *v);
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::optional<bool>> optional_bool(const json& object, std::string_view key, std::string_view path) {
  const json* v = member(object, key);
  if (!v) return std::optional<bool>();
  if (!v->is_boolean()) return wrong_type(member_path(path, key), "a boolean", *v);
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<std::int64_t>> optional_integer(const json& object, std::string_view key, std::string_view path,
                                                     std::int64_t min, std::int64_t max) {
  const json* v = member(object, key);
  if (!v) return std::optional<std::int64_t>();
  std::string field = member_path(path, key);
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (v->is_number_unsigned()) {
    // nlohmann stores every non-negative integer it parses as unsigned.
    std::uint64_t u = v->get<std::uint64_t>();
    if (max < 0 || u > static_cast<std::uint64_t>(max) || (min > 0 && u < static_cast<std::uint64_t>(min))) {
      return invalid_field(field, "must be " + range);
    }
    return std::optional<std::int64_t>(static_cast<std::int64_t>(u));
  }
  if (!v->is_number_integer()) return wrong_type(field, range, *v);
  std::int64_t n = v->get<std::int64_t>();
  if (n < min || n > max) return invalid_field(field, "must be " + range);
  return std::optional<std::int64_t>(n);
}

Result<const json*> optional_object(const json& object, std::string_view key, std::string_view path) {
  const json* v = member(object, key);
  if (v && !v->is_object()) return wrong_type(member_path(path, key), "an object", *v);
  return v;
}

Result<const json*> optional_array(const json& object, std::string_view key, std::string_view path) {
  const json* v = member(object, key);
  if (v && !v->is_array()) return wrong_type(member_path(path, key), "an array", *v);
  return v;
}

}  // namespace fleet::api
