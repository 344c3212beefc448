#include "model/json_read.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "model/field_path.hpp"
#include "model/inventory.hpp"
#include "model/names.hpp"

namespace fleet::model {
namespace {

using nlohmann::json;

std::string format_number(double v) {
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

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

Result<std::optional<double>> optional_number(const json& object, std::string_view key, std::string_view path,
                                              double min, double max) {
  auto it = object.find(key);
  std::string field = model::member_path(path, key);
  if (it == object.end()) return std::optional<double>{};
  if (!it->is_number()) return model::wrong_type(field, "a number", *it);
  double v = it->get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    return model::invalid_field(
        field, "must be between " + format_number(min) + " and " + format_number(max) + " (is " + it->dump() + ")");
  }
  return std::optional<double>{v};
}

Result<std::optional<std::uint64_t>> optional_uint64(const json& object, std::string_view key, std::string_view path) {
  auto it = object.find(key);
  std::string field = model::member_path(path, key);
  if (it == object.end()) return std::optional<std::uint64_t>{};
  if (it->is_number_unsigned()) return std::optional<std::uint64_t>{it->get<std::uint64_t>()};
  // A document built in code (not parsed from text) holds a positive integer as signed.
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
    return std::optional<std::uint64_t>{static_cast<std::uint64_t>(it->get<std::int64_t>())};
  }
  if (it->is_number_integer()) return model::invalid_field(field, "must not be negative (is " + it->dump() + ")");
  return model::wrong_type(field, "a non-negative integer", *it);
}

Result<std::optional<model::Labels>> optional_labels(const json& object, std::string_view key, std::string_view path) {
  auto it = object.find(key);
  std::string field = model::member_path(path, key);
  if (it == object.end()) return std::optional<model::Labels>{};
  if (!it->is_object()) return model::wrong_type(field, "an object of strings", *it);
  model::Labels labels;
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return model::wrong_type(model::member_path(field, k), "a string", v);
    labels.emplace(k, v.get<std::string>());
  }
  if (auto s = model::validate_labels(labels, field); !s) return s.error();
  return std::optional<model::Labels>{std::move(labels)};
}

Result<std::optional<std::vector<model::Taint>>> optional_taints(const json& object, std::string_view key,
                                                                 std::string_view path, bool allow_strings) {
  auto it = object.find(key);
  std::string field = model::member_path(path, key);
  if (it == object.end()) return std::optional<std::vector<model::Taint>>{};
  if (!it->is_array()) return model::wrong_type(field, "an array", *it);
  if (it->size() > model::kMaxTaints) {
    return model::invalid_field(field, "at most " + std::to_string(model::kMaxTaints) + " taints are allowed (got " +
                                           std::to_string(it->size()) + ")");
  }
  std::vector<model::Taint> taints;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    std::string item = model::index_path(field, i);
    if (allow_strings && t.is_string()) {
      auto parsed = parse_taint_string(t.get<std::string>(), item);
      if (!parsed) return parsed.error();
      taints.push_back(std::move(parsed).value());
      continue;
    }
    if (!t.is_object()) return model::wrong_type(item, allow_strings ? "an object or a string" : "an object", t);
    model::Taint taint;
    auto k = model::required_string(t, "key", item);
    if (!k) return k.error();
    taint.key = std::move(k).value();
    auto v = model::optional_string(t, "value", item);
    if (!v) return v.error();
    taint.value = v->value_or("");
    auto e = model::required_string(t, "effect", item);
    if (!e) return e.error();
    taint.effect = std::move(e).value();
    taints.push_back(std::move(taint));
  }
  if (auto s = model::validate_taints(taints, field); !s) return s.error();
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
  auto s = model::optional_string(object, key, path);
  if (!s) return s.error();
  if (*s) {
    if (std::string p = token_problem(**s, max_size); !p.empty()) {
      return model::invalid_field(model::member_path(path, key), p);
    }
  }
  return s;
}

Result<LabelSelector> label_selector_at(std::string_view text, std::string_view field) {
  auto parsed = parse_label_selector(text);
  if (parsed) return parsed;
  std::string message = parsed.error().message;
  constexpr std::string_view kPrefix = "labelSelector: ";
  if (message.starts_with(kPrefix)) message.erase(0, kPrefix.size());
  return invalid_field(field, message);
}

}  // namespace fleet::model
