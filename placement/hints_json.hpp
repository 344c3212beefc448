#pragma once
// The API form of placement hints (GET /v1/workloads/{name}/placement, member "hints"; api/openapi.yaml
// PlacementHints), stored with the decision:
//   {"gpusPerReplica": 2,
//    "modelFit": {"parameters", "precision", "kvCachePrecision", "contextTokens", "concurrentSequences",
//                 "architecture": {"name", "source": "given"|"table"|"nearest", "layers", "kvHeads", "headDim"},
//                 "memoryGiB": {"weights", "kvCache", "overhead", "total"}, "usableFraction": 0.9,
//                 "gpusPerReplica", "gpusGiven", "gpuModels": […], "minGpuMemoryGiB", "rule",
//                 "shapes": [{"gpuModel", "memoryGiB", "maxGpusPerNode", "gpusNeeded", "fits", "selected",
//                             "reason"?}],
//                 "summary": "2×H100 80GB HBM3 (80 GiB), 4×L40S (48 GiB); not L4 (24 GiB): …"},
//    "cost": {"label": "fleet.io/cost-per-gpu-hour", "chosen": estimate, "cheapestAlternative": estimate?,
//             "note"}}
//   estimate := {"perHour", "replicas", "gpus", "complete",
//                "clusters": [{"cluster", "replicas", "gpus", "costPerGpuHour"?}], "unknownCostClusters": […]}
// GiB figures are rounded to 2 decimals, costs to 4.
#include <nlohmann/json.hpp>

#include "placement/placement_hints.hpp"

namespace fleet::placement {

nlohmann::json to_json(const PlacementHints& hints);
nlohmann::json to_json(const ModelPlacement& placement);

}  // namespace fleet::placement
