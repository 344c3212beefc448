#pragma once
// What one placement cycle knows about the workload being placed, computed once in the pre-stages and read by
// every filter and score plugin after that (KubeFleet's CycleState: written only before filtering).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "placement/capacity_ledger.hpp"
#include "placement/decision.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

struct CycleState {
  const Workload* workload = nullptr;
  const CapacityLedger* ledger = nullptr;
  bool needs_gpus = false;    // gpus > 0
  bool pins_nodes = false;    // needs GPUs, CPU or memory: replicas are assigned to nodes
  std::string replica_shape;  // "8 GPUs (NVIDIA H100 80GB HBM3)" or "32 CPU, 256 GiB memory", for reasons
  // The workload's GPU models by CapacityLedger::model_id; empty when it allows any.
  std::vector<bool> allowed_models;
  bool model_allowed(std::uint32_t model_id) const { return allowed_models.empty() || allowed_models[model_id]; }
  // Whether the required affinity's label selector matches each cluster (by index): labels do not change during
  // an engine's life, so the engine works this out once per selector. Null when there is no required term.
  const std::vector<bool>* required_labels_match = nullptr;
  // The same for each preferred term, in the policy's order (empty when the engine did not work them out).
  std::vector<const std::vector<bool>*> preferred_labels_match;
  // What the workload holds today, by cluster (re-evaluation).
  std::map<std::string, std::vector<NodeShare>, std::less<>> current;
};

// A cluster that passed every filter, with what node-level fit found.
struct Candidate {
  std::size_t cluster = 0;
  int fit = 0;  // replicas that fit now, counted up to what the cluster could be given
  double score = 0;
};

struct FilterOutcome {
  RejectionCode code = RejectionCode::kClusterState;
  std::string reason;
};

}  // namespace fleet::placement
