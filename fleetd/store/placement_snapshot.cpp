#include "fleetd/store/placement_snapshot.hpp"

#include <algorithm>

namespace fleet::store {

namespace {

// The most common model; ties go to the name that sorts first.
std::string majority_model(const std::vector<model::GpuInfo>& gpus) {
  std::map<std::string, int> counts;
  for (const model::GpuInfo& gpu : gpus) ++counts[gpu.model];
  std::string best;
  int most = 0;
  for (const auto& [model, count] : counts) {
    if (count > most) {
      best = model;
      most = count;
    }
  }
  return best;
}

placement::DottedVersion version_or_empty(const std::string& text) {
  return placement::parse_dotted_version(text).value_or(placement::DottedVersion{});
}

}  // namespace

BoundByNode bound_by_node(const std::vector<NodeTake>& takes) {
  BoundByNode bound;
  for (const NodeTake& t : takes) {
    BoundUsage& u = bound[{t.cluster, t.node}];
    u.gpus += t.gpus;
    u.cpu_millicores += t.cpu_millicores;
    u.memory_bytes += t.memory_bytes;
  }
  return bound;
}

placement::NodeSnapshot node_snapshot(const model::NodeInfo& node, const BoundUsage& bound, bool draining) {
  placement::NodeSnapshot out;
  out.name = node.name;
  out.schedulable = node.schedulable;
  out.admission = node.admission;
  out.draining = draining;
  out.taints = node.taints;
  out.gpu_model = majority_model(node.gpus);
  bool first = true;
  for (const model::GpuInfo& gpu : node.gpus) {
    if (gpu.model != out.gpu_model) continue;
    const placement::DottedVersion driver = version_or_empty(gpu.driver_version);
    const placement::DottedVersion cuda = version_or_empty(gpu.cuda_version);
    if (first || gpu.memory_bytes < out.gpu_memory_bytes) out.gpu_memory_bytes = gpu.memory_bytes;
    if (first || driver < out.driver_version) out.driver_version = driver;
    if (first || cuda < out.cuda_version) out.cuda_version = cuda;
    first = false;
    if (gpu.health == "healthy")
      ++out.gpus_healthy;
    else
      ++out.gpus_unhealthy;
  }
  out.gpus_used = static_cast<int>(std::max<std::int64_t>(node.allocated.gpus, bound.gpus));
  out.cpu_allocatable_millicores = node.allocatable.cpu_millicores;
  out.cpu_used_millicores = std::max(node.allocated.cpu_millicores, bound.cpu_millicores);
  out.memory_allocatable_bytes = node.allocatable.memory_bytes;
  out.memory_used_bytes = std::max(node.allocated.memory_bytes, bound.memory_bytes);
  return out;
}

placement::Snapshot build_snapshot(const std::vector<ClusterWithNodes>& clusters, const BoundByNode& bound,
                                   const PoolSet& upgrading_pools, const std::set<std::string>& upgrade_pending) {
  placement::Snapshot snapshot;
  snapshot.clusters.reserve(clusters.size());
  const BoundUsage none;
  for (const ClusterWithNodes& stored : clusters) {
    placement::ClusterSnapshot c;
    c.name = stored.cluster.name;
    c.provider = stored.cluster.provider;
    c.region = stored.cluster.region;
    c.state = stored.cluster.state;
    c.labels = stored.cluster.labels;
    c.taints = stored.cluster.taints;
    c.upgrade_pending = upgrade_pending.contains(c.name);
    c.nodes.reserve(stored.nodes->size());
    for (const model::NodeInfo& node : *stored.nodes) {
      const auto it = bound.find({c.name, node.name});
      const bool draining = upgrading_pools.contains({c.name, node.pool});
      c.nodes.push_back(node_snapshot(node, it == bound.end() ? none : it->second, draining));
    }
    snapshot.clusters.push_back(std::move(c));
  }
  return snapshot;
}

}  // namespace fleet::store
