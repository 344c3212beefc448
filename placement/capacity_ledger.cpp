#include "placement/capacity_ledger.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "model/inventory.hpp"

namespace fleet::placement {

namespace {

template <typename T>
void sort_by_name(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

NodeFree free_on(const NodeSnapshot& n) {
  NodeFree result;
  result.gpus = node_takes_gpu_work(n) ? std::max(0, n.gpus_healthy - n.gpus_used) : 0;
  result.cpu_millicores = std::max<std::int64_t>(0, n.cpu_allocatable_millicores - n.cpu_used_millicores);
  result.memory_bytes = std::max<std::int64_t>(0, n.memory_allocatable_bytes - n.memory_used_bytes);
  return result;
}

}  // namespace

bool node_takes_gpu_work(const NodeSnapshot& node) {
  return node.schedulable && !node.draining && node.admission == model::Admission::kAdmitted &&
         !node.gpu_model.empty() && node.gpus_healthy > 0;
}

CapacityLedger::CapacityLedger(Snapshot snapshot) : snapshot_(std::move(snapshot)) {
  sort_by_name(snapshot_.clusters);
  for (std::size_t i = 0; i < snapshot_.clusters.size(); ++i) {
    sort_by_name(snapshot_.clusters[i].nodes);
    cluster_index_.emplace(snapshot_.clusters[i].name, i);
    for (const NodeSnapshot& node : snapshot_.clusters[i].nodes) {
      if (!node.gpu_model.empty()) model_ids_.emplace(node.gpu_model, 0);
    }
  }
  std::uint32_t next = 0;
  for (auto& [model, id] : model_ids_) {
    id = next++;
    model_names_.push_back(model);
  }
  node_begin_.reserve(snapshot_.clusters.size() + 1);
  for (const ClusterSnapshot& cluster : snapshot_.clusters) {
    node_begin_.push_back(free_.size());
    for (const NodeSnapshot& node : cluster.nodes) {
      free_.push_back(free_on(node));
      node_models_.push_back(node.gpu_model.empty() ? kNoModel : model_ids_.find(node.gpu_model)->second);
      takes_gpu_work_.push_back(node_takes_gpu_work(node));
    }
  }
  node_begin_.push_back(free_.size());
  word_begin_.reserve(snapshot_.clusters.size() + 1);
  std::size_t words = 0;
  for (const ClusterSnapshot& cluster : snapshot_.clusters) {
    word_begin_.push_back(words);
    words += (cluster.nodes.size() + 63) / 64;
  }
  word_begin_.push_back(words);
  with_free_gpus_.assign(words * model::kMaxGpusPerNode, 0);
  for (std::size_t c = 0; c < snapshot_.clusters.size(); ++c) {
    for (std::size_t n = 0; n < snapshot_.clusters[c].nodes.size(); ++n) set_free_gpus_bits(c, n, free(c, n).gpus);
  }
  model_begin_.reserve(snapshot_.clusters.size() + 1);
  for (std::size_t i = 0; i < snapshot_.clusters.size(); ++i) build_score_inputs(i);
  model_begin_.push_back(score_inputs_.size());
  aggregates_.resize(snapshot_.clusters.size());
}

std::optional<std::size_t> CapacityLedger::find_cluster(std::string_view name) const {
  const auto it = cluster_index_.find(name);
  if (it == cluster_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint32_t> CapacityLedger::model_id(std::string_view model) const {
  const auto it = model_ids_.find(model);
  if (it == model_ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::size_t> CapacityLedger::find_node(std::size_t cluster, std::string_view node) const {
  const std::vector<NodeSnapshot>& nodes = snapshot_.clusters[cluster].nodes;
  const auto it = std::lower_bound(nodes.begin(), nodes.end(), node,
                                   [](const NodeSnapshot& a, std::string_view name) { return a.name < name; });
  if (it == nodes.end() || it->name != node) return std::nullopt;
  return static_cast<std::size_t>(it - nodes.begin());
}

void CapacityLedger::take(std::size_t cluster, std::size_t node, const ReplicaResources& resources, int replicas) {
  NodeSnapshot& n = snapshot_.clusters[cluster].nodes[node];
  n.gpus_used += resources.gpus * replicas;
  n.cpu_used_millicores += resources.cpu_millicores * replicas;
  n.memory_used_bytes += resources.memory_bytes * replicas;
  changed(cluster, node);
}

void CapacityLedger::give(std::size_t cluster, std::size_t node, const ReplicaResources& resources, int replicas) {
  NodeSnapshot& n = snapshot_.clusters[cluster].nodes[node];
  n.gpus_used = std::max(0, n.gpus_used - resources.gpus * replicas);
  n.cpu_used_millicores = std::max<std::int64_t>(0, n.cpu_used_millicores - resources.cpu_millicores * replicas);
  n.memory_used_bytes = std::max<std::int64_t>(0, n.memory_used_bytes - resources.memory_bytes * replicas);
  changed(cluster, node);
}

void CapacityLedger::build_score_inputs(std::size_t cluster) {
  const std::size_t first = score_inputs_.size();
  model_begin_.push_back(first);
  const std::vector<NodeSnapshot>& nodes = snapshot_.clusters[cluster].nodes;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::size_t at = node_begin_[cluster] + i;
    if (!takes_gpu_work_[at]) continue;
    auto it = std::find_if(score_inputs_.begin() + static_cast<std::ptrdiff_t>(first), score_inputs_.end(),
                           [&](const ModelScoreInputs& m) { return m.model_id == node_models_[at]; });
    if (it == score_inputs_.end()) {
      it = score_inputs_.emplace(score_inputs_.end());
      it->model_id = node_models_[at];
    }
    it->total += nodes[i].gpus_healthy;
    it->free += free_[at].gpus;
    ++it->nodes_by_free[std::min<std::size_t>(static_cast<std::size_t>(free_[at].gpus), model::kMaxGpusPerNode)];
  }
  std::sort(score_inputs_.begin() + static_cast<std::ptrdiff_t>(first), score_inputs_.end(),
            [](const ModelScoreInputs& a, const ModelScoreInputs& b) { return a.model_id < b.model_id; });
  for (std::size_t m = first; m < score_inputs_.size(); ++m) {
    ModelScoreInputs& inputs = score_inputs_[m];
    inputs.best_fragmentation = best_fragmentation(inputs.nodes_by_free.data(), inputs.nodes_by_free.size());
  }
}

void CapacityLedger::set_free_gpus_bits(std::size_t cluster, std::size_t node, int free_gpus) {
  const std::size_t word = word_begin_[cluster] + node / 64;
  const std::uint64_t bit = std::uint64_t{1} << (node % 64);
  for (std::size_t k = 1; k <= model::kMaxGpusPerNode; ++k) {
    std::uint64_t& bits = with_free_gpus_[(k - 1) * word_begin_.back() + word];
    bits = static_cast<std::size_t>(std::max(free_gpus, 0)) >= k ? bits | bit : bits & ~bit;
  }
}

void CapacityLedger::changed(std::size_t cluster, std::size_t node) {
  const std::size_t at = node_begin_[cluster] + node;
  const int before = free_[at].gpus;
  free_[at] = free_on(snapshot_.clusters[cluster].nodes[node]);
  aggregates_[cluster].reset();
  const int after = free_[at].gpus;
  if (before != after) set_free_gpus_bits(cluster, node, after);
  if (!takes_gpu_work_[at] || before == after) return;
  for (std::size_t m = model_begin_[cluster]; m < model_begin_[cluster + 1]; ++m) {
    ModelScoreInputs& inputs = score_inputs_[m];
    if (inputs.model_id != node_models_[at]) continue;
    inputs.free += after - before;
    --inputs.nodes_by_free[std::min<std::size_t>(static_cast<std::size_t>(before), model::kMaxGpusPerNode)];
    ++inputs.nodes_by_free[std::min<std::size_t>(static_cast<std::size_t>(after), model::kMaxGpusPerNode)];
    inputs.best_fragmentation = best_fragmentation(inputs.nodes_by_free.data(), inputs.nodes_by_free.size());
  }
}

const ClusterAggregate& CapacityLedger::aggregate(std::size_t cluster) const {
  std::optional<ClusterAggregate>& cached = aggregates_[cluster];
  if (cached) return *cached;
  ClusterAggregate aggregate;
  const std::vector<NodeSnapshot>& nodes = snapshot_.clusters[cluster].nodes;
  aggregate.node_count = static_cast<int>(nodes.size());
  // By model id first (a cluster has a few models: a short linear search), then into by_model: ids are in name
  // order, so both lists come out in the same order.
  std::vector<ModelCapacity> models;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSnapshot& node = nodes[i];
    if (!node_takes_gpu_work(node)) continue;
    const int free_gpus = free(cluster, i).gpus;
    const std::uint32_t id = node_model_id(cluster, i);
    auto it = std::find_if(models.begin(), models.end(), [id](const ModelCapacity& m) { return m.model_id == id; });
    if (it == models.end()) {
      it = models.emplace(models.end());
      it->model_id = id;
      it->nodes_by_free.resize(model::kMaxGpusPerNode + 1);
    }
    ModelCapacity& model = *it;
    model.total += node.gpus_healthy;
    model.free += free_gpus;
    model.largest_block = std::max(model.largest_block, free_gpus);
    model.memory_bytes = std::max(model.memory_bytes, node.gpu_memory_bytes);
    ++model.nodes_by_free[std::min<std::size_t>(static_cast<std::size_t>(free_gpus), model::kMaxGpusPerNode)];
    aggregate.total_gpus += node.gpus_healthy;
    aggregate.free_gpus += free_gpus;
    aggregate.largest_block = std::max(aggregate.largest_block, free_gpus);
    aggregate.max_gpu_memory_bytes = std::max(aggregate.max_gpu_memory_bytes, node.gpu_memory_bytes);
  }
  std::sort(models.begin(), models.end(),
            [](const ModelCapacity& a, const ModelCapacity& b) { return a.model_id < b.model_id; });
  for (ModelCapacity& model : models) {
    model.best_fragmentation = best_fragmentation(model.nodes_by_free.data(), model.nodes_by_free.size());
    aggregate.by_model.emplace_hint(aggregate.by_model.end(), model_names_[model.model_id], std::move(model));
  }
  cached = std::move(aggregate);
  return *cached;
}

std::optional<double> CapacityLedger::label_number(std::size_t cluster, std::string_view key) const {
  auto it = label_numbers_.find(key);
  if (it == label_numbers_.end()) {
    it = label_numbers_.emplace(std::string(key), std::vector<std::optional<std::optional<double>>>(clusters().size()))
             .first;
  }
  std::optional<std::optional<double>>& cached = it->second[cluster];
  if (cached) return *cached;
  cached.emplace();
  const model::Labels& labels = snapshot_.clusters[cluster].labels;
  const auto label = labels.find(std::string(key));
  if (label == labels.end() || label->second.empty()) return std::nullopt;
  double value = 0;
  const char* begin = label->second.data();
  const char* end = begin + label->second.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc{} && ptr == end && std::isfinite(value)) *cached = value;
  return *cached;
}

}  // namespace fleet::placement
