#include "agents/kube/node_mapping.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "agents/kube/json_fields.hpp"
#include "agents/kube/quantity.hpp"
#include "common/time_format.hpp"
#include "model/names.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

std::string label(const model::Labels& labels, std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string() : it->second;
}

bool has_label(const model::Labels& labels, std::string_view key) {
  return labels.find(std::string(key)) != labels.end();
}

// A quantity of a resource list ({"cpu": "96", "memory": "1056Gi", "nvidia.com/gpu": "8"}); 0 when absent or bad.
std::int64_t quantity(const json& resources, std::string_view name, bool milli) {
  const json& q = member(resources, std::string(name).c_str());
  if (!q.is_string()) return 0;
  auto v = milli ? quantity_milli(q.get<std::string>()) : quantity_value(q.get<std::string>());
  return v && *v > 0 ? *v : 0;
}

int parse_small_int(std::string_view text, int fallback) {
  if (text.empty() || text.size() > 6) return fallback;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return fallback;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Well-known labels first, so that a node with more than kMaxLabels keeps the ones placement and people use.
int label_rank(std::string_view key) {
  static constexpr std::string_view kFirst[] = {"kubernetes.io/", "topology.kubernetes.io/", "node.kubernetes.io/",
                                                "kubernetes.azure.com/agentpool", "nvidia.com/gpu"};
  for (std::size_t i = 0; i < std::size(kFirst); ++i) {
    if (key.substr(0, kFirst[i].size()) == kFirst[i]) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kFirst));
}

}  // namespace

std::string version_token(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '+' || c == '-';
    out += ok ? c : '-';
  }
  if (out.size() > model::kMaxVersionLength) out.resize(model::kMaxVersionLength);
  return out.empty() ? "unknown" : out;
}

std::string pool_from_labels(const model::Labels& labels) {
  static constexpr std::string_view kKeys[] = {"kubernetes.azure.com/agentpool", "agentpool",
                                               "node.kubernetes.io/pool",        "cloud.google.com/gke-nodepool",
                                               "eks.amazonaws.com/nodegroup",    "karpenter.sh/nodepool"};
  for (std::string_view key : kKeys) {
    std::string value = label(labels, key);
    if (value.empty()) continue;
    std::string out;
    for (char c : value) {
      const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) ? l : '-';
    }
    if (out.size() > model::kMaxDns1123Label) out.resize(model::kMaxDns1123Label);
    while (!out.empty() && out.back() == '-') out.pop_back();
    while (!out.empty() && out.front() == '-') out.erase(out.begin());
    if (!out.empty()) return out;
  }
  return "default";
}

model::Admission admission_from_taints(const std::vector<model::Taint>& taints) {
  auto has = [&](std::string_view key) {
    return std::any_of(taints.begin(), taints.end(), [&](const model::Taint& t) { return t.key == key; });
  };
  if (has(model::kTaintGpuQuarantined)) return model::Admission::kQuarantined;
  if (has(model::kTaintGpuUnverified)) return model::Admission::kPendingProbe;
  return model::Admission::kAdmitted;
}

std::string gpu_model_from_product_label(std::string_view product) {
  for (std::string_view suffix : {std::string_view("-SHARED")}) {
    if (product.size() > suffix.size() && product.substr(product.size() - suffix.size()) == suffix) {
      product.remove_suffix(suffix.size());
    }
  }
  // GFD writes the nvidia-smi name with spaces turned into dashes, which loses the dashes that were in the name.
  static constexpr std::string_view kKnown[] = {
      "NVIDIA H100 80GB HBM3",
      "NVIDIA H100 NVL",
      "NVIDIA H100 PCIe",
      "NVIDIA H200",
      "NVIDIA H200 NVL",
      "NVIDIA GB200",
      "NVIDIA B200",
      "NVIDIA A100-SXM4-80GB",
      "NVIDIA A100-SXM4-40GB",
      "NVIDIA A100 80GB PCIe",
      "NVIDIA A100-PCIE-40GB",
      "NVIDIA L40S",
      "NVIDIA L40",
      "NVIDIA L4",
      "NVIDIA A10",
      "NVIDIA A10G",
      "Tesla T4",
      "Tesla V100-SXM2-32GB",
      "Tesla V100-PCIE-16GB",
  };
  auto dashed = [](std::string_view name) {
    std::string out(name);
    std::replace(out.begin(), out.end(), ' ', '-');
    return out;
  };
  for (std::string_view known : kKnown) {
    if (dashed(known) == product) return std::string(known);
  }
  std::string out(product);
  std::replace(out.begin(), out.end(), '-', ' ');
  return out;
}

std::vector<model::GpuInfo> gpus_from_labels(const model::Labels& labels, int count, std::string_view node,
                                             const NodeMappingOptions& options) {
  std::vector<model::GpuInfo> gpus;
  if (count <= 0) return gpus;
  std::string model = gpu_model_from_product_label(label(labels, "nvidia.com/gpu.product"));
  if (model.empty() || model.size() > model::kMaxGpuModelLength) model = "NVIDIA GPU";
  std::int64_t memory = 0;
  if (std::string mib = label(labels, "nvidia.com/gpu.memory"); !mib.empty()) {
    if (auto v = quantity_value(mib); v && *v > 0 && *v <= (model::kMaxGpuMemoryBytes >> 20)) memory = *v << 20;
  }
  // Newer GFD releases label the full versions; older ones split them into major/minor/rev.
  std::string driver = label(labels, "nvidia.com/cuda.driver-version.full");
  if (driver.empty() && has_label(labels, "nvidia.com/cuda.driver.major")) {
    driver = label(labels, "nvidia.com/cuda.driver.major") + "." + label(labels, "nvidia.com/cuda.driver.minor");
    if (std::string rev = label(labels, "nvidia.com/cuda.driver.rev"); !rev.empty()) driver += "." + rev;
  }
  std::string cuda = label(labels, "nvidia.com/cuda.runtime-version.full");
  if (cuda.empty() && has_label(labels, "nvidia.com/cuda.runtime.major")) {
    cuda = label(labels, "nvidia.com/cuda.runtime.major") + "." + label(labels, "nvidia.com/cuda.runtime.minor");
  }
  const std::string strategy = label(labels, "nvidia.com/mig.strategy");
  const bool mig = (strategy == "single" || strategy == "mixed") &&
                   label(labels, "nvidia.com/mig.capable") != "false" &&
                   label(labels, "nvidia.com/mig.config") != "all-disabled";
  for (int i = 0; i < count; ++i) {
    model::GpuInfo g;
    g.index = i;
    g.uuid = model::make_gpu_uuid(options.uuid_seed, options.cluster, node, i);
    g.model = model;
    g.memory_bytes = memory;
    g.driver_version = driver.empty() ? "unknown" : version_token(driver);
    g.cuda_version = cuda.empty() ? "unknown" : version_token(cuda);
    g.mig_mode = mig ? "enabled" : "disabled";
    gpus.push_back(std::move(g));
  }
  return gpus;
}

model::Labels select_labels(const model::Labels& all) {
  std::vector<std::pair<int, const std::pair<const std::string, std::string>*>> valid;
  for (const auto& entry : all) {
    if (!model::label_key_problem(entry.first).empty() || !model::label_value_problem(entry.second).empty()) continue;
    valid.emplace_back(label_rank(entry.first), &entry);
  }
  std::stable_sort(valid.begin(), valid.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  model::Labels out;
  for (const auto& [rank, entry] : valid) {
    if (out.size() == model::kMaxLabels) break;
    out.insert(*entry);
  }
  return out;
}

std::string dominant_image(const std::vector<model::NodeInfo>& nodes) {
  std::map<std::string, int> counts;
  for (const model::NodeInfo& n : nodes) ++counts[n.node_image_version];
  std::string best = "unknown";
  int best_count = 0;
  for (const auto& [image, count] : counts) {
    if (count >= best_count) {
      best = image;
      best_count = count;
    }
  }
  return best;
}

NodeMeta node_meta_from_k8s(const json& node) {
  NodeMeta out;
  const json& md = member(node, "metadata");
  if (const std::string created = md.is_object() ? str(md, "creationTimestamp") : ""; !created.empty()) {
    out.created = parse_timestamp(created);
  }
  const json& annotations = member(md, "annotations");
  if (annotations.is_object()) {
    out.recorded_admission = model::parse_admission(str(annotations, std::string(kAdmissionAnnotation).c_str()));
    if (const std::string last = str(annotations, std::string(kLastProbeAnnotation).c_str()); !last.empty()) {
      out.recorded_last_probe = parse_timestamp(last);
    }
  }
  return out;
}

Result<model::NodeInfo> node_info_from_k8s(const json& node, const NodeMappingOptions& options) {
  const json& metadata = member(node, "metadata");
  model::NodeInfo n;
  n.name = str(metadata, "name");
  if (auto s = model::validate_dns1123_subdomain(n.name, "metadata.name"); !s) {
    return make_error(ErrorCode::kInvalid, "node \"" + n.name + "\": " + s.error().message);
  }
  model::Labels all;
  if (const json& labels = member(metadata, "labels"); labels.is_object()) {
    for (const auto& [key, value] : labels.items()) {
      if (value.is_string()) all[key] = value.get<std::string>();
    }
  }
  n.pool = pool_from_labels(all);
  n.labels = select_labels(all);

  const json& spec = member(node, "spec");
  n.schedulable = !member(spec, "unschedulable").is_boolean() || !member(spec, "unschedulable").get<bool>();
  std::set<std::pair<std::string, std::string>> seen;
  if (const json& taints = member(spec, "taints"); taints.is_array()) {
    for (const json& t : taints) {
      model::Taint taint{str(t, "key"), str(t, "value"), str(t, "effect")};
      if (!model::validate_taint(taint, "taint") || !seen.emplace(taint.key, taint.effect).second) continue;
      if (n.taints.size() == model::kMaxTaints) break;
      n.taints.push_back(std::move(taint));
    }
  }
  n.admission = admission_from_taints(n.taints);

  const json& status = member(node, "status");
  const json& info = member(status, "nodeInfo");
  std::string kubelet = str(info, "kubeletVersion");
  if (!kubelet.empty() && kubelet.front() == 'v') kubelet.erase(0, 1);
  n.kubernetes_version = version_token(kubelet);
  std::string image = label(all, "kubernetes.azure.com/node-image-version");
  n.node_image_version = version_token(image.empty() ? str(info, "osImage") : image);

  const json& capacity = member(status, "capacity");
  const json& allocatable = member(status, "allocatable");
  n.capacity.cpu_millicores = std::min(quantity(capacity, "cpu", true), model::kMaxCpuMillicores);
  n.capacity.memory_bytes = std::min(quantity(capacity, "memory", false), model::kMaxNodeMemoryBytes);
  n.allocatable.cpu_millicores = std::min(quantity(allocatable, "cpu", true), n.capacity.cpu_millicores);
  n.allocatable.memory_bytes = std::min(quantity(allocatable, "memory", false), n.capacity.memory_bytes);

  // With time-slicing the device plugin advertises replicas × GPUs; GFD's gpu.count (and gpu.replicas) give the
  // physical count, which is what the inventory counts.
  const int replicas = std::max(1, parse_small_int(label(all, "nvidia.com/gpu.replicas"), 1));
  std::int64_t gpu_capacity = quantity(capacity, kGpuResource, false) / replicas;
  std::int64_t gpu_allocatable = quantity(allocatable, kGpuResource, false) / replicas;
  if (int counted = parse_small_int(label(all, "nvidia.com/gpu.count"), -1); counted >= 0 && gpu_capacity > 0) {
    gpu_capacity = counted;
  }
  gpu_capacity = std::min<std::int64_t>(gpu_capacity, static_cast<std::int64_t>(model::kMaxGpusPerNode));
  n.capacity.gpus = gpu_capacity;
  n.allocatable.gpus = std::min(gpu_allocatable, gpu_capacity);
  n.gpus = gpus_from_labels(all, static_cast<int>(gpu_capacity), n.name, options);
  return n;
}

}  // namespace fleet::agent::kube
