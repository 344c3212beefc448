#include "placement/model_json.hpp"

#include <cmath>
#include <string>

#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::placement {
namespace {

using nlohmann::json;

Result<std::int64_t> parameters_from_json(const json& j, const std::string& path) {
  const std::string field = model::member_path(path, "parameters");
  if (!j.contains("parameters")) return model::missing_field(field);
  const json& v = j.at("parameters");
  std::optional<std::int64_t> count;
  if (v.is_string()) {
    count = parse_parameter_count(v.get_ref<const std::string&>());
    if (!count) {
      return model::invalid_field(
          field, "must be a count such as \"70B\", \"8.03B\", \"350M\" or \"1.5T\" (is " + v.dump() + ")");
    }
  } else if (v.is_number()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d > 1e15) return model::invalid_field(field, "must be a parameter count");
    count = static_cast<std::int64_t>(std::round(d));
  } else {
    return model::wrong_type(field, "a parameter count (\"70B\" or a number)", v);
  }
  if (*count < kMinModelParameters || *count > kMaxModelParameters) {
    return model::invalid_field(field, "must be between 1M and 10T parameters (is " + std::to_string(*count) + ")");
  }
  return *count;
}

Result<std::optional<Precision>> precision_member(const json& j, std::string_view key, const std::string& path) {
  auto text = model::optional_string(j, key, path);
  if (!text) return text.error();
  if (!*text) return std::optional<Precision>{};
  auto precision = parse_precision(**text);
  if (!precision) {
    return model::invalid_field(
        model::member_path(path, key),
        "must be one of fp32, bf16, fp16, fp8, int8, int4, fp4 (is " + json(**text).dump() + ")");
  }
  return std::optional<Precision>{*precision};
}

// layers, kvHeads and headDim: all three or none.
Result<std::optional<Architecture>> architecture_from_json(const json& j, const std::string& path) {
  auto layers = model::optional_integer(j, "layers", path, 1, kMaxLayers);
  if (!layers) return layers.error();
  auto heads = model::optional_integer(j, "kvHeads", path, 1, kMaxKvHeads);
  if (!heads) return heads.error();
  auto dim = model::optional_integer(j, "headDim", path, 1, kMaxHeadDim);
  if (!dim) return dim.error();
  const int given = (*layers ? 1 : 0) + (*heads ? 1 : 0) + (*dim ? 1 : 0);
  if (given == 0) return std::optional<Architecture>{};
  if (given != 3) {
    return model::invalid_field(path, "layers, kvHeads and headDim go together: give all three or none");
  }
  return std::optional<Architecture>{
      Architecture{static_cast<int>(**layers), static_cast<int>(**heads), static_cast<int>(**dim)}};
}

Result<ModelSpec> spec_from_json(const json& j, const std::string& path) {
  if (auto s = model::reject_unknown_fields(j,
                                            {"parameters", "precision", "kvCachePrecision", "contextTokens",
                                             "concurrentSequences", "layers", "kvHeads", "headDim"},
                                            path);
      !s) {
    return s.error();
  }
  ModelSpec out;
  auto parameters = parameters_from_json(j, path);
  if (!parameters) return parameters.error();
  out.parameters = *parameters;
  auto precision = precision_member(j, "precision", path);
  if (!precision) return precision.error();
  out.precision = precision->value_or(Precision::kBf16);
  auto kv_precision = precision_member(j, "kvCachePrecision", path);
  if (!kv_precision) return kv_precision.error();
  out.kv_cache_precision = *kv_precision;
  auto tokens = model::optional_integer(j, "contextTokens", path, 1, kMaxContextTokens);
  if (!tokens) return tokens.error();
  out.context_tokens = tokens->value_or(0);
  auto sequences = model::optional_integer(j, "concurrentSequences", path, 1, kMaxConcurrentSequences);
  if (!sequences) return sequences.error();
  if (*sequences && !*tokens) {
    return model::invalid_field(model::member_path(path, "concurrentSequences"), "needs contextTokens");
  }
  out.concurrent_sequences = static_cast<int>(sequences->value_or(1));
  auto architecture = architecture_from_json(j, path);
  if (!architecture) return architecture.error();
  out.architecture = *architecture;
  return out;
}

}  // namespace

Result<std::optional<ModelSpec>> model_from_json(const json& resources, std::string_view path) {
  auto object = model::optional_object(resources, "model", path);
  if (!object) return object.error();
  if (!*object) return std::optional<ModelSpec>{};
  auto spec = spec_from_json(**object, model::member_path(path, "model"));
  if (!spec) return spec.error();
  return std::optional<ModelSpec>{std::move(spec).value()};
}

json to_json(const ModelSpec& m) {
  json out = {{"parameters", m.parameters}, {"precision", std::string(to_string(m.precision))}};
  if (m.kv_cache_precision) out["kvCachePrecision"] = std::string(to_string(*m.kv_cache_precision));
  if (m.context_tokens > 0) {
    out["contextTokens"] = m.context_tokens;
    out["concurrentSequences"] = m.concurrent_sequences;
  }
  if (m.architecture) {
    out["layers"] = m.architecture->layers;
    out["kvHeads"] = m.architecture->kv_heads;
    out["headDim"] = m.architecture->head_dim;
  }
  return out;
}

}  // namespace fleet::placement
