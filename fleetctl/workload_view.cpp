#include "fleetctl/workload_view.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "fleetctl/age.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/override_view.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {
namespace {

using nlohmann::json;
// key ("" continues the previous one) and value (nullopt: the key heads the indented fields after it).
using Field = std::pair<std::string, std::optional<std::string>>;

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

// Numbers as the server wrote them (80, 0.5), strings as they are, anything else empty.
std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

const json& array_field(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const json& v = member_or_null(object, key);
  return v.is_array() ? v : kEmpty;
}

std::string joined(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

std::vector<std::string> strings_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& v : list.is_array() ? list : json::array()) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// "env=prod, freeGpus(NVIDIA H100 80GB HBM3) Ge 16"; "<any cluster>" for an empty term.
std::string term_text(const json& term) {
  std::vector<std::string> parts;
  if (const std::string selector = string_field(term, "labelSelector"); !selector.empty()) parts.push_back(selector);
  for (const auto& p : array_field(term, "properties")) {
    const std::string model = string_field(p, "gpuModel");
    parts.push_back(string_field(p, "name") + (model.empty() ? "" : "(" + model + ")") + " " +
                    string_field(p, "operator") + " " + scalar_text(member_or_null(p, "value")));
  }
  return parts.empty() ? "<any cluster>" : joined(parts, ", ");
}

// Kubernetes' notation: "gpu=reserved:NoSchedule", "maintenance:NoExecute (Exists)", "* (Exists)" for all taints.
std::string toleration_text(const json& t) {
  const std::string key = string_field(t, "key");
  const std::string effect = string_field(t, "effect");
  if (string_field(t, "operator") == "Exists") {
    return (key.empty() ? "*" : key) + (effect.empty() ? "" : ":" + effect) + " (Exists)";
  }
  return key + "=" + string_field(t, "value") + (effect.empty() ? "" : ":" + effect);
}

std::string division_text(const json& policy) {
  std::string division = or_dash(string_field(policy, "replicaDivision"));
  if (division != "Divided") return division;
  const std::string by = string_field(policy, "divideBy");
  std::string out = division + (by.empty() ? "" : " by " + by);
  const json& weights = member_or_null(policy, "weights");
  if (by == "Weights" && weights.is_object()) {
    std::vector<std::string> parts;
    for (const auto& [cluster, w] : weights.items()) parts.push_back(cluster + "=" + scalar_text(w));
    out += " (" + (parts.empty() ? std::string("every cluster 1") : joined(parts, ", ")) + ")";
  }
  return out;
}

std::string gib_text(const json& v) {
  const std::string n = scalar_text(v);
  return n.empty() || n == "0" ? "" : n + " GiB";
}

std::string timestamp_with_age(const std::string& ts, std::chrono::system_clock::time_point now) {
  if (ts.empty()) return "";
  const std::string age = age_of(ts, now);
  return age == "<unknown>" ? ts : ts + " (" + age + " ago)";
}

void add_list(std::vector<Field>& fields, const std::string& key, const std::vector<std::string>& values) {
  if (values.empty()) fields.emplace_back(key, "");
  for (std::size_t i = 0; i < values.size(); ++i) fields.emplace_back(i == 0 ? key : "", values[i]);
}

void add_policy(std::vector<Field>& fields, const json& policy) {
  fields.emplace_back("Policy", policy_text(policy));
  if (const auto names = strings_of(member_or_null(policy, "clusterNames")); !names.empty()) {
    fields.emplace_back("  Clusters", joined(names, ", "));
  }
  fields.emplace_back("  Division", division_text(policy));
  const json& affinity = member_or_null(policy, "affinity");
  const json& required = member_or_null(affinity, "required");
  fields.emplace_back("  Required", required.is_object() ? term_text(required) : "");
  std::vector<std::string> preferred;
  for (const auto& p : array_field(affinity, "preferred")) {
    preferred.push_back("weight " + scalar_text(member_or_null(p, "weight")) + ": " + term_text(p));
  }
  add_list(fields, "  Preferred", preferred);
  std::vector<std::string> tolerations;
  for (const auto& t : array_field(policy, "tolerations")) tolerations.push_back(toleration_text(t));
  add_list(fields, "  Tolerations", tolerations);
  std::vector<std::string> spread;
  for (const auto& s : array_field(policy, "spread")) {
    spread.push_back(string_field(s, "topologyKey") + " maxSkew=" + scalar_text(member_or_null(s, "maxSkew")) + " " +
                     string_field(s, "whenUnsatisfiable"));
  }
  add_list(fields, "  Spread", spread);
}

// Keys padded to one column; an empty value shows as <none>; control characters from the server become '?'.
std::string render_fields(const std::vector<Field>& fields) {
  std::size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, key.size() + 3);
  std::string out;
  for (const auto& [key, value] : fields) {
    std::string line = key.empty() ? "" : key + ":";
    if (value) {
      line.resize(width, ' ');
      line += value->empty() ? std::string(kNone) : *value;
    }
    for (char& ch : line) {
      if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
    }
    out += line + "\n";
  }
  return out;
}

// "136.9 GiB per replica (weights 130.39, KV cache 0, overhead 6.52); 2 GPUs per replica; fits: 2×H100 …".
std::string model_fit_text(const json& fit) {
  const json& memory = member_or_null(fit, "memoryGiB");
  return scalar_text(member_or_null(memory, "total")) + " GiB per replica (weights " +
         scalar_text(member_or_null(memory, "weights")) + ", KV cache " +
         scalar_text(member_or_null(memory, "kvCache")) + ", overhead " +
         scalar_text(member_or_null(memory, "overhead")) + "); " + scalar_text(member_or_null(fit, "gpusPerReplica")) +
         " GPUs per replica; fits: " + string_field(fit, "summary");
}

// "18/h for 4 GPUs on gold (no cost label: edge-1)": in the currency of the clusters' cost labels.
std::string cost_text(const json& estimate) {
  std::vector<std::string> clusters;
  for (const auto& c : array_field(estimate, "clusters")) clusters.push_back(string_field(c, "cluster"));
  std::string out = scalar_text(member_or_null(estimate, "perHour")) + "/h for " +
                    scalar_text(member_or_null(estimate, "gpus")) + " GPUs on " + or_dash(joined(clusters, ", "));
  const std::vector<std::string> unknown = strings_of(member_or_null(estimate, "unknownCostClusters"));
  if (!unknown.empty()) out += " (no cost label: " + joined(unknown, ", ") + ")";
  return out;
}

// Model fit and cost hints (issue #15 item 3), when the placement carries them.
void hint_fields(const json& hints, std::vector<Field>& fields) {
  if (!hints.is_object()) return;
  if (const json& fit = member_or_null(hints, "modelFit"); fit.is_object()) {
    fields.emplace_back("Model Fit", model_fit_text(fit));
  }
  const json& cost = member_or_null(hints, "cost");
  if (!cost.is_object()) return;
  fields.emplace_back("Cost", cost_text(member_or_null(cost, "chosen")));
  const json& alternative = member_or_null(cost, "cheapestAlternative");
  fields.emplace_back("Cheapest",
                      alternative.is_object() ? cost_text(alternative) : "- (" + string_field(cost, "note") + ")");
}

}  // namespace

std::string policy_text(const json& policy) {
  const std::string type = string_field(policy, "type");
  if (type == "PickN") return type + "(" + scalar_text(member_or_null(policy, "numberOfClusters")) + ")";
  if (type == "PickFixed") return type + "(" + std::to_string(array_field(policy, "clusterNames").size()) + ")";
  return or_dash(type);
}

std::string workloads_table(const std::vector<json>& workloads, bool wide, std::chrono::system_clock::time_point now) {
  TableRow header = {"NAME", "REPLICAS", "GPUS/REPLICA", "POLICY", "STATE", "AGE"};
  if (wide) header.insert(header.end(), {"DIVISION", "GPU-MODELS", "GENERATION"});
  std::vector<TableRow> rows;
  rows.reserve(workloads.size());
  for (const auto& w : workloads) {
    const json& resources = member_or_null(w, "resources");
    const json& policy = member_or_null(w, "policy");
    TableRow row = {or_dash(string_field(w, "name")),
                    or_dash(scalar_text(member_or_null(w, "replicas"))),
                    or_dash(scalar_text(member_or_null(resources, "gpus"))),
                    policy_text(policy),
                    or_dash(string_field(w, "state")),
                    age_of(string_field(w, "createdAt"), now)};
    if (wide) {
      const auto models = strings_of(member_or_null(resources, "gpuModels"));
      row.insert(row.end(), {division_text(policy), models.empty() ? kNone : joined(models, ","),
                             or_dash(scalar_text(member_or_null(w, "generation")))});
    }
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

std::string describe_workload(const json& w, std::chrono::system_clock::time_point now) {
  std::vector<Field> fields;
  fields.emplace_back("Name", string_field(w, "name"));
  fields.emplace_back("State", string_field(w, "state"));
  if (const std::string at = string_field(w, "deletionRequestedAt"); !at.empty()) {
    fields.emplace_back("Deletion Requested", timestamp_with_age(at, now));
  }
  fields.emplace_back("Replicas", scalar_text(member_or_null(w, "replicas")));
  const json& resources = member_or_null(w, "resources");
  fields.emplace_back("Per Replica", std::nullopt);
  fields.emplace_back("  GPUs", scalar_text(member_or_null(resources, "gpus")));
  fields.emplace_back("  GPU Models", joined(strings_of(member_or_null(resources, "gpuModels")), ", "));
  fields.emplace_back("  Min GPU Memory", gib_text(member_or_null(resources, "minGpuMemoryGiB")));
  const std::string cpu = scalar_text(member_or_null(resources, "cpu"));
  fields.emplace_back("  CPU", cpu == "0" ? "" : cpu);
  fields.emplace_back("  Memory", gib_text(member_or_null(resources, "memoryGiB")));
  fields.emplace_back("Min Driver", string_field(w, "minDriverVersion"));
  fields.emplace_back("Min CUDA", string_field(w, "minCudaVersion"));
  add_policy(fields, member_or_null(w, "policy"));
  std::vector<std::string> manifests;
  for (const auto& m : array_field(w, "manifests")) {
    manifests.push_back(string_field(m, "kind") + "/" + string_field(member_or_null(m, "metadata"), "name"));
  }
  add_list(fields, "Manifests", manifests);
  fields.emplace_back("Generation", scalar_text(member_or_null(w, "generation")));
  fields.emplace_back("Resource Version", string_field(w, "resourceVersion"));
  fields.emplace_back("Created", timestamp_with_age(string_field(w, "createdAt"), now));
  fields.emplace_back("Updated", timestamp_with_age(string_field(w, "updatedAt"), now));
  return render_fields(fields);
}

std::string workload_placement_section(const json& placement, const std::vector<json>& events,
                                       const std::string& unavailable, std::chrono::system_clock::time_point now) {
  std::vector<Field> fields;
  if (!unavailable.empty()) {
    fields.emplace_back("Placement", "<unavailable: " + unavailable + ">");
  } else if (!placement.contains("decision")) {
    fields.emplace_back("Placement", "not decided yet");
  } else {
    fields.emplace_back("Placement", string_field(placement, "decision") + ", " +
                                         scalar_text(member_or_null(placement, "replicasBound")) + " of " +
                                         scalar_text(member_or_null(placement, "replicasWanted")) +
                                         " replicas bound (generation " +
                                         scalar_text(member_or_null(placement, "decidedGeneration")) + ")");
    std::vector<std::string> bindings;
    for (const auto& b : array_field(placement, "bindings")) {
      bindings.push_back(string_field(b, "cluster") + ": " + scalar_text(member_or_null(b, "replicas")) + " " +
                         string_field(b, "state"));
    }
    add_list(fields, "  Bindings", bindings);
  }
  std::string out = "\n" + render_fields(fields);
  const std::size_t first = events.size() > kDescribedEvents ? events.size() - kDescribedEvents : 0;
  out += first == 0 ? "\nEvents:\n"
                    : "\nEvents (the last " + std::to_string(kDescribedEvents) + " of " +
                          std::to_string(events.size()) + "):\n";
  std::vector<TableRow> rows;
  for (std::size_t i = first; i < events.size(); ++i) {
    const json& e = events[i];
    rows.push_back({age_of(string_field(e, "at"), now), string_field(e, "type"), or_dash(string_field(e, "cluster")),
                    string_field(e, "message")});
  }
  out += rows.empty() ? "  <none>\n" : render_table({"AGE", "TYPE", "CLUSTER", "MESSAGE"}, rows);
  return out;
}

std::string describe_placement(const json& p, std::chrono::system_clock::time_point now) {
  std::vector<Field> fields;
  fields.emplace_back("Workload", string_field(p, "workload"));
  fields.emplace_back("State", string_field(p, "state"));
  fields.emplace_back("Decision", string_field(p, "decision"));
  if (p.contains("replicasWanted")) {
    fields.emplace_back("Replicas Bound", scalar_text(member_or_null(p, "replicasBound")) + " of " +
                                              scalar_text(member_or_null(p, "replicasWanted")));
  }
  fields.emplace_back(
      "Generation",
      scalar_text(member_or_null(p, "generation")) + " (decided " +
          (p.contains("decidedGeneration") ? scalar_text(p.at("decidedGeneration")) : std::string("not yet")) + ")");
  if (const std::string at = string_field(p, "decidedAt"); !at.empty()) {
    fields.emplace_back("Decided", timestamp_with_age(at, now));
  }
  hint_fields(member_or_null(p, "hints"), fields);
  std::string out = render_fields(fields);
  std::vector<TableRow> bindings;
  // The OVERRIDES column (issue #15 item 2) only when some binding was patched by one.
  const bool overridden = std::any_of(array_field(p, "bindings").begin(), array_field(p, "bindings").end(),
                                      [](const json& b) { return !array_field(b, "overrides").empty(); });
  for (const auto& b : array_field(p, "bindings")) {
    std::vector<std::string> nodes;
    for (const auto& n : array_field(b, "nodes")) {
      nodes.push_back(string_field(n, "node") + "×" + scalar_text(member_or_null(n, "replicas")));
    }
    std::string state = string_field(b, "state");
    if (const std::string message = string_field(b, "message"); !message.empty()) state += ": " + message;
    bindings.push_back({string_field(b, "cluster"), scalar_text(member_or_null(b, "replicas")), state,
                        nodes.empty() ? "-" : joined(nodes, ", ")});
    if (overridden) bindings.back().push_back(applied_overrides_text(member_or_null(b, "overrides")));
  }
  TableRow header = {"CLUSTER", "REPLICAS", "STATE", "NODES"};
  if (overridden) header.emplace_back("OVERRIDES");
  out += "\nBindings:\n";
  out += bindings.empty() ? "  <none>\n" : render_table(header, bindings);
  std::vector<TableRow> rejected;
  for (const auto& r : array_field(p, "rejected")) {
    rejected.push_back({string_field(r, "cluster"), string_field(r, "code"), string_field(r, "reason")});
  }
  out += "\nNot chosen:\n";
  out += rejected.empty() ? "  <none>\n" : render_table({"CLUSTER", "CODE", "REASON"}, rejected);
  return out;
}

}  // namespace fleet::ctl
