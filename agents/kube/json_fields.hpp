#pragma once
// Reading the API server's JSON tolerantly: a member that is absent, or of another type, reads as null or "".
// Objects from the cluster are not ours to trust, and a missing field must never throw.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace fleet::agent::kube {

// `j[key]` when `j` is an object that has it, else a null.
inline const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// `j[key]` when it is a string, else "".
inline std::string str(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// The condition of `type` in `object`'s status.conditions (Kubernetes keeps one per type), or a null.
inline const nlohmann::json& find_condition(const nlohmann::json& object, std::string_view type) {
  static const nlohmann::json kNull;
  const nlohmann::json& conditions = member(member(object, "status"), "conditions");
  if (!conditions.is_array()) return kNull;
  for (const nlohmann::json& c : conditions) {
    if (str(c, "type") == type) return c;
  }
  return kNull;
}

// `j`'s "message", else its "reason", else `fallback`: what the API server or a controller said, as it said it.
inline std::string said(const nlohmann::json& j, std::string_view fallback) {
  std::string m = str(j, "message");
  if (m.empty()) m = str(j, "reason");
  return m.empty() ? std::string(fallback) : m;
}

}  // namespace fleet::agent::kube
