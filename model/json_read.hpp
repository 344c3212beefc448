#pragma once
// Typed members of a parsed JSON document (requests, agent reports, the Fleet spec, command payloads), with
// errors that name the member by its JSON path (model/field_path.hpp). Every failure is kInvalid: `missing-field`,
// `unknown-field` or `invalid-field`. Nothing here knows HTTP.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"
#include "model/field_path.hpp"
#include "model/label_selector.hpp"
#include "model/names.hpp"

namespace fleet::model {

// "a string", "an object", "null", … for messages.
std::string json_type_name(const nlohmann::json& value);

// 422 unknown-field for the first member of `object` not in `allowed`, named by its path under `path`.
Status reject_unknown_fields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                             std::string_view path);

Error missing_field(std::string_view field);                                                     // 422 missing-field
Error wrong_type(std::string_view field, std::string_view expected, const nlohmann::json& got);  // 422 invalid-field

// Typed members. An absent member is nullopt (or missing-field for the required ones); a member of another type,
// null included, is invalid-field "<path>: must be <expected>, got <type>". Callers that give null a meaning
// (merge patch) check for it before calling these.
Result<std::string> required_string(const nlohmann::json& object, std::string_view key, std::string_view path);
Result<std::optional<std::string>> optional_string(const nlohmann::json& object, std::string_view key,
                                                   std::string_view path);
Result<std::optional<bool>> optional_bool(const nlohmann::json& object, std::string_view key, std::string_view path);
// Integers only (1.0 is refused), within [min, max].
Result<std::optional<std::int64_t>> optional_integer(const nlohmann::json& object, std::string_view key,
                                                     std::string_view path, std::int64_t min, std::int64_t max);
// The member itself when it is an object / array; nullopt when absent.
Result<const nlohmann::json*> optional_object(const nlohmann::json& object, std::string_view key,
                                              std::string_view path);
Result<const nlohmann::json*> optional_array(const nlohmann::json& object, std::string_view key, std::string_view path);

// A finite number (integer or not) within [min, max]; nullopt when absent.
Result<std::optional<double>> optional_number(const nlohmann::json& object, std::string_view key, std::string_view path,
                                              double min, double max);
// A non-negative integer up to 2^64-1 (seeds, sequence numbers); nullopt when absent.
Result<std::optional<std::uint64_t>> optional_uint64(const nlohmann::json& object, std::string_view key,
                                                     std::string_view path);
// An object of string values checked as Kubernetes labels (model::validate_labels); nullopt when absent.
Result<std::optional<model::Labels>> optional_labels(const nlohmann::json& object, std::string_view key,
                                                     std::string_view path);
// An array of taints, each {"key","value","effect"} or, when `allow_strings`, "key=value:Effect"; checked with
// model::validate_taints. nullopt when absent.
Result<std::optional<std::vector<model::Taint>>> optional_taints(const nlohmann::json& object, std::string_view key,
                                                                 std::string_view path, bool allow_strings);
// A string of 1..max_size characters from [A-Za-z0-9._+-] (versions, image names); nullopt when absent.
Result<std::optional<std::string>> optional_token(const nlohmann::json& object, std::string_view key,
                                                  std::string_view path, std::size_t max_size);
// What is wrong with `value` as such a token, or "" when it is fine.
std::string token_problem(std::string_view value, std::size_t max_size);

// The optional array member `key` (under `path`), each item read by `read(item, "<field>[i]")` into `out`; more than
// `max` items is "<field>: at most <max> <noun>". Absent: nothing. `read` returns a Result<T>.
template <class T, class Read>
Status optional_list(const nlohmann::json& object, std::string_view key, std::string_view path, std::size_t max,
                     std::string_view noun, Read read, std::vector<T>& out) {
  auto list = optional_array(object, key, path);
  if (!list) return list.error();
  if (!*list) return Ok{};
  const std::string field = member_path(path, key);
  if ((*list)->size() > max) {
    return invalid_field(field, "at most " + std::to_string(max) + " " + std::string(noun));
  }
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    auto item = read((**list)[i], index_path(field, i));
    if (!item) return item.error();
    out.push_back(std::move(item).value());
  }
  return Ok{};
}

// A label selector's text from the member at `field` ("strategy.stages[0].labelSelector"): its errors name that
// member, not the parser's own "labelSelector".
Result<LabelSelector> label_selector_at(std::string_view text, std::string_view field);

}  // namespace fleet::model
