#pragma once
// Checks the placement benchmarks run on the engine's decisions, outside the timed parts: that no node is given
// more GPUs, CPU or memory than the input snapshot had free (the ledger's promise: a burst never over-commits),
// that every bound node may take the workload (ready cluster, schedulable, admitted, not draining, allowed model,
// enough GPU memory, new enough driver), and that each decision adds up (replicas per node, per cluster, in all).
// Used by placement_bench.cpp and placement_quality.cpp; a violation is a line of text naming the workload.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "placement/decision.hpp"
#include "placement/snapshot.hpp"
#include "placement/workload.hpp"

namespace fleet::placement::bench {

class DecisionChecker {
 public:
  explicit DecisionChecker(const Snapshot& snapshot) {
    for (const auto& cluster : snapshot.clusters) {
      for (const auto& node : cluster.nodes) {
        const bool usable = cluster.state == "ready" && node.schedulable && !node.draining &&
                            node.admission == model::Admission::kAdmitted;
        Room room;
        room.node = &node;
        room.usable = usable;
        room.gpus = usable ? std::max(0, node.gpus_healthy - node.gpus_used) : 0;
        room.cpu = node.cpu_allocatable_millicores - node.cpu_used_millicores;
        room.memory = node.memory_allocatable_bytes - node.memory_used_bytes;
        rooms_.emplace(std::make_pair(cluster.name, node.name), room);
      }
    }
  }

  // Deducts `decision`'s bindings; records a violation for whatever does not fit or does not add up.
  void add(const Workload& w, const Decision& d) {
    int bound = 0;
    for (const auto& b : d.bindings) {
      int on_nodes = 0;
      for (const auto& share : b.nodes) {
        on_nodes += share.replicas;
        take(w, b.cluster, share);
      }
      if (w.resources.gpus > 0 && on_nodes != b.replicas)
        fail(w, b.cluster + ": " + std::to_string(b.replicas) + " replicas, " + std::to_string(on_nodes) + " on nodes");
      if (w.policy.division == ReplicaDivision::kDuplicated && b.replicas != w.replicas &&
          d.state == DecisionState::kPlaced)
        fail(w, b.cluster + ": Duplicated and Placed with " + std::to_string(b.replicas) + " replicas");
      bound += b.replicas;
    }
    if (bound != d.replicas_bound)
      fail(w, "replicas_bound " + std::to_string(d.replicas_bound) + " but bindings hold " + std::to_string(bound));
    if (d.state == DecisionState::kPlaced && d.replicas_bound != d.replicas_wanted)
      fail(w, "Placed with " + std::to_string(d.replicas_bound) + " of " + std::to_string(d.replicas_wanted));
    if (d.state == DecisionState::kUnplaceable && d.replicas_bound != 0) fail(w, "Unplaceable but replicas bound");
    if (w.policy.type == PolicyType::kPickN && static_cast<int>(d.bindings.size()) > w.policy.number_of_clusters)
      fail(w, "PickN " + std::to_string(w.policy.number_of_clusters) + " bound " + std::to_string(d.bindings.size()) +
                  " clusters");
    if (w.policy.division == ReplicaDivision::kDivided && d.replicas_bound > w.replicas)
      fail(w, "Divided: " + std::to_string(d.replicas_bound) + " replicas bound of " + std::to_string(w.replicas));
    gpus_bound_ += static_cast<std::int64_t>(d.replicas_bound) * w.resources.gpus;
  }

  std::int64_t gpus_bound() const { return gpus_bound_; }
  std::int64_t violation_count() const { return violation_count_; }
  const std::vector<std::string>& first_violations() const { return violations_; }

 private:
  struct Room {
    const NodeSnapshot* node = nullptr;
    bool usable = false;
    int gpus = 0;
    std::int64_t cpu = 0;
    std::int64_t memory = 0;
  };

  void take(const Workload& w, const std::string& cluster, const NodeShare& share) {
    auto it = rooms_.find({cluster, share.node});
    if (it == rooms_.end()) return fail(w, "bound to unknown node " + cluster + "/" + share.node);
    Room& room = it->second;
    const ReplicaResources& r = w.resources;
    const std::string where = cluster + "/" + share.node;
    if (r.gpus > 0) {
      const NodeSnapshot& node = *room.node;
      if (!room.usable) fail(w, where + " is not usable (cluster not ready, cordoned, draining or not admitted)");
      if (!r.gpu_models.empty() && !std::binary_search(r.gpu_models.begin(), r.gpu_models.end(), node.gpu_model))
        fail(w, where + " has model " + node.gpu_model + ", not allowed");
      if (node.gpu_memory_bytes < r.min_gpu_memory_bytes) fail(w, where + " has too little GPU memory");
      if (w.min_driver_version && node.driver_version < *w.min_driver_version)
        fail(w, where + " driver " + to_string(node.driver_version) + " too old");
    }
    room.gpus -= share.replicas * r.gpus;
    room.cpu -= share.replicas * r.cpu_millicores;
    room.memory -= share.replicas * r.memory_bytes;
    if (room.gpus < 0) fail(w, where + " over-committed: " + std::to_string(-room.gpus) + " GPUs more than free");
    if (room.cpu < 0 && r.cpu_millicores > 0) fail(w, where + " CPU over-committed");
    if (room.memory < 0 && r.memory_bytes > 0) fail(w, where + " memory over-committed");
  }

  void fail(const Workload& w, const std::string& what) {
    ++violation_count_;
    if (violations_.size() < 20) violations_.push_back(w.name + ": " + what);
  }

  std::map<std::pair<std::string, std::string>, Room> rooms_;
  std::int64_t gpus_bound_ = 0;
  std::int64_t violation_count_ = 0;
  std::vector<std::string> violations_;
};

}  // namespace fleet::placement::bench
