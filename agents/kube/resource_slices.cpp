#include "agents/kube/resource_slices.hpp"

#include <algorithm>
#include <set>

#include "agents/kube/json_fields.hpp"
#include "agents/kube/node_mapping.hpp"
#include "agents/kube/quantity.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

// A typed DeviceAttribute: {"string": …} | {"version": …} | {"int": …} | {"bool": …}.
std::string attr_string(const json& attributes, const char* name) {
  const json& a = member(attributes, name);
  for (const char* type : {"string", "version"}) {
    if (const json& v = member(a, type); v.is_string()) return v.get<std::string>();
  }
  return {};
}

std::optional<long long> attr_int(const json& attributes, const char* name) {
  const json& v = member(member(attributes, name), "int");
  if (v.is_number_integer()) return v.get<long long>();
  return std::nullopt;
}

// v1 / v1beta2: {"value": "80Gi"}; v1alpha3: the quantity itself.
std::int64_t capacity_bytes(const json& capacity, const char* name) {
  const json& c = member(capacity, name);
  const json& q = c.is_object() ? member(c, "value") : c;
  if (!q.is_string()) return 0;
  auto v = quantity_value(q.get<std::string>());
  return v && *v > 0 && *v <= model::kMaxGpuMemoryBytes ? *v : 0;
}

bool valid_uuid(const std::string& uuid) {
  return !uuid.empty() && uuid.size() <= model::kMaxGpuUuidLength && std::all_of(uuid.begin(), uuid.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// "12.4.0" → "12.4": the CUDA version the inventory reports elsewhere is major.minor.
std::string major_minor(const std::string& version) {
  auto first = version.find('.');
  if (first == std::string::npos) return version;
  auto second = version.find('.', first + 1);
  return second == std::string::npos ? version : version.substr(0, second);
}

}  // namespace

std::map<std::string, std::vector<model::GpuInfo>> gpus_from_resource_slices(const json& slice_list) {
  struct Found {
    std::optional<long long> index;
    model::GpuInfo gpu;
  };
  std::map<std::string, std::vector<Found>> found;
  std::map<std::string, std::set<std::string>> mig_parents;  // node → parent uuids of MIG devices
  const json& items = member(slice_list, "items");
  if (!items.is_array()) return {};
  for (const json& slice : items) {
    const json& spec = member(slice, "spec");
    if (!member(spec, "driver").is_string() || member(spec, "driver").get<std::string>() != kNvidiaDraDriver) continue;
    const json& node = member(spec, "nodeName");
    if (!node.is_string() || node.get<std::string>().empty()) continue;
    const std::string node_name = node.get<std::string>();
    const json& devices = member(spec, "devices");
    if (!devices.is_array()) continue;
    for (const json& device : devices) {
      const json& body = member(device, "basic").is_object() ? member(device, "basic") : device;
      const json& attributes = member(body, "attributes");
      const std::string type = attr_string(attributes, "type");
      if (type == "mig") {
        if (std::string parent = attr_string(attributes, "parentUUID"); !parent.empty()) {
          mig_parents[node_name].insert(parent);
        }
        continue;
      }
      if (type != "gpu" && !type.empty()) continue;
      Found f;
      f.gpu.uuid = attr_string(attributes, "uuid");
      if (!valid_uuid(f.gpu.uuid)) continue;
      f.index = attr_int(attributes, "index");
      f.gpu.model = attr_string(attributes, "productName");
      if (f.gpu.model.empty() || f.gpu.model.size() > model::kMaxGpuModelLength) f.gpu.model = "NVIDIA GPU";
      const std::string driver = attr_string(attributes, "driverVersion");
      const std::string cuda = attr_string(attributes, "cudaDriverVersion");
      f.gpu.driver_version = driver.empty() ? "unknown" : version_token(driver);
      f.gpu.cuda_version = cuda.empty() ? "unknown" : version_token(major_minor(cuda));
      f.gpu.memory_bytes = capacity_bytes(member(body, "capacity"), "memory");
      found[node_name].push_back(std::move(f));
    }
  }
  std::map<std::string, std::vector<model::GpuInfo>> out;
  for (auto& [node, list] : found) {
    // Devices with a usable index keep it; the rest, and repeats, take the lowest free index.
    std::sort(list.begin(), list.end(), [](const Found& a, const Found& b) {
      if (a.index.has_value() != b.index.has_value()) return a.index.has_value();
      return a.index.value_or(0) != b.index.value_or(0) ? a.index.value_or(0) < b.index.value_or(0)
                                                        : a.gpu.uuid < b.gpu.uuid;
    });
    std::set<int> used;
    std::set<std::string> uuids;
    std::vector<model::GpuInfo>& gpus = out[node];
    for (Found& f : list) {
      if (!uuids.insert(f.gpu.uuid).second) continue;
      const bool fits = f.index && *f.index >= 0 && *f.index < static_cast<long long>(model::kMaxGpusPerNode);
      int index = fits ? static_cast<int>(*f.index) : -1;
      if (index < 0 || used.count(index)) {
        index = 0;
        while (used.count(index)) ++index;
      }
      if (index >= static_cast<int>(model::kMaxGpusPerNode)) break;
      used.insert(index);
      f.gpu.index = index;
      if (mig_parents[node].count(f.gpu.uuid)) f.gpu.mig_mode = "enabled";
      gpus.push_back(std::move(f.gpu));
    }
    std::sort(gpus.begin(), gpus.end(),
              [](const model::GpuInfo& a, const model::GpuInfo& b) { return a.index < b.index; });
  }
  return out;
}

void apply_dra_gpus(model::NodeInfo& node, std::vector<model::GpuInfo> gpus) {
  if (gpus.size() > model::kMaxGpusPerNode) gpus.resize(model::kMaxGpusPerNode);
  const bool device_plugin = node.capacity.gpus > 0;
  const auto count = static_cast<std::int64_t>(gpus.size());
  node.gpus = std::move(gpus);
  node.capacity.gpus = count;
  node.allocatable.gpus = device_plugin ? std::min(node.allocatable.gpus, count) : count;
}

}  // namespace fleet::agent::kube
