#include "fleetctl/inventory_view.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include "fleetctl/cluster_view.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {
namespace {

std::string or_none(const std::string& s) {
  return s.empty() ? kNone : s;
}

std::int64_t int_field(const nlohmann::json& object, const char* key, std::int64_t fallback = 0) {
  const auto& v = member_or_null(object, key);
  return v.is_number_integer() ? v.get<std::int64_t>() : fallback;
}

std::string int_text(const nlohmann::json& object, const char* key) {
  const auto& v = member_or_null(object, key);
  return v.is_number_integer() ? std::to_string(v.get<std::int64_t>()) : kNone;
}

// "NVIDIA H100 80GB HBM3" → "H100 80GB HBM3": the vendor is the same on every row and only takes width.
std::string short_model(std::string model) {
  constexpr std::string_view kVendor = "NVIDIA ";
  if (model.starts_with(kVendor)) model.erase(0, kVendor.size());
  return model;
}

// The value column of describe_cluster: its longest key, "Resource Version:", plus two spaces. Kept equal so that
// the inventory sections line up with the fields above them.
constexpr std::size_t kDescribeKeyWidth = 19;

std::string key_line(const std::string& key, const std::string& value) {
  std::string line = key + ":";
  line.resize(std::max(line.size(), kDescribeKeyWidth), ' ');
  return line + value + "\n";
}

std::string indent(const std::string& text, const std::string& prefix = "  ") {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += prefix + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string format_binary_bytes(std::int64_t bytes) {
  if (bytes < 0) return "";
  static constexpr const char* kUnits[] = {"Ki", "Mi", "Gi", "Ti", "Pi"};
  // The largest unit that divides exactly, as Kubernetes writes quantities; below 1 Ki the bare number.
  std::string unit;
  for (const char* u : kUnits) {
    if (bytes == 0 || bytes % 1024 != 0) break;
    bytes /= 1024;
    unit = u;
  }
  return std::to_string(bytes) + unit;
}

std::string format_cpu(std::int64_t millicores) {
  if (millicores < 0) return "";
  if (millicores % 1000 == 0) return std::to_string(millicores / 1000);
  return std::to_string(millicores) + "m";
}

std::string node_gpus_text(const nlohmann::json& node) {
  const auto& gpus = member_or_null(node, "gpus");
  std::vector<std::pair<std::string, int>> by_model;  // in index order of first appearance
  if (gpus.is_array()) {
    for (const auto& g : gpus) {
      const std::string model = short_model(string_field(g, "model"));
      auto it = std::find_if(by_model.begin(), by_model.end(), [&](const auto& p) { return p.first == model; });
      if (it == by_model.end()) {
        by_model.emplace_back(model, 1);
      } else {
        ++it->second;
      }
    }
  }
  if (by_model.empty()) {
    // A node whose agent reports a GPU count but no devices (no GPU Feature Discovery): the count alone.
    return std::to_string(int_field(member_or_null(node, "capacity"), "gpus"));
  }
  std::string out;
  for (const auto& [model, n] : by_model) {
    if (!out.empty()) out += "+";
    out += std::to_string(n) + "x " + (model.empty() ? "?" : model);
  }
  return out;
}

std::string nodes_table(const std::vector<nlohmann::json>& nodes, bool wide, bool with_cluster) {
  TableRow header = {"NAME", "POOL", "STATUS", "ADMISSION", "KUBELET", "GPUS"};
  if (with_cluster) header.insert(header.begin(), "CLUSTER");
  if (wide) header.insert(header.end(), {"NODE-IMAGE", "CPU", "MEMORY", "TAINTS"});
  std::vector<TableRow> rows;
  rows.reserve(nodes.size());
  for (const auto& n : nodes) {
    const auto& schedulable = member_or_null(n, "schedulable");
    TableRow row = {string_field(n, "name"),
                    or_none(string_field(n, "pool")),
                    schedulable.is_boolean() && !schedulable.get<bool>() ? "SchedulingDisabled" : "Ready",
                    or_none(string_field(n, "admission")),
                    or_none(string_field(n, "kubernetesVersion")),
                    node_gpus_text(n)};
    if (wide) {
      const auto& capacity = member_or_null(n, "capacity");
      row.insert(row.end(), {or_none(string_field(n, "nodeImageVersion")),
                             or_none(format_cpu(int_field(capacity, "cpuMillicores", -1))),
                             or_none(format_binary_bytes(int_field(capacity, "memoryBytes", -1))),
                             or_none(taints_text(member_or_null(n, "taints")))});
    }
    if (with_cluster) row.insert(row.begin(), string_field(n, "cluster"));
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

std::string gpus_table(const std::vector<nlohmann::json>& gpus, bool wide) {
  TableRow header = {"CLUSTER", "NODE", "INDEX", "MODEL", "MEMORY", "HEALTH", "ADMISSION"};
  if (wide) header.insert(header.end(), {"UUID", "DRIVER", "CUDA", "MIG"});
  std::vector<TableRow> rows;
  rows.reserve(gpus.size());
  for (const auto& g : gpus) {
    TableRow row = {string_field(g, "cluster"),
                    string_field(g, "node"),
                    int_text(g, "index"),
                    or_none(string_field(g, "model")),
                    or_none(format_binary_bytes(int_field(g, "memoryBytes", -1))),
                    or_none(string_field(g, "health")),
                    or_none(string_field(g, "admission"))};
    if (wide) {
      row.insert(row.end(), {or_none(string_field(g, "uuid")), or_none(string_field(g, "driverVersion")),
                             or_none(string_field(g, "cudaVersion")), or_none(string_field(g, "migMode"))});
    }
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

std::string gpu_totals_table(const nlohmann::json& totals, std::int64_t total) {
  std::vector<TableRow> rows;
  if (totals.is_object()) {
    for (const auto& [model, n] : totals.items()) {  // json objects iterate sorted by key
      rows.push_back({model, n.is_number_integer() ? std::to_string(n.get<std::int64_t>()) : kNone});
    }
  }
  rows.push_back({"TOTAL", std::to_string(total)});
  return render_table({"MODEL", "GPUS"}, rows);
}

std::string describe_inventory(const std::string& cluster, const std::vector<nlohmann::json>& nodes,
                               std::size_t max_nodes) {
  struct PoolCount {
    int nodes = 0, unschedulable = 0, gpus = 0;
  };
  struct HealthCount {
    int total = 0;
    std::map<std::string, int> by_health;
  };
  std::map<std::string, PoolCount> pools;
  std::map<std::string, HealthCount> models;
  std::map<std::string, int> admissions;
  for (const auto& n : nodes) {
    auto& pool = pools[or_none(string_field(n, "pool"))];
    ++pool.nodes;
    const auto& schedulable = member_or_null(n, "schedulable");
    if (schedulable.is_boolean() && !schedulable.get<bool>()) ++pool.unschedulable;
    ++admissions[or_none(string_field(n, "admission"))];
    const auto& gpus = member_or_null(n, "gpus");
    if (!gpus.is_array()) continue;
    for (const auto& g : gpus) {
      ++pool.gpus;
      auto& model = models[or_none(string_field(g, "model"))];
      ++model.total;
      ++model.by_health[or_none(string_field(g, "health"))];
    }
  }

  std::string out = key_line("Nodes", std::to_string(nodes.size()));
  if (!nodes.empty()) {
    std::vector<TableRow> pool_rows;
    pool_rows.reserve(pools.size());
    for (const auto& [name, c] : pools) {
      pool_rows.push_back(
          {name, std::to_string(c.nodes), std::to_string(c.nodes - c.unschedulable), std::to_string(c.gpus)});
    }
    out += indent(render_table({"POOL", "NODES", "SCHEDULABLE", "GPUS"}, pool_rows));
    std::string admission_text;
    for (const auto& [name, count] : admissions) {
      admission_text += (admission_text.empty() ? "" : ", ") + name + " " + std::to_string(count);
    }
    out += key_line("  Admission", admission_text);
  }

  int gpu_total = 0;
  for (const auto& [model, c] : models) gpu_total += c.total;
  out += key_line("GPUs", std::to_string(gpu_total));
  if (gpu_total > 0) {
    std::vector<TableRow> model_rows;
    model_rows.reserve(models.size());
    for (const auto& [model, c] : models) {
      const auto& by_health = c.by_health;  // a lambda may not capture a structured binding before C++20 in clang
      auto count = [&by_health](const char* health) {
        auto it = by_health.find(health);
        return std::to_string(it == by_health.end() ? 0 : it->second);
      };
      model_rows.push_back({model, std::to_string(c.total), count("healthy"), count("unhealthy"), count("unknown")});
    }
    out += indent(render_table({"MODEL", "TOTAL", "HEALTHY", "UNHEALTHY", "UNKNOWN"}, model_rows));
  }

  if (!nodes.empty()) {
    out += "Node List:\n";
    std::vector<nlohmann::json> shown(nodes.begin(), nodes.begin() + std::min(nodes.size(), max_nodes));
    out += indent(nodes_table(shown, false));
    if (nodes.size() > shown.size()) {
      out += "  … and " + std::to_string(nodes.size() - shown.size()) + " more: fleetctl get nodes --cluster " +
             cluster + "\n";
    }
  }
  return out;
}

}  // namespace fleet::ctl
