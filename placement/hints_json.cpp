#include "placement/hints_json.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "placement/cluster_properties.hpp"
#include "placement/units.hpp"

namespace fleet::placement {
namespace {

using nlohmann::json;

json rounded(double value, double scale) {
  const double r = std::round(value * scale) / scale;
  if (std::floor(r) == r && std::fabs(r) < 9e15) return static_cast<std::int64_t>(r);
  return r;
}

json gib(std::int64_t bytes) {
  return rounded(static_cast<double>(bytes) / kBytesPerGiB, 100);
}

json money(double value) {
  return rounded(value, 10000);
}

json estimate_json(const CostEstimate& e) {
  json clusters = json::array();
  for (const ClusterCost& c : e.clusters) {
    json item = {{"cluster", c.cluster}, {"replicas", c.replicas}, {"gpus", c.gpus}};
    if (c.cost_per_gpu_hour) item["costPerGpuHour"] = money(*c.cost_per_gpu_hour);
    clusters.push_back(std::move(item));
  }
  return {{"perHour", money(e.per_hour)}, {"replicas", e.replicas},          {"gpus", e.gpus},
          {"complete", e.complete},       {"clusters", std::move(clusters)}, {"unknownCostClusters", e.unknown_cost}};
}

json shapes_json(const ModelPlacement& p) {
  json shapes = json::array();
  for (const ShapeFit& fit : p.shapes) {
    const bool selected = std::find(p.selected.begin(), p.selected.end(), fit.shape.model) != p.selected.end();
    json item = {{"gpuModel", fit.shape.model},
                 {"memoryGiB", gib(fit.shape.memory_bytes)},
                 {"maxGpusPerNode", fit.shape.max_gpus_per_node},
                 {"gpusNeeded", fit.gpus_needed},
                 {"fits", fit.fits},
                 {"selected", selected}};
    if (!fit.reason.empty()) item["reason"] = fit.reason;
    shapes.push_back(std::move(item));
  }
  return shapes;
}

}  // namespace

json to_json(const ModelPlacement& p) {
  const ModelSpec& m = p.model;
  const Precision kv =
      m.kv_cache_precision.value_or(m.precision == Precision::kFp32 ? Precision::kFp32 : Precision::kBf16);
  const ArchitectureChoice& a = p.estimate.architecture;
  json architecture = {{"source", std::string(to_string(a.source))},
                       {"layers", a.architecture.layers},
                       {"kvHeads", a.architecture.kv_heads},
                       {"headDim", a.architecture.head_dim}};
  if (!a.name.empty()) architecture["name"] = a.name;
  return {{"parameters", m.parameters},
          {"precision", std::string(to_string(m.precision))},
          {"kvCachePrecision", std::string(to_string(kv))},
          {"contextTokens", m.context_tokens},
          {"concurrentSequences", m.concurrent_sequences},
          {"architecture", std::move(architecture)},
          {"memoryGiB",
           {{"weights", gib(p.estimate.weights_bytes)},
            {"kvCache", gib(p.estimate.kv_cache_bytes)},
            {"overhead", gib(p.estimate.overhead_bytes)},
            {"total", gib(p.estimate.total_bytes)}}},
          {"usableFraction", kUsableFraction},
          {"gpusPerReplica", p.gpus},
          {"gpusGiven", p.gpus_given},
          {"gpuModels", p.gpu_models},
          {"minGpuMemoryGiB", gib(p.min_gpu_memory_bytes)},
          {"rule", p.rule},
          {"shapes", shapes_json(p)},
          {"summary", describe_fits(p.shapes)}};
}

json to_json(const PlacementHints& hints) {
  json cost = {{"label", std::string(kCostLabel)}, {"chosen", estimate_json(hints.chosen)}, {"note", hints.note}};
  if (hints.alternative) cost["cheapestAlternative"] = estimate_json(*hints.alternative);
  json out = {{"gpusPerReplica", hints.gpus_per_replica}, {"cost", std::move(cost)}};
  if (hints.model) out["modelFit"] = to_json(*hints.model);
  return out;
}

}  // namespace fleet::placement
