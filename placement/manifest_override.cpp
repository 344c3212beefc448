#include "placement/manifest_override.hpp"

#include <algorithm>

#include "model/field_path.hpp"
#include "placement/override_json.hpp"
#include "placement/workload_json.hpp"
#include "protocol/command_payloads.hpp"

namespace fleet::placement {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxQuotedValue = 120;  // of a `test` value in a message: the message stays one line

Error failed(const std::string& field, const std::string& problem) {
  return make_error(ErrorCode::kInvalid, field + ": " + problem, field, "override-failed");
}

// nlohmann's messages start with "[json.exception.out_of_range.403] "; people need only the rest.
std::string without_prefix(std::string message) {
  if (message.starts_with("[json.exception.")) {
    if (const auto end = message.find("] "); end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

std::string quoted(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxQuotedValue) {
    text.resize(
        kMaxQuotedValue);  // in place: GCC 12 takes substr(0, n) + "…" for an out-of-bounds copy (-Warray-bounds)
    text += "…";
  }
  return text;
}

// One operation on `doc`, in place; "" when it applied, else why not. `test` is checked here so that its failure
// names the value found rather than nlohmann's bare "unsuccessful".
std::string apply_op(json& doc, const PatchOp& op) {
  try {
    if (op.op == PatchOpKind::kTest) {
      const json::json_pointer pointer(op.path);
      if (!doc.contains(pointer)) return "test failed: " + (op.path.empty() ? "\"\"" : op.path) + " does not exist";
      if (doc.at(pointer) != *op.value) {
        return "test failed: " + op.path + " is " + quoted(doc.at(pointer)) + ", not " + quoted(*op.value);
      }
      return "";
    }
    json one = {{"op", to_string(op.op)}, {"path", op.path}};
    if (op.op == PatchOpKind::kMove || op.op == PatchOpKind::kCopy) one["from"] = op.from;
    if (op.value) one["value"] = *op.value;
    doc = doc.patch(json::array({std::move(one)}));
    return "";
  } catch (const json::exception& e) {
    return std::string(to_string(op.op)) + " " + (op.path.empty() ? "\"\"" : op.path) + ": " + without_prefix(e.what());
  }
}

// What apply_workload accepts, checked again after the patches: an override must not turn valid manifests into a
// command every agent refuses.
Status check_result(const json& manifests, const std::string& name) {
  const std::string field = "overrides." + name;
  if (!manifests.is_array() || manifests.empty() || manifests.size() > kMaxWorkloadManifests) {
    return failed(field, "the patched manifests must be an array of 1 to " + std::to_string(kMaxWorkloadManifests) +
                             " Kubernetes objects");
  }
  const std::size_t bytes = manifests.dump(-1, ' ', false, json::error_handler_t::replace).size();
  if (bytes > kMaxManifestBytes) {
    return failed(field, "the patched manifests are " + std::to_string(bytes) + " bytes, more than " +
                             std::to_string(kMaxManifestBytes / 1024) + " KiB");
  }
  auto parsed = protocol::parse_command_payload(protocol::CommandKind::kApplyWorkload, json{{"manifests", manifests}});
  if (!parsed) return failed(field, "the patched manifests are not valid: " + parsed.error().message);
  return Ok{};
}

}  // namespace

Result<OverriddenManifests> apply_overrides(const json& manifests, const std::vector<VersionedOverride>& overrides,
                                            const model::Labels& cluster_labels) {
  std::vector<const VersionedOverride*> ordered;
  ordered.reserve(overrides.size());
  for (const VersionedOverride& o : overrides) ordered.push_back(&o);
  std::sort(ordered.begin(), ordered.end(),
            [](const VersionedOverride* a, const VersionedOverride* b) { return a->value.name < b->value.name; });
  OverriddenManifests out{manifests, {}};
  for (const VersionedOverride* o : ordered) {
    AppliedOverride applied{o->value.name, o->generation, {}};
    for (std::size_t r = 0; r < o->value.rules.size(); ++r) {
      const OverrideRule& rule = o->value.rules[r];
      if (!model::matches(rule.cluster_selector, cluster_labels)) continue;
      for (std::size_t p = 0; p < rule.patches.size(); ++p) {
        if (std::string problem = apply_op(out.manifests, rule.patches[p]); !problem.empty()) {
          const std::string rule_path = model::index_path("rules", r);
          return failed("overrides." + o->value.name + "." + model::index_path(rule_path + ".jsonPatches", p), problem);
        }
      }
      applied.rules.push_back(static_cast<int>(r));
    }
    if (applied.rules.empty()) continue;
    if (auto s = check_result(out.manifests, o->value.name); !s) return s.error();
    out.applied.push_back(std::move(applied));
  }
  return out;
}

bool any_rule_matches(const std::vector<VersionedOverride>& overrides, const model::Labels& cluster_labels) {
  for (const VersionedOverride& o : overrides) {
    for (const OverrideRule& rule : o.value.rules) {
      if (model::matches(rule.cluster_selector, cluster_labels)) return true;
    }
  }
  return false;
}

json to_json(const std::vector<AppliedOverride>& applied) {
  json out = json::array();
  for (const AppliedOverride& a : applied) {
    out.push_back({{"override", a.name}, {"generation", a.generation}, {"rules", a.rules}});
  }
  return out;
}

}  // namespace fleet::placement
