#include "model/field_path.hpp"

#include <nlohmann/json.hpp>

namespace fleet::model {
namespace {

bool is_plain_identifier(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string member_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  if (is_plain_identifier(key)) {
    out += key;
  } else {
    // JSON string syntax quotes and escapes; `replace` keeps a path printable even for invalid UTF-8 keys.
    out += nlohmann::json(std::string(key)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

}  // namespace fleet::model
