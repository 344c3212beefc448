#include "agents/json_read.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "agents/inventory.hpp"
#include "api/field_path.hpp"
#include "api/json_body.hpp"
#include "api/names.hpp"

namespace fleet::agent {
namespace {

using nlohmann::json;

std::string format_number(double v) {
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Result<std::optional<double>> optional_number(const json& object, std::string_view key, std::string_view path,
                                              double min, double max) {
  auto it = object.find(key);
  std::string field = api::member_path(path, key);
  if (it == object.end()) return std::optional<double>{};
  if (!it->is_number()) return api::wrong_type(field, "a number", *it);
  double v = it->get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    return api::invalid_field(
        field, "must be between " + format_number(min) + " and " + format_number(max) + " (is " + it->dump() + ")");
  }
  return std::optional<double>{v};
}

Result<std::optional<std::uint64_t>> optional_uint64(const json& object, std::string_view key, std::string_view path) {
  auto it = object.find(key);
  std::string field = api::member_path(path, key);
  if (it == object.end()) return std::optional<std::uint64_t>{};
  if (it->is_number_unsigned()) return std::optional<std::uint64_t>{it->get<std::uint64_t>()};
  if (it->is_number_integer()) return api::invalid_field(field, "must not be negative (is " + it->dump() + ")");
  return api::wrong_type(field, "a non-negative integer", *it);
}

Result<std::optional<model::Labels>> optional_labels(const json& object, std::string_view key, std::string_view path) {
  auto it = object.find(key);
  std::string field = api::member_path(path, key);
  if (it == object.end()) return std::optional<model::Labels>{};
  if (!it->is_object()) return api::wrong_type(field, "an object of strings", *it);
  model::Labels labels;
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return api::wrong_type(api::member_path(field, k), "a string", v);
    labels.emplace(k, v.get<std::string>());
  }
  if (auto s = api::validate_labels(labels, field); !s) return s.error();
  return std::optional<model::Labels>{std::move(labels)};
}

Result<std::optional<std::vector<model::Taint>>> optional_taints(const json& object, std::string_view key,
                                                                 std::string_view path, bool allow_strings) {
  auto it = object.find(key);
  std::string field = api::member_path(path, key);
  if (it == object.end()) return std::optional<std::vector<model::Taint>>{};
  if (!it->is_array()) return api::wrong_type(field, "an array", *it);
  if (it->size() > api::kMaxTaints) {
    return api::invalid_field(field, "at most " + std::to_string(api::kMaxTaints) + " taints are allowed (got " +
                                         std::to_string(it->size()) + ")");
  }
  std::vector<model::Taint> taints;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    std::string item = api::index_path(field, i);
    if (allow_strings && t.is_string()) {
      auto parsed = parse_taint_string(t.get<std::string>(), item);
      if (!parsed) return parsed.error();
      taints.push_back(std::move(parsed).value());
      continue;
    }
    if (!t.is_object()) return api::wrong_type(item, allow_strings ? "an object or a string" : "an object", t);
    model::Taint taint;
    auto k = api::required_string(t, "key", item);
    if (!k) return k.error();
    taint.key = std::move(k).value();
    auto v = api::optional_string(t, "value", item);
    if (!v) return v.error();
    taint.value = v->value_or("");
    auto e = api::required_string(t, "effect", item);
    if (!e) return e.error();
    taint.effect = std::move(e).value();
    taints.push_back(std::move(taint));
  }
  if (auto s = api::validate_taints(taints, field); !s) return s.error();
  return std::optional<std::vector<model::Taint>>{std::move(taints)};
}

std::string token_problem(std::string_view value, std::size_t max_size) {
  if (value.empty()) return "must not be empty";
  if (value.size() > max_size) {
    return "must be at most " + std::to_string(max_size) + " characters (is " + std::to_string(value.size()) + ")";
  }
  for (char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '+';
    if (!ok) return "must consist of letters, digits, '.', '_', '-' and '+'";
  }
  return {};
}

Result<std::optional<std::string>> optional_token(const json& object, std::string_view key, std::string_view path,
                                                  std::size_t max_size) {
  auto s = api::optional_string(object, key, path);
  if (!s) return s.error();
  if (*s) {
    if (std::string p = token_problem(**s, max_size); !p.empty()) {
      return api::invalid_field(api::member_path(path, key), p);
    }
  }
  return s;
}

}  // namespace fleet::agent
