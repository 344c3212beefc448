#pragma once
// An override's JSON (POST/PUT /v1/overrides) to placement::Override and back. Strict: unknown members are 422
// unknown-field and every error names its member by JSON path (`rules[3].jsonPatches[2].path`).
//
//   override := {
//     "name": DNS label,                                             required
//     "workloads": [workload name, …],                               required, 1..kMaxOverrideWorkloads (kept sorted)
//     "rules": [{                                                    required, 1..kMaxOverrideRules
//       "clusterSelector": {"labelSelector": Kubernetes selector},   optional; absent or "": every cluster
//       "jsonPatches": [{"op": "add"|"remove"|"replace"|"move"|"copy"|"test",
//                        "path": JSON Pointer, "from": JSON Pointer (move, copy), "value": any (add, replace, test)}]
//     }] }                                                           1..kMaxPatchesPerRule each
//
// Paths address the workload's manifests array ("/0/spec/template/spec/containers/0/image"). The whole object is at
// most kMaxOverrideBytes of compact JSON. to_json writes every member in this shape, so that
// override_from_json(to_json(o)) == o.
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "placement/override.hpp"

namespace fleet::placement {

Result<Override> override_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Override& o);

std::string_view to_string(PatchOpKind op);
// What is wrong with `pointer` as an RFC 6901 JSON Pointer, or "" when it is one.
std::string pointer_problem(std::string_view pointer);

}  // namespace fleet::placement
