#include "api/cluster_json.hpp"

#include <initializer_list>
#include <string_view>
#include <utility>

#include "api/json_body.hpp"
#include "common/time_format.hpp"
#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::api {
namespace {

using nlohmann::json;

// Fields of the cluster object that only the server writes; named in errors so that a client echoing a GET
// response back learns why it was refused.
constexpr std::string_view kServerOwned[] = {
    "id",        "state",     "kubernetesVersion", "nodeImageVersion", "lastHeartbeat", "resourceVersion",
    "createdAt", "updatedAt", "agentVersion"};

bool is_server_owned(std::string_view key) {
  for (std::string_view k : kServerOwned) {
    if (k == key) return true;
  }
  return false;
}

Status reject_server_owned(const json& body) {
  for (const auto& [key, value] : body.items()) {
    if (is_server_owned(key)) {
      return make_error(ErrorCode::kInvalid, key + ": field is set by the server and cannot be written", key,
                        "unknown-field");
    }
  }
  return Ok{};
}

Result<model::Taint> parse_taint(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"key", "value", "effect"}, path); !s) return s.error();
  model::Taint t;
  auto key = model::required_string(j, "key", path);
  if (!key) return key.error();
  t.key = std::move(key).value();
  auto value = model::optional_string(j, "value", path);
  if (!value) return value.error();
  t.value = value->value_or("");
  auto effect = model::required_string(j, "effect", path);
  if (!effect) return effect.error();
  t.effect = std::move(effect).value();
  return t;
}

Result<std::vector<model::Taint>> parse_taints(const json& j, std::string_view field) {
  if (!j.is_array()) return model::wrong_type(field, "an array", j);
  // Checked before parsing the elements so that a huge array costs nothing.
  if (j.size() > model::kMaxTaints) {
    return model::invalid_field(field, "at most " + std::to_string(model::kMaxTaints) + " taints are allowed (got " +
                                           std::to_string(j.size()) + ")");
  }
  std::vector<model::Taint> taints;
  for (std::size_t i = 0; i < j.size(); ++i) {
    auto t = parse_taint(j[i], model::index_path(field, i));
    if (!t) return t.error();
    taints.push_back(std::move(t).value());
  }
  if (auto s = model::validate_taints(taints, field); !s) return s.error();
  return taints;
}

Result<model::Labels> parse_labels(const json& j, std::string_view field) {
  if (!j.is_object()) return model::wrong_type(field, "an object", j);
  if (j.size() > model::kMaxLabels) {
    return model::invalid_field(field, "at most " + std::to_string(model::kMaxLabels) + " labels are allowed (got " +
                                           std::to_string(j.size()) + ")");
  }
  model::Labels labels;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) return model::wrong_type(model::member_path(field, key), "a string", value);
    labels.emplace(key, value.get<std::string>());
  }
  if (auto s = model::validate_labels(labels, field); !s) return s.error();
  return labels;
}

// A merge-patch scalar: string → itself, null → "" (the documented "unset" value).
Result<std::optional<std::string>> nullable_string(const json& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end()) return std::optional<std::string>();
  if (it->is_null()) return std::optional<std::string>(std::string());
  if (!it->is_string()) return model::wrong_type(key, "a string or null", *it);
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace

Result<model::ClusterCreate> parse_cluster_create(const json& body) {
  if (!body.is_object()) return model::wrong_type("", "an object", body);
  if (auto s = reject_server_owned(body); !s) return s.error();
  if (auto s =
          model::reject_unknown_fields(body, {"name", "provider", "region", "labels", "taints", "updateGroup"}, "");
      !s) {
    return s.error();
  }
  model::ClusterCreate c;
  auto name = model::required_string(body, "name", "");
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, "name"); !s) return s.error();
  c.name = std::move(name).value();

  auto provider = model::required_string(body, "provider", "");
  if (!provider) return provider.error();
  if (auto s = model::validate_provider(*provider, "provider"); !s) return s.error();
  c.provider = std::move(provider).value();

  auto region = model::optional_string(body, "region", "");
  if (!region) return region.error();
  c.region = region->value_or("");
  if (auto s = model::validate_region(c.region, "region"); !s) return s.error();

  if (auto it = body.find("labels"); it != body.end()) {
    auto labels = parse_labels(*it, "labels");
    if (!labels) return labels.error();
    c.labels = std::move(labels).value();
  }
  if (auto it = body.find("taints"); it != body.end()) {
    auto taints = parse_taints(*it, "taints");
    if (!taints) return taints.error();
    c.taints = std::move(taints).value();
  }

  auto group = model::optional_string(body, "updateGroup", "");
  if (!group) return group.error();
  c.update_group = group->value_or("");
  if (auto s = model::validate_update_group(c.update_group, "updateGroup"); !s) return s.error();
  return c;
}

Result<ClusterPatchRequest> parse_cluster_patch(const json& body) {
  if (!body.is_object()) return model::wrong_type("", "an object", body);
  for (std::string_view immutable : {"name", "provider"}) {
    if (body.contains(immutable)) {
      return model::invalid_field(immutable, "field is immutable; delete and re-create the cluster to change it");
    }
  }
  if (auto s = reject_server_owned(body); !s) return s.error();
  if (auto s = model::reject_unknown_fields(body, {"labels", "taints", "region", "updateGroup"}, ""); !s)
    return s.error();

  ClusterPatchRequest r;
  if (auto it = body.find("labels"); it != body.end()) {
    std::map<std::string, std::optional<std::string>> changes;
    if (it->is_null()) {
      r.clear_labels = true;
    } else if (!it->is_object()) {
      return model::wrong_type("labels", "an object or null", *it);
    } else {
      std::size_t sets = 0;
      for (const auto& [key, value] : it->items()) {
        std::string path = model::member_path("labels", key);
        if (auto s = model::validate_label_key(key, path); !s) return s.error();
        if (value.is_null()) {
          changes.emplace(key, std::nullopt);
          continue;
        }
        if (!value.is_string()) return model::wrong_type(path, "a string or null", value);
        if (auto s = model::validate_label_value(value.get_ref<const std::string&>(), path); !s) return s.error();
        if (++sets > model::kMaxLabels) {
          return model::invalid_field("labels", "at most " + std::to_string(model::kMaxLabels) + " labels are allowed");
        }
        changes.emplace(key, value.get<std::string>());
      }
    }
    r.patch.labels = std::move(changes);
  }
  if (auto it = body.find("taints"); it != body.end()) {
    if (it->is_null()) {
      r.patch.taints.emplace();
    } else {
      auto taints = parse_taints(*it, "taints");
      if (!taints) return taints.error();
      r.patch.taints = std::move(taints).value();
    }
  }
  auto region = nullable_string(body, "region");
  if (!region) return region.error();
  if (*region) {
    if (auto s = model::validate_region(**region, "region"); !s) return s.error();
    r.patch.region = std::move(region).value();
  }
  auto group = nullable_string(body, "updateGroup");
  if (!group) return group.error();
  if (*group) {
    if (auto s = model::validate_update_group(**group, "updateGroup"); !s) return s.error();
    r.patch.update_group = std::move(group).value();
  }
  return r;
}

Result<model::Cluster> apply_cluster_patch(model::Cluster current, const ClusterPatchRequest& request) {
  const model::ClusterPatch& p = request.patch;
  if (request.clear_labels) current.labels.clear();
  if (p.labels) {
    for (const auto& [key, value] : *p.labels) {
      if (value) {
        current.labels[key] = *value;
      } else {
        current.labels.erase(key);
      }
    }
    if (current.labels.size() > model::kMaxLabels) {
      return model::invalid_field("labels", "the patched cluster would have " + std::to_string(current.labels.size()) +
                                                " labels; at most " + std::to_string(model::kMaxLabels) +
                                                " are allowed");
    }
  }
  if (p.taints) current.taints = *p.taints;
  if (p.region) current.region = *p.region;
  if (p.update_group) current.update_group = *p.update_group;
  return current;
}

json to_json(const model::Taint& taint) {
  return {{"key", taint.key}, {"value", taint.value}, {"effect", taint.effect}};
}

json to_json(const model::Cluster& c) {
  json taints = json::array();
  for (const model::Taint& t : c.taints) taints.push_back(to_json(t));
  json labels = json::object();
  for (const auto& [k, v] : c.labels) labels[k] = v;
  json out = {
      {"id", c.id},
      {"name", c.name},
      {"provider", c.provider},
      {"region", c.region},
      {"labels", std::move(labels)},
      {"taints", std::move(taints)},
      {"updateGroup", c.update_group},
      {"state", c.state},
      {"kubernetesVersion", c.kubernetes_version},
      {"nodeImageVersion", c.node_image_version},
      {"lastHeartbeat", c.last_heartbeat ? json(format_rfc3339(*c.last_heartbeat)) : json(nullptr)},
      {"resourceVersion", std::to_string(c.resource_version)},
      {"createdAt", format_rfc3339(c.created_at)},
      {"updatedAt", format_rfc3339(c.updated_at)},
  };
  // Only once an agent has reported one: a cluster without an agent has no agent version, not an empty one.
  if (!c.agent_version.empty()) out["agentVersion"] = c.agent_version;
  return out;
}

json to_list_json(const std::vector<model::Cluster>& items, const std::optional<std::string>& next_token) {
  json list = json::array();
  for (const model::Cluster& c : items) list.push_back(to_json(c));
  json out = {{"items", std::move(list)}};
  if (next_token) out["continue"] = *next_token;
  return out;
}

}  // namespace fleet::api
