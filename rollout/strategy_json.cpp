#include "rollout/strategy_json.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string_view>
#include <utility>

#include "common/time_format.hpp"
#include "model/field_path.hpp"
#include "model/inventory.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::rollout {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxDurationSeconds = 30LL * 24 * 3600;
constexpr std::int64_t kMaxFailedNodes = 1000;
constexpr std::string_view kDurationForms =
    "a duration such as \"90s\", \"15m\" or \"1h30m\" (units h, m, s, each at most once and in that order) or whole "
    "seconds";

std::string at(std::string_view parent, std::string_view key) {
  return model::member_path(parent, key);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

Error too_long(const std::string& path, const json& j) {
  return model::invalid_field(path, "must be at most 30 days (720h) (is " + j.dump() + ")");
}

Result<Seconds> parse_duration_text(std::string_view s, const std::string& path, const json& j) {
  auto bad = [&] {
    return model::invalid_field(path, "must be " + std::string(kDurationForms) + " (is " + j.dump() + ")");
  };
  if (s == "0") return Seconds{0};  // as Go's time.ParseDuration
  if (s.empty()) return bad();
  std::int64_t total = 0;
  int last_unit = -1;  // 0 h, 1 m, 2 s
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start || i == s.size()) return bad();
    if (i - start > 10) return too_long(path, j);
    std::int64_t v = 0;
    for (std::size_t k = start; k < i; ++k) v = v * 10 + (s[k] - '0');
    int unit = 0;
    std::int64_t scale = 0;
    switch (s[i]) {
      case 'h':
        unit = 0;
        scale = 3600;
        break;
      case 'm':
        unit = 1;
        scale = 60;
        break;
      case 's':
        unit = 2;
        scale = 1;
        break;
      default:
        return bad();
    }
    ++i;
    if (unit <= last_unit) return bad();
    last_unit = unit;
    total += v * scale;
    if (total > kMaxDurationSeconds) return too_long(path, j);
  }
  return Seconds{total};
}

Result<std::optional<Seconds>> optional_duration(const json& o, std::string_view key, std::string_view path) {
  auto it = o.find(key);
  if (it == o.end()) return std::optional<Seconds>();
  auto d = duration_from_json(*it, at(path, key));
  if (!d) return d.error();
  return std::optional<Seconds>(*d);
}

Result<std::optional<Budget>> optional_budget(const json& o, std::string_view key, std::string_view path) {
  auto it = o.find(key);
  if (it == o.end()) return std::optional<Budget>();
  auto b = budget_from_json(*it, at(path, key));
  if (!b) return b.error();
  return std::optional<Budget>(*b);
}

Result<GateType> gate_type_from(const std::string& text, const std::string& field) {
  for (GateType t : {GateType::kApproval, GateType::kWait, GateType::kScheduledStart, GateType::kHealthCheck}) {
    if (text == to_string(t)) return t;
  }
  return model::invalid_field(field, "must be Approval, Wait, ScheduledStart or HealthCheck (is \"" + text + "\")");
}

Result<OnFailure> on_failure_from(const std::string& text, const std::string& field) {
  for (OnFailure f : {OnFailure::kPause, OnFailure::kContinue}) {
    if (text == to_string(f)) return f;
  }
  return model::invalid_field(field, "must be Pause or Continue (is \"" + text + "\")");
}

Result<TargetType> target_type_from(const std::string& text, const std::string& field) {
  for (TargetType t : {TargetType::kFull, TargetType::kControlPlaneOnly, TargetType::kNodeImageOnly}) {
    if (text == to_string(t)) return t;
  }
  return model::invalid_field(field, "must be Full, ControlPlaneOnly or NodeImageOnly (is \"" + text + "\")");
}

Result<NodeImageSelection> selection_from(const std::string& text, const std::string& field) {
  for (NodeImageSelection s : {NodeImageSelection::kLatest, NodeImageSelection::kConsistent,
                               NodeImageSelection::kCustom, NodeImageSelection::kPrevious}) {
    if (text == to_string(s)) return s;
  }
  return model::invalid_field(field, "must be Latest, Consistent, Custom or Previous (is \"" + text + "\")");
}

Result<std::optional<FailurePolicy>> optional_failure_policy(const json& o, std::string_view key,
                                                             std::string_view parent) {
  auto obj = model::optional_object(o, key, parent);
  if (!obj) return obj.error();
  if (!*obj) return std::optional<FailurePolicy>();
  const json& j = **obj;
  const std::string path = at(parent, key);
  if (auto s = model::reject_unknown_fields(j, {"maxFailures", "onFailure"}, path); !s) return s.error();
  FailurePolicy out;
  auto max = optional_budget(j, "maxFailures", path);
  if (!max) return max.error();
  if (*max) out.max_failures = **max;
  auto on = model::optional_string(j, "onFailure", path);
  if (!on) return on.error();
  if (*on) {
    auto f = on_failure_from(**on, at(path, "onFailure"));
    if (!f) return f.error();
    out.on_failure = *f;
  }
  return std::optional<FailurePolicy>(out);
}

// beforeGates / afterGates of one scope; unnamed gates get "<scope>.<before|after>-<n>", n counting from 1.
Result<std::vector<Gate>> gates_member(const json& o, std::string_view key, std::string_view parent,
                                       const std::string& scope_name, std::string_view scope_kind) {
  auto arr = model::optional_array(o, key, parent);
  if (!arr) return arr.error();
  std::vector<Gate> out;
  if (!*arr) return out;
  const std::string path = at(parent, key);
  if ((*arr)->size() > kMaxGatesPerScope) {
    return model::invalid_field(path, "a " + std::string(scope_kind) + " takes at most " +
                                          std::to_string(kMaxGatesPerScope) + " gates (got " +
                                          std::to_string((*arr)->size()) + ")");
  }
  const std::string side = key == "beforeGates" ? "before" : "after";
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    auto g =
        gate_from_json((**arr)[i], model::index_path(path, i), scope_name + "." + side + "-" + std::to_string(i + 1));
    if (!g) return g.error();
    out.push_back(std::move(g).value());
  }
  return out;
}

// Both gate lists of a scope, at most kMaxGatesPerScope together.
Status scope_gates(const json& o, std::string_view path, const std::string& scope_name, std::string_view scope_kind,
                   std::vector<Gate>& before, std::vector<Gate>& after) {
  auto b = gates_member(o, "beforeGates", path, scope_name, scope_kind);
  if (!b) return b.error();
  auto a = gates_member(o, "afterGates", path, scope_name, scope_kind);
  if (!a) return a.error();
  if (b->size() + a->size() > kMaxGatesPerScope) {
    return model::invalid_field(at(path, "afterGates"), "a " + std::string(scope_kind) + " takes at most " +
                                                            std::to_string(kMaxGatesPerScope) +
                                                            " gates, beforeGates and afterGates together (got " +
                                                            std::to_string(b->size() + a->size()) + ")");
  }
  before = std::move(b).value();
  after = std::move(a).value();
  return Ok{};
}

Result<GroupSpec> group_from_json(const json& j, const std::string& path, const std::string& stage_name) {
  GroupSpec out;
  if (j.is_string()) {
    out.name = j.get<std::string>();
    if (auto s = model::validate_dns1123_label(out.name, path); !s) return s.error();
    return out;
  }
  if (!j.is_object()) return model::wrong_type(path, "a group name or a group object", j);
  if (auto s = model::reject_unknown_fields(j, {"name", "maxConcurrency", "beforeGates", "afterGates", "failurePolicy"},
                                            path);
      !s) {
    return s.error();
  }
  auto name = model::required_string(j, "name", path);
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, at(path, "name")); !s) return s.error();
  out.name = *name;
  auto mc = optional_budget(j, "maxConcurrency", path);
  if (!mc) return mc.error();
  out.max_concurrency = *mc;
  if (auto s = scope_gates(j, path, stage_name + "." + out.name, "group", out.before_gates, out.after_gates); !s) {
    return s.error();
  }
  auto fp = optional_failure_policy(j, "failurePolicy", path);
  if (!fp) return fp.error();
  out.failure_policy = *fp;
  return out;
}

Result<StageSpec> stage_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j,
                                            {"name", "updateGroups", "labelSelector", "sortBy", "maxConcurrency",
                                             "afterStageWait", "beforeGates", "afterGates", "failurePolicy"},
                                            path);
      !s) {
    return s.error();
  }
  StageSpec out;
  auto name = model::required_string(j, "name", path);
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, at(path, "name")); !s) return s.error();
  out.name = *name;

  auto groups = model::optional_array(j, "updateGroups", path);
  if (!groups) return groups.error();
  auto selector = model::optional_string(j, "labelSelector", path);
  if (!selector) return selector.error();
  if (*groups && *selector) {
    return model::invalid_field(at(path, "labelSelector"), "give updateGroups or labelSelector, not both");
  }
  if (!*groups && !*selector) {
    return make_error(ErrorCode::kInvalid, path + ": a stage needs updateGroups or a labelSelector", path,
                      "missing-field");
  }
  if (*groups) {
    const std::string gpath = at(path, "updateGroups");
    if ((*groups)->empty()) return model::invalid_field(gpath, "must name at least one update group");
    if ((*groups)->size() > kMaxGroupsPerStage) {
      return model::invalid_field(gpath, "a stage takes at most " + std::to_string(kMaxGroupsPerStage) +
                                             " update groups (got " + std::to_string((*groups)->size()) + ")");
    }
    for (std::size_t i = 0; i < (*groups)->size(); ++i) {
      auto g = group_from_json((**groups)[i], model::index_path(gpath, i), out.name);
      if (!g) return g.error();
      out.groups.push_back(std::move(g).value());
    }
  } else {
    auto parsed = model::label_selector_at(**selector, at(path, "labelSelector"));
    if (!parsed) return parsed.error();
    out.selector = std::move(parsed).value();
    GroupSpec only;
    only.name = out.name;
    out.groups.push_back(std::move(only));
  }

  auto sort_by = model::optional_string(j, "sortBy", path);
  if (!sort_by) return sort_by.error();
  if (*sort_by) {
    if (auto s = model::validate_label_key(**sort_by, at(path, "sortBy")); !s) return s.error();
    out.sort_by_label = **sort_by;
  }
  auto mc = optional_budget(j, "maxConcurrency", path);
  if (!mc) return mc.error();
  out.max_concurrency = *mc;
  auto wait = optional_duration(j, "afterStageWait", path);
  if (!wait) return wait.error();
  out.after_stage_wait = wait->value_or(Seconds{0});
  if (auto s = scope_gates(j, path, out.name, "stage", out.before_gates, out.after_gates); !s) return s.error();
  auto fp = optional_failure_policy(j, "failurePolicy", path);
  if (!fp) return fp.error();
  out.failure_policy = *fp;
  return out;
}

// One maintenanceWindows entry: {"clusterSelector"?, "window"}. The window's own errors name its member
// ("maintenanceWindow.timeZone …"); here they are named by their place in the strategy.
Result<WindowRule> window_rule_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"clusterSelector", "window"}, path); !s) return s.error();
  WindowRule out;
  auto selector = model::optional_string(j, "clusterSelector", path);
  if (!selector) return selector.error();
  if (*selector) {
    auto parsed = model::label_selector_at(**selector, at(path, "clusterSelector"));
    if (!parsed) return parsed.error();
    out.selector = std::move(parsed).value();
  }
  auto window = model::optional_object(j, "window", path);
  if (!window) return window.error();
  const std::string wpath = at(path, "window");
  if (!*window) return model::missing_field(wpath);
  if (auto s = model::reject_unknown_fields(**window, {"days", "start", "duration", "timeZone"}, wpath); !s) {
    return s.error();
  }
  auto parsed = parse_maintenance_window(**window);
  if (!parsed) {
    std::string_view message = parsed.error().message;
    constexpr std::string_view kPrefix = "maintenanceWindow.";
    if (message.starts_with(kPrefix)) message.remove_prefix(kPrefix.size());
    const std::size_t space = message.find(' ');
    const std::string_view member = space == std::string_view::npos ? message : message.substr(0, space);
    const std::string_view why = space == std::string_view::npos ? "is invalid" : message.substr(space + 1);
    return model::invalid_field(member.empty() ? wpath : at(wpath, member), std::string(why));
  }
  out.window = std::move(parsed).value();
  return out;
}

Result<std::vector<WindowRule>> window_rules_from_json(const json& o, const std::string& parent) {
  auto arr = model::optional_array(o, "maintenanceWindows", parent);
  if (!arr) return arr.error();
  std::vector<WindowRule> out;
  if (!*arr) return out;
  const std::string path = at(parent, "maintenanceWindows");
  if ((*arr)->size() > kMaxMaintenanceWindows) {
    return model::invalid_field(path, "at most " + std::to_string(kMaxMaintenanceWindows) +
                                          " maintenance windows are allowed (got " + std::to_string((*arr)->size()) +
                                          ")");
  }
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    auto rule = window_rule_from_json((**arr)[i], model::index_path(path, i));
    if (!rule) return rule.error();
    out.push_back(std::move(rule).value());
  }
  return out;
}

std::string stage_path(std::string_view strategy_path, std::size_t s) {
  return model::index_path(at(strategy_path, "stages"), s);
}

// Stage names unique, an update group in one stage only, gate names unique across the strategy.
Status check_strategy(const Strategy& st, std::string_view path) {
  std::map<std::string, std::size_t, std::less<>> stages;
  std::map<std::string, std::size_t, std::less<>> groups;
  std::map<std::string, std::string, std::less<>> gates;
  for (std::size_t s = 0; s < st.stages.size(); ++s) {
    const StageSpec& stage = st.stages[s];
    const std::string spath = stage_path(path, s);
    if (auto [it, fresh] = stages.emplace(stage.name, s); !fresh) {
      return model::invalid_field(
          at(spath, "name"), "stage name \"" + stage.name + "\" is already used by " + stage_path(path, it->second));
    }
    if (!stage.selector) {
      for (std::size_t g = 0; g < stage.groups.size(); ++g) {
        const std::string& name = stage.groups[g].name;
        auto [it, fresh] = groups.emplace(name, s);
        if (fresh) continue;
        const std::string gpath = model::index_path(at(spath, "updateGroups"), g);
        if (it->second == s) {
          return model::invalid_field(gpath,
                                      "update group \"" + name + "\" is listed twice in stage \"" + stage.name + "\"");
        }
        return model::invalid_field(gpath, "update group \"" + name + "\" is in stage \"" + st.stages[it->second].name +
                                               "\" and in stage \"" + stage.name +
                                               "\"; an update group may be in one stage only");
      }
    }
    auto check_gates = [&](const std::vector<Gate>& list, const std::string& list_path) -> Status {
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string gpath = model::index_path(list_path, i);
        auto [it, fresh] = gates.emplace(list[i].name, gpath);
        if (!fresh) {
          return model::invalid_field(at(gpath, "name"),
                                      "gate name \"" + list[i].name + "\" is already used by " + it->second);
        }
      }
      return Ok{};
    };
    if (auto r = check_gates(stage.before_gates, at(spath, "beforeGates")); !r) return r;
    if (!stage.selector) {
      for (std::size_t g = 0; g < stage.groups.size(); ++g) {
        const std::string gpath = model::index_path(at(spath, "updateGroups"), g);
        if (auto r = check_gates(stage.groups[g].before_gates, at(gpath, "beforeGates")); !r) return r;
        if (auto r = check_gates(stage.groups[g].after_gates, at(gpath, "afterGates")); !r) return r;
      }
    }
    if (auto r = check_gates(stage.after_gates, at(spath, "afterGates")); !r) return r;
  }
  return Ok{};
}

json to_json(const FailurePolicy& p) {
  return json{{"maxFailures", to_json(p.max_failures)}, {"onFailure", std::string(to_string(p.on_failure))}};
}

json group_json(const GroupSpec& g) {
  if (!g.max_concurrency && g.before_gates.empty() && g.after_gates.empty() && !g.failure_policy) return g.name;
  json out = {{"name", g.name}};
  if (g.max_concurrency) out["maxConcurrency"] = to_json(*g.max_concurrency);
  if (!g.before_gates.empty()) {
    for (const Gate& gate : g.before_gates) out["beforeGates"].push_back(to_json(gate));
  }
  if (!g.after_gates.empty()) {
    for (const Gate& gate : g.after_gates) out["afterGates"].push_back(to_json(gate));
  }
  if (g.failure_policy) out["failurePolicy"] = to_json(*g.failure_policy);
  return out;
}

json stage_json(const StageSpec& s) {
  json out = {{"name", s.name}, {"afterStageWait", format_duration(s.after_stage_wait)}};
  if (s.selector) {
    out["labelSelector"] = model::to_string(*s.selector);
  } else {
    out["updateGroups"] = json::array();
    for (const GroupSpec& g : s.groups) out["updateGroups"].push_back(group_json(g));
  }
  if (!s.sort_by_label.empty()) out["sortBy"] = s.sort_by_label;
  if (s.max_concurrency) out["maxConcurrency"] = to_json(*s.max_concurrency);
  for (const Gate& gate : s.before_gates) out["beforeGates"].push_back(to_json(gate));
  for (const Gate& gate : s.after_gates) out["afterGates"].push_back(to_json(gate));
  if (s.failure_policy) out["failurePolicy"] = to_json(*s.failure_policy);
  return out;
}

// maxSurge / maxUnavailable as protocol/command_payloads.cpp reads them: 0 to model::kMaxNodes, or "0%" to "100%".
Result<protocol::NodeBudget> node_budget_member(const json& o, std::string_view key, std::string_view parent,
                                                protocol::NodeBudget fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  const std::string f = at(parent, key);
  auto in_range = [&](long long v, bool percent) -> Result<protocol::NodeBudget> {
    const long long max = percent ? 100 : static_cast<long long>(model::kMaxNodes);
    if (v < 0 || v > max) {
      return model::invalid_field(
          f, percent ? "percent must be between 0% and 100%" : "must be between 0 and " + std::to_string(max));
    }
    return protocol::NodeBudget{static_cast<int>(v), percent};
  };
  if (it->is_number_unsigned()) {
    const auto u = it->get<std::uint64_t>();
    return in_range(u > model::kMaxNodes ? -1 : static_cast<long long>(u), false);
  }
  if (it->is_number_integer()) return in_range(it->get<long long>(), false);
  if (!it->is_string()) return model::wrong_type(f, "an integer or a string such as \"25%\"", *it);
  std::string_view text = it->get_ref<const std::string&>();
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  bool digits = !text.empty() && text.size() <= 9;
  for (char c : text) digits = digits && is_digit(c);
  if (!digits) return model::invalid_field(f, "must be an integer or a percent such as \"25%\"");
  long long v = 0;
  for (char c : text) v = v * 10 + (c - '0');
  return in_range(v, percent);
}

json node_budget_json(const protocol::NodeBudget& b) {
  return b.percent ? json(std::to_string(b.value) + "%") : json(b.value);
}

Result<Target> target_from_json(const json& o, std::string_view parent) {
  auto obj = model::optional_object(o, "target", parent);
  if (!obj) return obj.error();
  const std::string path = at(parent, "target");
  if (!*obj) return model::missing_field(path);
  const json& j = **obj;
  if (auto s = model::reject_unknown_fields(
          j, {"type", "kubernetesVersion", "nodeImageSelection", "nodeImageVersion", "rollbackOf", "allowUnsupported"},
          path);
      !s) {
    return s.error();
  }
  Target out;
  auto type = model::required_string(j, "type", path);
  if (!type) return type.error();
  auto t = target_type_from(*type, at(path, "type"));
  if (!t) return t.error();
  out.type = *t;

  auto version = model::optional_string(j, "kubernetesVersion", path);
  if (!version) return version.error();
  const std::string vpath = at(path, "kubernetesVersion");
  if (*version) {
    if (out.type == TargetType::kNodeImageOnly) {
      return model::invalid_field(vpath, "must be absent for a NodeImageOnly target (it keeps each cluster's version)");
    }
    auto v = model::parse_kubernetes_version(**version);
    if (!v) return model::invalid_field(vpath, "must be a version such as 1.32.7 (is \"" + **version + "\")");
    out.kubernetes_version = *v;
  } else if (out.type != TargetType::kNodeImageOnly) {
    return model::missing_field(vpath);
  }

  // Checked for ControlPlaneOnly too, though it rolls no node pool: a wrong value is a mistake either way.
  auto selection = model::optional_string(j, "nodeImageSelection", path);
  if (!selection) return selection.error();
  if (*selection) {
    auto s = selection_from(**selection, at(path, "nodeImageSelection"));
    if (!s) return s.error();
    out.node_image_selection = *s;
  }
  auto image = model::optional_token(j, "nodeImageVersion", path, model::kMaxVersionLength);
  if (!image) return image.error();
  if (*image && out.node_image_selection != NodeImageSelection::kCustom) {
    return model::invalid_field(at(path, "nodeImageVersion"), "is only for nodeImageSelection Custom");
  }
  if (!*image && out.node_image_selection == NodeImageSelection::kCustom) {
    return model::missing_field(at(path, "nodeImageVersion"));
  }
  out.custom_node_image = image->value_or("");
  auto rollback = model::optional_string(j, "rollbackOf", path);
  if (!rollback) return rollback.error();
  if (*rollback) {
    if (auto v = model::validate_dns1123_label(**rollback, at(path, "rollbackOf")); !v) return v.error();
  }
  if (*rollback && out.node_image_selection != NodeImageSelection::kPrevious) {
    return model::invalid_field(at(path, "rollbackOf"), "is only for nodeImageSelection Previous");
  }
  if (out.node_image_selection == NodeImageSelection::kPrevious) {
    if (!*rollback) return model::missing_field(at(path, "rollbackOf"));
    if (out.type != TargetType::kNodeImageOnly) {
      return model::invalid_field(at(path, "nodeImageSelection"),
                                  "Previous rolls node images back only: use type NodeImageOnly (a Kubernetes version "
                                  "is never downgraded)");
    }
  }
  out.rollback_of = rollback->value_or("");
  auto allow = model::optional_bool(j, "allowUnsupported", path);
  if (!allow) return allow.error();
  out.allow_unsupported = allow->value_or(false);
  return out;
}

Result<std::optional<BlueGreenSettings>> blue_green_from_json(const json& o, const std::string& parent) {
  auto obj = model::optional_object(o, "blueGreen", parent);
  if (!obj) return obj.error();
  if (!*obj) return std::optional<BlueGreenSettings>();
  const json& j = **obj;
  const std::string path = at(parent, "blueGreen");
  if (auto s = model::reject_unknown_fields(j, {"pools", "soak"}, path); !s) return s.error();
  BlueGreenSettings out;
  if (auto it = j.find("pools"); it != j.end() && !it->is_null()) {
    const std::string pools = at(path, "pools");
    if (!it->is_array()) return model::wrong_type(pools, "an array of pool names", *it);
    if (it->size() > kMaxBlueGreenPools) {
      return model::invalid_field(pools, "at most " + std::to_string(kMaxBlueGreenPools) + " pools");
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string f = model::index_path(pools, i);
      const json& name = (*it)[i];
      if (!name.is_string()) return model::wrong_type(f, "a pool name", name);
      if (auto s = model::validate_dns1123_label(name.get<std::string>(), f); !s) return s.error();
      if (std::find(out.pools.begin(), out.pools.end(), name.get<std::string>()) != out.pools.end()) {
        return model::invalid_field(f, "pool " + name.get<std::string>() + " is listed twice");
      }
      out.pools.push_back(name.get<std::string>());
    }
  }
  auto soak = optional_duration(j, "soak", path);
  if (!soak) return soak.error();
  out.soak = soak->value_or(out.soak);
  return std::optional<BlueGreenSettings>(std::move(out));
}

Result<RunSpec> read_run_spec(const json& j, bool frozen) {
  if (!j.is_object()) {
    return make_error(ErrorCode::kInvalid, "the body must be a JSON object, got " + model::json_type_name(j), "",
                      "invalid-field");
  }
  if (auto s = model::reject_unknown_fields(j, {"name", "target", "strategy", "strategyRef", "nodeUpgrade"}, ""); !s) {
    return s.error();
  }
  RunSpec out;
  auto name = model::required_string(j, "name", "");
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, "name"); !s) return s.error();
  out.name = *name;
  auto target = target_from_json(j, "");
  if (!target) return target.error();
  out.target = std::move(target).value();

  auto ref = model::optional_string(j, "strategyRef", "");
  if (!ref) return ref.error();
  if (*ref) {
    if (auto s = model::validate_dns1123_label(**ref, "strategyRef"); !s) return s.error();
    out.strategy_ref = **ref;
  }
  const bool inline_strategy = j.contains("strategy");
  if (inline_strategy && *ref && !frozen) {
    return model::invalid_field("strategyRef", "give strategy or strategyRef, not both");
  }
  if (!inline_strategy && (frozen || !*ref)) {
    return make_error(ErrorCode::kInvalid,
                      frozen ? "strategy: required field is missing"
                             : "strategy: give an inline strategy or a strategyRef (a stored strategy's name)",
                      "strategy", "missing-field");
  }
  if (inline_strategy) {
    auto st = strategy_from_json(j["strategy"], "strategy");
    if (!st) return st.error();
    out.strategy = std::move(st).value();
  }
  auto nodes = node_upgrade_from_json(j, "");
  if (!nodes) return nodes.error();
  out.node_upgrade = *nodes;
  return out;
}

}  // namespace

Result<NodeUpgradeSettings> node_upgrade_from_json(const json& o, std::string_view parent) {
  NodeUpgradeSettings out;
  auto obj = model::optional_object(o, "nodeUpgrade", parent);
  if (!obj) return obj.error();
  if (!*obj) return out;
  const json& j = **obj;
  const std::string path = at(parent, "nodeUpgrade");
  if (auto s = model::reject_unknown_fields(j, {"maxSurge", "maxUnavailable", "maxFailedNodes", "blueGreen"}, path);
      !s) {
    return s.error();
  }
  auto surge = node_budget_member(j, "maxSurge", path, out.max_surge);
  if (!surge) return surge.error();
  auto unavailable = node_budget_member(j, "maxUnavailable", path, out.max_unavailable);
  if (!unavailable) return unavailable.error();
  if (surge->value == 0 && unavailable->value == 0) {
    // upgrade_node_pool refuses it too (protocol/command_payloads.cpp): a pool could never make progress.
    return model::invalid_field(at(path, "maxUnavailable"), "maxSurge and maxUnavailable must not both be 0");
  }
  out.max_surge = *surge;
  out.max_unavailable = *unavailable;
  auto failed = model::optional_integer(j, "maxFailedNodes", path, 0, kMaxFailedNodes);
  if (!failed) return failed.error();
  out.max_failed_nodes = static_cast<int>(failed->value_or(0));
  auto blue_green = blue_green_from_json(j, path);
  if (!blue_green) return blue_green.error();
  out.blue_green = std::move(*blue_green);
  return out;
}

std::string_view to_string(TargetType t) {
  switch (t) {
    case TargetType::kFull:
      return "Full";
    case TargetType::kControlPlaneOnly:
      return "ControlPlaneOnly";
    case TargetType::kNodeImageOnly:
      return "NodeImageOnly";
  }
  return "Unknown";
}

std::string_view to_string(NodeImageSelection s) {
  switch (s) {
    case NodeImageSelection::kLatest:
      return "Latest";
    case NodeImageSelection::kConsistent:
      return "Consistent";
    case NodeImageSelection::kCustom:
      return "Custom";
    case NodeImageSelection::kPrevious:
      return "Previous";
  }
  return "Unknown";
}

Result<Seconds> duration_from_json(const json& j, const std::string& path) {
  if (j.is_number_unsigned()) {
    if (j.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxDurationSeconds)) return too_long(path, j);
    return Seconds{static_cast<std::int64_t>(j.get<std::uint64_t>())};
  }
  if (j.is_number_integer()) {
    const std::int64_t v = j.get<std::int64_t>();
    if (v < 0) return model::invalid_field(path, "must not be negative (is " + j.dump() + ")");
    if (v > kMaxDurationSeconds) return too_long(path, j);
    return Seconds{v};
  }
  if (!j.is_string()) return model::wrong_type(path, kDurationForms, j);
  return parse_duration_text(j.get_ref<const std::string&>(), path, j);
}

std::string format_duration(Seconds s) {
  std::int64_t total = s.count();
  if (total < 0) return "-" + format_duration(Seconds{-total});
  if (total == 0) return "0s";
  std::string out;
  if (total >= 3600) out += std::to_string(total / 3600) + "h";
  if (total % 3600 >= 60) out += std::to_string(total % 3600 / 60) + "m";
  if (total % 60 != 0) out += std::to_string(total % 60) + "s";
  return out;
}

Result<Gate> gate_from_json(const json& j, const std::string& path, const std::string& default_name) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  auto type = model::required_string(j, "type", path);
  if (!type) return type.error();
  auto t = gate_type_from(*type, at(path, "type"));
  if (!t) return t.error();
  Gate out;
  out.type = *t;
  // Each type takes its own members only, so that a misplaced one ("duration" on an Approval) is refused.
  Status known = Ok{};
  switch (out.type) {
    case GateType::kApproval:
      known = model::reject_unknown_fields(j, {"type", "name"}, path);
      break;
    case GateType::kWait:
      known = model::reject_unknown_fields(j, {"type", "name", "duration"}, path);
      break;
    case GateType::kScheduledStart:
      known = model::reject_unknown_fields(j, {"type", "name", "notBefore"}, path);
      break;
    case GateType::kHealthCheck:
      known = model::reject_unknown_fields(j, {"type", "name", "minAdmittedGpuRatio", "soak", "timeout"}, path);
      break;
  }
  if (!known) return known.error();
  auto name = model::optional_string(j, "name", path);
  if (!name) return name.error();
  if (*name) {
    // A generated name is not a DNS label (it holds dots, so it never clashes with a given one); to_json writes it
    // out, so it is taken back in the position it was generated for.
    if (**name != default_name) {
      if (auto s = model::validate_dns1123_label(**name, at(path, "name")); !s) return s.error();
    }
    out.name = **name;
  } else {
    out.name = default_name;
  }

  switch (out.type) {
    case GateType::kApproval:
      break;
    case GateType::kWait: {
      auto d = optional_duration(j, "duration", path);
      if (!d) return d.error();
      if (!*d) return model::missing_field(at(path, "duration"));
      out.duration = **d;
      break;
    }
    case GateType::kScheduledStart: {
      auto text = model::required_string(j, "notBefore", path);
      if (!text) return text.error();
      auto when = parse_timestamp(*text);
      if (!when) {
        return model::invalid_field(at(path, "notBefore"),
                                    "must be an RFC 3339 time such as 2026-01-02T03:04:05Z (is \"" + *text + "\")");
      }
      // Milliseconds, as format_rfc3339 writes them back.
      out.not_before = std::chrono::floor<std::chrono::milliseconds>(*when);
      break;
    }
    case GateType::kHealthCheck: {
      auto ratio = model::optional_number(j, "minAdmittedGpuRatio", path, 0.0, 1.0);
      if (!ratio) return ratio.error();
      out.min_admitted_gpu_ratio = ratio->value_or(1.0);
      auto soak = optional_duration(j, "soak", path);
      if (!soak) return soak.error();
      out.soak = soak->value_or(Seconds{0});
      auto timeout = optional_duration(j, "timeout", path);
      if (!timeout) return timeout.error();
      out.timeout = timeout->value_or(Seconds{3600});
      if (out.timeout <= Seconds{0}) return model::invalid_field(at(path, "timeout"), "must be longer than 0s");
      if (out.soak > out.timeout) {
        return model::invalid_field(at(path, "soak"),
                                    "must not be longer than the timeout (" + format_duration(out.timeout) + ")");
      }
      break;
    }
  }
  return out;
}

json to_json(const Gate& gate) {
  json out = {{"type", std::string(to_string(gate.type))}, {"name", gate.name}};
  switch (gate.type) {
    case GateType::kApproval:
      break;
    case GateType::kWait:
      out["duration"] = format_duration(gate.duration);
      break;
    case GateType::kScheduledStart:
      if (gate.not_before) out["notBefore"] = format_rfc3339(*gate.not_before);
      break;
    case GateType::kHealthCheck:
      out["minAdmittedGpuRatio"] = gate.min_admitted_gpu_ratio;
      out["soak"] = format_duration(gate.soak);
      out["timeout"] = format_duration(gate.timeout);
      break;
  }
  return out;
}

Result<Strategy> strategy_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"stages", "failurePolicy", "maintenanceWindows"}, path); !s) {
    return s.error();
  }
  Strategy out;
  auto stages = model::optional_array(j, "stages", path);
  if (!stages) return stages.error();
  const std::string spath = at(path, "stages");
  if (!*stages) return model::missing_field(spath);
  if ((*stages)->empty()) return model::invalid_field(spath, "must have at least one stage");
  if ((*stages)->size() > kMaxStages) {
    return model::invalid_field(spath, "at most " + std::to_string(kMaxStages) + " stages are allowed (got " +
                                           std::to_string((*stages)->size()) + ")");
  }
  for (std::size_t i = 0; i < (*stages)->size(); ++i) {
    auto stage = stage_from_json((**stages)[i], model::index_path(spath, i));
    if (!stage) return stage.error();
    out.stages.push_back(std::move(stage).value());
  }
  auto fp = optional_failure_policy(j, "failurePolicy", path);
  if (!fp) return fp.error();
  if (*fp) out.failure_policy = **fp;
  auto windows = window_rules_from_json(j, path);
  if (!windows) return windows.error();
  out.maintenance_windows = std::move(windows).value();
  if (auto s = check_strategy(out, path); !s) return s.error();
  return out;
}

json to_json(const Strategy& strategy) {
  json out = {{"stages", json::array()}, {"failurePolicy", to_json(strategy.failure_policy)}};
  for (const StageSpec& s : strategy.stages) out["stages"].push_back(stage_json(s));
  for (const WindowRule& w : strategy.maintenance_windows) {
    json rule = {{"window", to_json(w.window)}};
    if (!w.selector.empty()) rule["clusterSelector"] = model::to_string(w.selector);
    out["maintenanceWindows"].push_back(std::move(rule));
  }
  return out;
}

Result<RunSpec> run_spec_from_json(const json& j) {
  return read_run_spec(j, false);
}

Result<RunSpec> frozen_run_spec_from_json(const json& j) {
  return read_run_spec(j, true);
}

json to_json(const RunSpec& spec) {
  json out = {{"name", spec.name}, {"target", to_json(spec.target)}, {"strategy", to_json(spec.strategy)}};
  if (!spec.strategy_ref.empty()) out["strategyRef"] = spec.strategy_ref;
  out["nodeUpgrade"] = to_json(spec.node_upgrade);
  return out;
}

json to_json(const NodeUpgradeSettings& settings) {
  json out = {{"maxSurge", node_budget_json(settings.max_surge)},
              {"maxUnavailable", node_budget_json(settings.max_unavailable)},
              {"maxFailedNodes", settings.max_failed_nodes}};
  if (const auto& bg = settings.blue_green) {
    out["blueGreen"] = json{{"pools", bg->pools}, {"soak", format_duration(bg->soak)}};
  }
  return out;
}

json to_json(const Target& target) {
  json out = {{"type", std::string(to_string(target.type))},
              {"nodeImageSelection", std::string(to_string(target.node_image_selection))},
              {"allowUnsupported", target.allow_unsupported}};
  if (target.kubernetes_version) out["kubernetesVersion"] = model::to_string(*target.kubernetes_version);
  if (!target.custom_node_image.empty()) out["nodeImageVersion"] = target.custom_node_image;
  if (!target.rollback_of.empty()) out["rollbackOf"] = target.rollback_of;
  return out;
}

}  // namespace fleet::rollout
