#pragma once
// A workload that names a model instead of a GPU memory figure, made into what the engine filters on (issue #15
// item 3, docs/placement.md "Model fit"). The shell calls it before the engine, with the fleet's GPU shapes from
// the same snapshot; the engine's own GPU model and memory filters then do the rest. The rule:
// - `gpus` given: each of those GPUs needs total / (gpus × 0.9); the models allowed stay as given.
// - `gpus` not given: the smallest count (1, 2, 4, 8, 16) at which some GPU model of the fleet (narrowed to
//   `gpuModels` when given) holds the replica on one node; the models allowed become those that hold it at that
//   count (so 70B bf16 on a fleet of H100 80 GB and L40S 48 GB nodes asks 2 GPUs of H100: 4 L40S also hold it,
//   but 2 is fewer). Fewer GPUs per replica is less tensor-parallel traffic and packs better.
// - nothing in the fleet holds it: the smallest count at which the largest GPU made would, and the models as
//   given; the engine then rejects every cluster with GpuMemory or GpuModel, and the hints say why.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "placement/model_fit.hpp"
#include "placement/snapshot.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

// Every GPU model of the fleet with the least memory among its nodes and the most GPUs of it on one node
// (healthy or not: the shape exists even when its GPUs are busy), sorted by model name.
std::vector<GpuShape> fleet_gpu_shapes(const Snapshot& snapshot);

struct ModelPlacement {
  ModelSpec model;  // as the workload gave it
  MemoryEstimate estimate;
  std::vector<ShapeFit> shapes;  // the fleet's shapes the workload may use (its gpuModels when given)
  int gpus = 0;                  // per replica, as the engine gets it
  bool gpus_given = false;
  std::vector<std::string> gpu_models;  // as the engine gets them; empty: any
  std::int64_t min_gpu_memory_bytes = 0;
  std::vector<std::string> selected;  // the shapes' models that the derived resources take
  std::string rule;                   // one sentence: how gpus and models were chosen
};

// nullopt when the workload gives no model.
std::optional<ModelPlacement> place_model(const Workload& workload, const std::vector<GpuShape>& fleet);

// The workload as the engine gets it: resources.gpus, gpu_models and min_gpu_memory_bytes from `placement`.
Workload with_model_resources(Workload workload, const ModelPlacement& placement);

}  // namespace fleet::placement
