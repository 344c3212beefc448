#pragma once
// Validation of names, labels, taints and the other constrained strings of docs/api.md. Every failure is a
// kInvalid Error of type `invalid-field` whose `field` is the JSON path given and whose message starts with it.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "model/cluster.hpp"

namespace fleet::model {

inline constexpr std::size_t kMaxDns1123Label = 63;
inline constexpr std::size_t kMaxDns1123Subdomain = 253;
inline constexpr std::size_t kMaxLabelName = 63;
inline constexpr std::size_t kMaxLabelValue = 63;
inline constexpr std::size_t kMaxRegion = 63;
inline constexpr std::size_t kMaxLabels = 64;
inline constexpr std::size_t kMaxTaints = 32;

// The checks without an Error around them, for callers that report in another shape (the selector parser reports
// `invalid-query`). Each returns what is wrong in a phrase ("must be at most 63 characters"), or "" when valid.
std::string dns1123_label_problem(std::string_view value);
std::string dns1123_subdomain_problem(std::string_view value);
std::string label_key_problem(std::string_view key);
std::string label_value_problem(std::string_view value);

// An invalid-field Error for `field` whose message is "<field>: <problem>".
Error invalid_field(std::string_view field, std::string_view problem);

Status validate_dns1123_label(std::string_view value, std::string_view field);
Status validate_dns1123_subdomain(std::string_view value, std::string_view field);
Status validate_label_key(std::string_view key, std::string_view field);
Status validate_label_value(std::string_view value, std::string_view field);
// At most kMaxLabels; a bad key or value is reported at `field."<key>"`.
Status validate_labels(const model::Labels& labels, std::string_view field);
// key a label key, value a label value (may be empty), effect NoSchedule | PreferNoSchedule | NoExecute.
Status validate_taint(const model::Taint& taint, std::string_view field);
// At most kMaxTaints, each valid, unique by key+effect (what Kubernetes enforces on a node).
Status validate_taints(const std::vector<model::Taint>& taints, std::string_view field);
// 0-63 characters of [a-z0-9-]: cloud region names ("westeurope", "us-east-2"); empty means unknown.
Status validate_region(std::string_view region, std::string_view field);
// Empty (no group) or a DNS-1123 label.
Status validate_update_group(std::string_view group, std::string_view field);
// One of model::kProviders.
Status validate_provider(std::string_view provider, std::string_view field);

}  // namespace fleet::model
