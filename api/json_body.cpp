#include "api/json_body.hpp"

#include <string>

#include "model/json_read.hpp"
#include "model/names.hpp"

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
  auto parsed = fleet::parse_json_text(request.body, max_bytes);
  if (!parsed) return parsed;
  if (!parsed->is_object())
    return model::invalid_field("", "request body must be a JSON object, got " + model::json_type_name(*parsed));
  return parsed;
}

}  // namespace fleet::api
