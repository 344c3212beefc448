#include "model/inventory.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>

#include "common/seeded_random.hpp"
#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::model {
namespace {

using nlohmann::json;

bool one_of(std::string_view value, const auto& allowed) {
  return std::any_of(std::begin(allowed), std::end(allowed), [&](const char* a) { return value == a; });
}

std::string list(const auto& allowed) {
  std::string out;
  for (const char* a : allowed) out += (out.empty() ? "" : ", ") + std::string(a);
  return out;
}

Status check_token(std::string_view value, std::string_view field, std::size_t max) {
  if (std::string p = token_problem(value, max); !p.empty()) return invalid_field(field, p);
  return Ok{};
}

Status check_range(std::int64_t value, std::int64_t max, std::string_view field) {
  if (value < 0 || value > max) {
    return invalid_field(field, "must be between 0 and " + std::to_string(max) + " (is " + std::to_string(value) + ")");
  }
  return Ok{};
}

Status validate_gpu(const GpuInfo& g, std::string_view path) {
  if (g.index < 0 || g.index >= static_cast<int>(kMaxGpusPerNode)) {
    return invalid_field(member_path(path, "index"), "must be between 0 and " + std::to_string(kMaxGpusPerNode - 1));
  }
  if (g.uuid.empty() || g.uuid.size() > kMaxGpuUuidLength || !std::all_of(g.uuid.begin(), g.uuid.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    return invalid_field(member_path(path, "uuid"),
                         "must be 1-" + std::to_string(kMaxGpuUuidLength) + " letters, digits and '-' (\"GPU-…\")");
  }
  if (g.model.empty() || g.model.size() > kMaxGpuModelLength ||
      !std::all_of(g.model.begin(), g.model.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return invalid_field(member_path(path, "model"),
                         "must be 1-" + std::to_string(kMaxGpuModelLength) + " printable ASCII characters");
  }
  if (auto s = check_range(g.memory_bytes, kMaxGpuMemoryBytes, member_path(path, "memoryBytes")); !s) return s;
  if (auto s = check_token(g.driver_version, member_path(path, "driverVersion"), kMaxVersionLength); !s) return s;
  if (auto s = check_token(g.cuda_version, member_path(path, "cudaVersion"), kMaxVersionLength); !s) return s;
  if (!one_of(g.mig_mode, kMigModes))
    return invalid_field(member_path(path, "migMode"), "must be one of " + list(kMigModes));
  if (!one_of(g.health, kGpuHealth))
    return invalid_field(member_path(path, "health"), "must be one of " + list(kGpuHealth));
  return Ok{};
}

Status validate_resources(const ResourceList& r, std::string_view path) {
  if (auto s = check_range(r.cpu_millicores, kMaxCpuMillicores, member_path(path, "cpuMillicores")); !s) return s;
  if (auto s = check_range(r.memory_bytes, kMaxNodeMemoryBytes, member_path(path, "memoryBytes")); !s) return s;
  return check_range(r.gpus, kMaxGpusPerNode, member_path(path, "gpus"));
}

template <class T>
Result<T> need(Result<std::optional<T>> r, std::string_view field) {
  if (!r) return r.error();
  if (!*r) return model::missing_field(field);
  return std::move(**r);
}

Result<std::int64_t> need_int(const json& j, std::string_view key, std::string_view path, std::int64_t max) {
  return need(model::optional_integer(j, key, path, 0, max), member_path(path, key));
}

Status require_object(const json& j, std::string_view path) {
  if (!j.is_object()) return model::wrong_type(path.empty() ? "(root)" : path, "an object", j);
  return Ok{};
}

}  // namespace

std::string_view to_string(Admission admission) {
  switch (admission) {
    case Admission::kPendingProbe:
      return "pending_probe";
    case Admission::kAdmitted:
      return "admitted";
    case Admission::kQuarantined:
      return "quarantined";
    case Admission::kProbing:
      return "probing";
  }
  return "admitted";
}

std::optional<Admission> parse_admission(std::string_view text) {
  if (text == "pending_probe") return Admission::kPendingProbe;
  if (text == "admitted") return Admission::kAdmitted;
  if (text == "quarantined") return Admission::kQuarantined;
  if (text == "probing") return Admission::kProbing;
  return std::nullopt;
}

bool NodeInfo::has_taint(std::string_view key) const {
  return std::any_of(taints.begin(), taints.end(), [&](const Taint& t) { return t.key == key; });
}

std::int64_t NodeInfo::healthy_gpus() const {
  return std::count_if(gpus.begin(), gpus.end(), [](const GpuInfo& g) { return g.health == "healthy"; });
}

const NodeInfo* ClusterInventory::find_node(std::string_view name) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const NodeInfo& n, std::string_view v) { return n.name < v; });
  return it != nodes.end() && it->name == name ? &*it : nullptr;
}

NodeInfo* ClusterInventory::find_node(std::string_view name) {
  return const_cast<NodeInfo*>(std::as_const(*this).find_node(name));
}

Result<Taint> parse_taint_string(std::string_view text, std::string_view field) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid_field(field, "must be \"key=value:Effect\" or \"key:Effect\"");
  }
  Taint t;
  t.effect = std::string(text.substr(colon + 1));
  std::string_view kv = text.substr(0, colon);
  std::size_t eq = kv.find('=');
  t.key = std::string(kv.substr(0, eq));
  if (eq != std::string_view::npos) t.value = std::string(kv.substr(eq + 1));
  if (auto s = model::validate_taint(t, field); !s) return s.error();
  return t;
}

std::string format_taint(const Taint& taint) {
  return taint.key + "=" + taint.value + ":" + taint.effect;
}

void canonicalize(ClusterInventory& inventory) {
  std::sort(inventory.nodes.begin(), inventory.nodes.end(),
            [](const NodeInfo& a, const NodeInfo& b) { return a.name < b.name; });
  for (NodeInfo& n : inventory.nodes) {
    std::sort(n.gpus.begin(), n.gpus.end(), [](const GpuInfo& a, const GpuInfo& b) { return a.index < b.index; });
  }
}

Status validate_node(const NodeInfo& n, std::string_view path) {
  if (auto s = model::validate_dns1123_subdomain(n.name, member_path(path, "name")); !s) return s;
  if (auto s = model::validate_dns1123_label(n.pool, member_path(path, "pool")); !s) return s;
  if (auto s = check_token(n.kubernetes_version, member_path(path, "kubernetesVersion"), kMaxVersionLength); !s) {
    return s;
  }
  if (auto s = check_token(n.node_image_version, member_path(path, "nodeImageVersion"), kMaxVersionLength); !s) {
    return s;
  }
  if (auto s = model::validate_labels(n.labels, member_path(path, "labels")); !s) return s;
  if (auto s = model::validate_taints(n.taints, member_path(path, "taints")); !s) return s;
  if (auto s = validate_resources(n.capacity, member_path(path, "capacity")); !s) return s;
  if (auto s = validate_resources(n.allocatable, member_path(path, "allocatable")); !s) return s;
  if (n.allocatable.cpu_millicores > n.capacity.cpu_millicores ||
      n.allocatable.memory_bytes > n.capacity.memory_bytes || n.allocatable.gpus > n.capacity.gpus) {
    return invalid_field(member_path(path, "allocatable"), "must not exceed capacity");
  }
  if (auto s = validate_resources(n.allocated, member_path(path, "allocated")); !s) return s;
  for (auto [key, allocated, capacity] : {std::tuple<const char*, std::int64_t, std::int64_t>{
                                              "cpuMillicores", n.allocated.cpu_millicores, n.capacity.cpu_millicores},
                                          {"memoryBytes", n.allocated.memory_bytes, n.capacity.memory_bytes},
                                          {"gpus", n.allocated.gpus, n.capacity.gpus}}) {
    if (allocated > capacity) {
      return invalid_field(
          member_path(member_path(path, "allocated"), key),
          "must not exceed capacity (" + std::to_string(capacity) + "; is " + std::to_string(allocated) + ")");
    }
  }
  std::string gpus_path = member_path(path, "gpus");
  if (n.gpus.size() > kMaxGpusPerNode) {
    return invalid_field(gpus_path, "at most " + std::to_string(kMaxGpusPerNode) + " GPUs per node are allowed (got " +
                                        std::to_string(n.gpus.size()) + ")");
  }
  if (static_cast<std::size_t>(n.capacity.gpus) != n.gpus.size()) {
    return invalid_field(member_path(member_path(path, "capacity"), "gpus"),
                         "must equal the number of entries in gpus (" + std::to_string(n.gpus.size()) + ")");
  }
  std::set<int> indices;
  std::set<std::string_view> uuids;
  for (std::size_t i = 0; i < n.gpus.size(); ++i) {
    std::string gp = index_path(gpus_path, i);
    if (auto s = validate_gpu(n.gpus[i], gp); !s) return s;
    if (!indices.insert(n.gpus[i].index).second) return invalid_field(member_path(gp, "index"), "duplicate GPU index");
    if (!uuids.insert(n.gpus[i].uuid).second) return invalid_field(member_path(gp, "uuid"), "duplicate GPU uuid");
  }
  return Ok{};
}

Status validate_inventory(const ClusterInventory& inv) {
  if (auto s = check_token(inv.kubernetes_version, "kubernetesVersion", kMaxVersionLength); !s) return s;
  if (auto s = check_token(inv.node_image_version, "nodeImageVersion", kMaxVersionLength); !s) return s;
  if (inv.nodes.size() > kMaxNodes) {
    return invalid_field("nodes", "at most " + std::to_string(kMaxNodes) + " nodes are allowed (got " +
                                      std::to_string(inv.nodes.size()) + ")");
  }
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < inv.nodes.size(); ++i) {
    std::string np = index_path("nodes", i);
    if (auto s = validate_node(inv.nodes[i], np); !s) return s;
    if (!names.insert(inv.nodes[i].name).second) {
      return invalid_field(member_path(np, "name"), "duplicate node name \"" + inv.nodes[i].name + "\"");
    }
  }
  return Ok{};
}

json to_json(const GpuInfo& g) {
  return {{"index", g.index},
          {"uuid", g.uuid},
          {"model", g.model},
          {"memoryBytes", g.memory_bytes},
          {"driverVersion", g.driver_version},
          {"cudaVersion", g.cuda_version},
          {"migMode", g.mig_mode},
          {"health", g.health}};
}

json to_json(const ResourceList& r) {
  return {{"cpuMillicores", r.cpu_millicores}, {"memoryBytes", r.memory_bytes}, {"gpus", r.gpus}};
}

json to_json(const NodeInfo& n) {
  json taints = json::array();
  for (const Taint& t : n.taints) taints.push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
  json gpus = json::array();
  for (const GpuInfo& g : n.gpus) gpus.push_back(to_json(g));
  return {{"name", n.name},
          {"pool", n.pool},
          {"kubernetesVersion", n.kubernetes_version},
          {"nodeImageVersion", n.node_image_version},
          {"schedulable", n.schedulable},
          {"admission", to_string(n.admission)},
          {"labels", n.labels},
          {"taints", std::move(taints)},
          {"capacity", to_json(n.capacity)},
          {"allocatable", to_json(n.allocatable)},
          {"allocated", to_json(n.allocated)},
          {"gpus", std::move(gpus)}};
}

json to_json(const ClusterInventory& inv) {
  json nodes = json::array();
  for (const NodeInfo& n : inv.nodes) nodes.push_back(to_json(n));
  return {{"kubernetesVersion", inv.kubernetes_version},
          {"nodeImageVersion", inv.node_image_version},
          {"nodes", std::move(nodes)}};
}

Result<GpuInfo> gpu_from_json(const json& j, std::string_view path) {
  if (auto s = require_object(j, path); !s) return s.error();
  GpuInfo g;
  auto index = need_int(j, "index", path, kMaxGpusPerNode - 1);
  if (!index) return index.error();
  g.index = static_cast<int>(*index);
  auto uuid = model::required_string(j, "uuid", path);
  if (!uuid) return uuid.error();
  g.uuid = std::move(uuid).value();
  auto model = model::required_string(j, "model", path);
  if (!model) return model.error();
  g.model = std::move(model).value();
  auto mem = need_int(j, "memoryBytes", path, kMaxGpuMemoryBytes);
  if (!mem) return mem.error();
  g.memory_bytes = *mem;
  auto driver = model::required_string(j, "driverVersion", path);
  if (!driver) return driver.error();
  g.driver_version = std::move(driver).value();
  auto cuda = model::required_string(j, "cudaVersion", path);
  if (!cuda) return cuda.error();
  g.cuda_version = std::move(cuda).value();
  auto mig = model::optional_string(j, "migMode", path);
  if (!mig) return mig.error();
  if (*mig) g.mig_mode = **mig;
  auto health = model::optional_string(j, "health", path);
  if (!health) return health.error();
  if (*health) g.health = **health;
  if (auto s = validate_gpu(g, path); !s) return s.error();
  return g;
}

Result<ResourceList> resources_from_json(const json& j, std::string_view path) {
  if (auto s = require_object(j, path); !s) return s.error();
  ResourceList r;
  auto cpu = need_int(j, "cpuMillicores", path, kMaxCpuMillicores);
  if (!cpu) return cpu.error();
  r.cpu_millicores = *cpu;
  auto mem = need_int(j, "memoryBytes", path, kMaxNodeMemoryBytes);
  if (!mem) return mem.error();
  r.memory_bytes = *mem;
  auto gpus = model::optional_integer(j, "gpus", path, 0, kMaxGpusPerNode);
  if (!gpus) return gpus.error();
  r.gpus = gpus->value_or(0);
  return r;
}

Result<NodeInfo> node_from_json(const json& j, std::string_view path) {
  if (auto s = require_object(j, path); !s) return s.error();
  NodeInfo n;
  for (auto [key, out] : {std::pair<const char*, std::string*>{"name", &n.name},
                          {"pool", &n.pool},
                          {"kubernetesVersion", &n.kubernetes_version},
                          {"nodeImageVersion", &n.node_image_version}}) {
    auto s = model::required_string(j, key, path);
    if (!s) return s.error();
    *out = std::move(s).value();
  }
  auto sched = model::optional_bool(j, "schedulable", path);
  if (!sched) return sched.error();
  n.schedulable = sched->value_or(true);
  auto adm = model::optional_string(j, "admission", path);
  if (!adm) return adm.error();
  if (*adm) {
    auto a = parse_admission(**adm);
    if (!a)
      return invalid_field(member_path(path, "admission"),
                           "must be one of pending_probe, probing, admitted, quarantined");
    n.admission = *a;
  }
  auto labels = optional_labels(j, "labels", path);
  if (!labels) return labels.error();
  if (*labels) n.labels = std::move(**labels);
  auto taints = optional_taints(j, "taints", path, false);
  if (!taints) return taints.error();
  if (*taints) n.taints = std::move(**taints);
  for (auto [key, out] :
       {std::pair<const char*, ResourceList*>{"capacity", &n.capacity}, {"allocatable", &n.allocatable}}) {
    auto it = j.find(key);
    if (it == j.end()) return model::missing_field(member_path(path, key));
    auto r = resources_from_json(*it, member_path(path, key));
    if (!r) return r.error();
    *out = *r;
  }
  if (auto it = j.find("allocated"); it != j.end()) {
    auto r = resources_from_json(*it, member_path(path, "allocated"));
    if (!r) return r.error();
    n.allocated = *r;
  }
  auto gpus = gpus_member_from_json(j, path);
  if (!gpus) return gpus.error();
  if (*gpus) n.gpus = std::move(**gpus);
  if (auto s = validate_node(n, path); !s) return s.error();
  return n;
}

Result<std::optional<std::vector<GpuInfo>>> gpus_member_from_json(const json& j, std::string_view path) {
  auto gpus = model::optional_array(j, "gpus", path);
  if (!gpus) return gpus.error();
  if (!*gpus) return std::optional<std::vector<GpuInfo>>{};
  std::string gpath = member_path(path, "gpus");
  if ((*gpus)->size() > kMaxGpusPerNode) {
    return invalid_field(gpath, "at most " + std::to_string(kMaxGpusPerNode) + " GPUs per node are allowed (got " +
                                    std::to_string((*gpus)->size()) + ")");
  }
  std::vector<GpuInfo> list;
  for (std::size_t i = 0; i < (*gpus)->size(); ++i) {
    auto g = gpu_from_json((**gpus)[i], index_path(gpath, i));
    if (!g) return g.error();
    list.push_back(std::move(g).value());
  }
  std::sort(list.begin(), list.end(), [](const GpuInfo& a, const GpuInfo& b) { return a.index < b.index; });
  return std::optional<std::vector<GpuInfo>>{std::move(list)};
}

Result<ClusterInventory> inventory_from_json(const json& j, std::string_view path) {
  if (auto s = require_object(j, path); !s) return s.error();
  ClusterInventory inv;
  auto kv = model::required_string(j, "kubernetesVersion", path);
  if (!kv) return kv.error();
  inv.kubernetes_version = std::move(kv).value();
  auto iv = model::required_string(j, "nodeImageVersion", path);
  if (!iv) return iv.error();
  inv.node_image_version = std::move(iv).value();
  auto nodes = model::optional_array(j, "nodes", path);
  if (!nodes) return nodes.error();
  if (*nodes) {
    std::string npath = member_path(path, "nodes");
    // Checked before parsing so that an oversized body costs no more than its count.
    if ((*nodes)->size() > kMaxNodes) {
      return invalid_field(npath, "at most " + std::to_string(kMaxNodes) + " nodes are allowed (got " +
                                      std::to_string((*nodes)->size()) + ")");
    }
    inv.nodes.reserve((*nodes)->size());
    for (std::size_t i = 0; i < (*nodes)->size(); ++i) {
      auto n = node_from_json((**nodes)[i], index_path(npath, i));
      if (!n) return n.error();
      inv.nodes.push_back(std::move(n).value());
    }
  }
  if (auto s = check_token(inv.kubernetes_version, member_path(path, "kubernetesVersion"), kMaxVersionLength); !s) {
    return s.error();
  }
  if (auto s = check_token(inv.node_image_version, member_path(path, "nodeImageVersion"), kMaxVersionLength); !s) {
    return s.error();
  }
  // Duplicates are reported by their position in the input, before canonical ordering moves them.
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < inv.nodes.size(); ++i) {
    if (!names.insert(inv.nodes[i].name).second) {
      return invalid_field(member_path(index_path(member_path(path, "nodes"), i), "name"),
                           "duplicate node name \"" + inv.nodes[i].name + "\"");
    }
  }
  canonicalize(inv);
  return inv;
}

std::string make_gpu_uuid(std::uint64_t seed, std::string_view cluster, std::string_view node, int index) {
  SeededKey a(seed);
  a.mix("gpu-uuid").mix(cluster).mix(node).mix(static_cast<std::uint64_t>(index));
  std::uint64_t hi = a.value();
  std::uint64_t lo = SeededKey(hi).mix("lo").value();
  char buf[64];
  std::snprintf(buf, sizeof buf, "GPU-%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

}  // namespace fleet::model
