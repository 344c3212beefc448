#include "placement/model_placement.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "placement/cluster_properties.hpp"
#include "placement/units.hpp"

namespace fleet::placement {
namespace {

bool allowed(const Workload& workload, const std::string& model) {
  const auto& models = workload.resources.gpu_models;
  return models.empty() || std::binary_search(models.begin(), models.end(), model);
}

// The smallest count at which GPUs as large as the largest made would hold `total` (the parse check guarantees one).
int count_for_largest_gpu(std::int64_t total) {
  for (const int n : kShapeCounts) {
    if (static_cast<double>(min_gpu_memory_for(total, n)) <= kLargestGpuMemoryGiB * kBytesPerGiB) return n;
  }
  return kMaxGpusPerReplica;
}

void given_count(ModelPlacement& out, const Workload& workload) {
  out.gpus = workload.resources.gpus;
  out.gpu_models = workload.resources.gpu_models;
  out.min_gpu_memory_bytes = min_gpu_memory_for(out.estimate.total_bytes, out.gpus);
  for (const ShapeFit& fit : out.shapes) {
    if (fit.shape.memory_bytes >= out.min_gpu_memory_bytes && fit.shape.max_gpus_per_node >= out.gpus) {
      out.selected.push_back(fit.shape.model);
    }
  }
  out.rule = "gpus " + std::to_string(out.gpus) + " given: each GPU needs at least " +
             gib_text(out.min_gpu_memory_bytes) + " (" + gib_text(out.estimate.total_bytes) + " / (" +
             std::to_string(out.gpus) + " × " + format_number(kUsableFraction) + "))";
}

void derived_count(ModelPlacement& out, const Workload& workload) {
  int smallest = 0;
  for (const ShapeFit& fit : out.shapes) {
    if (fit.fits && (smallest == 0 || fit.gpus_needed < smallest)) smallest = fit.gpus_needed;
  }
  if (smallest == 0) {
    out.gpus = count_for_largest_gpu(out.estimate.total_bytes);
    out.gpu_models = workload.resources.gpu_models;
    out.min_gpu_memory_bytes = min_gpu_memory_for(out.estimate.total_bytes, out.gpus);
    out.rule = "no GPU model of the fleet" + std::string(workload.resources.gpu_models.empty() ? "" : " allowed") +
               " holds " + gib_text(out.estimate.total_bytes) + " on one node: asking " + std::to_string(out.gpus) +
               " GPUs of at least " + gib_text(out.min_gpu_memory_bytes) + " each";
    return;
  }
  out.gpus = smallest;
  out.min_gpu_memory_bytes = min_gpu_memory_for(out.estimate.total_bytes, smallest);
  for (const ShapeFit& fit : out.shapes) {
    if (fit.fits && fit.gpus_needed == smallest) out.selected.push_back(fit.shape.model);
  }
  out.gpu_models = out.selected;  // sorted: the shapes are
  std::string names;
  for (const std::string& m : out.selected) names += (names.empty() ? "" : ", ") + m;
  out.rule = std::to_string(smallest) + " GPU" + (smallest == 1 ? "" : "s") +
             " per replica, the fewest any GPU model of the fleet holds it on; models that hold it on " +
             std::to_string(smallest) + ": " + names;
}

}  // namespace

std::vector<GpuShape> fleet_gpu_shapes(const Snapshot& snapshot) {
  std::map<std::string, GpuShape> by_model;
  for (const ClusterSnapshot& cluster : snapshot.clusters) {
    for (const NodeSnapshot& node : cluster.nodes) {
      const int gpus = node.gpus_healthy + node.gpus_unhealthy;
      if (node.gpu_model.empty() || gpus <= 0 || node.gpu_memory_bytes <= 0) continue;
      auto [it, added] = by_model.try_emplace(node.gpu_model, GpuShape{node.gpu_model, node.gpu_memory_bytes, gpus});
      if (!added) {
        it->second.memory_bytes = std::min(it->second.memory_bytes, node.gpu_memory_bytes);
        it->second.max_gpus_per_node = std::max(it->second.max_gpus_per_node, gpus);
      }
    }
  }
  std::vector<GpuShape> out;
  out.reserve(by_model.size());
  for (auto& [model, shape] : by_model) out.push_back(std::move(shape));
  return out;
}

std::optional<ModelPlacement> place_model(const Workload& workload, const std::vector<GpuShape>& fleet) {
  if (!workload.resources.model) return std::nullopt;
  ModelPlacement out;
  out.model = *workload.resources.model;
  out.estimate = estimate_memory(*workload.resources.model);
  std::vector<GpuShape> shapes;
  for (const GpuShape& shape : fleet) {
    if (allowed(workload, shape.model)) shapes.push_back(shape);
  }
  out.shapes = fit_shapes(out.estimate.total_bytes, shapes);
  out.gpus_given = workload.resources.gpus > 0;
  if (out.gpus_given) {
    given_count(out, workload);
  } else {
    derived_count(out, workload);
  }
  return out;
}

Workload with_model_resources(Workload workload, const ModelPlacement& placement) {
  workload.resources.gpus = placement.gpus;
  workload.resources.gpu_models = placement.gpu_models;
  workload.resources.min_gpu_memory_bytes = placement.min_gpu_memory_bytes;
  return workload;
}

}  // namespace fleet::placement
