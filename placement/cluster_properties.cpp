#include "placement/cluster_properties.hpp"
#include "placement/units.hpp"

#include <cmath>
#include <cstdio>

namespace fleet::placement {

namespace {

std::optional<double> gpu_property(const ClusterAggregate& aggregate, const PropertyRequirement& requirement) {
  const std::string_view name = requirement.property;
  if (!requirement.gpu_model.empty()) {
    const auto it = aggregate.by_model.find(requirement.gpu_model);
    if (it == aggregate.by_model.end()) return 0.0;
    const ModelCapacity& model = it->second;
    if (name == "freeGpus") return model.free;
    if (name == "totalGpus") return model.total;
    if (name == "largestFreeGpuBlock") return model.largest_block;
    return static_cast<double>(model.memory_bytes) / kBytesPerGiB;
  }
  if (name == "freeGpus") return aggregate.free_gpus;
  if (name == "totalGpus") return aggregate.total_gpus;
  if (name == "largestFreeGpuBlock") return aggregate.largest_block;
  return static_cast<double>(aggregate.max_gpu_memory_bytes) / kBytesPerGiB;
}

}  // namespace

bool is_gpu_property(std::string_view property) {
  return property == "freeGpus" || property == "totalGpus" || property == "largestFreeGpuBlock" ||
         property == "gpuMemoryGiB";
}

bool is_builtin_property(std::string_view property) {
  return is_gpu_property(property) || property == "nodeCount" || property == "costPerGpuHour";
}

std::optional<double> property_value(const CapacityLedger& ledger, std::size_t cluster,
                                     const PropertyRequirement& requirement) {
  if (is_gpu_property(requirement.property)) return gpu_property(ledger.aggregate(cluster), requirement);
  const ClusterSnapshot& snapshot = ledger.clusters()[cluster];
  if (requirement.property == "nodeCount") return static_cast<double>(snapshot.nodes.size());
  if (requirement.property == "costPerGpuHour") return ledger.label_number(cluster, kCostLabel);
  return ledger.label_number(cluster, requirement.property);
}

bool compare(double actual, CompareOp op, double wanted) {
  switch (op) {
    case CompareOp::kGt:
      return actual > wanted;
    case CompareOp::kGe:
      return actual >= wanted;
    case CompareOp::kEq:
      return actual == wanted;
    case CompareOp::kNe:
      return actual != wanted;
    case CompareOp::kLt:
      return actual < wanted;
    case CompareOp::kLe:
      return actual <= wanted;
  }
  return false;
}

std::string_view to_string(CompareOp op) {
  switch (op) {
    case CompareOp::kGt:
      return "Gt";
    case CompareOp::kGe:
      return "Ge";
    case CompareOp::kEq:
      return "Eq";
    case CompareOp::kNe:
      return "Ne";
    case CompareOp::kLt:
      return "Lt";
    case CompareOp::kLe:
      return "Le";
  }
  return "?";
}

std::string property_label(const PropertyRequirement& requirement) {
  if (requirement.gpu_model.empty()) return requirement.property;
  return requirement.property + "(" + requirement.gpu_model + ")";
}

std::string format_number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.3f", value);
  std::string text = buffer;
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace fleet::placement
