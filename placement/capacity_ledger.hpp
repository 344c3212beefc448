#pragma once
// The engine's working copy of the snapshot: clusters and nodes sorted by name, and what is in use on each node,
// which every decision updates before the next workload is placed (so a burst never over-commits a node).
// GPUs count as free only on nodes that are schedulable, not draining, admitted, and only the healthy ones.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/inventory.hpp"
#include "placement/fragmentation.hpp"
#include "placement/snapshot.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

struct NodeFree {
  int gpus = 0;  // healthy and not in use; 0 on a node that cannot take GPU work
  std::int64_t cpu_millicores = 0;
  std::int64_t memory_bytes = 0;
};

// Per cluster and GPU model (the GPU properties of placement/cluster_properties.hpp, the packing score, and
// GET /v1/clusters/{name}/capacity).
struct ModelCapacity {
  std::uint32_t model_id = 0;  // CapacityLedger::model_id of the model
  int total = 0;               // healthy GPUs on nodes that can take work
  int free = 0;
  int largest_block = 0;  // most free GPUs on one node
  std::int64_t memory_bytes = 0;
  std::vector<int> nodes_by_free;          // [k]: nodes with exactly k free GPUs (k <= model::kMaxGpusPerNode)
  BestFragmentation best_fragmentation{};  // placement/fragmentation.hpp, from nodes_by_free
};

// What the score plugins read of one model of a cluster for every candidate of every decision: the figures of
// ModelCapacity that they need, kept up to date by take and give (CapacityLedger::score_inputs).
struct ModelScoreInputs {
  std::uint32_t model_id = 0;
  int total = 0;
  int free = 0;
  std::array<int, kBlockSizes> nodes_by_free{};
  BestFragmentation best_fragmentation{};
};

struct ClusterAggregate {
  std::map<std::string, ModelCapacity, std::less<>> by_model;
  int total_gpus = 0;
  int free_gpus = 0;
  int largest_block = 0;
  std::int64_t max_gpu_memory_bytes = 0;
  int node_count = 0;
};

// A set of one cluster's nodes: bit i of word i / 64 is the cluster's node i, in the ledger's (name) order. A few
// words where a list of indexes took a few hundred bytes, and two sets intersect a word at a time.
using NodeSet = std::span<const std::uint64_t>;

// Can this node take GPU work at all (before any workload's own requirements)?
bool node_takes_gpu_work(const NodeSnapshot& node);

class CapacityLedger {
 public:
  explicit CapacityLedger(Snapshot snapshot);

  const std::vector<ClusterSnapshot>& clusters() const { return snapshot_.clusters; }
  const Snapshot& snapshot() const { return snapshot_; }
  std::optional<std::size_t> find_cluster(std::string_view name) const;
  std::optional<std::size_t> find_node(std::size_t cluster, std::string_view node) const;

  // What is free on the node now: a read of a dense per-cluster array, as node fit scans every eligible node of
  // every candidate cluster of every decision.
  NodeFree free(std::size_t cluster, std::size_t node) const { return free_[node_begin_[cluster] + node]; }
  // The cluster's nodes' free capacity, in node order: one flat array for the fleet (cluster after cluster), so
  // that node fit walking the candidates of a decision walks memory forward.
  const NodeFree* free_row(std::size_t cluster) const { return free_.data() + node_begin_[cluster]; }
  // The words of the cluster's NodeSets: they start at word_begin(cluster) in a fleet-wide array of
  // word_begin(clusters().size()) words.
  std::size_t word_begin(std::size_t cluster) const { return word_begin_[cluster]; }
  // Whether nodes_with_free_gpus has a set for `gpus`: 1 .. model::kMaxGpusPerNode.
  static bool has_free_gpus_set(int gpus) { return gpus >= 1 && gpus <= static_cast<int>(model::kMaxGpusPerNode); }
  // The cluster's nodes with at least `gpus` free GPUs (has_free_gpus_set(gpus)), kept by take and give: node fit
  // and node assignment visit only the nodes that can hold a replica, where a busy fleet's eligible nodes are
  // mostly ones that cannot.
  NodeSet nodes_with_free_gpus(std::size_t cluster, int gpus) const {
    const std::size_t words = word_begin_[cluster + 1] - word_begin_[cluster];
    return {with_free_gpus_.data() + static_cast<std::size_t>(gpus - 1) * word_begin_.back() + word_begin_[cluster],
            words};
  }
  // The node's CapacityLedger::model_id; kNoModel for a node without GPUs.
  static constexpr std::uint32_t kNoModel = 0xffffffff;
  std::uint32_t node_model_id(std::size_t cluster, std::size_t node) const {
    return node_models_[node_begin_[cluster] + node];
  }
  // Adds `replicas` × the per-replica resources to the node's use (take) or removes them (give, never below 0).
  void take(std::size_t cluster, std::size_t node, const ReplicaResources& resources, int replicas);
  void give(std::size_t cluster, std::size_t node, const ReplicaResources& resources, int replicas);

  // Recomputed when a decision changed the cluster, cached otherwise.
  const ClusterAggregate& aggregate(std::size_t cluster) const;
  // The cluster's models that have nodes taking GPU work, in model id (name) order: what aggregate() says of them
  // for the scores, updated in place by take and give rather than recomputed from the cluster's nodes.
  std::span<const ModelScoreInputs> score_inputs(std::size_t cluster) const {
    return {score_inputs_.data() + model_begin_[cluster], model_begin_[cluster + 1] - model_begin_[cluster]};
  }

  // A label's value as a number (placement/cluster_properties.hpp), parsed once per cluster and key.
  std::optional<double> label_number(std::size_t cluster, std::string_view key) const;

  // Every GPU model of the snapshot as a small integer (0 .. model_count() - 1, in name order), so that what runs
  // once per cluster and decision compares numbers, not model names.
  std::size_t model_count() const { return model_ids_.size(); }
  std::optional<std::uint32_t> model_id(std::string_view model) const;
  const std::string& model_name(std::uint32_t id) const { return model_names_[id]; }

 private:
  void changed(std::size_t cluster, std::size_t node);
  void set_free_gpus_bits(std::size_t cluster, std::size_t node, int free_gpus);
  void build_score_inputs(std::size_t cluster);

  Snapshot snapshot_;
  std::map<std::string, std::size_t, std::less<>> cluster_index_;
  std::map<std::string, std::uint32_t, std::less<>> model_ids_;
  std::vector<std::string> model_names_;    // by id
  std::vector<std::size_t> node_begin_;     // [cluster]: its first node's index in the flat arrays below
  std::vector<NodeFree> free_;              // [node_begin_[cluster] + node], kept by take and give
  std::vector<std::uint32_t> node_models_;  // [node_begin_[cluster] + node]
  std::vector<bool> takes_gpu_work_;        // [node_begin_[cluster] + node]: node_takes_gpu_work
  std::vector<std::size_t> word_begin_;     // [cluster]: its NodeSets' first word; one more entry at the end
  // Fleet-wide NodeSets, one per GPU count k = 1 .. kMaxGpusPerNode (k - 1 times word_begin_.back() words in):
  // the nodes with at least k free GPUs.
  std::vector<std::uint64_t> with_free_gpus_;
  std::vector<std::size_t> model_begin_;  // [cluster]: its first entry in score_inputs_
  std::vector<ModelScoreInputs> score_inputs_;
  mutable std::vector<std::optional<ClusterAggregate>> aggregates_;
  mutable std::map<std::string, std::vector<std::optional<std::optional<double>>>, std::less<>> label_numbers_;
};

}  // namespace fleet::placement
