// The sim's blue-green node pools (issue #13 item 4): blue_green_node_pool's three phases
// (protocol/command_payloads.hpp) on simulated time.
//
// Replace  the new pool's nodes are provisioned together (nodeUpgradeSeconds each, in parallel: a blue-green
//          surge is the whole pool), shaped like the old pool's nodes (same CPU, memory and GPUs; new GPU uuids)
//          at the target versions. A GPU node is unverified until its probe passes, as any new node is. Once every
//          new node is up, the old pool's nodes are cordoned, the workloads move to their partners (old node i →
//          new node i, in node name order: what the scheduler does once the drain evicts them, given identical
//          nodes) and the old nodes drain (drainSeconds). A new node that fails to come up (nodeUpgradeFailure) or
//          whose probe fails fails the command: the new pool is deleted and the old one is left as it was.
// Retire   the old pool, cordoned and empty, is deleted at once.
// Restore  the old pool's nodes are uncordoned, the workloads move back to them, and the new pool's nodes are
//          cordoned, drained and deleted.
//
// What is not modelled: fleetd's placement still names the nodes it chose; the sim's accounting (NodeInfo::allocated)
// follows the pods, as a cluster's scheduler would, and an apply_workload naming a deleted node is refused.
#include <algorithm>
#include <map>

#include "agents/sim_cluster.hpp"
#include "agents/sim_errors.hpp"
#include "model/names.hpp"

namespace fleet::agent {
namespace {

const protocol::BlueGreenNodePool& payload_of(const protocol::Command& command) {
  return std::get<protocol::BlueGreenNodePool>(command.payload);
}

std::string nodes_text(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " node" : " nodes");
}

}  // namespace

Status SimCluster::validate(const protocol::BlueGreenNodePool& p, Running& run) const {
  run.pool = p.pool;
  std::vector<const model::NodeInfo*> old_nodes;
  std::vector<const model::NodeInfo*> new_nodes;
  for (const model::NodeInfo& n : inventory_.nodes) {  // sorted by name
    if (n.pool == p.pool) old_nodes.push_back(&n);
    if (n.pool == p.new_pool) new_nodes.push_back(&n);
  }
  if (old_nodes.empty()) return no_pool("payload.pool", p.pool);
  if (const Running* r = busy_upgrade()) return cluster_busy(r->command.id);
  switch (p.phase) {
    case protocol::BlueGreenPhase::kReplace: {
      if (!new_nodes.empty()) {
        return command_conflict("payload.newPool: pool " + p.new_pool + " already exists (" +
                                    nodes_text(new_nodes.size()) + "); Replace creates it",
                                "payload.newPool");
      }
      if (p.kubernetes_version) run.kubernetes_version = model::to_string(*p.kubernetes_version);
      run.node_image_version = p.node_image_version;
      if (auto s = node_version_allowed(p.kubernetes_version); !s) return s;
      for (std::size_t i = 0; i < old_nodes.size(); ++i) {
        if (node_in_flight(old_nodes[i]->name)) return node_busy(old_nodes[i]->name);
        run.pairs.emplace_back(old_nodes[i]->name, sim_node_name(spec_, seed_, p.new_pool, static_cast<int>(i)));
      }
      for (const auto& pair : run.pairs) run.tasks.push_back(NodeTask{pair.second});
      for (const auto& pair : run.pairs) run.tasks.push_back(NodeTask{pair.first});
      return Ok{};
    }
    case protocol::BlueGreenPhase::kRetire: {
      if (new_nodes.empty()) {
        return command_conflict("payload.newPool: pool " + p.new_pool + " does not exist; retiring " + p.pool +
                                    " would leave its work nowhere to go",
                                "payload.newPool");
      }
      for (const model::NodeInfo* n : old_nodes) {
        if (n->schedulable || n->allocated.gpus > 0 || n->allocated.cpu_millicores > 0 ||
            n->allocated.memory_bytes > 0) {
          return command_conflict("pool " + p.pool + " still takes or runs work (node " + n->name + " is " +
                                      (n->schedulable ? "schedulable" : "not empty") +
                                      "); Retire follows a Replace that drained it",
                                  "payload.pool");
        }
      }
      return Ok{};
    }
    case protocol::BlueGreenPhase::kRestore: {
      if (new_nodes.empty()) return no_pool("payload.newPool", p.new_pool);
      for (std::size_t i = 0; i < new_nodes.size(); ++i) {
        if (node_in_flight(new_nodes[i]->name)) return node_busy(new_nodes[i]->name);
        // Nodes beyond the old pool's count (none after a Replace) have no partner: their pods stay accounted
        // nowhere once the node is deleted, as pods of a deleted node are.
        if (i < old_nodes.size()) run.pairs.emplace_back(old_nodes[i]->name, new_nodes[i]->name);
        run.tasks.push_back(NodeTask{new_nodes[i]->name});
      }
      return Ok{};
    }
  }
  return Ok{};
}

void SimCluster::start_blue_green(const protocol::BlueGreenNodePool& p, Running& run, double at) {
  const std::string& id = run.command.id;
  switch (p.phase) {
    case protocol::BlueGreenPhase::kReplace:
      emit(at, id, "pool_creating", "",
           "creating pool " + p.new_pool + " (" + nodes_text(run.pairs.size()) + ") beside " + p.pool);
      for (std::size_t i = 0; i < run.pairs.size(); ++i) {  // the new nodes' tasks come first
        run.tasks[i].step = Step::kUpgrading;               // provisioning
        run.tasks[i].due = at + options_.durations.node_upgrade_seconds;
      }
      return;
    case protocol::BlueGreenPhase::kRetire: {
      std::vector<std::string> names;
      for (const model::NodeInfo& n : inventory_.nodes) {
        if (n.pool == p.pool) names.push_back(n.name);
      }
      delete_nodes(names, id, at);
      adopt_node_image();
      run.status.nodes_total = static_cast<int>(names.size());
      run.status.nodes_done = run.status.nodes_total;
      run.status.state = protocol::CommandState::kSucceeded;
      run.status.message =
          "pool " + p.pool + " deleted (" + nodes_text(names.size()) + "); " + p.new_pool + " carries its workloads";
      return;
    }
    case protocol::BlueGreenPhase::kRestore:
      for (const auto& [old_node, new_node] : run.pairs) restore_schedulable(node(old_node), id, at);
      move_workloads(run.pairs, false);
      emit(at, id, "workloads_moved", "", "workloads moved back to pool " + p.pool);
      for (NodeTask& t : run.tasks) {
        node(t.node).schedulable = false;
        emit(at, id, "node_cordoned", t.node, "cordoned: pool " + p.pool + " takes its workloads back");
        t.step = Step::kDraining;
        t.due = at + options_.durations.drain_seconds;
      }
      return;
  }
}

void SimCluster::blue_green_step(Running& run, NodeTask& task, double at) {
  const std::string& id = run.command.id;
  if (task.step == Step::kUpgrading) return provision_node(run, task, at);
  emit(at, id, "node_drained", task.node, "drained");
  if (payload_of(run.command).phase == protocol::BlueGreenPhase::kRestore) {
    delete_nodes({task.node}, id, at);
    return complete_task(run, task, "deleted", at);
  }
  complete_task(run, task, "drained", at);
}

void SimCluster::provision_node(Running& run, NodeTask& task, double at) {
  const std::string& id = run.command.id;
  const auto& p = payload_of(run.command);
  if (draw(id, task.node, "provision") < options_.faults.node_upgrade_failure) {
    emit(at, id, "node_provision_failed", task.node, "the new node did not come up");
    return complete_task(run, task, "provision_failed", at);
  }
  const auto pair =
      std::find_if(run.pairs.begin(), run.pairs.end(), [&](const auto& x) { return x.second == task.node; });
  model::NodeInfo n = node(pair->first);  // the same shape as the node it replaces
  n.name = task.node;
  n.pool = p.new_pool;
  n.labels["kubernetes.azure.com/agentpool"] = p.new_pool;
  if (!run.kubernetes_version.empty()) n.kubernetes_version = run.kubernetes_version;
  if (!run.node_image_version.empty()) n.node_image_version = run.node_image_version;
  n.schedulable = !cordoned_;
  n.allocated = {};
  std::erase_if(n.taints, [](const model::Taint& t) {
    return t.key == model::kTaintGpuUnverified || t.key == model::kTaintGpuQuarantined;
  });
  for (std::size_t k = 0; k < n.gpus.size(); ++k) {
    n.gpus[k].uuid = model::make_gpu_uuid(seed_, spec_.name, n.name, static_cast<int>(k));
    n.gpus[k].health = "healthy";
  }
  n.allocatable.gpus = static_cast<std::int64_t>(n.gpus.size());
  // A new GPU node takes no GPU work until its probe passes (DESIGN §5 node admission).
  const bool gpu = !n.gpus.empty();
  n.admission = gpu ? model::Admission::kPendingProbe : model::Admission::kAdmitted;
  if (gpu) n.taints.push_back(model::Taint{std::string(model::kTaintGpuUnverified), "", "NoSchedule"});
  inventory_.nodes.push_back(std::move(n));
  model::canonicalize(inventory_);
  emit(at, id, "node_created", task.node,
       "node of pool " + p.new_pool + " at " + node(task.node).kubernetes_version + " / " +
           node(task.node).node_image_version);
  if (!gpu) return complete_task(run, task, "created", at);
  run.status.details[task.node] = "probing";
  observe_nodes(at);
  wait_for_admission(task);
}

void SimCluster::blue_green_task_done(Running& run, NodeTask& task, const std::string& outcome, double at) {
  task.step = Step::kDone;
  run.status.nodes_done++;
  const bool ok = outcome == "created" || outcome == "admitted" || outcome == "drained" || outcome == "deleted";
  if (!ok) run.status.nodes_failed++;
  run.status.details[task.node] = outcome;
  const auto& p = payload_of(run.command);
  const std::string& id = run.command.id;
  const auto done = [](const NodeTask& t) { return t.step == Step::kDone; };
  const auto new_end = run.tasks.begin() + static_cast<std::ptrdiff_t>(
                                               p.phase == protocol::BlueGreenPhase::kReplace ? run.pairs.size() : 0);

  if (p.phase == protocol::BlueGreenPhase::kReplace && !run.moved) {
    if (!std::all_of(run.tasks.begin(), new_end, done)) return;
    if (run.status.nodes_failed > 0) {
      std::vector<std::string> created;
      for (auto t = run.tasks.begin(); t != new_end; ++t) {
        if (inventory_.find_node(t->node)) created.push_back(t->node);
      }
      delete_nodes(created, id, at);
      run.status.state = protocol::CommandState::kFailed;
      run.status.message = std::to_string(run.status.nodes_failed) + " of " + nodes_text(run.pairs.size()) +
                           " of the new pool " + p.new_pool + " failed; " + p.new_pool + " is deleted and pool " +
                           p.pool + " is unchanged";
      return finish(run, at);
    }
    for (auto t = new_end; t != run.tasks.end(); ++t) {
      node(t->node).schedulable = false;
      emit(at, id, "node_cordoned", t->node, "cordoned: pool " + p.new_pool + " takes its workloads");
      t->step = Step::kDraining;
      t->due = at + options_.durations.drain_seconds;
    }
    move_workloads(run.pairs, true);
    run.moved = true;
    emit(at, id, "workloads_moved", "", "workloads moved from pool " + p.pool + " to " + p.new_pool);
    return;
  }
  if (!std::all_of(run.tasks.begin(), run.tasks.end(), done)) return;
  run.status.state = protocol::CommandState::kSucceeded;
  if (p.phase == protocol::BlueGreenPhase::kReplace) {
    run.status.message = "pool " + p.pool + " replaced by " + p.new_pool + " (" + nodes_text(run.pairs.size()) + "); " +
                         p.pool + " is kept, cordoned and empty, for the soak";
    adopt_node_image();
  } else {
    run.status.message = "pool " + p.new_pool + " deleted; its workloads are back on " + p.pool;
  }
  finish(run, at);
}

void SimCluster::move_workloads(const std::vector<std::pair<std::string, std::string>>& pairs, bool forward) {
  std::map<std::string, std::string, std::less<>> to;
  for (const auto& [old_node, new_node] : pairs) {
    if (forward) {
      to[old_node] = new_node;
    } else {
      to[new_node] = old_node;
    }
  }
  for (auto& [name, w] : workloads_) {
    account(w, -1);
    for (protocol::NodeReplicas& n : w.nodes) {
      if (auto it = to.find(n.node); it != to.end()) n.node = it->second;
    }
    std::sort(w.nodes.begin(), w.nodes.end(),
              [](const protocol::NodeReplicas& a, const protocol::NodeReplicas& b) { return a.node < b.node; });
    account(w, +1);
  }
}

void SimCluster::delete_nodes(const std::vector<std::string>& names, const std::string& command_id, double at) {
  if (names.empty()) return;
  for (const std::string& name : names) {
    std::erase_if(inventory_.nodes, [&](const model::NodeInfo& n) { return n.name == name; });
    std::erase_if(probes_, [&](const auto& probe) { return probe.second.node == name; });
    emit(at, command_id, "node_deleted", name, "deleted");
  }
  observe_nodes(at);  // the admission machine forgets them
}

}  // namespace fleet::agent
