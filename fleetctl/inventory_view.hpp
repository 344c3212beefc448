#pragma once
// How the inventory looks on a terminal: `get nodes`, `get gpus` (with its totals footer) and the inventory part
// of `describe cluster`. Input is the server's JSON (GET /v1/clusters/{name}/nodes items, GET /v1/gpus items),
// read tolerantly: a missing field shows as <none>, never an exception.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fleet::ctl {

// NAME POOL STATUS ADMISSION KUBELET GPUS; wide adds NODE-IMAGE CPU MEMORY TAINTS. with_cluster puts a CLUSTER
// column (each node's "cluster") first, for the nodes of every cluster.
std::string nodes_table(const std::vector<nlohmann::json>& nodes, bool wide, bool with_cluster = false);

// CLUSTER NODE INDEX MODEL MEMORY HEALTH ADMISSION; wide adds UUID DRIVER CUDA MIG.
std::string gpus_table(const std::vector<nlohmann::json>& gpus, bool wide);

// The footer of `get gpus`: MODEL GPUS per model (the server's totals over the whole filter), then TOTAL.
std::string gpu_totals_table(const nlohmann::json& totals, std::int64_t total);

// `describe cluster`'s inventory sections: node pools, GPUs by model and health, and the first `max_nodes` nodes
// ("… and N more" after them).
std::string describe_inventory(const std::string& cluster, const std::vector<nlohmann::json>& nodes,
                               std::size_t max_nodes = 50);

// 85899345920 → "80Gi", 1536 → "1536" … binary units as Kubernetes prints quantities; "" for negative values.
std::string format_binary_bytes(std::int64_t bytes);
// 96000 → "96", 1500 → "1500m": Kubernetes CPU quantities.
std::string format_cpu(std::int64_t millicores);
// "8x H100 80GB HBM3" (the "NVIDIA " prefix dropped), "4x L40S+2x A10", "0".
std::string node_gpus_text(const nlohmann::json& node);

}  // namespace fleet::ctl
