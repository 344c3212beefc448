#pragma once
// GET /v1/clusters/{name}/capacity: a cluster's GPUs by model, free and total, and by node block size — how many
// replicas of 1, 2, 4 and 8 GPUs the free GPUs can hold, each replica on one node. "16 free" and "room for two
// 8-GPU replicas" are different answers; this gives both.
//   {"cluster": "aks-1", "gpus": {"total": 32, "free": 12, "largestFreeBlock": 8},
//    "models": [{"model": "NVIDIA H100 80GB HBM3", "memoryGiB": 80, "total": 32, "free": 12, "largestFreeBlock": 8,
//                "replicasThatFit": {"1": 12, "2": 6, "4": 3, "8": 1}}],
//    "nodes": {"total": 7, "gpuNodes": 4, "available": 3}}
#include <nlohmann/json.hpp>

#include "placement/snapshot.hpp"

namespace fleet::placement {

nlohmann::json cluster_capacity_json(const ClusterSnapshot& cluster);

}  // namespace fleet::placement
