#include "placement/node_filters.hpp"

#include <algorithm>
#include <set>

#include "model/inventory.hpp"
#include "placement/cluster_properties.hpp"
#include "placement/tolerations.hpp"

namespace fleet::placement {

namespace {

const NodeSnapshot& node_of(const CycleState& state, std::size_t cluster, std::uint32_t node) {
  return state.ledger->clusters()[cluster].nodes[node];
}

std::string count_of(std::size_t n, std::string_view what) {
  return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

// Cordoned and draining nodes take no new work.
class NodeAvailableFilter final : public NodeFilter {
 public:
  RejectionCode code() const override { return RejectionCode::kNodesUnavailable; }
  bool admits(const CycleState& state, std::size_t cluster, std::uint32_t i) const override {
    const NodeSnapshot& node = node_of(state, cluster, i);
    return node.schedulable && !node.draining;
  }
  std::string explain(const CycleState& state, const std::vector<const NodeSnapshot*>& removed) const override {
    const auto draining = static_cast<std::size_t>(
        std::count_if(removed.begin(), removed.end(), [](const NodeSnapshot* n) { return n->draining; }));
    std::string text = state.needs_gpus ? "no available GPU nodes: " : "no available nodes: ";
    std::string parts;
    if (removed.size() > draining) parts = std::to_string(removed.size() - draining) + " cordoned";
    if (draining > 0) parts += (parts.empty() ? "" : ", ") + std::to_string(draining) + " draining for an upgrade";
    return text + parts;
  }
};

// Probe-gated admission (issue #11): only admitted nodes, and for GPU work only those with healthy GPUs.
class AdmissionFilter final : public NodeFilter {
 public:
  RejectionCode code() const override { return RejectionCode::kNoAdmittedGpus; }
  bool admits(const CycleState& state, std::size_t cluster, std::uint32_t i) const override {
    const NodeSnapshot& node = node_of(state, cluster, i);
    return node.admission == model::Admission::kAdmitted && (!state.needs_gpus || node.gpus_healthy > 0);
  }
  std::string explain(const CycleState& state, const std::vector<const NodeSnapshot*>& removed) const override {
    std::size_t quarantined = 0;
    std::size_t pending = 0;
    std::size_t probing = 0;
    std::size_t unhealthy = 0;
    for (const NodeSnapshot* node : removed) {
      switch (node->admission) {
        case model::Admission::kQuarantined:
          ++quarantined;
          break;
        case model::Admission::kPendingProbe:
          ++pending;
          break;
        case model::Admission::kProbing:
          ++probing;
          break;
        case model::Admission::kAdmitted:
          ++unhealthy;
          break;
      }
    }
    std::string parts;
    auto add = [&parts](std::size_t n, std::string_view what) {
      if (n > 0) parts += (parts.empty() ? "" : ", ") + count_of(n, "node") + " " + std::string(what);
    };
    add(quarantined, "quarantined");
    add(pending, "pending probe");
    add(probing, "probing");
    add(unhealthy, "with no healthy GPU");
    return (state.needs_gpus ? "no admitted GPUs: " : "no admitted nodes: ") + parts;
  }
};

class GpuModelFilter final : public NodeFilter {
 public:
  RejectionCode code() const override { return RejectionCode::kGpuModel; }
  bool admits(const CycleState& state, std::size_t cluster, std::uint32_t i) const override {
    const std::uint32_t model = state.ledger->node_model_id(cluster, i);
    return model != CapacityLedger::kNoModel && state.model_allowed(model);
  }
  std::string explain(const CycleState& state, const std::vector<const NodeSnapshot*>& removed) const override {
    std::set<std::string_view> has;
    for (const NodeSnapshot* node : removed) has.insert(node->gpu_model);
    std::string wants;
    for (const std::string& model : state.workload->resources.gpu_models)
      wants += (wants.empty() ? "" : " or ") + model;
    std::string have;
    for (std::string_view model : has) have += (have.empty() ? "" : ", ") + std::string(model);
    return "no allowed GPU model: needs " + wants + ", has " + have;
  }
};

class GpuMemoryFilter final : public NodeFilter {
 public:
  RejectionCode code() const override { return RejectionCode::kGpuMemory; }
  bool admits(const CycleState& state, std::size_t cluster, std::uint32_t i) const override {
    return node_of(state, cluster, i).gpu_memory_bytes >= state.workload->resources.min_gpu_memory_bytes;
  }
  std::string explain(const CycleState& state, const std::vector<const NodeSnapshot*>& removed) const override {
    std::int64_t most = 0;
    for (const NodeSnapshot* node : removed) most = std::max(most, node->gpu_memory_bytes);
    return "GPU memory " + format_gib(most) + " < required " +
           format_gib(state.workload->resources.min_gpu_memory_bytes);
  }
};

// Driver or CUDA at least the workload's minimum; an unknown version (never reported) does not pass a minimum.
class VersionFilter final : public NodeFilter {
 public:
  VersionFilter(RejectionCode code, std::string_view what, DottedVersion NodeSnapshot::*field,
                std::optional<DottedVersion> Workload::*minimum)
      : code_(code), what_(what), field_(field), minimum_(minimum) {}
  RejectionCode code() const override { return code_; }
  bool admits(const CycleState& state, std::size_t cluster, std::uint32_t i) const override {
    const std::optional<DottedVersion>& minimum = state.workload->*minimum_;
    if (!minimum) return true;
    const DottedVersion& version = node_of(state, cluster, i).*field_;
    return !version.parts.empty() && version >= *minimum;
  }
  std::string explain(const CycleState& state, const std::vector<const NodeSnapshot*>& removed) const override {
    const DottedVersion* newest = nullptr;
    for (const NodeSnapshot* node : removed) {
      if (!(node->*field_).parts.empty() && (newest == nullptr || node->*field_ > *newest)) newest = &(node->*field_);
    }
    const std::string have = newest == nullptr ? "unknown" : to_string(*newest);
    return std::string(what_) + " " + have + " < required " + to_string(*(state.workload->*minimum_));
  }

 private:
  RejectionCode code_;
  std::string_view what_;
  DottedVersion NodeSnapshot::*field_;
  std::optional<DottedVersion> Workload::*minimum_;
};

class NodeTaintFilter final : public NodeFilter {
 public:
  RejectionCode code() const override { return RejectionCode::kNodeTaint; }
  bool admits(const CycleState& state, std::size_t cluster, std::uint32_t i) const override {
    return !first_untolerated(state.workload->policy.tolerations, node_of(state, cluster, i).taints);
  }
  std::string explain(const CycleState& state, const std::vector<const NodeSnapshot*>& removed) const override {
    const std::optional<model::Taint> taint =
        first_untolerated(state.workload->policy.tolerations, removed.front()->taints);
    return "node taint " + (taint ? model::format_taint(*taint) : std::string("?")) + " not tolerated on " +
           count_of(removed.size(), "node");
  }
};

}  // namespace

NodeFunnel::NodeFunnel() {
  base_filters_.push_back(std::make_unique<NodeAvailableFilter>());
  base_filters_.push_back(std::make_unique<AdmissionFilter>());
  gpu_filters_.push_back(std::make_unique<GpuModelFilter>());
  gpu_filters_.push_back(std::make_unique<GpuMemoryFilter>());
  gpu_filters_.push_back(std::make_unique<VersionFilter>(RejectionCode::kDriverVersion, "driver",
                                                         &NodeSnapshot::driver_version, &Workload::min_driver_version));
  gpu_filters_.push_back(std::make_unique<VersionFilter>(RejectionCode::kCudaVersion, "CUDA",
                                                         &NodeSnapshot::cuda_version, &Workload::min_cuda_version));
  gpu_filters_.push_back(std::make_unique<NodeTaintFilter>());
  cpu_filters_.push_back(std::make_unique<NodeTaintFilter>());
}

NodeFunnel::~NodeFunnel() = default;

bool node_facts_equal(const NodeSnapshot& a, const NodeSnapshot& b) {
  // The versions' parts, not DottedVersion's ==: that holds "535" equal to "535.0" and an unknown version (no
  // parts) equal to "0", which a minimum of 0 tells apart.
  return a.gpu_model == b.gpu_model && a.gpu_memory_bytes == b.gpu_memory_bytes &&
         a.driver_version.parts == b.driver_version.parts && a.cuda_version.parts == b.cuda_version.parts &&
         a.taints == b.taints;
}

namespace {

// Why none of `nodes` passes `filter`: its explanation of them.
FilterOutcome refusal(const CycleState& state, const NodeFilter& filter, const std::vector<NodeSnapshot>& all,
                      const std::vector<const std::vector<std::uint32_t>*>& groups) {
  std::vector<const NodeSnapshot*> removed;
  for (const auto* group : groups) {
    for (const std::uint32_t i : *group) removed.push_back(&all[i]);
  }
  // In node order, as the explanations were written for (the first node's taint names the cause).
  std::sort(removed.begin(), removed.end());
  return FilterOutcome{filter.code(), filter.explain(state, removed)};
}

}  // namespace

BaseFunnelResult NodeFunnel::run_base(const CycleState& state, std::size_t cluster) const {
  const std::vector<NodeSnapshot>& nodes = state.ledger->clusters()[cluster].nodes;
  std::vector<std::uint32_t> survivors;
  for (std::uint32_t i = 0; i < nodes.size(); ++i) {
    if (!state.needs_gpus || !nodes[i].gpu_model.empty()) survivors.push_back(i);
  }
  if (survivors.empty()) {
    if (state.needs_gpus) return FilterOutcome{RejectionCode::kNoGpus, "no GPU nodes"};
    return FilterOutcome{RejectionCode::kNodesUnavailable, "no nodes"};
  }
  std::vector<std::uint32_t> kept;
  for (const auto& filter : base_filters_) {
    kept.clear();
    for (const std::uint32_t i : survivors) {
      if (filter->admits(state, cluster, i)) kept.push_back(i);
    }
    if (kept.empty()) {
      // Only on the way out: the nodes this stage removed, for its explanation.
      std::vector<const NodeSnapshot*> removed;
      removed.reserve(survivors.size());
      for (const std::uint32_t i : survivors) removed.push_back(&nodes[i]);
      return FilterOutcome{filter->code(), filter->explain(state, removed)};
    }
    survivors.swap(kept);
  }
  NodeGroups result;
  for (const std::uint32_t i : survivors) {
    const auto alike = std::find_if(result.groups.begin(), result.groups.end(), [&](const auto& group) {
      return node_facts_equal(nodes[group.front()], nodes[i]);
    });
    if (alike != result.groups.end()) {
      alike->push_back(i);
    } else {
      result.groups.push_back({i});
    }
  }
  return result;
}

std::optional<FilterOutcome> NodeFunnel::run(const CycleState& state, std::size_t cluster, const NodeGroups& base,
                                             std::span<std::uint64_t> eligible) const {
  const std::vector<NodeSnapshot>& nodes = state.ledger->clusters()[cluster].nodes;
  std::vector<const std::vector<std::uint32_t>*> survivors;
  survivors.reserve(base.groups.size());
  for (const auto& group : base.groups) survivors.push_back(&group);
  for (const auto& filter : state.needs_gpus ? gpu_filters_ : cpu_filters_) {
    // Kept groups move to the front, in order; when none is kept nothing moved, and the refusal explains them all.
    std::size_t kept = 0;
    for (const auto* group : survivors) {
      if (filter->admits(state, cluster, group->front())) survivors[kept++] = group;
    }
    if (kept == 0) return refusal(state, *filter, nodes, survivors);
    survivors.resize(kept);
  }
  for (const auto* group : survivors) {
    for (const std::uint32_t node : *group) eligible[node / 64] |= std::uint64_t{1} << (node % 64);
  }
  return std::nullopt;
}

std::string node_requirements_key(const Workload& workload) {
  // A unit separator: GPU model names may hold any printable character.
  const std::string kSep(1, '\x1f');
  const ReplicaResources& r = workload.resources;
  std::string key = r.gpus > 0 ? "g" : "c";
  for (const std::string& model : r.gpu_models) key += kSep + model;
  key += kSep + "m" + std::to_string(r.min_gpu_memory_bytes);
  if (workload.min_driver_version) key += kSep + "d" + to_string(*workload.min_driver_version);
  if (workload.min_cuda_version) key += kSep + "u" + to_string(*workload.min_cuda_version);
  for (const Toleration& t : workload.policy.tolerations) {
    key += kSep + "t" + t.key + (t.op == Toleration::Op::kExists ? "?" : "=") + t.value + ":" + t.effect;
  }
  return key;
}

std::string format_gib(std::int64_t bytes) {
  return format_number(static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0)) + " GiB";
}

}  // namespace fleet::placement
