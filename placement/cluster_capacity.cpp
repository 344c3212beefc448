#include "placement/cluster_capacity.hpp"

#include <array>

#include "placement/capacity_ledger.hpp"

namespace fleet::placement {

nlohmann::json cluster_capacity_json(const ClusterSnapshot& cluster) {
  const CapacityLedger ledger(Snapshot{{cluster}});
  const ClusterAggregate& aggregate = ledger.aggregate(0);
  nlohmann::json models = nlohmann::json::array();
  for (const auto& [model, capacity] : aggregate.by_model) {
    nlohmann::json fit = nlohmann::json::object();
    for (const int shape : std::array{1, 2, 4, 8}) {
      int replicas = 0;
      for (std::size_t free = 0; free < capacity.nodes_by_free.size(); ++free) {
        replicas += capacity.nodes_by_free[free] * (static_cast<int>(free) / shape);
      }
      fit[std::to_string(shape)] = replicas;
    }
    models.push_back({{"model", model},
                      {"memoryGiB", static_cast<double>(capacity.memory_bytes) / (1024.0 * 1024.0 * 1024.0)},
                      {"total", capacity.total},
                      {"free", capacity.free},
                      {"largestFreeBlock", capacity.largest_block},
                      {"replicasThatFit", std::move(fit)}});
  }
  int gpu_nodes = 0;
  int available = 0;
  for (const NodeSnapshot& node : ledger.clusters()[0].nodes) {
    if (!node.gpu_model.empty()) ++gpu_nodes;
    if (node_takes_gpu_work(node)) ++available;
  }
  return {
      {"cluster", cluster.name},
      {"gpus",
       {{"total", aggregate.total_gpus}, {"free", aggregate.free_gpus}, {"largestFreeBlock", aggregate.largest_block}}},
      {"models", std::move(models)},
      {"nodes", {{"total", aggregate.node_count}, {"gpuNodes", gpu_nodes}, {"available", available}}}};
}

}  // namespace fleet::placement
