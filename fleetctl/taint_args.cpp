#include "fleetctl/taint_args.hpp"

#include <algorithm>

#include "fleetctl/json_fields.hpp"
#include "model/names.hpp"

namespace fleet::ctl {
namespace {

bool valid_effect(const std::string& effect) {
  return effect == "NoSchedule" || effect == "PreferNoSchedule" || effect == "NoExecute";
}

Error bad(const std::string& arg, const std::string& why) {
  return make_error(ErrorCode::kInvalid, "invalid taint \"" + arg + "\": " + why);
}

std::string spec(const std::string& key, const std::string& effect) {
  return effect.empty() ? key : key + ":" + effect;
}

}  // namespace

Result<std::vector<TaintChange>> parse_taint_args(const std::vector<std::string>& args) {
  if (args.empty())
    return make_error(ErrorCode::kInvalid, "at least one taint is required (k=v:Effect, k:Effect- or k-)");
  std::vector<TaintChange> changes;
  for (const auto& arg : args) {
    TaintChange change;
    std::string text = arg;
    if (!text.empty() && text.back() == '-') {
      change.remove = true;
      text.pop_back();
    }
    const auto colon = text.find(':');
    std::string key_value = text.substr(0, colon);
    if (colon != std::string::npos) change.effect = text.substr(colon + 1);
    const auto eq = key_value.find('=');
    change.key = key_value.substr(0, eq);
    if (eq != std::string::npos) change.value = key_value.substr(eq + 1);

    if (auto problem = model::label_key_problem(change.key); !problem.empty()) return bad(arg, "key " + problem);
    if (auto problem = model::label_value_problem(change.value); !problem.empty()) return bad(arg, "value " + problem);
    if (colon != std::string::npos && !valid_effect(change.effect)) {
      return bad(arg, "the effect must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    if (!change.remove && change.effect.empty()) return bad(arg, "expected key=value:Effect or key:Effect");
    for (const auto& other : changes) {
      const bool same_key = other.key == change.key;
      const bool overlapping =
          same_key && (other.effect == change.effect || other.effect.empty() || change.effect.empty());
      if (overlapping && other.remove != change.remove) {
        return bad(arg, "cannot both add and remove taint \"" + spec(change.key, change.effect) + "\" in one command");
      }
      if (same_key && !change.remove && other.effect == change.effect && other.value != change.value) {
        return bad(arg, "taint \"" + spec(change.key, change.effect) + "\" is given two different values");
      }
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

Result<TaintUpdate> apply_taint_changes(const std::vector<TaintChange>& changes, const nlohmann::json& current,
                                        bool overwrite) {
  nlohmann::json taints = current.is_array() ? current : nlohmann::json::array();
  TaintUpdate update;
  auto matches = [](const nlohmann::json& t, const std::string& key, const std::string& effect) {
    return string_field(t, "key") == key && (effect.empty() || string_field(t, "effect") == effect);
  };
  for (const auto& change : changes) {
    if (change.remove) {
      const auto before = taints.size();
      nlohmann::json kept = nlohmann::json::array();
      for (const auto& t : taints) {
        if (!matches(t, change.key, change.effect)) kept.push_back(t);
      }
      if (kept.size() == before) {
        return make_error(ErrorCode::kNotFound, "taint \"" + spec(change.key, change.effect) + "\" not found");
      }
      taints = std::move(kept);
      continue;
    }
    nlohmann::json taint = {{"key", change.key}, {"value", change.value}, {"effect", change.effect}};
    auto existing = std::find_if(taints.begin(), taints.end(),
                                 [&](const nlohmann::json& t) { return matches(t, change.key, change.effect); });
    if (existing == taints.end()) {
      taints.push_back(std::move(taint));
    } else if (!overwrite) {
      return make_error(ErrorCode::kConflict,
                        "taint \"" + spec(change.key, change.effect) + "\" already exists, and --overwrite is false");
    } else {
      *existing = std::move(taint);
    }
  }
  update.taints = std::move(taints);
  return update;
}

}  // namespace fleet::ctl
