#pragma once
// The cluster object on the wire (docs/api.md "Cluster object"): request bodies in, response objects out.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"

namespace fleet::api {

// A parsed merge patch. `"labels": null` means "remove every label", which model::ClusterPatch cannot express
// without the current labels (a map of removals needs the keys, and reading them at parse time would race with
// concurrent writers); so it travels as a flag next to the patch, and patch.labels is then engaged and empty.
struct ClusterPatchRequest {
  model::ClusterPatch patch;
  bool clear_labels = false;
};

// POST /v1/clusters body (already a JSON object). Every rule of docs/api.md; server-owned fields (id, state,
// resourceVersion, …) and anything else unknown → 422 unknown-field; errors name the field.
Result<model::ClusterCreate> parse_cluster_create(const nlohmann::json& body);

// PATCH /v1/clusters/{name} body, RFC 7386 semantics: absent = unchanged; `labels` merges (a null value removes
// that key, `labels: null` removes all); `taints` is replaced whole (null → none); `region` and `updateGroup`
// are replaced (null → ""). `name` and `provider` → 422 invalid-field (immutable); others → unknown-field.
Result<ClusterPatchRequest> parse_cluster_patch(const nlohmann::json& body);

// Applies a parsed patch to the current object (labels, taints, region, update group only) and checks what only
// the result can tell: at most kMaxLabels labels. The store calls it inside its read-modify-write transaction.
Result<model::Cluster> apply_cluster_patch(model::Cluster current, const ClusterPatchRequest& request);

nlohmann::json to_json(const model::Taint& taint);
// Field names of docs/api.md; resourceVersion as a decimal string; RFC 3339 timestamps; lastHeartbeat null when
// the agent has never reported.
nlohmann::json to_json(const model::Cluster& cluster);
// {"items": [...], "continue": token}; `continue` only when there is a next page.
nlohmann::json to_list_json(const std::vector<model::Cluster>& items, const std::optional<std::string>& next_token);

}  // namespace fleet::api
