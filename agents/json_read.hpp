#pragma once
// Typed JSON members the api helpers (api/json_body.hpp) do not cover: bounded numbers, unsigned 64-bit
// integers, string maps and taints. Errors are kInvalid `invalid-field` and name the JSON path.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"

namespace fleet::agent {

// A finite number (integer or not) within [min, max]; nullopt when absent.
Result<std::optional<double>> optional_number(const nlohmann::json& object, std::string_view key, std::string_view path,
                                              double min, double max);
// A non-negative integer up to 2^64-1 (seeds, sequence numbers); nullopt when absent.
Result<std::optional<std::uint64_t>> optional_uint64(const nlohmann::json& object, std::string_view key,
                                                     std::string_view path);
// An object of string values checked as Kubernetes labels (api::validate_labels); nullopt when absent.
Result<std::optional<model::Labels>> optional_labels(const nlohmann::json& object, std::string_view key,
                                                     std::string_view path);
// An array of taints, each {"key","value","effect"} or, when `allow_strings`, "key=value:Effect"; checked with
// api::validate_taints. nullopt when absent.
Result<std::optional<std::vector<model::Taint>>> optional_taints(const nlohmann::json& object, std::string_view key,
                                                                 std::string_view path, bool allow_strings);
// A string of 1..max_size characters from [A-Za-z0-9._+-] (versions, image names); nullopt when absent.
Result<std::optional<std::string>> optional_token(const nlohmann::json& object, std::string_view key,
                                                  std::string_view path, std::size_t max_size);
// What is wrong with `value` as such a token, or "" when it is fine.
std::string token_problem(std::string_view value, std::size_t max_size);

}  // namespace fleet::agent
