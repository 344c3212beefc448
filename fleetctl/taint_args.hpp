#pragma once
// `fleetctl taint cluster NAME k=v:Effect k:Effect- k-` with kubectl's rules. Taints are a JSON array, which a merge
// patch replaces whole: the new array is computed from a GET and sent with If-Match so a concurrent edit is
// detected (412) rather than overwritten.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace fleet::ctl {

struct TaintChange {
  std::string key;
  std::string value;
  std::string effect;  // empty only for a removal of every effect (`k-`)
  bool remove = false;
};

// kInvalid (a usage error) for bad syntax, a bad key/value/effect, or contradicting arguments.
Result<std::vector<TaintChange>> parse_taint_args(const std::vector<std::string>& args);

struct TaintUpdate {
  nlohmann::json taints;  // the complete new array
};

// Adding a key+effect that exists needs `overwrite` (kConflict otherwise); removing one that does not exist is
// kNotFound ("taint \"k:NoSchedule\" not found").
Result<TaintUpdate> apply_taint_changes(const std::vector<TaintChange>& changes, const nlohmann::json& current,
                                        bool overwrite);

}  // namespace fleet::ctl
