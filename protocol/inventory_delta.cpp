#include "protocol/inventory_delta.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::protocol {
namespace {

using nlohmann::json;

template <class T>
void diff_member(const T& from, const T& to, std::optional<T>& out) {
  if (!(from == to)) out = to;
}

NodeChange diff_node(const model::NodeInfo& a, const model::NodeInfo& b) {
  NodeChange c;
  c.name = b.name;
  diff_member(a.pool, b.pool, c.pool);
  diff_member(a.kubernetes_version, b.kubernetes_version, c.kubernetes_version);
  diff_member(a.node_image_version, b.node_image_version, c.node_image_version);
  diff_member(a.schedulable, b.schedulable, c.schedulable);
  diff_member(a.admission, b.admission, c.admission);
  diff_member(a.labels, b.labels, c.labels);
  diff_member(a.taints, b.taints, c.taints);
  diff_member(a.capacity, b.capacity, c.capacity);
  diff_member(a.allocatable, b.allocatable, c.allocatable);
  diff_member(a.allocated, b.allocated, c.allocated);
  diff_member(a.gpus, b.gpus, c.gpus);
  return c;
}

template <class T>
void apply_member(const std::optional<T>& change, T& target) {
  if (change) target = *change;
}

Error out_of_sync(std::string message, std::string field) {
  return make_error(ErrorCode::kConflict, std::move(message), std::move(field), "inventory-out-of-sync");
}

Result<std::optional<model::Admission>> optional_admission(const json& j, std::string_view path) {
  auto adm = model::optional_string(j, "admission", path);
  if (!adm) return adm.error();
  if (!*adm) return std::optional<model::Admission>{};
  auto a = model::parse_admission(**adm);
  if (!a)
    return model::invalid_field(model::member_path(path, "admission"),
                                "must be one of pending_probe, probing, admitted, quarantined");
  return std::optional<model::Admission>{*a};
}

Result<NodeChange> change_from_json(const json& j, std::string_view path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  NodeChange c;
  auto name = model::required_string(j, "name", path);
  if (!name) return name.error();
  c.name = std::move(name).value();
  if (auto s = model::validate_dns1123_subdomain(c.name, model::member_path(path, "name")); !s) return s.error();
  auto pool = model::optional_string(j, "pool", path);
  if (!pool) return pool.error();
  if (*pool) {
    if (auto s = model::validate_dns1123_label(**pool, model::member_path(path, "pool")); !s) return s.error();
    c.pool = std::move(*pool);
  }
  auto kv = model::optional_token(j, "kubernetesVersion", path, model::kMaxVersionLength);
  if (!kv) return kv.error();
  c.kubernetes_version = std::move(kv).value();
  auto iv = model::optional_token(j, "nodeImageVersion", path, model::kMaxVersionLength);
  if (!iv) return iv.error();
  c.node_image_version = std::move(iv).value();
  auto sched = model::optional_bool(j, "schedulable", path);
  if (!sched) return sched.error();
  c.schedulable = *sched;
  auto adm = optional_admission(j, path);
  if (!adm) return adm.error();
  c.admission = *adm;
  auto labels = model::optional_labels(j, "labels", path);
  if (!labels) return labels.error();
  c.labels = std::move(labels).value();
  auto taints = model::optional_taints(j, "taints", path, false);
  if (!taints) return taints.error();
  c.taints = std::move(taints).value();
  for (auto [key, out] : {std::pair<const char*, std::optional<model::ResourceList>*>{"capacity", &c.capacity},
                          {"allocatable", &c.allocatable},
                          {"allocated", &c.allocated}}) {
    if (auto it = j.find(key); it != j.end()) {
      auto r = model::resources_from_json(*it, model::member_path(path, key));
      if (!r) return r.error();
      *out = *r;
    }
  }
  auto gpus = model::gpus_member_from_json(j, path);
  if (!gpus) return gpus.error();
  if (*gpus) c.gpus = std::move(**gpus);
  return c;
}

Result<const json*> bounded_array(const json& j, std::string_view key, std::string_view path) {
  auto a = model::optional_array(j, key, path);
  if (!a) return a.error();
  if (*a && (*a)->size() > model::kMaxNodes) {
    return model::invalid_field(model::member_path(path, key),
                                "at most " + std::to_string(model::kMaxNodes) + " entries are allowed");
  }
  return a;
}

}  // namespace

bool InventoryDelta::empty() const {
  return !kubernetes_version && !node_image_version && added.empty() && changed.empty() && removed.empty();
}

InventoryDelta diff_inventory(const model::ClusterInventory& from, const model::ClusterInventory& to) {
  InventoryDelta d;
  diff_member(from.kubernetes_version, to.kubernetes_version, d.kubernetes_version);
  diff_member(from.node_image_version, to.node_image_version, d.node_image_version);
  // Both node lists are sorted by name: one merge pass.
  auto a = from.nodes.begin();
  auto b = to.nodes.begin();
  while (a != from.nodes.end() || b != to.nodes.end()) {
    if (b == to.nodes.end() || (a != from.nodes.end() && a->name < b->name)) {
      d.removed.push_back(a->name);
      ++a;
    } else if (a == from.nodes.end() || b->name < a->name) {
      d.added.push_back(*b);
      ++b;
    } else {
      if (!(*a == *b)) d.changed.push_back(diff_node(*a, *b));
      ++a;
      ++b;
    }
  }
  return d;
}

Result<model::ClusterInventory> apply_delta(model::ClusterInventory base, const InventoryDelta& delta) {
  model::canonicalize(base);
  apply_member(delta.kubernetes_version, base.kubernetes_version);
  apply_member(delta.node_image_version, base.node_image_version);
  std::set<std::string_view> removed;
  for (std::size_t i = 0; i < delta.removed.size(); ++i) {
    const std::string& name = delta.removed[i];
    if (!base.find_node(name)) {
      return out_of_sync("delta removes node \"" + name + "\", which the stored inventory lacks",
                         model::index_path("delta.removed", i));
    }
    if (!removed.insert(name).second) {
      return model::invalid_field(model::index_path("delta.removed", i), "node \"" + name + "\" is removed twice");
    }
  }
  std::set<std::string_view> changed;
  for (std::size_t i = 0; i < delta.changed.size(); ++i) {
    const NodeChange& c = delta.changed[i];
    model::NodeInfo* n = base.find_node(c.name);
    if (!n || removed.count(c.name)) {
      return out_of_sync("delta changes node \"" + c.name + "\", which the stored inventory lacks",
                         model::index_path("delta.changed", i));
    }
    if (!changed.insert(c.name).second) {
      return model::invalid_field(model::index_path("delta.changed", i), "node \"" + c.name + "\" is changed twice");
    }
    apply_member(c.pool, n->pool);
    apply_member(c.kubernetes_version, n->kubernetes_version);
    apply_member(c.node_image_version, n->node_image_version);
    apply_member(c.schedulable, n->schedulable);
    apply_member(c.admission, n->admission);
    apply_member(c.labels, n->labels);
    apply_member(c.taints, n->taints);
    apply_member(c.capacity, n->capacity);
    apply_member(c.allocatable, n->allocatable);
    apply_member(c.allocated, n->allocated);
    apply_member(c.gpus, n->gpus);
  }
  std::erase_if(base.nodes, [&](const model::NodeInfo& n) { return removed.count(n.name) > 0; });
  // Additions are checked against the nodes that remain, so "remove X, add X" (a reimaged node) is allowed.
  std::set<std::string_view> existing;
  for (const model::NodeInfo& n : base.nodes) existing.insert(n.name);
  if (base.nodes.size() + delta.added.size() > model::kMaxNodes) {
    return model::invalid_field("delta.added",
                                "the inventory would exceed " + std::to_string(model::kMaxNodes) + " nodes");
  }
  for (std::size_t i = 0; i < delta.added.size(); ++i) {
    if (!existing.insert(delta.added[i].name).second) {
      return out_of_sync("delta adds node \"" + delta.added[i].name + "\", which the stored inventory already has",
                         model::index_path("delta.added", i));
    }
  }
  // Names in `existing` point into base.nodes and delta.added; inserting below can reallocate base.nodes, so the
  // set is not used past this point.
  base.nodes.insert(base.nodes.end(), delta.added.begin(), delta.added.end());
  model::canonicalize(base);
  if (auto s = model::validate_inventory(base); !s) return s.error();
  return base;
}

json to_json(const NodeChange& c) {
  json j = {{"name", c.name}};
  if (c.pool) j["pool"] = *c.pool;
  if (c.kubernetes_version) j["kubernetesVersion"] = *c.kubernetes_version;
  if (c.node_image_version) j["nodeImageVersion"] = *c.node_image_version;
  if (c.schedulable) j["schedulable"] = *c.schedulable;
  if (c.admission) j["admission"] = to_string(*c.admission);
  if (c.labels) j["labels"] = *c.labels;
  if (c.taints) {
    json t = json::array();
    for (const model::Taint& x : *c.taints) t.push_back({{"key", x.key}, {"value", x.value}, {"effect", x.effect}});
    j["taints"] = std::move(t);
  }
  if (c.capacity) j["capacity"] = to_json(*c.capacity);
  if (c.allocatable) j["allocatable"] = to_json(*c.allocatable);
  if (c.allocated) j["allocated"] = to_json(*c.allocated);
  if (c.gpus) {
    json g = json::array();
    for (const model::GpuInfo& x : *c.gpus) g.push_back(to_json(x));
    j["gpus"] = std::move(g);
  }
  return j;
}

json to_json(const InventoryDelta& d) {
  json j = json::object();
  if (d.kubernetes_version) j["kubernetesVersion"] = *d.kubernetes_version;
  if (d.node_image_version) j["nodeImageVersion"] = *d.node_image_version;
  json added = json::array();
  for (const model::NodeInfo& n : d.added) added.push_back(to_json(n));
  json changed = json::array();
  for (const NodeChange& c : d.changed) changed.push_back(to_json(c));
  j["added"] = std::move(added);
  j["changed"] = std::move(changed);
  j["removed"] = d.removed;
  return j;
}

Result<InventoryDelta> delta_from_json(const json& j, std::string_view path) {
  if (!j.is_object()) return model::wrong_type(path.empty() ? "(root)" : path, "an object", j);
  InventoryDelta d;
  auto kv = model::optional_token(j, "kubernetesVersion", path, model::kMaxVersionLength);
  if (!kv) return kv.error();
  d.kubernetes_version = std::move(kv).value();
  auto iv = model::optional_token(j, "nodeImageVersion", path, model::kMaxVersionLength);
  if (!iv) return iv.error();
  d.node_image_version = std::move(iv).value();
  auto added = bounded_array(j, "added", path);
  if (!added) return added.error();
  if (*added) {
    for (std::size_t i = 0; i < (*added)->size(); ++i) {
      auto n = model::node_from_json((**added)[i], model::index_path(model::member_path(path, "added"), i));
      if (!n) return n.error();
      d.added.push_back(std::move(n).value());
    }
  }
  auto changed = bounded_array(j, "changed", path);
  if (!changed) return changed.error();
  if (*changed) {
    for (std::size_t i = 0; i < (*changed)->size(); ++i) {
      auto c = change_from_json((**changed)[i], model::index_path(model::member_path(path, "changed"), i));
      if (!c) return c.error();
      d.changed.push_back(std::move(c).value());
    }
  }
  auto removed = bounded_array(j, "removed", path);
  if (!removed) return removed.error();
  if (*removed) {
    for (std::size_t i = 0; i < (*removed)->size(); ++i) {
      const json& r = (**removed)[i];
      std::string rp = model::index_path(model::member_path(path, "removed"), i);
      if (!r.is_string()) return model::wrong_type(rp, "a string", r);
      if (auto s = model::validate_dns1123_subdomain(r.get<std::string>(), rp); !s) return s.error();
      d.removed.push_back(r.get<std::string>());
    }
  }
  return d;
}

}  // namespace fleet::protocol
