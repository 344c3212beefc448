#include "placement/workload_json.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>

#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"
#include "placement/cluster_properties.hpp"
#include "placement/model_json.hpp"
#include "placement/units.hpp"
#include "protocol/command_payloads.hpp"

namespace fleet::placement {
namespace {

using nlohmann::json;

constexpr std::int64_t kGiBBytes = std::int64_t{1} << 30;
constexpr double kMaxPropertyValue = 1e15;
constexpr std::string_view kEffects = "NoSchedule, PreferNoSchedule or NoExecute";

std::string at(std::string_view parent, std::string_view key) {
  return model::member_path(parent, key);
}

template <class E>
using Name = std::pair<std::string_view, E>;

constexpr Name<PolicyType> kPolicyTypes[] = {
    {"PickAll", PolicyType::kPickAll}, {"PickN", PolicyType::kPickN}, {"PickFixed", PolicyType::kPickFixed}};
constexpr Name<ReplicaDivision> kDivisions[] = {{"Duplicated", ReplicaDivision::kDuplicated},
                                                {"Divided", ReplicaDivision::kDivided}};
constexpr Name<DivideBy> kDivideBy[] = {{"Capacity", DivideBy::kCapacity}, {"Weights", DivideBy::kWeights}};
constexpr Name<CompareOp> kOperators[] = {{"Gt", CompareOp::kGt}, {"Ge", CompareOp::kGe}, {"Eq", CompareOp::kEq},
                                          {"Ne", CompareOp::kNe}, {"Lt", CompareOp::kLt}, {"Le", CompareOp::kLe}};
constexpr Name<Toleration::Op> kTolerationOps[] = {{"Equal", Toleration::Op::kEqual},
                                                   {"Exists", Toleration::Op::kExists}};
constexpr Name<WhenUnsatisfiable> kWhen[] = {{"DoNotSchedule", WhenUnsatisfiable::kDoNotSchedule},
                                             {"ScheduleAnyway", WhenUnsatisfiable::kScheduleAnyway}};

template <class Names, class E>
std::string_view name_of(const Names& names, E value) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "";
}

// A string member that must be one of `names`; `fallback` when absent.
template <class Names, class E>
Result<E> enum_member(const json& j, std::string_view key, std::string_view path, const Names& names, E fallback) {
  auto text = model::optional_string(j, key, path);
  if (!text) return text.error();
  if (!*text) return fallback;
  std::string list;
  for (const auto& [name, value] : names) {
    if (name == **text) return value;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  return model::invalid_field(at(path, key), "must be one of " + list + " (is " + json(**text).dump() + ")");
}

// A whole number as an integer, so that 80 reads back as 80 and not 80.0.
json number_json(double value) {
  if (std::floor(value) == value && std::fabs(value) < 9e15) return static_cast<std::int64_t>(value);
  return value;
}

// A number of `unit`s (GiB, cores) as an integer count of its parts (bytes, millicores).
Result<std::int64_t> scaled_member(const json& j, std::string_view key, std::string_view path, double max, double scale,
                                   bool whole_parts) {
  auto v = model::optional_number(j, key, path, 0, max);
  if (!v) return v.error();
  if (!*v) return std::int64_t{0};
  const double parts = **v * scale;
  const double rounded = std::round(parts);
  if (whole_parts && std::fabs(parts - rounded) > 1e-6) {
    return model::invalid_field(
        at(path, key), "must be whole millicores: at most 3 decimals (is " + j.at(std::string(key)).dump() + ")");
  }
  return static_cast<std::int64_t>(rounded);
}

// Kubernetes manifests as the apply_workload command checks them (protocol/command_payloads.hpp), with its paths
// ("payload.manifests[0].kind") named from the workload's root instead.
Result<json> manifests_from_json(const json& j) {
  auto list = model::optional_array(j, "manifests", "");
  if (!list) return list.error();
  if (!*list) return model::missing_field("manifests");
  const json& manifests = **list;
  if (manifests.empty()) return model::invalid_field("manifests", "must hold at least one Kubernetes object");
  if (manifests.size() > kMaxWorkloadManifests) {
    return model::invalid_field("manifests", "at most " + std::to_string(kMaxWorkloadManifests) +
                                                 " manifests are allowed (got " + std::to_string(manifests.size()) +
                                                 ")");
  }
  const std::size_t bytes = manifests.dump(-1, ' ', false, json::error_handler_t::replace).size();
  if (bytes > kMaxManifestBytes) {
    return model::invalid_field("manifests", "at most " + std::to_string(kMaxManifestBytes / 1024) +
                                                 " KiB of compact JSON (is " + std::to_string(bytes) + " bytes)");
  }
  auto parsed = protocol::parse_command_payload(protocol::CommandKind::kApplyWorkload, json{{"manifests", manifests}});
  if (!parsed) {
    Error e = parsed.error();
    constexpr std::string_view kPrefix = "payload.";
    if (e.field.starts_with(kPrefix)) e.field.erase(0, kPrefix.size());
    if (e.message.starts_with(kPrefix)) e.message.erase(0, kPrefix.size());
    return e;
  }
  return manifests;
}

Status gpu_model_problem(const json& v, const std::string& path) {
  if (!v.is_string()) return model::wrong_type(path, "a string", v);
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > kMaxGpuModelLength) {
    return model::invalid_field(path, "must be 1 to " + std::to_string(kMaxGpuModelLength) + " characters");
  }
  if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return model::invalid_field(path, "must not hold control characters");
  }
  return Ok{};
}

Result<std::vector<std::string>> gpu_models_from_json(const json& j, std::string_view path) {
  auto list = model::optional_array(j, "gpuModels", path);
  if (!list) return list.error();
  std::set<std::string> models;
  if (!*list) return std::vector<std::string>{};
  const std::string field = at(path, "gpuModels");
  if ((*list)->size() > kMaxGpuModels) {
    return model::invalid_field(field, "at most " + std::to_string(kMaxGpuModels) + " models");
  }
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const json& v = (**list)[i];
    if (auto s = gpu_model_problem(v, model::index_path(field, i)); !s) return s.error();
    models.insert(v.get<std::string>());
  }
  return std::vector<std::string>(models.begin(), models.end());
}

// A model instead of a GPU memory figure: the memory per GPU comes from the model, and what no node anywhere can hold
// (more than 16 of the largest GPUs made, or of `gpus` when given) is refused now rather than left Unplaceable.
Status model_fits_somewhere(const ReplicaResources& r) {
  if (r.min_gpu_memory_bytes > 0) {
    return model::invalid_field("resources.minGpuMemoryGiB",
                                "give either resources.model or resources.minGpuMemoryGiB: the model derives it");
  }
  const MemoryEstimate estimate = estimate_memory(*r.model);
  const int gpus = r.gpus > 0 ? r.gpus : kMaxGpusPerReplica;
  const double per_gpu_gib = static_cast<double>(min_gpu_memory_for(estimate.total_bytes, gpus)) / kBytesPerGiB;
  if (per_gpu_gib > kLargestGpuMemoryGiB) {
    return model::invalid_field(
        "resources.model", "needs " + gib_text(estimate.total_bytes) + " of GPU memory per replica (weights " +
                               gib_text(estimate.weights_bytes) + ", KV cache " + gib_text(estimate.kv_cache_bytes) +
                               ", overhead " + gib_text(estimate.overhead_bytes) + "): more than " +
                               std::to_string(gpus) + " GPUs of " + format_number(kLargestGpuMemoryGiB) +
                               " GiB, the largest made, can hold");
  }
  return Ok{};
}

Result<ReplicaResources> resources_from_json(const json& root) {
  constexpr std::string_view kPath = "resources";
  ReplicaResources out;
  auto object = model::optional_object(root, kPath, "");
  if (!object) return object.error();
  if (!*object) return out;
  const json& j = **object;
  if (auto s =
          model::reject_unknown_fields(j, {"gpus", "gpuModels", "minGpuMemoryGiB", "cpu", "memoryGiB", "model"}, kPath);
      !s) {
    return s.error();
  }
  auto gpus = model::optional_integer(j, "gpus", kPath, 0, kMaxGpusPerReplica);
  if (!gpus) return gpus.error();
  out.gpus = static_cast<int>(gpus->value_or(0));
  auto models = gpu_models_from_json(j, kPath);
  if (!models) return models.error();
  out.gpu_models = std::move(models).value();
  auto gpu_memory = scaled_member(j, "minGpuMemoryGiB", kPath, kMaxGpuMemoryGiB, kBytesPerGiB, false);
  if (!gpu_memory) return gpu_memory.error();
  out.min_gpu_memory_bytes = *gpu_memory;
  auto cpu = scaled_member(j, "cpu", kPath, kMaxCpuCores, 1000, true);
  if (!cpu) return cpu.error();
  out.cpu_millicores = *cpu;
  auto memory = scaled_member(j, "memoryGiB", kPath, kMaxMemoryGiB, kBytesPerGiB, false);
  if (!memory) return memory.error();
  out.memory_bytes = *memory;
  auto model_spec = model_from_json(j, kPath);
  if (!model_spec) return model_spec.error();
  out.model = std::move(model_spec).value();
  if (out.model) {
    if (auto s = model_fits_somewhere(out); !s) return s.error();
    return out;
  }
  if (out.gpus == 0) {
    if (!out.gpu_models.empty()) return model::invalid_field("resources.gpuModels", "needs resources.gpus above 0");
    if (out.min_gpu_memory_bytes > 0) {
      return model::invalid_field("resources.minGpuMemoryGiB", "needs resources.gpus above 0");
    }
  }
  return out;
}

Result<std::optional<DottedVersion>> version_member(const json& j, std::string_view key, int gpus) {
  auto text = model::optional_string(j, key, "");
  if (!text) return text.error();
  if (!*text) return std::optional<DottedVersion>{};
  auto version = parse_dotted_version(**text);
  if (!version) {
    return model::invalid_field(key, "must be a version of 1 to 4 dot-separated numbers such as \"550.90.07\" (is " +
                                         json(**text).dump() + ")");
  }
  if (gpus == 0) return model::invalid_field(key, "needs resources.gpus above 0");
  return std::optional<DottedVersion>{std::move(*version)};
}

Result<std::vector<std::string>> cluster_names_from_json(const json& list, const std::string& field) {
  if (list.empty()) return model::invalid_field(field, "must name at least one cluster");
  if (list.size() > kMaxFixedClusters) {
    return model::invalid_field(field, "at most " + std::to_string(kMaxFixedClusters) + " clusters");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item = model::index_path(field, i);
    if (!list[i].is_string()) return model::wrong_type(item, "a cluster name", list[i]);
    if (auto s = model::validate_dns1123_label(list[i].get<std::string>(), item); !s) return s.error();
    names.insert(list[i].get<std::string>());
  }
  return std::vector<std::string>(names.begin(), names.end());
}

// type, numberOfClusters and clusterNames: which clusters may be chosen, and how many.
Status selection_from_json(const json& j, std::string_view path, Policy& out) {
  auto type = enum_member(j, "type", path, kPolicyTypes, PolicyType::kPickAll);
  if (!type) return type.error();
  out.type = *type;
  const std::string type_text(name_of(kPolicyTypes, out.type));
  auto count = model::optional_integer(j, "numberOfClusters", path, 1, kMaxNumberOfClusters);
  if (!count) return count.error();
  if (out.type == PolicyType::kPickN && !*count) return model::missing_field(at(path, "numberOfClusters"));
  if (out.type != PolicyType::kPickN && *count) {
    return model::invalid_field(at(path, "numberOfClusters"), "applies only to type PickN (type is " + type_text + ")");
  }
  out.number_of_clusters = static_cast<int>(count->value_or(0));
  auto names = model::optional_array(j, "clusterNames", path);
  if (!names) return names.error();
  const std::string names_field = at(path, "clusterNames");
  if (out.type == PolicyType::kPickFixed && !*names) return model::missing_field(names_field);
  if (out.type != PolicyType::kPickFixed && *names) {
    return model::invalid_field(names_field, "applies only to type PickFixed (type is " + type_text + ")");
  }
  if (*names) {
    auto parsed = cluster_names_from_json(**names, names_field);
    if (!parsed) return parsed.error();
    out.cluster_names = std::move(parsed).value();
  }
  return Ok{};
}

Result<std::map<std::string, int>> weights_from_json(const json& weights, const std::string& field) {
  if (weights.size() > kMaxFixedClusters) {
    return model::invalid_field(field, "at most " + std::to_string(kMaxFixedClusters) + " clusters");
  }
  std::map<std::string, int> out;
  for (const auto& item : weights.items()) {
    const std::string& cluster = item.key();
    if (auto s = model::validate_dns1123_label(cluster, model::member_path(field, cluster)); !s) return s.error();
    auto weight = model::optional_integer(weights, cluster, field, 0, kMaxWeight);
    if (!weight) return weight.error();
    out.emplace(cluster, static_cast<int>(**weight));
  }
  return out;
}

// replicaDivision, divideBy and weights.
Status division_from_json(const json& j, std::string_view path, Policy& out) {
  auto division = enum_member(j, "replicaDivision", path, kDivisions, ReplicaDivision::kDuplicated);
  if (!division) return division.error();
  out.division = *division;
  const bool divided = out.division == ReplicaDivision::kDivided;
  if (!divided && j.contains("divideBy")) {
    return model::invalid_field(at(path, "divideBy"), "applies only to replicaDivision Divided");
  }
  auto divide_by = enum_member(j, "divideBy", path, kDivideBy, DivideBy::kCapacity);
  if (!divide_by) return divide_by.error();
  out.divide_by = *divide_by;
  auto weights = model::optional_object(j, "weights", path);
  if (!weights) return weights.error();
  if (!*weights) return Ok{};
  const std::string field = at(path, "weights");
  if (!divided || out.divide_by != DivideBy::kWeights) {
    return model::invalid_field(field, "applies only to replicaDivision Divided with divideBy Weights");
  }
  auto parsed = weights_from_json(**weights, field);
  if (!parsed) return parsed.error();
  out.weights = std::move(parsed).value();
  return Ok{};
}

Result<PropertyRequirement> property_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"name", "gpuModel", "operator", "value"}, path); !s) return s.error();
  PropertyRequirement out;
  auto name = model::required_string(j, "name", path);
  if (!name) return name.error();
  if (!is_builtin_property(*name)) {
    auto s = model::validate_label_key(*name, at(path, "name"));
    if (!s) {
      return model::invalid_field(at(path, "name"),
                                  "must be freeGpus, totalGpus, largestFreeGpuBlock, gpuMemoryGiB, nodeCount, "
                                  "costPerGpuHour or a label key (is " +
                                      json(*name).dump() + ")");
    }
  }
  out.property = std::move(*name);
  if (j.contains("gpuModel")) {
    const std::string field = at(path, "gpuModel");
    if (!is_gpu_property(out.property)) {
      return model::invalid_field(
          field, "applies only to freeGpus, totalGpus, largestFreeGpuBlock and gpuMemoryGiB (name is " +
                     json(out.property).dump() + ")");
    }
    if (auto s = gpu_model_problem(j["gpuModel"], field); !s) return s.error();
    out.gpu_model = j["gpuModel"].get<std::string>();
  }
  if (!j.contains("operator")) return model::missing_field(at(path, "operator"));
  auto op = enum_member(j, "operator", path, kOperators, CompareOp::kGe);
  if (!op) return op.error();
  out.op = *op;
  auto value = model::optional_number(j, "value", path, -kMaxPropertyValue, kMaxPropertyValue);
  if (!value) return value.error();
  if (!*value) return model::missing_field(at(path, "value"));
  out.value = **value;
  return out;
}

// The members of a cluster term (labelSelector, properties) in `j`, which may hold others (a preferred term's
// weight) that the caller has checked.
Result<ClusterTerm> term_from_json(const json& j, const std::string& path) {
  ClusterTerm out;
  auto selector = model::optional_string(j, "labelSelector", path);
  if (!selector) return selector.error();
  if (*selector) {
    auto parsed = model::label_selector_at(**selector, at(path, "labelSelector"));
    if (!parsed) return parsed.error();
    out.labels = std::move(parsed).value();
  }
  auto properties = model::optional_array(j, "properties", path);
  if (!properties) return properties.error();
  if (!*properties) return out;
  const std::string field = at(path, "properties");
  if ((*properties)->size() > kMaxPropertyRequirements) {
    return model::invalid_field(field, "at most " + std::to_string(kMaxPropertyRequirements) + " requirements");
  }
  for (std::size_t i = 0; i < (*properties)->size(); ++i) {
    auto p = property_from_json((**properties)[i], model::index_path(field, i));
    if (!p) return p.error();
    out.properties.push_back(std::move(p).value());
  }
  return out;
}

Result<PreferredTerm> preferred_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"weight", "labelSelector", "properties"}, path); !s) return s.error();
  auto weight = model::optional_integer(j, "weight", path, -kMaxPreferenceWeight, kMaxPreferenceWeight);
  if (!weight) return weight.error();
  if (!*weight) return model::missing_field(at(path, "weight"));
  if (**weight == 0) return model::invalid_field(at(path, "weight"), "must not be 0 (negative weights avoid)");
  auto term = term_from_json(j, path);
  if (!term) return term.error();
  return PreferredTerm{static_cast<int>(**weight), std::move(term).value()};
}

Status affinity_from_json(const json& policy, std::string_view policy_path, Policy& out) {
  auto affinity = model::optional_object(policy, "affinity", policy_path);
  if (!affinity) return affinity.error();
  if (!*affinity) return Ok{};
  const json& j = **affinity;
  const std::string path = at(policy_path, "affinity");
  if (auto s = model::reject_unknown_fields(j, {"required", "preferred"}, path); !s) return s.error();
  auto required = model::optional_object(j, "required", path);
  if (!required) return required.error();
  if (*required) {
    const std::string rpath = at(path, "required");
    if (auto s = model::reject_unknown_fields(**required, {"labelSelector", "properties"}, rpath); !s) return s.error();
    auto term = term_from_json(**required, rpath);
    if (!term) return term.error();
    out.required = std::move(term).value();
  }
  auto preferred = model::optional_array(j, "preferred", path);
  if (!preferred) return preferred.error();
  if (!*preferred) return Ok{};
  const std::string ppath = at(path, "preferred");
  if ((*preferred)->size() > kMaxAffinityTerms) {
    return model::invalid_field(ppath, "at most " + std::to_string(kMaxAffinityTerms) + " terms");
  }
  for (std::size_t i = 0; i < (*preferred)->size(); ++i) {
    auto term = preferred_from_json((**preferred)[i], model::index_path(ppath, i));
    if (!term) return term.error();
    out.preferred.push_back(std::move(term).value());
  }
  return Ok{};
}

Result<Toleration> toleration_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"key", "operator", "value", "effect"}, path); !s) return s.error();
  Toleration out;
  auto op = enum_member(j, "operator", path, kTolerationOps, Toleration::Op::kEqual);
  if (!op) return op.error();
  out.op = *op;
  auto key = model::optional_string(j, "key", path);
  if (!key) return key.error();
  out.key = key->value_or("");
  if (out.key.empty() && out.op != Toleration::Op::kExists) {
    return model::invalid_field(at(path, "key"), "is required unless operator is Exists (which then tolerates all)");
  }
  if (!out.key.empty()) {
    if (auto s = model::validate_label_key(out.key, at(path, "key")); !s) return s.error();
  }
  auto value = model::optional_string(j, "value", path);
  if (!value) return value.error();
  if (*value && out.op == Toleration::Op::kExists) {
    return model::invalid_field(at(path, "value"), "must not be set when operator is Exists");
  }
  out.value = value->value_or("");
  if (auto s = model::validate_label_value(out.value, at(path, "value")); !s) return s.error();
  auto effect = model::optional_string(j, "effect", path);
  if (!effect) return effect.error();
  out.effect = effect->value_or("");
  if (!out.effect.empty() && out.effect != "NoSchedule" && out.effect != "PreferNoSchedule" &&
      out.effect != "NoExecute") {
    return model::invalid_field(at(path, "effect"), "must be " + std::string(kEffects) + ", or absent for all (is " +
                                                        json(out.effect).dump() + ")");
  }
  return out;
}

Result<SpreadConstraint> spread_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"topologyKey", "maxSkew", "whenUnsatisfiable"}, path); !s) {
    return s.error();
  }
  SpreadConstraint out;
  auto key = model::required_string(j, "topologyKey", path);
  if (!key) return key.error();
  if (auto s = model::validate_label_key(*key, at(path, "topologyKey")); !s) return s.error();
  out.topology_key = std::move(*key);
  auto skew = model::optional_integer(j, "maxSkew", path, 1, kMaxSkew);
  if (!skew) return skew.error();
  out.max_skew = static_cast<int>(skew->value_or(1));
  auto when = enum_member(j, "whenUnsatisfiable", path, kWhen, WhenUnsatisfiable::kDoNotSchedule);
  if (!when) return when.error();
  out.when_unsatisfiable = *when;
  return out;
}

Result<Policy> policy_from_json(const json& root) {
  constexpr std::string_view kPath = "policy";
  Policy out;
  auto object = model::optional_object(root, kPath, "");
  if (!object) return object.error();
  if (!*object) return out;
  const json& j = **object;
  if (auto s = model::reject_unknown_fields(j,
                                            {"type", "numberOfClusters", "clusterNames", "replicaDivision", "divideBy",
                                             "weights", "affinity", "tolerations", "spread"},
                                            kPath);
      !s) {
    return s.error();
  }
  if (auto s = selection_from_json(j, kPath, out); !s) return s.error();
  if (auto s = division_from_json(j, kPath, out); !s) return s.error();
  if (auto s = affinity_from_json(j, kPath, out); !s) return s.error();
  if (auto s = model::optional_list(j, "tolerations", kPath, kMaxTolerations, "entries", toleration_from_json,
                                    out.tolerations);
      !s) {
    return s.error();
  }
  if (auto s = model::optional_list(j, "spread", kPath, kMaxSpreadConstraints, "entries", spread_from_json, out.spread);
      !s) {
    return s.error();
  }
  return out;
}

Result<Workload> spec_from_json(const json& j, bool with_manifests) {
  if (!j.is_object()) return model::wrong_type("(root)", "an object", j);
  // "manifests" is read by the caller; the stored spec has none.
  const Status known =
      with_manifests ? model::reject_unknown_fields(j,
                                                    {"name", "manifests", "replicas", "resources", "minDriverVersion",
                                                     "minCudaVersion", "policy", "disruptionBudget"},
                                                    "")
                     : model::reject_unknown_fields(j,
                                                    {"name", "replicas", "resources", "minDriverVersion",
                                                     "minCudaVersion", "policy", "disruptionBudget"},
                                                    "");
  if (!known) return known.error();
  Workload out;
  auto name = model::required_string(j, "name", "");
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, "name"); !s) return s.error();
  out.name = std::move(*name);
  auto replicas = model::optional_integer(j, "replicas", "", 1, kMaxReplicas);
  if (!replicas) return replicas.error();
  out.replicas = static_cast<int>(replicas->value_or(1));
  auto resources = resources_from_json(j);
  if (!resources) return resources.error();
  out.resources = std::move(resources).value();
  // A model always runs on GPUs, however many it is given.
  const int gpus = out.resources.model ? std::max(out.resources.gpus, 1) : out.resources.gpus;
  auto driver = version_member(j, "minDriverVersion", gpus);
  if (!driver) return driver.error();
  out.min_driver_version = std::move(driver).value();
  auto cuda = version_member(j, "minCudaVersion", gpus);
  if (!cuda) return cuda.error();
  out.min_cuda_version = std::move(cuda).value();
  auto policy = policy_from_json(j);
  if (!policy) return policy.error();
  out.policy = std::move(policy).value();
  auto budget = disruption_budget_from_json(j);
  if (!budget) return budget.error();
  out.disruption_budget = *budget;
  return out;
}

json term_to_json(const ClusterTerm& term, json out = json::object()) {
  out["labelSelector"] = model::to_string(term.labels);
  json properties = json::array();
  for (const auto& p : term.properties) {
    json item = {{"name", p.property}};
    if (!p.gpu_model.empty()) item["gpuModel"] = p.gpu_model;
    item["operator"] = std::string(name_of(kOperators, p.op));
    item["value"] = number_json(p.value);
    properties.push_back(std::move(item));
  }
  out["properties"] = std::move(properties);
  return out;
}

json policy_to_json(const Policy& p) {
  json out = {{"type", std::string(to_string(p.type))}};
  if (p.type == PolicyType::kPickN) out["numberOfClusters"] = p.number_of_clusters;
  if (p.type == PolicyType::kPickFixed) out["clusterNames"] = p.cluster_names;
  out["replicaDivision"] = std::string(to_string(p.division));
  if (p.division == ReplicaDivision::kDivided) {
    out["divideBy"] = std::string(to_string(p.divide_by));
    if (p.divide_by == DivideBy::kWeights) out["weights"] = json(p.weights);
  }
  json affinity = json::object();
  if (p.required) affinity["required"] = term_to_json(*p.required);
  json preferred = json::array();
  for (const auto& t : p.preferred) preferred.push_back(term_to_json(t.term, {{"weight", t.weight}}));
  affinity["preferred"] = std::move(preferred);
  out["affinity"] = std::move(affinity);
  json tolerations = json::array();
  for (const auto& t : p.tolerations) {
    json item = json::object();
    if (!t.key.empty()) item["key"] = t.key;
    item["operator"] = std::string(name_of(kTolerationOps, t.op));
    if (t.op == Toleration::Op::kEqual) item["value"] = t.value;
    if (!t.effect.empty()) item["effect"] = t.effect;
    tolerations.push_back(std::move(item));
  }
  out["tolerations"] = std::move(tolerations);
  json spread = json::array();
  for (const auto& s : p.spread) {
    spread.push_back({{"topologyKey", s.topology_key},
                      {"maxSkew", s.max_skew},
                      {"whenUnsatisfiable", std::string(name_of(kWhen, s.when_unsatisfiable))}});
  }
  out["spread"] = std::move(spread);
  return out;
}

json millicores_json(std::int64_t millicores) {
  if (millicores % 1000 == 0) return millicores / 1000;
  return static_cast<double>(millicores) / 1000.0;
}

json gib_json(std::int64_t bytes) {
  if (bytes % kGiBBytes == 0) return bytes / kGiBBytes;
  return static_cast<double>(bytes) / kBytesPerGiB;
}

}  // namespace

Result<WorkloadDocument> workload_from_json(const json& j) {
  auto workload = spec_from_json(j, true);
  if (!workload) return workload.error();
  auto manifests = manifests_from_json(j);
  if (!manifests) return manifests.error();
  return WorkloadDocument{std::move(workload).value(), std::move(manifests).value()};
}

Result<Workload> workload_spec_from_json(const json& j) {
  return spec_from_json(j, false);
}

json to_json(const Workload& w) {
  const ReplicaResources& r = w.resources;
  json out = {{"name", w.name}, {"replicas", w.replicas}};
  out["resources"] = {{"gpus", r.gpus},
                      {"gpuModels", r.gpu_models},
                      {"minGpuMemoryGiB", gib_json(r.min_gpu_memory_bytes)},
                      {"cpu", millicores_json(r.cpu_millicores)},
                      {"memoryGiB", gib_json(r.memory_bytes)}};
  if (r.model) out["resources"]["model"] = to_json(*r.model);
  if (w.min_driver_version) out["minDriverVersion"] = to_string(*w.min_driver_version);
  if (w.min_cuda_version) out["minCudaVersion"] = to_string(*w.min_cuda_version);
  out["policy"] = policy_to_json(w.policy);
  if (w.disruption_budget) out["disruptionBudget"] = to_json(*w.disruption_budget);
  return out;
}

json to_json(const WorkloadDocument& document) {
  json out = to_json(document.workload);
  out["manifests"] = document.manifests;
  return out;
}

std::string_view to_string(PolicyType type) {
  return name_of(kPolicyTypes, type);
}

std::string_view to_string(ReplicaDivision division) {
  return name_of(kDivisions, division);
}

std::string_view to_string(DivideBy divide_by) {
  return name_of(kDivideBy, divide_by);
}

}  // namespace fleet::placement
