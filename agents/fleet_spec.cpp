#include "agents/fleet_spec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "common/json_text.hpp"
#include "common/seeded_random.hpp"
#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::agent {
namespace {

using nlohmann::json;

// Reads an optional member into `out` when present; returns the first error.
#define FLEET_READ(expr, out)         \
  do {                                \
    auto r_ = (expr);                 \
    if (!r_) return r_.error();       \
    if (*r_) (out) = std::move(**r_); \
  } while (false)

Status require_object(const json& j, std::string_view path) {
  if (!j.is_object()) return model::wrong_type(path.empty() ? "(root)" : path, "an object", j);
  return Ok{};
}

Result<std::optional<const json*>> optional_object_member(const json& j, std::string_view key, std::string_view path) {
  auto o = model::optional_object(j, key, path);
  if (!o) return o.error();
  if (!*o) return std::optional<const json*>{};
  return std::optional<const json*>{*o};
}

Result<std::optional<std::string>> optional_version(const json& j, std::string_view key, std::string_view path) {
  return model::optional_token(j, key, path, model::kMaxVersionLength);
}

Result<std::optional<int>> optional_int(const json& j, std::string_view key, std::string_view path, int min, int max) {
  auto v = model::optional_integer(j, key, path, min, max);
  if (!v) return v.error();
  if (!*v) return std::optional<int>{};
  return std::optional<int>{static_cast<int>(**v)};
}

Result<GpuSpec> parse_gpu(const json& j, std::string_view path) {
  if (auto s = require_object(j, path); !s) return s.error();
  GpuSpec g;
  auto model = model::required_string(j, "model", path);
  if (!model) return model.error();
  g.model = std::move(model).value();
  const KnownGpu* known = find_known_gpu(g.model);
  if (known) g.model = std::string(known->model);
  if (g.model.empty() || g.model.size() > model::kMaxGpuModelLength ||
      !std::all_of(g.model.begin(), g.model.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return model::invalid_field(
        model::member_path(path, "model"),
        "must be 1-" + std::to_string(model::kMaxGpuModelLength) + " printable ASCII characters");
  }
  FLEET_READ(optional_int(j, "count", path, 1, static_cast<int>(model::kMaxGpusPerNode)), g.count);
  std::optional<double> mem;
  FLEET_READ(model::optional_number(j, "memoryGiB", path, 1, kMaxGpuMemoryGiB), mem);
  if (mem) {
    g.memory_gib = *mem;
  } else if (known) {
    g.memory_gib = known->memory_gib;
  } else {
    return make_error(ErrorCode::kInvalid,
                      std::string(model::member_path(path, "memoryGiB")) +
                          ": required for a GPU model the simulator does not know (known: h100, h200, a100, l40s, "
                          "l4, a10)",
                      model::member_path(path, "memoryGiB"), "missing-field");
  }
  FLEET_READ(optional_version(j, "driverVersion", path), g.driver_version);
  FLEET_READ(optional_version(j, "cudaVersion", path), g.cuda_version);
  return g;
}

Result<PoolSpec> parse_pool(const json& j, std::string_view path) {
  if (auto s = require_object(j, path); !s) return s.error();
  PoolSpec p;
  auto name = model::required_string(j, "name", path);
  if (!name) return name.error();
  p.name = std::move(name).value();
  if (auto s = model::validate_dns1123_label(p.name, model::member_path(path, "name")); !s) return s.error();
  FLEET_READ(optional_int(j, "count", path, 0, kMaxPoolNodes), p.count);
  FLEET_READ(optional_int(j, "cpu", path, 1, kMaxNodeCpu), p.cpu);
  FLEET_READ(model::optional_number(j, "memoryGiB", path, 0.25, kMaxNodeMemoryGiB), p.memory_gib);
  if (auto it = j.find("gpu"); it != j.end() && !it->is_null()) {
    auto g = parse_gpu(*it, model::member_path(path, "gpu"));
    if (!g) return g.error();
    p.gpu = std::move(g).value();
  }
  std::optional<std::string> admission;
  FLEET_READ(model::optional_string(j, "initialAdmission", path), admission);
  if (admission) {
    auto a = model::parse_admission(*admission);
    if (!a || *a == model::Admission::kQuarantined) {
      return model::invalid_field(model::member_path(path, "initialAdmission"), "must be admitted or pending_probe");
    }
    p.initial_admission = *a;
  }
  return p;
}

Result<ClusterSpec> parse_cluster(const json& j, std::string_view path) {
  if (auto s = require_object(j, path); !s) return s.error();
  ClusterSpec c;
  auto name = model::required_string(j, "name", path);
  if (!name) return name.error();
  c.name = std::move(name).value();
  if (auto s = model::validate_dns1123_label(c.name, model::member_path(path, "name")); !s) return s.error();
  FLEET_READ(model::optional_string(j, "provider", path), c.provider);
  if (auto s = model::validate_provider(c.provider, model::member_path(path, "provider")); !s) return s.error();
  FLEET_READ(model::optional_string(j, "region", path), c.region);
  if (auto s = model::validate_region(c.region, model::member_path(path, "region")); !s) return s.error();
  FLEET_READ(model::optional_string(j, "updateGroup", path), c.update_group);
  if (auto s = model::validate_update_group(c.update_group, model::member_path(path, "updateGroup")); !s)
    return s.error();
  FLEET_READ(model::optional_labels(j, "labels", path), c.labels);
  FLEET_READ(model::optional_taints(j, "taints", path, true), c.taints);
  FLEET_READ(optional_version(j, "kubernetesVersion", path), c.kubernetes_version);
  FLEET_READ(optional_version(j, "nodeImageVersion", path), c.node_image_version);
  auto pools = model::optional_array(j, "pools", path);
  if (!pools) return pools.error();
  if (!*pools) {
    c.pools.push_back(make_pool("system", 3, 8, 32));
    return c;
  }
  std::string pp = model::member_path(path, "pools");
  if ((*pools)->empty()) return model::invalid_field(pp, "must list at least one pool");
  if ((*pools)->size() > kMaxPoolsPerCluster) {
    return model::invalid_field(pp, "at most " + std::to_string(kMaxPoolsPerCluster) + " pools are allowed (got " +
                                        std::to_string((*pools)->size()) + ")");
  }
  std::set<std::string> names;
  std::size_t nodes = 0;
  for (std::size_t i = 0; i < (*pools)->size(); ++i) {
    std::string ip = model::index_path(pp, i);
    auto p = parse_pool((**pools)[i], ip);
    if (!p) return p.error();
    if (!names.insert(p->name).second) {
      return model::invalid_field(model::member_path(ip, "name"), "duplicate pool name \"" + p->name + "\"");
    }
    nodes += static_cast<std::size_t>(p->count);
    c.pools.push_back(std::move(p).value());
  }
  if (nodes > model::kMaxNodes) {
    return model::invalid_field(pp, "the pools hold " + std::to_string(nodes) + " nodes; at most " +
                                        std::to_string(model::kMaxNodes) + " per cluster are allowed");
  }
  return c;
}

json gpu_json(const GpuSpec& g) {
  return {{"model", g.model},
          {"count", g.count},
          {"memoryGiB", g.memory_gib},
          {"driverVersion", g.driver_version},
          {"cudaVersion", g.cuda_version}};
}

}  // namespace

const std::vector<KnownGpu>& known_gpus() {
  // Names as CUDA reports them (what gpu-probe and the GPU inventory carry); memory as marketed.
  static const std::vector<KnownGpu> kGpus = {
      {"h100", "NVIDIA H100 80GB HBM3", 80}, {"h200", "NVIDIA H200", 141}, {"a100", "NVIDIA A100-SXM4-80GB", 80},
      {"l40s", "NVIDIA L40S", 48},           {"l4", "NVIDIA L4", 24},      {"a10", "NVIDIA A10", 24},
  };
  return kGpus;
}

const KnownGpu* find_known_gpu(std::string_view key_or_model) {
  for (const KnownGpu& g : known_gpus()) {
    if (g.key == key_or_model || g.model == key_or_model) return &g;
  }
  return nullptr;
}

Result<FleetSpec> parse_fleet_spec(const json& j) {
  if (auto s = require_object(j, ""); !s) return s.error();
  FleetSpec spec;
  FLEET_READ(model::optional_uint64(j, "seed", ""), spec.seed);
  std::optional<double> scale;
  FLEET_READ(model::optional_number(j, "timeScale", "", 0, kMaxTimeScale), scale);
  if (scale) {
    if (*scale <= 0) return model::invalid_field("timeScale", "must be greater than 0");
    spec.time_scale = *scale;
  }
  std::optional<const json*> durations;
  FLEET_READ(optional_object_member(j, "durations", ""), durations);
  if (durations) {
    const json& d = **durations;
    Durations& out = spec.durations;
    for (auto [key, field] :
         {std::pair<const char*, double*>{"controlPlaneUpgradeSeconds", &out.control_plane_upgrade_seconds},
          {"nodeUpgradeSeconds", &out.node_upgrade_seconds},
          {"drainSeconds", &out.drain_seconds},
          {"probeSeconds", &out.probe_seconds}}) {
      FLEET_READ(model::optional_number(d, key, "durations", 0, kMaxDurationSeconds), *field);
    }
  }
  std::optional<const json*> faults;
  FLEET_READ(optional_object_member(j, "faults", ""), faults);
  if (faults) {
    const json& f = **faults;
    FaultRates& out = spec.faults;
    for (auto [key, field] : {std::pair<const char*, double*>{"nodeUpgradeFailure", &out.node_upgrade_failure},
                              {"probeFailure", &out.probe_failure},
                              {"drainTimeout", &out.drain_timeout},
                              {"agentDisconnect", &out.agent_disconnect}}) {
      FLEET_READ(model::optional_number(f, key, "faults", 0, 1), *field);
    }
  }
  auto clusters = model::optional_array(j, "clusters", "");
  if (!clusters) return clusters.error();
  if (!*clusters) return model::missing_field("clusters");
  if ((*clusters)->size() > kMaxSpecClusters) {
    return model::invalid_field("clusters", "at most " + std::to_string(kMaxSpecClusters) +
                                                " clusters are allowed (got " + std::to_string((*clusters)->size()) +
                                                ")");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < (*clusters)->size(); ++i) {
    std::string cp = model::index_path("clusters", i);
    auto c = parse_cluster((**clusters)[i], cp);
    if (!c) return c.error();
    if (!names.insert(c->name).second) {
      return model::invalid_field(model::member_path(cp, "name"), "duplicate cluster name \"" + c->name + "\"");
    }
    spec.clusters.push_back(std::move(c).value());
  }
  return spec;
}

Result<FleetSpec> parse_fleet_spec_text(std::string_view text) {
  auto j = parse_json_text(text);
  if (!j) return j.error();
  return parse_fleet_spec(*j);
}

json to_json(const FleetSpec& spec) {
  json clusters = json::array();
  for (const ClusterSpec& c : spec.clusters) {
    json pools = json::array();
    for (const PoolSpec& p : c.pools) {
      json pj = {{"name", p.name}, {"count", p.count}, {"cpu", p.cpu}, {"memoryGiB", p.memory_gib}};
      if (p.gpu) pj["gpu"] = gpu_json(*p.gpu);
      pj["initialAdmission"] = to_string(p.initial_admission);
      pools.push_back(std::move(pj));
    }
    json taints = json::array();
    for (const model::Taint& t : c.taints) taints.push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
    clusters.push_back({{"name", c.name},
                        {"provider", c.provider},
                        {"region", c.region},
                        {"updateGroup", c.update_group},
                        {"labels", c.labels},
                        {"taints", std::move(taints)},
                        {"kubernetesVersion", c.kubernetes_version},
                        {"nodeImageVersion", c.node_image_version},
                        {"pools", std::move(pools)}});
  }
  return {{"seed", spec.seed},
          {"timeScale", spec.time_scale},
          {"durations",
           {{"controlPlaneUpgradeSeconds", spec.durations.control_plane_upgrade_seconds},
            {"nodeUpgradeSeconds", spec.durations.node_upgrade_seconds},
            {"drainSeconds", spec.durations.drain_seconds},
            {"probeSeconds", spec.durations.probe_seconds}}},
          {"faults",
           {{"nodeUpgradeFailure", spec.faults.node_upgrade_failure},
            {"probeFailure", spec.faults.probe_failure},
            {"drainTimeout", spec.faults.drain_timeout},
            {"agentDisconnect", spec.faults.agent_disconnect}}},
          {"clusters", std::move(clusters)}};
}

Result<std::vector<GpuMixEntry>> parse_gpu_mix(std::string_view mix) {
  auto bad = [&](const std::string& entry, const std::string& why) {
    return make_error(ErrorCode::kInvalid,
                      "gpuMix: \"" + entry + "\" " + why + " (expected MODEL:GPUSxPERCENT%, e.g. h100:8x40%)", "gpuMix",
                      "invalid-field");
  };
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  auto parse_int = [](std::string_view s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  std::vector<GpuMixEntry> entries;
  if (trim(mix).empty()) return entries;
  int total = 0;
  std::size_t start = 0;
  while (start <= mix.size()) {
    std::size_t comma = mix.find(',', start);
    std::string_view raw =
        trim(mix.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    std::string entry(raw);
    std::size_t colon = raw.find(':');
    std::size_t x = raw.find('x', colon == std::string_view::npos ? 0 : colon);
    if (raw.empty()) return bad(entry, "is empty");
    if (colon == std::string_view::npos || x == std::string_view::npos || raw.back() != '%') {
      return bad(entry, "is not MODEL:GPUSxPERCENT%");
    }
    GpuMixEntry e;
    e.key = std::string(raw.substr(0, colon));
    std::transform(e.key.begin(), e.key.end(), e.key.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!find_known_gpu(e.key)) {
      std::string keys;
      for (const KnownGpu& g : known_gpus()) keys += (keys.empty() ? "" : ", ") + std::string(g.key);
      return bad(entry, "names an unknown GPU model; known: " + keys);
    }
    if (!parse_int(raw.substr(colon + 1, x - colon - 1), e.gpus_per_node) || e.gpus_per_node < 1 ||
        e.gpus_per_node > static_cast<int>(model::kMaxGpusPerNode)) {
      return bad(entry, "needs 1-" + std::to_string(model::kMaxGpusPerNode) + " GPUs per node");
    }
    if (!parse_int(raw.substr(x + 1, raw.size() - x - 2), e.percent) || e.percent < 0 || e.percent > 100) {
      return bad(entry, "needs a whole percent between 0 and 100");
    }
    total += e.percent;
    entries.push_back(std::move(e));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (total > 100) {
    return make_error(ErrorCode::kInvalid, "gpuMix: percents sum to " + std::to_string(total) + "; at most 100",
                      "gpuMix", "invalid-field");
  }
  return entries;
}

Result<FleetSpec> generate_fleet_spec(int clusters, std::string_view gpu_mix, std::uint64_t seed) {
  if (clusters < 1 || clusters > static_cast<int>(kMaxGeneratedClusters)) {
    return make_error(ErrorCode::kInvalid, "clusters: must be between 1 and " + std::to_string(kMaxGeneratedClusters),
                      "clusters", "invalid-field");
  }
  auto mix = parse_gpu_mix(gpu_mix);
  if (!mix) return mix.error();

  // Largest-remainder apportionment over the GPU kinds plus the CPU-only rest, so that shares are exact up to
  // rounding and always add up to `clusters`.
  struct Share {
    int entry;  // index into mix, -1 for CPU-only
    int count;
    double remainder;
  };
  std::vector<Share> shares;
  int used_percent = 0;
  for (std::size_t i = 0; i < mix->size(); ++i) used_percent += (*mix)[i].percent;
  auto add_share = [&](int entry, int percent) {
    double exact = static_cast<double>(clusters) * percent / 100.0;
    shares.push_back({entry, static_cast<int>(std::floor(exact)), exact - std::floor(exact)});
  };
  for (std::size_t i = 0; i < mix->size(); ++i) add_share(static_cast<int>(i), (*mix)[i].percent);
  add_share(-1, 100 - used_percent);
  int assigned = 0;
  for (const Share& s : shares) assigned += s.count;
  std::vector<std::size_t> order(shares.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return shares[a].remainder > shares[b].remainder; });
  for (std::size_t k = 0; assigned < clusters; k = (k + 1) % order.size(), ++assigned) shares[order[k]].count++;

  std::vector<int> kinds;  // one per cluster: mix index or -1
  for (const Share& s : shares) kinds.insert(kinds.end(), s.count, s.entry);
  SplitMix64 rng(SeededKey(seed).mix("generate_fleet_spec").value());
  for (std::size_t i = kinds.size(); i > 1; --i) std::swap(kinds[i - 1], kinds[rng.below(i)]);  // Fisher-Yates

  static constexpr std::string_view kAksRegions[] = {"westeurope", "northeurope",   "eastus",    "eastus2",
                                                     "westus3",    "southeastasia", "japaneast", "uksouth"};
  static constexpr std::string_view kArcSites[] = {"eastus", "westeurope", "centralus", "germanywestcentral"};
  FleetSpec spec;
  spec.seed = seed;
  std::map<std::string, int> per_prefix;
  int canary = std::max(1, clusters / 10);
  int wave1 = canary + (clusters - canary) / 2;
  for (int i = 0; i < clusters; ++i) {
    ClusterSpec c;
    // About one cluster in four is an Arc-enabled on-premises or edge cluster.
    bool arc = rng.chance(0.25);
    c.provider = arc ? "arc" : "aks";
    c.region =
        std::string(arc ? kArcSites[rng.below(std::size(kArcSites))] : kAksRegions[rng.below(std::size(kAksRegions))]);
    std::string prefix = c.provider + "-" + c.region;
    c.name = prefix + "-" + std::to_string(++per_prefix[prefix]);
    c.update_group = i < canary ? "canary" : i < wave1 ? "wave1" : "wave2";
    c.labels = {{"env", i < canary ? "staging" : "prod"}};
    if (arc) {
      c.labels["edge"] = "true";
      c.node_image_version = "AKSArc-AzureLinux-3.0-202510.01.0";
    }
    c.pools.push_back(make_pool("system", 3, 8, 32));
    int kind = kinds[static_cast<std::size_t>(i)];
    if (kind < 0) {
      c.pools.push_back(make_pool("cpu", 3 + static_cast<int>(rng.below(8)), 16, 64));
    } else {
      const GpuMixEntry& e = (*mix)[static_cast<std::size_t>(kind)];
      const KnownGpu* g = find_known_gpu(e.key);
      GpuSpec gs;
      gs.model = std::string(g->model);
      gs.count = e.gpus_per_node;
      gs.memory_gib = g->memory_gib;
      // Host sizing proportional to the GPUs, roughly like the cloud GPU VM sizes (8 GPUs: 96 cores, 1 TiB).
      c.pools.push_back(
          make_pool("gpu", 2 + static_cast<int>(rng.below(7)), 12 * e.gpus_per_node, 128.0 * e.gpus_per_node, gs));
    }
    spec.clusters.push_back(std::move(c));
  }
  return spec;
}

#undef FLEET_READ

}  // namespace fleet::agent
