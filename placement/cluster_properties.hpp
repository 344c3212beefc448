#pragma once
// Numeric properties of a cluster that affinity terms compare (KubeFleet's property provider, with the GPU
// properties it lacks). Free and total GPUs count healthy GPUs on schedulable, admitted nodes only.
//   freeGpus, totalGpus, largestFreeGpuBlock (most free GPUs on one node), gpuMemoryGiB (largest per GPU):
//       optionally narrowed to one GPU model
//   nodeCount
//   costPerGpuHour: the label fleet.io/cost-per-gpu-hour
//   any other name: a label whose value is a number
#include <optional>
#include <string>
#include <string_view>

#include "placement/capacity_ledger.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

inline constexpr std::string_view kCostLabel = "fleet.io/cost-per-gpu-hour";

bool is_gpu_property(std::string_view property);
bool is_builtin_property(std::string_view property);

// nullopt when the cluster has no such property (a label that is absent or not a number).
std::optional<double> property_value(const CapacityLedger& ledger, std::size_t cluster,
                                     const PropertyRequirement& requirement);

bool compare(double actual, CompareOp op, double wanted);
std::string_view to_string(CompareOp op);  // "Gt", "Ge", …

// "freeGpus" or "freeGpus(NVIDIA H100 80GB HBM3)", for reasons.
std::string property_label(const PropertyRequirement& requirement);

// A number as people write it: 8, 0.5, 2.75 (at most 3 decimals, no trailing zeros).
std::string format_number(double value);

}  // namespace fleet::placement
