#include "fleetctl/apply_kinds.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "fleetctl/document_match.hpp"
#include "fleetctl/json_fields.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

using nlohmann::json;

constexpr std::string_view kCatalogInstead =
    "catalog entries are added and retired, not edited: retire it and add the change under a new version";

constexpr std::array<KindRule, 9> kRules = {{
    {"Cluster", "cluster", "/v1/clusters", UpdateRule::kPatchMutable, false, ""},
    {"Workload", "workload", "/v1/workloads", UpdateRule::kReplaceAlways, false, ""},
    {"Override", "override", "/v1/overrides", UpdateRule::kReplaceAlways, false, ""},
    {"AdmissionPolicy", "admissionpolicy", "/v1/admission-policies", UpdateRule::kReplaceIfDifferent, false, ""},
    {"RolloutStrategy", "strategy", "/v1/strategies", UpdateRule::kCreateOnly, false,
     "strategies cannot be changed: delete it and apply again, or apply it under a new name"},
    {"Rollout", "rollout", "/v1/rollouts", UpdateRule::kCreateOnly, false,
     "a rollout freezes its spec when it is created: apply the change as a new rollout under a new name"},
    {"AutoUpgradeProfile", "auto-upgrade-profile", "/v1/auto-upgrade-profiles", UpdateRule::kReplaceIfDifferent, false,
     ""},
    {"kubernetes", "version", "/v1/versions", UpdateRule::kCreateOnly, true, kCatalogInstead},
    {"nodeImage", "version", "/v1/versions", UpdateRule::kCreateOnly, true, kCatalogInstead},
}};

constexpr std::string_view kAccepted =
    "apply takes Cluster, Workload, Override, AdmissionPolicy, RolloutStrategy, Rollout, AutoUpgradeProfile, or a "
    "version catalog entry (kind kubernetes or nodeImage)";

// The members `PATCH /v1/clusters/{name}` takes (api/openapi.yaml ClusterPatch); name and provider are fixed.
constexpr std::array<std::string_view, 4> kClusterMutable = {"labels", "taints", "region", "updateGroup"};

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

std::string document_at(std::size_t index) {
  return "document " + std::to_string(index);
}

const KindRule* find_rule(const json& kind) {
  for (const KindRule& rule : kRules) {
    if (kind == rule.kind) return &rule;
  }
  return nullptr;
}

Result<const KindRule*> rule_for(const json& document, std::size_t index) {
  const auto kind = document.find("kind");
  // Before kinds, apply took workloads only: a document without "kind" that has manifests still is one.
  if (kind == document.end() && document.contains("manifests")) return find_rule("Workload");
  if (kind == document.end()) return usage(document_at(index) + " has no \"kind\": " + std::string(kAccepted));
  if (const KindRule* rule = find_rule(*kind)) return rule;
  return usage(document_at(index) + " has kind " + kind->dump() + ": " + std::string(kAccepted));
}

Result<std::string> text_member(const json& body, const char* key, const KindRule& rule, std::size_t index) {
  const json& value = member_or_null(body, key);
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    return usage(document_at(index) + " (" + std::string(rule.kind) + ") has no \"" + key + "\"");
  }
  return value.get<std::string>();
}

// Catalog entries are named by provider and version; fleetd drops a Kubernetes version's leading "v".
Status name_catalog_entry(ApplyTarget& target, std::size_t index) {
  auto provider = text_member(target.body, "provider", *target.rule, index);
  if (!provider) return provider.error();
  auto version = text_member(target.body, "version", *target.rule, index);
  if (!version) return version.error();
  if (target.rule->kind == "kubernetes" && version->size() > 1 && version->front() == 'v') version->erase(0, 1);
  target.path =
      std::string(target.rule->collection) + "/" + http::url_encode(*provider) + "/" + http::url_encode(*version);
  target.shown = "version/" + *provider + "/" + *version;
  return Ok{};
}

// The first member the document gives that the stored object does not match, for the error.
std::string first_difference(const json& document, const json& stored, ScalarMatch scalars) {
  for (const auto& [key, value] : document.items()) {
    if (!document_matches(json{{key, value}}, stored, scalars)) return key;
  }
  return {};
}

Result<std::optional<PlannedWrite>> plan_cluster(const ApplyTarget& target, const json& stored) {
  json patch = json::object();
  for (const auto& [key, value] : target.body.items()) {
    if (key == "name" || document_matches(json{{key, value}}, stored, ScalarMatch::kExact)) continue;
    if (std::find(kClusterMutable.begin(), kClusterMutable.end(), key) == kClusterMutable.end()) {
      const auto it = stored.find(key);
      return make_error(ErrorCode::kConflict, target.shown + ": \"" + key +
                                                  "\" cannot be changed once the cluster exists (it has " +
                                                  (it == stored.end() ? std::string("none") : it->dump()) +
                                                  ", the document " + value.dump() + "); nothing was sent");
    }
    // Labels merge (labels the document leaves out stay); taints, region and updateGroup replace.
    patch[key] = value;
  }
  if (patch.empty()) return std::optional<PlannedWrite>();
  return std::optional<PlannedWrite>(PlannedWrite{"PATCH", std::move(patch)});
}

}  // namespace

Result<ApplyTarget> resolve_document(json document, std::size_t index) {
  auto rule = rule_for(document, index);
  if (!rule) return rule.error();
  ApplyTarget target;
  target.rule = *rule;
  // fleetd refuses members it does not know, and only catalog entries have a "kind" of their own.
  if (!target.rule->keeps_kind) document.erase("kind");
  target.body = std::move(document);
  if (target.rule->keeps_kind) {
    if (auto named = name_catalog_entry(target, index); !named) return named.error();
    return target;
  }
  auto name = text_member(target.body, "name", *target.rule, index);
  if (!name) return name.error();
  target.path = std::string(target.rule->collection) + "/" + http::url_encode(*name);
  target.shown = std::string(target.rule->word) + "/" + *name;
  return target;
}

Result<std::optional<PlannedWrite>> plan_update(const ApplyTarget& target, const json& stored) {
  switch (target.rule->update) {
    case UpdateRule::kPatchMutable:
      return plan_cluster(target, stored);
    case UpdateRule::kReplaceAlways:
      return std::optional<PlannedWrite>(PlannedWrite{"PUT", target.body});
    case UpdateRule::kReplaceIfDifferent:
      if (document_matches(target.body, stored, ScalarMatch::kExact)) return std::optional<PlannedWrite>();
      return std::optional<PlannedWrite>(PlannedWrite{"PUT", target.body});
    case UpdateRule::kCreateOnly:
      break;
  }
  if (document_matches(target.body, stored, ScalarMatch::kCanonical)) return std::optional<PlannedWrite>();
  return make_error(ErrorCode::kConflict, target.shown + " exists and differs in \"" +
                                              first_difference(target.body, stored, ScalarMatch::kCanonical) +
                                              "\": " + std::string(target.rule->instead) + " (nothing was sent)");
}

}  // namespace fleet::ctl
