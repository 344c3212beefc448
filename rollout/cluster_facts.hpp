#pragma once
// What the planner and the run machine need to know of a member cluster: plain data fleetd reads from its
// registry and inventory (clusters, nodes, gpus) in one snapshot.
#include <string>
#include <vector>

#include "model/cluster.hpp"

namespace fleet::rollout {

struct PoolFacts {
  std::string name;
  std::string kubernetes_version;  // the oldest kubelet of the pool ("" when unknown)
  std::string node_image_version;  // the oldest image of the pool ("" when unknown)
  int nodes = 0;
  int gpu_nodes = 0;
  std::vector<std::string> gpu_driver_versions;  // distinct, sorted
  bool operator==(const PoolFacts&) const = default;
};

struct ClusterFacts {
  std::string id;
  std::string name;
  std::string provider;
  std::string region;
  std::string update_group;
  model::Labels labels;
  std::string state;               // the registry's: registering | ready | unreachable | cordoned | deleting
  bool stopped = false;            // the cluster is powered off (label fleet.io/power-state=stopped)
  std::string kubernetes_version;  // the control plane's
  std::vector<PoolFacts> pools;    // sorted by name
  bool operator==(const ClusterFacts&) const = default;
};

// The label by which an operator (or the provider integration) says a cluster is powered off.
inline constexpr const char* kPowerStateLabel = "fleet.io/power-state";

}  // namespace fleet::rollout
