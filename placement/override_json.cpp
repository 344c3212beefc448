#include "placement/override_json.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::placement {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<PatchOpKind, std::string_view>, 6> kOps = {{{PatchOpKind::kAdd, "add"},
                                                                           {PatchOpKind::kRemove, "remove"},
                                                                           {PatchOpKind::kReplace, "replace"},
                                                                           {PatchOpKind::kMove, "move"},
                                                                           {PatchOpKind::kCopy, "copy"},
                                                                           {PatchOpKind::kTest, "test"}}};

bool needs_value(PatchOpKind op) {
  return op == PatchOpKind::kAdd || op == PatchOpKind::kReplace || op == PatchOpKind::kTest;
}

bool needs_from(PatchOpKind op) {
  return op == PatchOpKind::kMove || op == PatchOpKind::kCopy;
}

Result<std::string> pointer_member(const json& j, std::string_view key, const std::string& path) {
  auto text = model::required_string(j, key, path);
  if (!text) return text.error();
  if (std::string problem = pointer_problem(*text); !problem.empty()) {
    return model::invalid_field(model::member_path(path, key), problem);
  }
  return std::move(*text);
}

Result<PatchOp> patch_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"op", "path", "from", "value"}, path); !s) return s.error();
  auto op_text = model::required_string(j, "op", path);
  if (!op_text) return op_text.error();
  const auto* found = std::find_if(kOps.begin(), kOps.end(), [&](const auto& o) { return o.second == *op_text; });
  if (found == kOps.end()) {
    return model::invalid_field(model::member_path(path, "op"),
                                "must be add, remove, replace, move, copy or test (got \"" + *op_text + "\")");
  }
  PatchOp op;
  op.op = found->first;
  auto pointer = pointer_member(j, "path", path);
  if (!pointer) return pointer.error();
  op.path = std::move(*pointer);
  if (needs_from(op.op)) {
    auto from = pointer_member(j, "from", path);
    if (!from) return from.error();
    op.from = std::move(*from);
  } else if (j.contains("from")) {
    return model::invalid_field(model::member_path(path, "from"), "only move and copy take \"from\"");
  }
  if (needs_value(op.op)) {
    if (!j.contains("value")) return model::missing_field(model::member_path(path, "value"));
    op.value = j.at("value");
  } else if (j.contains("value")) {
    return model::invalid_field(model::member_path(path, "value"), "only add, replace and test take \"value\"");
  }
  return op;
}

Result<model::LabelSelector> selector_from_json(const json& rule, const std::string& path) {
  auto selector = model::optional_object(rule, "clusterSelector", path);
  if (!selector) return selector.error();
  if (!*selector) return model::LabelSelector{};
  const std::string spath = model::member_path(path, "clusterSelector");
  if (auto s = model::reject_unknown_fields(**selector, {"labelSelector"}, spath); !s) return s.error();
  auto text = model::optional_string(**selector, "labelSelector", spath);
  if (!text) return text.error();
  if (!*text) return model::LabelSelector{};
  return model::label_selector_at(**text, model::member_path(spath, "labelSelector"));
}

Result<OverrideRule> rule_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"clusterSelector", "jsonPatches"}, path); !s) return s.error();
  OverrideRule rule;
  auto selector = selector_from_json(j, path);
  if (!selector) return selector.error();
  rule.cluster_selector = std::move(*selector);
  auto patches = model::optional_array(j, "jsonPatches", path);
  if (!patches) return patches.error();
  const std::string ppath = model::member_path(path, "jsonPatches");
  if (!*patches) return model::missing_field(ppath);
  if ((*patches)->empty() || (*patches)->size() > kMaxPatchesPerRule) {
    return model::invalid_field(ppath, "must hold 1 to " + std::to_string(kMaxPatchesPerRule) + " operations (got " +
                                           std::to_string((*patches)->size()) + ")");
  }
  for (std::size_t i = 0; i < (*patches)->size(); ++i) {
    auto op = patch_from_json((**patches)[i], model::index_path(ppath, i));
    if (!op) return op.error();
    rule.patches.push_back(std::move(*op));
  }
  return rule;
}

Result<std::vector<std::string>> workloads_from_json(const json& j) {
  auto list = model::optional_array(j, "workloads", "");
  if (!list) return list.error();
  if (!*list) return model::missing_field("workloads");
  if ((*list)->empty() || (*list)->size() > kMaxOverrideWorkloads) {
    return model::invalid_field("workloads", "must name 1 to " + std::to_string(kMaxOverrideWorkloads) +
                                                 " workloads (got " + std::to_string((*list)->size()) + ")");
  }
  std::vector<std::string> names;
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const json& name = (**list)[i];
    const std::string path = model::index_path("workloads", i);
    if (!name.is_string()) return model::wrong_type(path, "a string", name);
    if (auto s = model::validate_dns1123_label(name.get<std::string>(), path); !s) return s.error();
    names.push_back(name.get<std::string>());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

std::string_view to_string(PatchOpKind op) {
  for (const auto& [kind, name] : kOps) {
    if (kind == op) return name;
  }
  return "add";
}

// RFC 6901: "" (the whole document) or "/"-separated reference tokens in which "~" is only ever "~0" or "~1".
std::string pointer_problem(std::string_view pointer) {
  if (pointer.size() > kMaxPointerLength) {
    return "must be at most " + std::to_string(kMaxPointerLength) + " characters";
  }
  if (!pointer.empty() && pointer.front() != '/') return "must be a JSON Pointer: empty or starting with \"/\"";
  for (std::size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) {
      return "must be a JSON Pointer: \"~\" at offset " + std::to_string(i) + " is not \"~0\" or \"~1\"";
    }
  }
  return "";
}

Result<Override> override_from_json(const json& j) {
  if (!j.is_object()) return model::wrong_type("(root)", "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"name", "workloads", "rules"}, ""); !s) return s.error();
  const std::size_t bytes = j.dump(-1, ' ', false, json::error_handler_t::replace).size();
  if (bytes > kMaxOverrideBytes) {
    return model::invalid_field("(root)", "at most " + std::to_string(kMaxOverrideBytes / 1024) +
                                              " KiB of compact JSON (is " + std::to_string(bytes) + " bytes)");
  }
  Override o;
  auto name = model::required_string(j, "name", "");
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, "name"); !s) return s.error();
  o.name = std::move(*name);
  auto workloads = workloads_from_json(j);
  if (!workloads) return workloads.error();
  o.workloads = std::move(*workloads);
  auto rules = model::optional_array(j, "rules", "");
  if (!rules) return rules.error();
  if (!*rules) return model::missing_field("rules");
  if ((*rules)->empty() || (*rules)->size() > kMaxOverrideRules) {
    return model::invalid_field("rules", "must hold 1 to " + std::to_string(kMaxOverrideRules) + " rules (got " +
                                             std::to_string((*rules)->size()) + ")");
  }
  for (std::size_t i = 0; i < (*rules)->size(); ++i) {
    auto rule = rule_from_json((**rules)[i], model::index_path("rules", i));
    if (!rule) return rule.error();
    o.rules.push_back(std::move(*rule));
  }
  return o;
}

json to_json(const Override& o) {
  json rules = json::array();
  for (const OverrideRule& rule : o.rules) {
    json patches = json::array();
    for (const PatchOp& p : rule.patches) {
      json op = {{"op", to_string(p.op)}, {"path", p.path}};
      if (needs_from(p.op)) op["from"] = p.from;
      if (p.value) op["value"] = *p.value;
      patches.push_back(std::move(op));
    }
    rules.push_back({{"clusterSelector", {{"labelSelector", model::to_string(rule.cluster_selector)}}},
                     {"jsonPatches", std::move(patches)}});
  }
  return {{"name", o.name}, {"workloads", o.workloads}, {"rules", std::move(rules)}};
}

}  // namespace fleet::placement
