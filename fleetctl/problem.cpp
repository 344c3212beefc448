#include "fleetctl/problem.hpp"

#include <nlohmann/json.hpp>
#include <string_view>

#include "fleetctl/exit_codes.hpp"
#include "net/http_status.hpp"

namespace fleet::ctl {
namespace {

constexpr std::string_view kProblemTypePrefix = "urn:fleetd:problem:";
// A proxy's HTML error page is not worth more than a glimpse on a terminal.
constexpr std::size_t kMaxRawBodyInMessage = 200;

std::string string_member(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

Error error_from_response(const http::ClientResponse& response) {
  Error error;
  error.code = http::error_code_for_status(response.status);
  const auto problem = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (problem.is_object()) {
    const std::string type = string_member(problem, "type");
    const std::string title = string_member(problem, "title");
    if (type.starts_with(kProblemTypePrefix) && type.size() > kProblemTypePrefix.size()) {
      error.type = type.substr(kProblemTypePrefix.size());
    } else if (!title.empty()) {
      error.type = title;
    }
    error.message = string_member(problem, "detail");
    if (error.message.empty()) error.message = title;
    error.field = string_member(problem, "field");
  } else {
    error.message = response.body.substr(0, kMaxRawBodyInMessage);
  }
  if (error.type.empty()) error.type = http::reason_phrase(response.status);
  if (one_line(error.message).empty()) {
    error.message = "the server answered HTTP " + std::to_string(response.status);
  }
  return error;
}

std::string render_error(const Error& error) {
  if (error.type.empty()) return "error: " + one_line(error.message);
  std::string line = "Error from server (" + one_line(error.type) + "): " + one_line(error.message);
  if (!error.field.empty() && error.message.find(error.field) == std::string::npos) {
    line += " (field \"" + one_line(error.field) + "\")";
  }
  return line;
}

}  // namespace fleet::ctl
