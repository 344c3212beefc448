#pragma once
// Tolerant reads of server JSON for display: a missing or mistyped field shows as empty, never throws.
#include <nlohmann/json.hpp>
#include <string>

namespace fleet::ctl {

inline std::string string_field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline const nlohmann::json& member_or_null(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

}  // namespace fleet::ctl
