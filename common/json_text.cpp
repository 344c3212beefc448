#include "common/json_text.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fleet {
namespace {

using nlohmann::json;

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

}  // namespace

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

}  // namespace fleet
