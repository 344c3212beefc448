#pragma once
// `fleetctl label cluster NAME k=v k2-` with kubectl's rules: a new value for an existing key needs --overwrite,
// `k-` removes k, and the change goes to the server as a JSON merge patch of `labels` alone, so concurrent edits of
// other keys are not lost.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace fleet::ctl {

struct LabelChanges {
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
};

// Syntax and label rules are checked here, before any request: kInvalid (a usage error) naming the bad argument.
Result<LabelChanges> parse_label_args(const std::vector<std::string>& args);

struct LabelPatch {
  nlohmann::json body;                // {"labels": {"k": "v", "gone": null}}; {"labels": {}} when nothing changes
  std::vector<std::string> warnings;  // e.g. `label "k" not found.`
  bool changes() const { return !body["labels"].empty(); }
};

// Against the cluster's current labels. A different value for an existing key without `overwrite` is a kConflict
// Error ("'env' already has a value (prod), and --overwrite is false").
Result<LabelPatch> make_label_patch(const LabelChanges& changes, const nlohmann::json& current_labels, bool overwrite);

}  // namespace fleet::ctl
