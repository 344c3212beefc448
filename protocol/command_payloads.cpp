#include "protocol/command_payloads.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "common/time_format.hpp"
#include "model/field_path.hpp"
#include "model/inventory.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::protocol {
namespace {

using nlohmann::json;

constexpr std::string_view kPath = "payload";

std::string field(std::string_view key) {
  return model::member_path(kPath, key);
}

Result<model::KubernetesVersion> version_member(const json& p, std::string_view key, bool required) {
  auto text = model::optional_string(p, key, kPath);
  if (!text) return text.error();
  if (!*text) {
    if (required) return model::missing_field(field(key));
    return model::KubernetesVersion{};
  }
  auto v = model::parse_kubernetes_version(**text);
  if (!v) return model::invalid_field(field(key), "must be a version such as 1.32.7");
  return *v;
}

Result<std::string> node_member(const json& p) {
  auto node = model::required_string(p, "node", kPath);
  if (!node) return node.error();
  if (auto s = model::validate_dns1123_subdomain(*node, field("node")); !s) return s.error();
  return std::move(node).value();
}

Result<bool> cordon_member(const json& p) {
  auto cordon = model::optional_bool(p, "cordon", kPath);
  if (!cordon) return cordon.error();
  return cordon->value_or(true);
}

// maxSurge / maxUnavailable: 0 to model::kMaxNodes, or "0%" to "100%".
Result<NodeBudget> budget_member(const json& p, std::string_view key, NodeBudget fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  const std::string f = field(key);
  auto in_range = [&](long long v, bool percent) -> Result<NodeBudget> {
    const long long max = percent ? 100 : static_cast<long long>(model::kMaxNodes);
    if (v < 0 || v > max) {
      return model::invalid_field(
          f, percent ? "percent must be between 0% and 100%" : "must be between 0 and " + std::to_string(max));
    }
    return NodeBudget{static_cast<int>(v), percent};
  };
  if (it->is_number_integer()) return in_range(it->get<long long>(), false);
  if (!it->is_string()) return model::wrong_type(f, "an integer or a string such as \"25%\"", *it);
  std::string text = it->get<std::string>();
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.pop_back();
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return model::invalid_field(f, "must be an integer or a percent such as \"25%\"");
  }
  return in_range(v, percent);
}

Result<CommandPayload> upgrade_control_plane(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"kubernetesVersion"}, kPath); !s) return s.error();
  auto v = version_member(p, "kubernetesVersion", true);
  if (!v) return v.error();
  return CommandPayload{UpgradeControlPlane{*v}};
}

// A pool's targets, both optional here (the caller says which it needs): "kubernetesVersion" and "nodeImageVersion".
Status read_pool_targets(const json& p, std::optional<model::KubernetesVersion>& version, std::string& image) {
  if (p.contains("kubernetesVersion")) {
    auto v = version_member(p, "kubernetesVersion", true);
    if (!v) return v.error();
    version = *v;
  }
  auto text = model::optional_token(p, "nodeImageVersion", kPath, model::kMaxVersionLength);
  if (!text) return text.error();
  if (*text) image = **text;
  return Ok{};
}

Result<CommandPayload> upgrade_node_pool(const json& p) {
  if (auto s = model::reject_unknown_fields(p,
                                            {"pool", "kubernetesVersion", "nodeImageVersion", "driverVersion",
                                             "cudaVersion", "maxSurge", "maxUnavailable", "maxFailedNodes", "notAfter"},
                                            kPath);
      !s) {
    return s.error();
  }
  UpgradeNodePool out;
  auto pool = model::required_string(p, "pool", kPath);
  if (!pool) return pool.error();
  if (auto s = model::validate_dns1123_label(*pool, field("pool")); !s) return s.error();
  out.pool = *pool;
  if (auto s = read_pool_targets(p, out.kubernetes_version, out.node_image_version); !s) return s.error();
  for (auto [key, target] : {std::pair<const char*, std::string*>{"driverVersion", &out.driver_version},
                             {"cudaVersion", &out.cuda_version}}) {
    auto v = model::optional_token(p, key, kPath, model::kMaxVersionLength);
    if (!v) return v.error();
    if (*v) *target = **v;
  }
  if (!out.kubernetes_version && out.node_image_version.empty()) {
    return make_error(ErrorCode::kInvalid, "payload: needs kubernetesVersion, nodeImageVersion or both",
                      std::string(kPath), "missing-field");
  }
  auto surge = budget_member(p, "maxSurge", out.max_surge);
  if (!surge) return surge.error();
  auto unavailable = budget_member(p, "maxUnavailable", out.max_unavailable);
  if (!unavailable) return unavailable.error();
  if (surge->value == 0 && unavailable->value == 0) {
    return model::invalid_field(field("maxUnavailable"), "maxSurge and maxUnavailable must not both be 0");
  }
  out.max_surge = *surge;
  out.max_unavailable = *unavailable;
  auto max_failed = model::optional_integer(p, "maxFailedNodes", kPath, 0, static_cast<std::int64_t>(model::kMaxNodes));
  if (!max_failed) return max_failed.error();
  out.max_failed_nodes = static_cast<int>(max_failed->value_or(0));
  auto not_after = model::optional_string(p, "notAfter", kPath);
  if (!not_after) return not_after.error();
  if (*not_after) {
    auto t = parse_timestamp(**not_after);
    if (!t) return model::invalid_field(field("notAfter"), "must be an RFC 3339 time such as 2026-12-07T06:00:00Z");
    out.not_after = *t;
  }
  return CommandPayload{std::move(out)};
}

Result<CommandPayload> run_probe(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"nodes"}, kPath); !s) return s.error();
  auto list = model::optional_array(p, "nodes", kPath);
  if (!list) return list.error();
  RunProbe out;
  if (!*list) return CommandPayload{out};
  if ((*list)->size() > model::kMaxNodes) {
    return model::invalid_field(field("nodes"), "at most " + std::to_string(model::kMaxNodes) + " nodes");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const json& v = (**list)[i];
    const std::string f = model::index_path(field("nodes"), i);
    if (!v.is_string()) return model::wrong_type(f, "a string", v);
    if (auto s = model::validate_dns1123_subdomain(v.get<std::string>(), f); !s) return s.error();
    names.insert(v.get<std::string>());
  }
  out.nodes.emplace(names.begin(), names.end());
  return CommandPayload{std::move(out)};
}

Status check_manifest(const json& m, const std::string& f) {
  if (!m.is_object()) return model::wrong_type(f, "a Kubernetes object", m);
  for (const char* key : {"apiVersion", "kind"}) {
    auto v = model::required_string(m, key, f);
    if (!v) return v.error();
    if (v->empty()) return model::invalid_field(model::member_path(f, key), "must not be empty");
  }
  auto metadata = model::optional_object(m, "metadata", f);
  if (!metadata) return metadata.error();
  const std::string meta = model::member_path(f, "metadata");
  if (!*metadata) return model::missing_field(meta);
  auto name = model::required_string(**metadata, "name", meta);
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_subdomain(*name, model::member_path(meta, "name")); !s) return s;
  auto ns = model::optional_string(**metadata, "namespace", meta);
  if (!ns) return ns.error();
  if (*ns) return model::validate_dns1123_label(**ns, model::member_path(meta, "namespace"));
  return Ok{};
}

Result<Manifests> manifests(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"manifests", "placement"}, kPath); !s) return s.error();
  auto list = model::optional_array(p, "manifests", kPath);
  if (!list) return list.error();
  if (!*list || (*list)->empty()) {
    return model::invalid_field(field("manifests"), "a non-empty array of Kubernetes objects is required");
  }
  if ((*list)->size() > kMaxManifests) {
    return model::invalid_field(field("manifests"),
                                "at most " + std::to_string(kMaxManifests) + " manifests are allowed");
  }
  Manifests out;
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    if (auto s = check_manifest((**list)[i], model::index_path(field("manifests"), i)); !s) return s.error();
    out.objects.push_back((**list)[i]);
  }
  return out;
}

Result<std::int64_t> required_integer(const json& j, std::string_view key, const std::string& path, std::int64_t min,
                                      std::int64_t max) {
  auto v = model::optional_integer(j, key, path, min, max);
  if (!v) return v.error();
  if (!*v) return model::missing_field(model::member_path(path, key));
  return **v;
}

Result<NodeReplicas> node_replicas(const json& e, const std::string& f) {
  if (!e.is_object()) return model::wrong_type(f, "an object", e);
  if (auto s = model::reject_unknown_fields(e, {"node", "replicas"}, f); !s) return s.error();
  NodeReplicas out;
  auto node = model::required_string(e, "node", f);
  if (!node) return node.error();
  if (auto s = model::validate_dns1123_subdomain(*node, model::member_path(f, "node")); !s) return s.error();
  out.node = std::move(node).value();
  auto replicas = required_integer(e, "replicas", f, 1, kMaxReplicasPerNode);
  if (!replicas) return replicas.error();
  out.replicas = static_cast<int>(*replicas);
  return out;
}

Result<std::vector<NodeReplicas>> placement_nodes(const json& j, const std::string& path) {
  auto list = model::optional_array(j, "nodes", path);
  if (!list) return list.error();
  const std::string f = model::member_path(path, "nodes");
  if (!*list) return model::missing_field(f);
  if ((*list)->size() > model::kMaxNodes) {
    return model::invalid_field(f, "at most " + std::to_string(model::kMaxNodes) + " nodes");
  }
  std::vector<NodeReplicas> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const std::string entry = model::index_path(f, i);
    auto n = node_replicas((**list)[i], entry);
    if (!n) return n.error();
    if (!seen.insert(n->node).second) {
      return model::invalid_field(model::member_path(entry, "node"), "node \"" + n->node + "\" is listed twice");
    }
    out.push_back(std::move(n).value());
  }
  std::sort(out.begin(), out.end(), [](const NodeReplicas& a, const NodeReplicas& b) { return a.node < b.node; });
  return out;
}

// The optional "placement" member of apply_workload (`apply`) and delete_workload (command_payloads.hpp).
Result<std::optional<WorkloadPlacement>> placement_member(const json& p, bool apply) {
  auto obj = model::optional_object(p, "placement", kPath);
  if (!obj) return obj.error();
  if (!*obj) return std::optional<WorkloadPlacement>{};
  const json& j = **obj;
  const std::string path = field("placement");
  auto known = apply
                   ? model::reject_unknown_fields(
                         j, {"workload", "generation", "gpusPerReplica", "cpuMillicores", "memoryBytes", "nodes"}, path)
                   : model::reject_unknown_fields(j, {"workload"}, path);
  if (!known) return known.error();
  WorkloadPlacement out;
  auto workload = model::required_string(j, "workload", path);
  if (!workload) return workload.error();
  if (auto s = model::validate_dns1123_label(*workload, model::member_path(path, "workload")); !s) return s.error();
  out.workload = std::move(workload).value();
  if (!apply) return std::optional<WorkloadPlacement>{std::move(out)};
  auto generation = required_integer(j, "generation", path, 0, std::numeric_limits<std::int64_t>::max());
  if (!generation) return generation.error();
  out.generation = *generation;
  std::int64_t gpus = 0;
  for (auto [key, target, max] :
       {std::tuple<const char*, std::int64_t*, std::int64_t>{"gpusPerReplica", &gpus, kMaxGpusPerReplica},
        {"cpuMillicores", &out.cpu_millicores, model::kMaxCpuMillicores},
        {"memoryBytes", &out.memory_bytes, model::kMaxNodeMemoryBytes}}) {
    auto v = model::optional_integer(j, key, path, 0, max);
    if (!v) return v.error();
    *target = v->value_or(0);
  }
  out.gpus_per_replica = static_cast<int>(gpus);
  auto nodes = placement_nodes(j, path);
  if (!nodes) return nodes.error();
  out.nodes = std::move(nodes).value();
  return std::optional<WorkloadPlacement>{std::move(out)};
}

json placement_json(const WorkloadPlacement& w) {
  json nodes = json::array();
  for (const NodeReplicas& n : w.nodes) nodes.push_back({{"node", n.node}, {"replicas", n.replicas}});
  return {{"workload", w.workload},
          {"generation", w.generation},
          {"gpusPerReplica", w.gpus_per_replica},
          {"cpuMillicores", w.cpu_millicores},
          {"memoryBytes", w.memory_bytes},
          {"nodes", std::move(nodes)}};
}

template <class Payload>
Result<CommandPayload> workload_command(const json& p, bool apply) {
  auto m = manifests(p);
  if (!m) return m.error();
  auto placement = placement_member(p, apply);
  if (!placement) return placement.error();
  Payload out;
  out.objects = std::move(m->objects);
  out.placement = std::move(*placement);
  return CommandPayload{std::move(out)};
}

Result<CommandPayload> cordon_cluster(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"cordon"}, kPath); !s) return s.error();
  auto cordon = cordon_member(p);
  if (!cordon) return cordon.error();
  return CommandPayload{CordonCluster{*cordon}};
}

Result<CommandPayload> cordon_node(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"node", "cordon"}, kPath); !s) return s.error();
  auto node = node_member(p);
  if (!node) return node.error();
  auto cordon = cordon_member(p);
  if (!cordon) return cordon.error();
  return CommandPayload{CordonNode{*node, *cordon}};
}

Result<CommandPayload> drain_node(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"node", "timeoutSeconds", "gracePeriodSeconds"}, kPath); !s) {
    return s.error();
  }
  DrainNode out;
  auto node = node_member(p);
  if (!node) return node.error();
  out.node = *node;
  auto timeout = model::optional_number(p, "timeoutSeconds", kPath, 0.001, 86400);
  if (!timeout) return timeout.error();
  out.timeout_seconds = *timeout;
  auto grace = model::optional_integer(p, "gracePeriodSeconds", kPath, 0, 86400);
  if (!grace) return grace.error();
  if (*grace) out.grace_period_seconds = static_cast<int>(**grace);
  return CommandPayload{std::move(out)};
}

// "remove": keys ("fleet.io/gpu-unverified"), "key:Effect" / "key=value:Effect" strings, or {"key", "effect"?}.
Result<std::vector<model::Taint>> taint_removals(const json& p) {
  std::vector<model::Taint> out;
  auto list = model::optional_array(p, "remove", kPath);
  if (!list) return list.error();
  if (!*list) return out;
  if ((*list)->size() > model::kMaxTaints) {
    return model::invalid_field(field("remove"), "at most " + std::to_string(model::kMaxTaints) + " taints");
  }
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const json& r = (**list)[i];
    const std::string f = model::index_path(field("remove"), i);
    model::Taint t;
    if (r.is_string() && r.get<std::string>().find(':') != std::string::npos) {
      auto parsed = model::parse_taint_string(r.get<std::string>(), f);
      if (!parsed) return parsed.error();
      t = model::Taint{parsed->key, "", parsed->effect};
    } else if (r.is_string()) {
      t.key = r.get<std::string>();
    } else if (r.is_object()) {
      if (auto s = model::reject_unknown_fields(r, {"key", "effect"}, f); !s) return s.error();
      auto key = model::required_string(r, "key", f);
      if (!key) return key.error();
      auto effect = model::optional_string(r, "effect", f);
      if (!effect) return effect.error();
      t = model::Taint{*key, "", effect->value_or("")};
    } else {
      return model::wrong_type(f, "a taint key, \"key:Effect\" or {\"key\", \"effect\"}", r);
    }
    if (auto s = model::validate_label_key(t.key, f); !s) return s.error();
    out.push_back(std::move(t));
  }
  return out;
}

Result<CommandPayload> taint_node(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"node", "add", "remove"}, kPath); !s) return s.error();
  TaintNode out;
  auto node = node_member(p);
  if (!node) return node.error();
  out.node = *node;
  auto add = model::optional_taints(p, "add", kPath, true);
  if (!add) return add.error();
  if (*add) out.add = std::move(**add);
  auto remove = taint_removals(p);
  if (!remove) return remove.error();
  out.remove = std::move(*remove);
  if (out.add.empty() && out.remove.empty()) {
    return model::invalid_field(std::string(kPath), "give taints to add and/or remove");
  }
  return CommandPayload{std::move(out)};
}

Result<CommandPayload> set_node_admission(const json& p) {
  if (auto s = model::reject_unknown_fields(p, {"node", "admission", "reason"}, kPath); !s) return s.error();
  SetNodeAdmission out;
  auto node = node_member(p);
  if (!node) return node.error();
  out.node = *node;
  auto admission = model::required_string(p, "admission", kPath);
  if (!admission) return admission.error();
  if (*admission != "admitted" && *admission != "quarantined") {
    return model::invalid_field(field("admission"), "must be \"admitted\" or \"quarantined\"");
  }
  out.admit = *admission == "admitted";
  auto reason = model::required_string(p, "reason", kPath);
  if (!reason) return reason.error();
  if (reason->empty() || reason->size() > kMaxAdmissionReasonLength) {
    return model::invalid_field(field("reason"),
                                "must say why, in 1 to " + std::to_string(kMaxAdmissionReasonLength) + " bytes");
  }
  out.reason = *reason;
  return CommandPayload{std::move(out)};
}

Result<CommandPayload> blue_green_node_pool(const json& p) {
  if (auto s =
          model::reject_unknown_fields(p, {"pool", "newPool", "phase", "kubernetesVersion", "nodeImageVersion"}, kPath);
      !s) {
    return s.error();
  }
  BlueGreenNodePool out;
  for (auto [key, target] : {std::pair<const char*, std::string*>{"pool", &out.pool}, {"newPool", &out.new_pool}}) {
    auto name = model::required_string(p, key, kPath);
    if (!name) return name.error();
    if (auto s = model::validate_dns1123_label(*name, field(key)); !s) return s.error();
    *target = *name;
  }
  if (out.new_pool == out.pool) return model::invalid_field(field("newPool"), "must differ from pool");
  auto phase = model::required_string(p, "phase", kPath);
  if (!phase) return phase.error();
  if (*phase == "Replace") {
    out.phase = BlueGreenPhase::kReplace;
  } else if (*phase == "Retire") {
    out.phase = BlueGreenPhase::kRetire;
  } else if (*phase == "Restore") {
    out.phase = BlueGreenPhase::kRestore;
  } else {
    return model::invalid_field(field("phase"), "must be \"Replace\", \"Retire\" or \"Restore\"");
  }
  if (out.phase != BlueGreenPhase::kReplace) {
    for (const char* key : {"kubernetesVersion", "nodeImageVersion"}) {
      if (p.contains(key)) return model::invalid_field(field(key), "is for phase Replace only");
    }
    return CommandPayload{std::move(out)};
  }
  if (auto s = read_pool_targets(p, out.kubernetes_version, out.node_image_version); !s) return s.error();
  if (!out.kubernetes_version && out.node_image_version.empty()) {
    return make_error(ErrorCode::kInvalid, "payload: Replace needs kubernetesVersion, nodeImageVersion or both",
                      std::string(kPath), "missing-field");
  }
  return CommandPayload{std::move(out)};
}

json budget_json(const NodeBudget& b) {
  return b.percent ? json(std::to_string(b.value) + "%") : json(b.value);
}

json taint_removal_json(const model::Taint& t) {
  json j = {{"key", t.key}};
  if (!t.effect.empty()) j["effect"] = t.effect;
  return j;
}

}  // namespace

std::string_view to_string(BlueGreenPhase phase) {
  switch (phase) {
    case BlueGreenPhase::kReplace:
      return "Replace";
    case BlueGreenPhase::kRetire:
      return "Retire";
    case BlueGreenPhase::kRestore:
      return "Restore";
  }
  return "";
}

int NodeBudget::resolve(int pool_size, bool round_up) const {
  if (!percent) return value;
  const double exact = static_cast<double>(pool_size) * static_cast<double>(value) / 100.0;
  return static_cast<int>(round_up ? std::ceil(exact) : std::floor(exact));
}

CommandKind kind_of(const CommandPayload& payload) {
  return kCommandKinds[payload.index()];
}

Result<CommandPayload> parse_command_payload(CommandKind kind, const json& payload) {
  const json empty = json::object();
  const json& p = payload.is_null() ? empty : payload;
  if (!p.is_object()) return model::wrong_type(kPath, "an object", p);
  if (p.dump().size() > kMaxPayloadBytes) {
    return model::invalid_field(kPath, "at most " + std::to_string(kMaxPayloadBytes / 1024) + " KiB of JSON");
  }
  switch (kind) {
    case CommandKind::kUpgradeControlPlane:
      return upgrade_control_plane(p);
    case CommandKind::kUpgradeNodePool:
      return upgrade_node_pool(p);
    case CommandKind::kRunProbe:
      return run_probe(p);
    case CommandKind::kApplyWorkload:
      return workload_command<ApplyWorkload>(p, true);
    case CommandKind::kDeleteWorkload:
      return workload_command<DeleteWorkload>(p, false);
    case CommandKind::kCordonCluster:
      return cordon_cluster(p);
    case CommandKind::kCordonNode:
      return cordon_node(p);
    case CommandKind::kDrainNode:
      return drain_node(p);
    case CommandKind::kTaintNode:
      return taint_node(p);
    case CommandKind::kSetNodeAdmission:
      return set_node_admission(p);
    case CommandKind::kBlueGreenNodePool:
      return blue_green_node_pool(p);
  }
  return make_error(ErrorCode::kInvalid, "kind: unknown command kind", "kind", "invalid-field");
}

json to_json(const CommandPayload& payload) {
  struct ToJson {
    json operator()(const UpgradeControlPlane& c) const {
      return {{"kubernetesVersion", model::to_string(c.kubernetes_version)}};
    }
    json operator()(const UpgradeNodePool& c) const {
      json j = {{"pool", c.pool},
                {"maxSurge", budget_json(c.max_surge)},
                {"maxUnavailable", budget_json(c.max_unavailable)},
                {"maxFailedNodes", c.max_failed_nodes}};
      if (c.kubernetes_version) j["kubernetesVersion"] = model::to_string(*c.kubernetes_version);
      if (!c.node_image_version.empty()) j["nodeImageVersion"] = c.node_image_version;
      if (!c.driver_version.empty()) j["driverVersion"] = c.driver_version;
      if (!c.cuda_version.empty()) j["cudaVersion"] = c.cuda_version;
      if (c.not_after) j["notAfter"] = format_rfc3339(*c.not_after);
      return j;
    }
    json operator()(const RunProbe& c) const { return c.nodes ? json{{"nodes", *c.nodes}} : json::object(); }
    json operator()(const ApplyWorkload& c) const {
      json j = {{"manifests", c.objects}};
      if (c.placement) j["placement"] = placement_json(*c.placement);
      return j;
    }
    json operator()(const DeleteWorkload& c) const {
      json j = {{"manifests", c.objects}};
      if (c.placement) j["placement"] = {{"workload", c.placement->workload}};
      return j;
    }
    json operator()(const CordonCluster& c) const { return {{"cordon", c.cordon}}; }
    json operator()(const CordonNode& c) const { return {{"node", c.node}, {"cordon", c.cordon}}; }
    json operator()(const DrainNode& c) const {
      json j = {{"node", c.node}};
      if (c.timeout_seconds) j["timeoutSeconds"] = *c.timeout_seconds;
      if (c.grace_period_seconds) j["gracePeriodSeconds"] = *c.grace_period_seconds;
      return j;
    }
    json operator()(const TaintNode& c) const {
      json j = {{"node", c.node}};
      if (!c.add.empty()) {
        j["add"] = json::array();
        for (const auto& t : c.add) j["add"].push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
      }
      if (!c.remove.empty()) {
        j["remove"] = json::array();
        for (const auto& t : c.remove) j["remove"].push_back(taint_removal_json(t));
      }
      return j;
    }
    json operator()(const SetNodeAdmission& c) const {
      return {{"node", c.node}, {"admission", c.admit ? "admitted" : "quarantined"}, {"reason", c.reason}};
    }
    json operator()(const BlueGreenNodePool& c) const {
      json j = {{"pool", c.pool}, {"newPool", c.new_pool}, {"phase", to_string(c.phase)}};
      if (c.phase != BlueGreenPhase::kReplace) return j;
      if (c.kubernetes_version) j["kubernetesVersion"] = model::to_string(*c.kubernetes_version);
      if (!c.node_image_version.empty()) j["nodeImageVersion"] = c.node_image_version;
      return j;
    }
  };
  return std::visit(ToJson{}, payload);
}

}  // namespace fleet::protocol
