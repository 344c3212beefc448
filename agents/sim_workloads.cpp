// The sim's workloads (issue #14): apply_workload and delete_workload with a placement (protocol/command_payloads.hpp)
// account the workload's requests on the nodes it names, in NodeInfo::allocated, so that the inventory says what is
// free and a decision that over-commits a node fails here, naming the node and the numbers ("node n3: 4 GPUs
// requested, 2 free"): the agent's own check against double-booking by fleetd's placement.
//
// Choices:
// - Apply is idempotent by workload name: it replaces the workload's previous allocation, and the placement already
//   held changes nothing. An older generation than the one held is refused as stale (kConflict), so that a late
//   delivery cannot roll a workload back. A placement that does not fit fails the command and changes nothing.
// - Only what grows is checked, resource by resource, against the node as it is now: schedulable, admitted for GPU
//   replicas, healthy GPUs and allocatable CPU and memory less what other workloads hold. A node where the
//   workload's request does not grow keeps it even if the node has since been cordoned, quarantined or lost a GPU,
//   as running pods are not evicted by a cordon or a NoSchedule taint. So allocated never exceeds capacity, though
//   it may exceed allocatable once a GPU turns unhealthy.
// - A node drained for an upgrade keeps its allocations: the sim reimages it in place under the same name and its
//   pods are rescheduled on it when it returns (the sim never removes a node). New replicas cannot land on it while
//   it is cordoned.
// - The objects of the last apply are kept by workload (applied_objects), as a cluster keeps what was applied, so
//   that tests see what fleetd sent each cluster (an override's patches, issue #15 item 2).
// - Nothing is persisted: fleet-sim builds every cluster from the spec when it starts (its state file holds only
//   credentials), so allocations start empty, as versions and admission start from the spec.
#include <algorithm>
#include <string>
#include <vector>

#include "agents/sim_cluster.hpp"
#include "agents/sim_errors.hpp"
#include "model/field_path.hpp"

namespace fleet::agent {
namespace {

constexpr std::size_t kMaxListedProblems = 5;  // a status message stays short (protocol::kMaxReportMessageBytes)

model::ResourceList request(const protocol::WorkloadPlacement& w, int replicas) {
  return {w.cpu_millicores * replicas, w.memory_bytes * replicas, std::int64_t{w.gpus_per_replica} * replicas};
}

// The workload's replicas on `node` (its nodes are sorted by name), 0 when it has none there.
int replicas_on(const protocol::WorkloadPlacement& w, std::string_view node) {
  auto it = std::lower_bound(w.nodes.begin(), w.nodes.end(), node,
                             [](const protocol::NodeReplicas& n, std::string_view name) { return n.node < name; });
  return it != w.nodes.end() && it->node == node ? it->replicas : 0;
}

std::string requested(std::int64_t want, std::int64_t free, const std::string& what) {
  return std::to_string(want) + " " + what + " requested, " + std::to_string(std::max<std::int64_t>(0, free)) + " free";
}

// Why `node` cannot go from `had` (this workload's request there now) to `want`, or "" when it can.
std::string room_problem(const model::NodeInfo& node, const model::ResourceList& want, const model::ResourceList& had) {
  const bool more_gpus = want.gpus > had.gpus;
  const bool more_cpu = want.cpu_millicores > had.cpu_millicores;
  const bool more_memory = want.memory_bytes > had.memory_bytes;
  if (!more_gpus && !more_cpu && !more_memory) return "";
  if (!node.schedulable) return "cordoned; it takes no new replicas";
  if (more_gpus && node.admission != model::Admission::kAdmitted) {
    return "GPUs not admitted (" + std::string(model::to_string(node.admission)) + "); it takes no GPU replicas";
  }
  // What other workloads hold: the node's allocation less this workload's own.
  const std::int64_t other_gpus = node.allocated.gpus - had.gpus;
  const std::int64_t other_cpu = node.allocated.cpu_millicores - had.cpu_millicores;
  const std::int64_t other_memory = node.allocated.memory_bytes - had.memory_bytes;
  if (more_gpus && other_gpus + want.gpus > node.healthy_gpus()) {
    return requested(want.gpus, node.healthy_gpus() - other_gpus, "GPUs");
  }
  if (more_cpu && other_cpu + want.cpu_millicores > node.allocatable.cpu_millicores) {
    return requested(want.cpu_millicores, node.allocatable.cpu_millicores - other_cpu, "CPU millicores");
  }
  if (more_memory && other_memory + want.memory_bytes > node.allocatable.memory_bytes) {
    return requested(want.memory_bytes, node.allocatable.memory_bytes - other_memory, "bytes of memory");
  }
  return "";
}

std::string summary(const protocol::WorkloadPlacement& w) {
  std::int64_t replicas = 0;
  for (const protocol::NodeReplicas& n : w.nodes) replicas += n.replicas;
  return std::to_string(replicas) + " replicas on " + std::to_string(w.nodes.size()) + " nodes (" +
         std::to_string(replicas * w.gpus_per_replica) + " GPUs)";
}

std::string generation_of(const protocol::WorkloadPlacement& w) {
  return "workload " + w.workload + " generation " + std::to_string(w.generation);
}

}  // namespace

Status SimCluster::validate(const protocol::ApplyWorkload& p, Running&) const {
  if (!p.placement) return Ok{};
  const protocol::WorkloadPlacement& w = *p.placement;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    if (inventory_.find_node(w.nodes[i].node)) continue;
    const std::string field = model::member_path(model::index_path("payload.placement.nodes", i), "node");
    return make_error(ErrorCode::kNotFound, field + ": no node \"" + w.nodes[i].node + "\"", field, "not-found");
  }
  if (auto it = workloads_.find(w.workload); it != workloads_.end() && w.generation < it->second.generation) {
    return command_conflict(generation_of(w) + " is older than the applied generation " +
                                std::to_string(it->second.generation) + "; a stale apply is not run",
                            "payload.placement.generation");
  }
  return Ok{};
}

Status SimCluster::validate(const protocol::DeleteWorkload&, Running&) const {
  return Ok{};
}

void SimCluster::account(const protocol::WorkloadPlacement& w, int sign) {
  for (const protocol::NodeReplicas& n : w.nodes) {
    model::NodeInfo* node = inventory_.find_node(n.node);
    if (!node) continue;  // the sim never removes a node; nothing to hold on one that is gone
    const model::ResourceList r = request(w, n.replicas);
    node->allocated.cpu_millicores += sign * r.cpu_millicores;
    node->allocated.memory_bytes += sign * r.memory_bytes;
    node->allocated.gpus += sign * r.gpus;
  }
}

void SimCluster::apply_workload(const protocol::ApplyWorkload& p, Running& run) {
  protocol::CommandStatus& status = run.status;
  status.state = protocol::CommandState::kSucceeded;
  if (!p.placement) {
    status.message = std::to_string(p.objects.size()) + " manifests applied; no placement, nothing accounted";
    return;
  }
  const protocol::WorkloadPlacement& w = *p.placement;
  status.nodes_total = static_cast<int>(w.nodes.size());
  auto held = workloads_.find(w.workload);
  if (held != workloads_.end() && held->second == w) {
    objects_.insert_or_assign(w.workload, p.objects);
    status.nodes_done = status.nodes_total;
    status.message = generation_of(w) + " is already applied: " + summary(w);
    return;
  }
  std::vector<std::string> problems;
  for (const protocol::NodeReplicas& n : w.nodes) {
    const model::NodeInfo& node = *inventory_.find_node(n.node);
    const model::ResourceList had =
        held == workloads_.end() ? model::ResourceList{} : request(held->second, replicas_on(held->second, n.node));
    if (std::string problem = room_problem(node, request(w, n.replicas), had); !problem.empty()) {
      problems.push_back("node " + n.node + ": " + problem);
    }
  }
  if (!problems.empty()) {
    status.state = protocol::CommandState::kFailed;
    status.nodes_failed = static_cast<int>(problems.size());
    status.message = generation_of(w) + " does not fit; nothing changed: ";
    for (std::size_t i = 0; i < problems.size() && i < kMaxListedProblems; ++i) {
      status.message += (i ? "; " : "") + problems[i];
    }
    if (problems.size() > kMaxListedProblems) {
      status.message += "; and " + std::to_string(problems.size() - kMaxListedProblems) + " more nodes";
    }
    return;
  }
  if (held != workloads_.end()) account(held->second, -1);
  account(w, +1);
  workloads_.insert_or_assign(w.workload, w);
  objects_.insert_or_assign(w.workload, p.objects);
  status.nodes_done = status.nodes_total;
  status.message = generation_of(w) + " applied: " + summary(w);
}

void SimCluster::delete_workload(const protocol::DeleteWorkload& p, Running& run) {
  protocol::CommandStatus& status = run.status;
  status.state = protocol::CommandState::kSucceeded;
  if (!p.placement) {
    status.message = std::to_string(p.objects.size()) + " manifests deleted; no placement, nothing released";
    return;
  }
  auto held = workloads_.find(p.placement->workload);
  if (held == workloads_.end()) {
    status.message = "workload " + p.placement->workload + ": nothing to delete";
    return;
  }
  account(held->second, -1);
  status.message = "workload " + held->first + " deleted: released " + summary(held->second);
  objects_.erase(held->first);
  workloads_.erase(held);
}

const std::vector<nlohmann::json>* SimCluster::applied_objects(std::string_view workload) const {
  const auto it = objects_.find(workload);
  return it == objects_.end() ? nullptr : &it->second;
}

}  // namespace fleet::agent
