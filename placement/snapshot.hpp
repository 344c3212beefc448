#pragma once
// What the engine decides on: the fleet as fleetd knows it at the start of a placement cycle. The shell builds it
// from the store (clusters, the agents' inventories, bindings, rollouts in flight); the engine never reads
// anything else. Plain data: tests and benchmarks build snapshots by hand.
#include <cstdint>
#include <string>
#include <vector>

#include "model/cluster.hpp"
#include "model/inventory.hpp"
#include "placement/dotted_version.hpp"

namespace fleet::placement {

// One node's GPUs are of one model: Kubernetes' `nvidia.com/gpu` cannot ask for a model on a mixed node, so the
// shell counts a mixed node as its most common model (the others are not schedulable by model anyway).
struct NodeSnapshot {
  std::string name;
  bool schedulable = true;  // false: cordoned
  model::Admission admission = model::Admission::kAdmitted;
  bool draining = false;              // a rollout is upgrading or draining it
  std::vector<model::Taint> taints;   // the node's own, admission taints included
  std::string gpu_model;              // empty: no GPUs
  std::int64_t gpu_memory_bytes = 0;  // per GPU
  DottedVersion driver_version;       // empty parts: unknown
  DottedVersion cuda_version;
  int gpus_healthy = 0;  // GPUs reported healthy
  int gpus_unhealthy = 0;
  // In use: the larger of what the agent reports and what fleetd has bound here (in flight included), so that
  // neither a binding not yet running nor a pod fleetd did not place is double-booked.
  int gpus_used = 0;
  std::int64_t cpu_allocatable_millicores = 0;
  std::int64_t cpu_used_millicores = 0;
  std::int64_t memory_allocatable_bytes = 0;
  std::int64_t memory_used_bytes = 0;
};

struct ClusterSnapshot {
  std::string name;
  std::string provider;
  std::string region;
  std::string state = "ready";  // model::kClusterStates; only "ready" clusters take new work
  model::Labels labels;
  std::vector<model::Taint> taints;
  std::vector<NodeSnapshot> nodes;
  // An active rollout has yet to drain node pools here (issue #15 item 1): work placed now would likely move again
  // soon, so the UpgradePending score keeps new and moving replicas elsewhere when there is a choice.
  bool upgrade_pending = false;
};

// Order does not matter: the engine sorts clusters and nodes by name, so a shuffled snapshot decides the same.
struct Snapshot {
  std::vector<ClusterSnapshot> clusters;
};

}  // namespace fleet::placement
