#include "rollout/step.hpp"

#include <algorithm>
#include <cstdint>

#include "model/field_path.hpp"
#include "model/inventory.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::rollout {
namespace {

using nlohmann::json;

Result<int> count_member(const json& j, std::string_view key) {
  auto v = model::optional_integer(j, key, "", 0, static_cast<std::int64_t>(model::kMaxNodes));
  if (!v) return v.error();
  if (!*v) return model::missing_field(key);
  return static_cast<int>(**v);
}

}  // namespace

json to_json(const Step& step) {
  json out = {{"kind", step.kind == StepKind::kControlPlane ? "ControlPlane" : "NodePool"},
              {"nodes", step.nodes},
              {"gpuNodes", step.gpu_nodes}};
  if (step.kind == StepKind::kNodePool) out["pool"] = step.pool;
  if (step.kubernetes_version) out["kubernetesVersion"] = model::to_string(*step.kubernetes_version);
  if (!step.node_image.empty()) out["nodeImage"] = step.node_image;
  if (!step.from_node_image.empty()) out["fromNodeImage"] = step.from_node_image;
  if (!step.replacement.empty()) out["replacementPool"] = step.replacement;
  return out;
}

Result<Step> step_from_json(const json& j) {
  if (!j.is_object()) {
    return make_error(ErrorCode::kInvalid, "a step must be a JSON object, got " + model::json_type_name(j), "",
                      "invalid-field");
  }
  auto kind = model::required_string(j, "kind", "");
  if (!kind) return kind.error();
  Step out;
  if (*kind == "ControlPlane") {
    out.kind = StepKind::kControlPlane;
  } else if (*kind == "NodePool") {
    out.kind = StepKind::kNodePool;
  } else {
    return model::invalid_field("kind", "must be ControlPlane or NodePool (is \"" + *kind + "\")");
  }
  // A control-plane hop has no pool and no image: refuse them rather than drop them.
  auto known = out.kind == StepKind::kControlPlane
                   ? model::reject_unknown_fields(j, {"kind", "kubernetesVersion", "nodes", "gpuNodes"}, "")
                   : model::reject_unknown_fields(j,
                                                  {"kind", "pool", "kubernetesVersion", "nodeImage", "fromNodeImage",
                                                   "replacementPool", "nodes", "gpuNodes"},
                                                  "");
  if (!known) return known.error();

  if (out.kind == StepKind::kNodePool) {
    auto pool = model::required_string(j, "pool", "");
    if (!pool) return pool.error();
    if (auto s = model::validate_dns1123_label(*pool, "pool"); !s) return s.error();
    out.pool = *pool;
    auto replacement = model::optional_string(j, "replacementPool", "");
    if (!replacement) return replacement.error();
    if (*replacement) {
      if (auto s = model::validate_dns1123_label(**replacement, "replacementPool"); !s) return s.error();
      if (**replacement == out.pool) return model::invalid_field("replacementPool", "must differ from pool");
      out.replacement = **replacement;
    }
  }
  auto version = model::optional_string(j, "kubernetesVersion", "");
  if (!version) return version.error();
  if (*version) {
    auto v = model::parse_kubernetes_version(**version);
    if (!v) return model::invalid_field("kubernetesVersion", "must be a version such as 1.32.7");
    out.kubernetes_version = *v;
  }
  auto image = model::optional_token(j, "nodeImage", "", model::kMaxVersionLength);
  if (!image) return image.error();
  out.node_image = image->value_or("");
  auto from_image = model::optional_token(j, "fromNodeImage", "", model::kMaxVersionLength);
  if (!from_image) return from_image.error();
  out.from_node_image = from_image->value_or("");
  if (out.kind == StepKind::kControlPlane && !out.kubernetes_version) return model::missing_field("kubernetesVersion");
  if (out.kind == StepKind::kNodePool && !out.kubernetes_version && out.node_image.empty()) {
    return make_error(ErrorCode::kInvalid, "a node pool step needs kubernetesVersion, nodeImage or both", "",
                      "missing-field");
  }
  auto nodes = count_member(j, "nodes");
  if (!nodes) return nodes.error();
  out.nodes = *nodes;
  auto gpu = count_member(j, "gpuNodes");
  if (!gpu) return gpu.error();
  if (*gpu > out.nodes) {
    return model::invalid_field("gpuNodes", "must not be more than nodes (" + std::to_string(out.nodes) + ")");
  }
  out.gpu_nodes = *gpu;
  return out;
}

std::string describe(const Step& step) {
  std::string target;
  if (step.kubernetes_version) target = model::to_string(*step.kubernetes_version);
  if (!step.node_image.empty()) target += (target.empty() ? "" : ", ") + step.node_image;
  if (target.empty()) target = "unchanged";
  if (step.kind == StepKind::kControlPlane) return "control plane → " + target;
  const std::string into = step.replacement.empty() ? "" : step.replacement + " at ";
  std::string out = "pool " + step.pool + " → " + into + target + " (" + std::to_string(step.nodes) +
                    (step.nodes == 1 ? " node" : " nodes");
  if (step.gpu_nodes > 0) out += ", " + std::to_string(step.gpu_nodes) + " GPU";
  return out + (step.replacement.empty() ? ")" : ", blue-green)");
}

std::string replacement_pool_name(const std::string& pool, const std::set<std::string>& taken) {
  constexpr std::size_t kAksPoolNameLength = 12;
  constexpr std::size_t kMaxCounterDigits = 6;  // longer runs of digits are part of the name, not a counter
  std::size_t stem_length = pool.size();
  while (stem_length > 0 && pool[stem_length - 1] >= '0' && pool[stem_length - 1] <= '9') --stem_length;
  int number = 1;  // a name without a counter is the first of its line
  if (pool.size() - stem_length > kMaxCounterDigits) {
    stem_length = pool.size();
  } else if (stem_length < pool.size()) {
    number = std::stoi(pool.substr(stem_length));
  }
  const std::size_t limit = std::max(kAksPoolNameLength, pool.size());
  for (++number;; ++number) {
    std::string stem = pool.substr(0, stem_length);
    const std::string suffix = std::to_string(number);
    if (stem.size() + suffix.size() > limit) stem.resize(limit - suffix.size());
    if (stem.empty()) stem = "p";  // a pool named only by digits ("1" → "p2"): a DNS label starts with a letter here
    std::string name = stem + suffix;
    if (taken.count(name) == 0) return name;
  }
}

}  // namespace fleet::rollout
