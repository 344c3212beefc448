#pragma once
// The "model" member of a workload's resources (issue #15 item 3, docs/api.md "Workloads") to ModelSpec and back:
//   "model": {"parameters": "70B" | 70000000000,   required: 1M..10T (a count with M, B or T, or a number)
//             "precision": "bf16",                  fp32 | bf16 | fp16 | fp8 | int8 | int4 | fp4, default bf16
//             "kvCachePrecision": "fp8",            optional; default the activations' type (bf16; fp32 for fp32)
//             "contextTokens": 32768,               optional, 1..10M: the KV-cache budget per sequence
//             "concurrentSequences": 8,             optional, 1..4096 (default 1), needs contextTokens
//             "layers": 80, "kvHeads": 8, "headDim": 128}   optional, all three or none: the architecture
// to_json writes every member it read (parameters as a number), so that model_from_json(to_json(m)) == m.
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "placement/model_fit.hpp"

namespace fleet::placement {

// The "model" member of `resources` (whose path is `path`); nullopt when absent.
Result<std::optional<ModelSpec>> model_from_json(const nlohmann::json& resources, std::string_view path);
nlohmann::json to_json(const ModelSpec& model);

}  // namespace fleet::placement
