#pragma once
// A per-cluster override (issue #15 item 2): for the workloads it names, rules that each select clusters by their
// labels and carry JSON Patch operations (RFC 6902) on the workload's manifests. Shaped after KubeFleet's
// ResourceOverride (overrideRules of a clusterSelector and jsonPatchOverrides), but it names workloads instead of a
// placement and its patches address the workload's manifests array as one document ("/0/spec/replicas"), so a
// patch is plain RFC 6902 with nothing of ours in its paths. Plain data, validated by override_json.hpp; applied by
// manifest_override.hpp.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/label_selector.hpp"

namespace fleet::placement {

inline constexpr std::size_t kMaxOverrideRules = 20;
inline constexpr std::size_t kMaxPatchesPerRule = 20;
inline constexpr std::size_t kMaxOverrideWorkloads = 100;
// Compact JSON of the whole override: a few image names and replica counts are far below it, and every cluster's
// binding applies the override again, so a large one costs on every placement round.
inline constexpr std::size_t kMaxOverrideBytes = 64 * 1024;
inline constexpr std::size_t kMaxPointerLength = 1024;

enum class PatchOpKind { kAdd, kRemove, kReplace, kMove, kCopy, kTest };

struct PatchOp {
  PatchOpKind op = PatchOpKind::kAdd;
  std::string path;                     // a JSON Pointer (RFC 6901) into the manifests array
  std::string from;                     // move and copy only
  std::optional<nlohmann::json> value;  // add, replace and test only (and required there)
  bool operator==(const PatchOp&) const = default;
};

struct OverrideRule {
  model::LabelSelector cluster_selector;  // empty: every cluster
  std::vector<PatchOp> patches;           // 1..kMaxPatchesPerRule
  bool operator==(const OverrideRule&) const = default;
};

struct Override {
  std::string name;
  std::vector<std::string> workloads;  // names, sorted and unique, 1..kMaxOverrideWorkloads
  std::vector<OverrideRule> rules;     // 1..kMaxOverrideRules, applied in order
  bool operator==(const Override&) const = default;
};

// An override as stored: its generation moves when its rules or workloads change, so a binding's record of what it
// applied tells whether the cluster runs the current version of it.
struct VersionedOverride {
  Override value;
  std::int64_t generation = 1;
};

}  // namespace fleet::placement
