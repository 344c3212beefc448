#include "model/names.hpp"

#include <set>
#include <utility>

#include "model/field_path.hpp"

namespace fleet::model {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

std::string too_long(std::size_t size, std::size_t max) {
  return "must be at most " + std::to_string(max) + " characters (is " + std::to_string(size) + ")";
}

// The Kubernetes "qualified name" part, shared by label names and non-empty label values.
std::string label_name_chars_problem(std::string_view v) {
  bool chars_ok = true;
  for (char c : v) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') chars_ok = false;
  }
  if (!chars_ok || !is_alnum(v.front()) || !is_alnum(v.back())) {
    return "must consist of letters, digits, '-', '_' and '.', and start and end with a letter or digit";
  }
  return {};
}

}  // namespace

std::string dns1123_label_problem(std::string_view v) {
  if (v.empty()) return "must not be empty";
  if (v.size() > kMaxDns1123Label) return too_long(v.size(), kMaxDns1123Label);
  bool chars_ok = true;
  for (char c : v) {
    if (!is_lower_alnum(c) && c != '-') chars_ok = false;
  }
  if (!chars_ok || !is_lower_alnum(v.front()) || !is_lower_alnum(v.back())) {
    return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or "
           "digit";
  }
  return {};
}

std::string dns1123_subdomain_problem(std::string_view v) {
  if (v.empty()) return "must not be empty";
  if (v.size() > kMaxDns1123Subdomain) return too_long(v.size(), kMaxDns1123Subdomain);
  std::size_t start = 0;
  while (true) {
    std::size_t dot = v.find('.', start);
    std::string_view part = v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    bool ok = !part.empty() && is_lower_alnum(part.front()) && is_lower_alnum(part.back());
    for (char c : part) {
      if (!is_lower_alnum(c) && c != '-') ok = false;
    }
    if (!ok) {
      return "must be a DNS-1123 subdomain: dot-separated parts of lower-case letters, digits and '-', each "
             "starting and ending with a letter or digit";
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

std::string label_key_problem(std::string_view key) {
  if (key.empty()) return "label key must not be empty";
  std::string_view name = key;
  std::size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (key.find('/', slash + 1) != std::string_view::npos) {
      return "label key must be a name with an optional DNS-1123 subdomain prefix (prefix/name), with one '/'";
    }
    std::string_view prefix = key.substr(0, slash);
    if (prefix.empty()) return "label key prefix must not be empty when a '/' is present";
    if (std::string p = dns1123_subdomain_problem(prefix); !p.empty()) return "label key prefix " + p;
    name = key.substr(slash + 1);
  }
  if (name.empty()) return "label key name must not be empty";
  if (name.size() > kMaxLabelName) return "label key name " + too_long(name.size(), kMaxLabelName);
  if (std::string p = label_name_chars_problem(name); !p.empty()) return "label key name " + p;
  return {};
}

std::string label_value_problem(std::string_view value) {
  if (value.empty()) return {};
  if (value.size() > kMaxLabelValue) return "label value " + too_long(value.size(), kMaxLabelValue);
  if (std::string p = label_name_chars_problem(value); !p.empty()) return "label value " + p;
  return {};
}

Error invalid_field(std::string_view field, std::string_view problem) {
  std::string message(field);
  if (!message.empty()) message += ": ";
  message += problem;
  return make_error(ErrorCode::kInvalid, std::move(message), std::string(field), "invalid-field");
}

namespace {
Status check(const std::string& problem, std::string_view field) {
  if (problem.empty()) return Ok{};
  return invalid_field(field, problem);
}
}  // namespace

Status validate_dns1123_label(std::string_view value, std::string_view field) {
  return check(dns1123_label_problem(value), field);
}

Status validate_dns1123_subdomain(std::string_view value, std::string_view field) {
  return check(dns1123_subdomain_problem(value), field);
}

Status validate_label_key(std::string_view key, std::string_view field) {
  return check(label_key_problem(key), field);
}

Status validate_label_value(std::string_view value, std::string_view field) {
  return check(label_value_problem(value), field);
}

Status validate_labels(const model::Labels& labels, std::string_view field) {
  if (labels.size() > kMaxLabels) {
    return invalid_field(field, "at most " + std::to_string(kMaxLabels) + " labels are allowed (got " +
                                    std::to_string(labels.size()) + ")");
  }
  for (const auto& [key, value] : labels) {
    std::string path = member_path(field, key);
    if (auto s = validate_label_key(key, path); !s) return s;
    if (auto s = validate_label_value(value, path); !s) return s;
  }
  return Ok{};
}

Status validate_taint(const model::Taint& taint, std::string_view field) {
  if (auto s = validate_label_key(taint.key, member_path(field, "key")); !s) return s;
  if (auto s = validate_label_value(taint.value, member_path(field, "value")); !s) return s;
  if (taint.effect != "NoSchedule" && taint.effect != "PreferNoSchedule" && taint.effect != "NoExecute") {
    return invalid_field(member_path(field, "effect"), "must be one of NoSchedule, PreferNoSchedule, NoExecute");
  }
  return Ok{};
}

Status validate_taints(const std::vector<model::Taint>& taints, std::string_view field) {
  if (taints.size() > kMaxTaints) {
    return invalid_field(field, "at most " + std::to_string(kMaxTaints) + " taints are allowed (got " +
                                    std::to_string(taints.size()) + ")");
  }
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (std::size_t i = 0; i < taints.size(); ++i) {
    std::string path = index_path(field, i);
    if (auto s = validate_taint(taints[i], path); !s) return s;
    if (!seen.emplace(taints[i].key, taints[i].effect).second) {
      return invalid_field(path, "duplicate taint: key and effect must be unique across taints");
    }
  }
  return Ok{};
}

Status validate_region(std::string_view region, std::string_view field) {
  if (region.size() > kMaxRegion) return invalid_field(field, too_long(region.size(), kMaxRegion));
  for (char c : region) {
    if (!is_lower_alnum(c) && c != '-') {
      return invalid_field(field, "must consist of lower-case letters, digits and '-'");
    }
  }
  return Ok{};
}

Status validate_update_group(std::string_view group, std::string_view field) {
  if (group.empty()) return Ok{};
  return validate_dns1123_label(group, field);
}

Status validate_provider(std::string_view provider, std::string_view field) {
  std::string allowed;
  for (const char* p : model::kProviders) {
    if (provider == p) return Ok{};
    allowed += allowed.empty() ? "" : ", ";
    allowed += p;
  }
  return invalid_field(field, "must be one of " + allowed);
}

}  // namespace fleet::model
