#pragma once
// Reading the API server's JSON tolerantly: a member that is absent, or of another type, reads as null or "".
// Objects from the cluster are not ours to trust, and a missing field must never throw.
#include <string>

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

}  // namespace fleet::agent::kube
