#include "fleetctl/label_args.hpp"

#include <algorithm>

#include "model/names.hpp"

namespace fleet::ctl {

Result<LabelChanges> parse_label_args(const std::vector<std::string>& args) {
  if (args.empty()) return make_error(ErrorCode::kInvalid, "at least one label update is required (k=v or k-)");
  LabelChanges changes;
  for (const auto& arg : args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos && arg.size() > 1 && arg.back() == '-') {
      const std::string key = arg.substr(0, arg.size() - 1);
      if (auto problem = model::label_key_problem(key); !problem.empty()) {
        return make_error(ErrorCode::kInvalid, "invalid label key in \"" + arg + "\": " + problem);
      }
      if (changes.set.count(key)) {
        return make_error(ErrorCode::kInvalid, "cannot both modify and remove label \"" + key + "\" in one command");
      }
      if (std::find(changes.remove.begin(), changes.remove.end(), key) == changes.remove.end()) {
        changes.remove.push_back(key);
      }
      continue;
    }
    if (eq == std::string::npos) {
      return make_error(ErrorCode::kInvalid, "invalid label update \"" + arg + "\": expected key=value or key-");
    }
    const std::string key = arg.substr(0, eq);
    const std::string value = arg.substr(eq + 1);
    if (auto problem = model::label_key_problem(key); !problem.empty()) {
      return make_error(ErrorCode::kInvalid, "invalid label key in \"" + arg + "\": " + problem);
    }
    if (auto problem = model::label_value_problem(value); !problem.empty()) {
      return make_error(ErrorCode::kInvalid, "invalid label value in \"" + arg + "\": " + problem);
    }
    if (std::find(changes.remove.begin(), changes.remove.end(), key) != changes.remove.end()) {
      return make_error(ErrorCode::kInvalid, "cannot both modify and remove label \"" + key + "\" in one command");
    }
    auto [it, inserted] = changes.set.emplace(key, value);
    if (!inserted && it->second != value) {
      return make_error(ErrorCode::kInvalid, "label \"" + key + "\" is given two different values");
    }
  }
  return changes;
}

Result<LabelPatch> make_label_patch(const LabelChanges& changes, const nlohmann::json& current_labels, bool overwrite) {
  LabelPatch patch;
  patch.body = {{"labels", nlohmann::json::object()}};
  auto& labels = patch.body["labels"];
  const bool have = current_labels.is_object();
  for (const auto& [key, value] : changes.set) {
    if (have && current_labels.contains(key)) {
      const auto& old = current_labels[key];
      if (old.is_string() && old.get<std::string>() == value) continue;
      if (!overwrite) {
        const std::string old_text = old.is_string() ? old.get<std::string>() : old.dump();
        return make_error(ErrorCode::kConflict,
                          "'" + key + "' already has a value (" + old_text + "), and --overwrite is false");
      }
    }
    labels[key] = value;
  }
  for (const auto& key : changes.remove) {
    if (!have || !current_labels.contains(key)) {
      patch.warnings.push_back("label \"" + key + "\" not found.");
      continue;
    }
    labels[key] = nullptr;
  }
  return patch;
}

}  // namespace fleet::ctl
