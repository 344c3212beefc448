#include "agents/sim_cluster.hpp"
#include "agents/sim_errors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>
#include <variant>

#include "common/seeded_random.hpp"
#include "model/field_path.hpp"
#include "model/names.hpp"
#include "model/version.hpp"

namespace fleet::agent {
namespace {

std::string label_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out += ok ? c : '-';
  }
  if (out.size() > model::kMaxLabelValue) out.resize(model::kMaxLabelValue);
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  while (!out.empty() && !alnum(out.back())) out.pop_back();
  while (!out.empty() && !alnum(out.front())) out.erase(out.begin());
  return out;
}

void set_taint(model::NodeInfo& node, std::string_view key) {
  if (!node.has_taint(key)) node.taints.push_back(model::Taint{std::string(key), "", "NoSchedule"});
}

}  // namespace

std::string sim_node_name(const ClusterSpec& spec, std::uint64_t cluster_seed, std::string_view pool, int index) {
  const std::string prefix = spec.provider == "arc" ? "moc" : "aks";
  const auto hash = static_cast<unsigned>(SeededKey(cluster_seed).mix("pool").mix(pool).value() % 100000000);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "-%08u-vmss%06d", hash, index);
  return prefix + "-" + std::string(pool) + suffix;
}

model::ClusterInventory initial_inventory(const ClusterSpec& spec, std::uint64_t cluster_seed) {
  model::ClusterInventory inv;
  inv.kubernetes_version = spec.kubernetes_version;
  inv.node_image_version = spec.node_image_version;
  for (const PoolSpec& pool : spec.pools) {
    for (int i = 0; i < pool.count; ++i) {
      model::NodeInfo n;
      n.name = sim_node_name(spec, cluster_seed, pool.name, i);
      n.pool = pool.name;
      n.kubernetes_version = spec.kubernetes_version;
      n.node_image_version = spec.node_image_version;
      n.labels = {{"kubernetes.azure.com/agentpool", pool.name}, {"kubernetes.io/os", "linux"}};
      if (!spec.region.empty()) n.labels["topology.kubernetes.io/region"] = spec.region;
      n.capacity.cpu_millicores = std::int64_t{pool.cpu} * 1000;
      n.capacity.memory_bytes = std::llround(pool.memory_gib * 1073741824.0);
      // Roughly what kubelet reserves on AKS: 100m + 2% CPU, 750 MiB + 5% memory.
      n.allocatable.cpu_millicores =
          std::max<std::int64_t>(0, n.capacity.cpu_millicores - 100 - n.capacity.cpu_millicores / 50);
      n.allocatable.memory_bytes =
          std::max<std::int64_t>(0, n.capacity.memory_bytes - (std::int64_t{750} << 20) - n.capacity.memory_bytes / 20);
      if (pool.gpu) {
        const GpuSpec& g = *pool.gpu;
        n.labels["nvidia.com/gpu.present"] = "true";
        if (std::string product = label_safe(g.model); !product.empty()) n.labels["nvidia.com/gpu.product"] = product;
        n.labels["nvidia.com/gpu.count"] = std::to_string(g.count);
        for (int k = 0; k < g.count; ++k) {
          model::GpuInfo gpu;
          gpu.index = k;
          gpu.uuid = model::make_gpu_uuid(cluster_seed, spec.name, n.name, k);
          gpu.model = g.model;
          gpu.memory_bytes = std::llround(g.memory_gib * 1073741824.0);
          gpu.driver_version = g.driver_version;
          gpu.cuda_version = g.cuda_version;
          n.gpus.push_back(std::move(gpu));
        }
        n.capacity.gpus = g.count;
        n.allocatable.gpus = g.count;
        n.admission = pool.initial_admission;
        if (n.admission == model::Admission::kPendingProbe) set_taint(n, model::kTaintGpuUnverified);
      }
      inv.nodes.push_back(std::move(n));
    }
  }
  model::canonicalize(inv);
  return inv;
}

SimCluster::SimCluster(ClusterSpec spec, SimOptions options)
    : spec_(std::move(spec)),
      options_(options),
      seed_(SeededKey(options.seed).mix("cluster").mix(spec_.name).value()),
      inventory_(initial_inventory(spec_, seed_)) {
  // The machine takes the nodes in as the spec made them: admitted ones stay, pending ones are probed from t=0.
  observe_nodes(0);
}

SimCluster SimCluster::from_fleet_spec(const FleetSpec& fleet, std::size_t index) {
  return SimCluster(fleet.clusters.at(index), SimOptions{fleet.durations, fleet.faults, fleet.seed});
}

model::NodeInfo& SimCluster::node(const std::string& name) {
  return *inventory_.find_node(name);
}

double SimCluster::draw(std::string_view command_id, std::string_view node, std::string_view step) const {
  return SeededKey(seed_).mix(command_id).mix(node).mix(step).unit();
}

void SimCluster::emit(double at, const std::string& command_id, std::string type, std::string node,
                      std::string message) {
  events_.push_back(protocol::CommandEvent{at, command_id, std::move(type), std::move(node), std::move(message)});
}

bool SimCluster::should_disconnect(double now) const {
  if (options_.faults.agent_disconnect <= 0 || options_.disconnect_window_seconds <= 0) return false;
  auto window = static_cast<std::int64_t>(std::floor(now / options_.disconnect_window_seconds));
  return SeededKey(seed_).mix("agent-disconnect").mix(static_cast<std::uint64_t>(window)).unit() <
         options_.faults.agent_disconnect;
}

std::optional<protocol::CommandStatus> SimCluster::status(std::string_view id) const {
  if (auto it = running_.find(id); it != running_.end()) return it->second.status;
  if (auto it = finished_.find(id); it != finished_.end()) return it->second;
  return std::nullopt;
}

std::vector<protocol::CommandEvent> SimCluster::take_events() {
  return std::exchange(events_, {});
}

const SimCluster::Running* SimCluster::busy_upgrade() const {
  for (const auto& [id, r] : running_) {
    const auto kind = r.command.kind();
    if (kind == protocol::CommandKind::kUpgradeControlPlane || kind == protocol::CommandKind::kUpgradeNodePool ||
        kind == protocol::CommandKind::kBlueGreenNodePool) {
      return &r;
    }
  }
  return nullptr;
}

bool SimCluster::node_in_flight(std::string_view node) const {
  for (const auto& [id, r] : running_) {
    for (const NodeTask& t : r.tasks) {
      if (t.node == node && t.step != Step::kPending && t.step != Step::kDone) return true;
    }
  }
  return false;
}

Status SimCluster::validate(const protocol::UpgradeControlPlane& p, Running& run) const {
  const std::string target = model::to_string(p.kubernetes_version);
  if (auto cp = model::parse_kubernetes_version(inventory_.kubernetes_version)) {
    if (p.kubernetes_version < *cp) {
      return model::invalid_field("payload.kubernetesVersion", "is older than the control plane (" +
                                                                   inventory_.kubernetes_version + "); no downgrades");
    }
    // Kubernetes moves the control plane one minor version at a time.
    if (!cp->within_one_minor_of(p.kubernetes_version)) {
      return model::invalid_field("payload.kubernetesVersion", "skips a minor version: the control plane is at " +
                                                                   inventory_.kubernetes_version +
                                                                   " and moves one minor version at a time");
    }
  }
  if (const Running* r = busy_upgrade()) return cluster_busy(r->command.id);
  run.kubernetes_version = target;
  return Ok{};
}

Status SimCluster::node_version_allowed(const std::optional<model::KubernetesVersion>& version) const {
  // Nodes may never be newer than the control plane: the control plane goes first.
  auto cp = model::parse_kubernetes_version(inventory_.kubernetes_version);
  if (version && cp && *version > *cp) {
    return command_conflict("payload.kubernetesVersion: " + model::to_string(*version) +
                                " is newer than the control plane (" + inventory_.kubernetes_version +
                                "); upgrade the control plane first",
                            "payload.kubernetesVersion");
  }
  return Ok{};
}

Status SimCluster::validate(const protocol::UpgradeNodePool& p, Running& run) const {
  run.pool = p.pool;
  std::vector<const model::NodeInfo*> nodes;
  for (const model::NodeInfo& n : inventory_.nodes) {
    if (n.pool == run.pool) nodes.push_back(&n);
  }
  bool known = std::any_of(spec_.pools.begin(), spec_.pools.end(), [&](const PoolSpec& s) { return s.name == p.pool; });
  if (!known && nodes.empty()) {
    return no_pool("payload.pool", run.pool);
  }
  if (p.kubernetes_version) run.kubernetes_version = model::to_string(*p.kubernetes_version);
  run.node_image_version = p.node_image_version;
  run.driver_version = p.driver_version;
  run.cuda_version = p.cuda_version;
  if (auto s = node_version_allowed(p.kubernetes_version); !s) return s;
  const int size = static_cast<int>(nodes.size());
  run.concurrency = std::max(1, p.max_surge.resolve(size, true) + p.max_unavailable.resolve(size, false));
  run.max_failed_nodes = p.max_failed_nodes;
  if (p.not_after) run.stop_at = sim_time_of(*p.not_after);
  if (const Running* r = busy_upgrade()) return cluster_busy(r->command.id);
  for (const model::NodeInfo* n : nodes) {
    bool needs = (!run.kubernetes_version.empty() && n->kubernetes_version != run.kubernetes_version) ||
                 (!run.node_image_version.empty() && n->node_image_version != run.node_image_version);
    for (const model::GpuInfo& g : n->gpus) {
      if ((!run.driver_version.empty() && g.driver_version != run.driver_version) ||
          (!run.cuda_version.empty() && g.cuda_version != run.cuda_version)) {
        needs = true;
      }
    }
    if (!needs) continue;
    if (node_in_flight(n->name)) return node_busy(n->name);
    run.tasks.push_back(NodeTask{n->name});
  }
  return Ok{};
}

Status SimCluster::validate(const protocol::RunProbe& p, Running& run) const {
  std::set<std::string> names;
  if (p.nodes) {
    for (std::size_t i = 0; i < p.nodes->size(); ++i) {
      const std::string& name = (*p.nodes)[i];
      const std::string field = model::index_path("payload.nodes", i);
      const model::NodeInfo* n = inventory_.find_node(name);
      if (!n) return make_error(ErrorCode::kNotFound, field + ": no node \"" + name + "\"", field, "not-found");
      if (n->gpus.empty()) return model::invalid_field(field, "node " + n->name + " has no GPUs to probe");
      names.insert(n->name);
    }
  } else {
    for (const model::NodeInfo& n : inventory_.nodes) {
      if (!n.gpus.empty()) names.insert(n.name);
    }
  }
  for (const std::string& n : names) {
    if (node_in_flight(n)) return node_busy(n);
    run.tasks.push_back(NodeTask{n});
  }
  return Ok{};
}

Status SimCluster::validate(const protocol::CordonCluster&, Running&) const {
  return Ok{};
}

Status SimCluster::validate(const protocol::SetNodeAdmission& p, Running&) const {
  const model::NodeInfo* n = inventory_.find_node(p.node);
  if (!n)
    return make_error(ErrorCode::kNotFound, "payload.node: no node \"" + p.node + "\"", "payload.node", "not-found");
  if (n->gpus.empty()) return model::invalid_field("payload.node", "node " + n->name + " has no GPUs: it is admitted");
  if (node_in_flight(n->name)) return node_busy(n->name);
  return Ok{};
}

template <typename Unsupported>
Status SimCluster::validate(const Unsupported& p, Running&) const {
  return make_error(
      ErrorCode::kInvalid,
      "kind: the sim does not run " + std::string(protocol::to_string(protocol::kind_of(p))) +
          "; it runs upgrade_control_plane, upgrade_node_pool, blue_green_node_pool, run_probe, apply_workload, "
          "delete_workload, set_node_admission and cordon_cluster",
      "kind", "unsupported-command");
}

void SimCluster::cordon_cluster(bool cordon, const std::string& command_id, Running& run, double now) {
  // Immediate, like `kubectl cordon` on every node.
  cordoned_ = cordon;
  int changed = 0;
  for (model::NodeInfo& n : inventory_.nodes) {
    // A node in the middle of an upgrade stays cordoned; its step restores it when it ends.
    if (!cordon && node_in_flight(n.name)) continue;
    if (n.schedulable != !cordon) ++changed;
    n.schedulable = !cordon;
  }
  emit(now, command_id, cordon ? "cluster_cordoned" : "cluster_uncordoned", "",
       std::to_string(changed) + (cordon ? " nodes cordoned" : " nodes uncordoned"));
  run.status.state = protocol::CommandState::kSucceeded;
  run.status.message = cordon ? "cluster cordoned" : "cluster uncordoned";
}

Result<StartResult> SimCluster::start(const protocol::Command& command, double now) {
  using protocol::CommandKind;
  advance(now);
  now = now_;
  if (auto it = bodies_.find(command.id); it != bodies_.end()) {
    if (!(it->second == command)) {
      return command_conflict("command id " + command.id + " was already used with another kind or payload", "id");
    }
    return StartResult{false, *status(command.id)};
  }
  Running run;
  if (auto s = std::visit([&](const auto& p) { return validate(p, run); }, command.payload); !s) return s.error();
  const std::string kind(protocol::to_string(command.kind()));
  run.command = command;
  run.order = next_order_++;
  run.status.id = command.id;
  run.status.kind = kind;
  run.status.started_at = now;
  run.status.nodes_total = static_cast<int>(run.tasks.size());
  bodies_.emplace(command.id, command);
  emit(now, command.id, "command_started", "", kind);

  switch (command.kind()) {
    case CommandKind::kUpgradeControlPlane:
      if (inventory_.kubernetes_version == run.kubernetes_version) {
        run.status.state = protocol::CommandState::kSucceeded;
        run.status.message = "the control plane is already at " + run.kubernetes_version;
      } else {
        run.due = now + options_.durations.control_plane_upgrade_seconds;
      }
      break;
    case CommandKind::kUpgradeNodePool:
      if (run.tasks.empty()) {
        run.status.state = protocol::CommandState::kSucceeded;
        run.status.message = "every node of pool " + run.pool + " is already at the target";
      } else {
        start_pool_nodes(run, now);
        if (run.stop_at && now >= *run.stop_at) {  // delivered after its notAfter: not one node starts
          run.status.state = protocol::CommandState::kSucceeded;
          run.status.stopped = true;
          run.status.message = "pool " + run.pool +
                               ": notAfter had passed when the command arrived; no node started (" +
                               std::to_string(run.tasks.size()) + " left)";
        }
      }
      break;
    case CommandKind::kRunProbe:
      if (run.tasks.empty()) {
        run.status.state = protocol::CommandState::kSucceeded;
        run.status.message = "no GPU nodes to probe";
      }
      // The machine probes them (a node pending or probing already answers with that probe), within its cap.
      for (NodeTask& t : run.tasks) wait_for_admission(t);
      break;
    case CommandKind::kCordonCluster:
      cordon_cluster(std::get<protocol::CordonCluster>(command.payload).cordon, command.id, run, now);
      break;
    case CommandKind::kApplyWorkload:
      apply_workload(std::get<protocol::ApplyWorkload>(command.payload), run);
      break;
    case CommandKind::kDeleteWorkload:
      delete_workload(std::get<protocol::DeleteWorkload>(command.payload), run);
      break;
    case CommandKind::kSetNodeAdmission: {
      // The operator's word, carried out by the machine at once (it cancels a probe in flight).
      const auto& p = std::get<protocol::SetNodeAdmission>(command.payload);
      if (p.admit) {
        admission_step(admission::OperatorAdmit{p.node, p.reason}, now);
      } else {
        admission_step(admission::OperatorQuarantine{p.node, p.reason}, now);
      }
      run.status.state = protocol::CommandState::kSucceeded;
      run.status.message = "node " + p.node + (p.admit ? " admitted" : " quarantined") + " by an operator: " + p.reason;
      break;
    }
    case CommandKind::kBlueGreenNodePool:
      start_blue_green(std::get<protocol::BlueGreenNodePool>(command.payload), run, now);
      break;
    case CommandKind::kCordonNode:
    case CommandKind::kDrainNode:
    case CommandKind::kTaintNode:
      break;  // refused by validate(); no default, so a new kind is a compiler warning here until it is decided
  }

  StartResult result{true, run.status};
  if (run.status.state != protocol::CommandState::kRunning) {
    finish(run, now);
    result.status = run.status;
    finished_.emplace(command.id, std::move(run.status));
    return result;
  }
  auto& started = running_.emplace(command.id, std::move(run)).first->second;
  if (command.kind() == CommandKind::kRunProbe) {
    for (const NodeTask& task : started.tasks) admission_step(admission::ProbeRequested{task.node}, now);
  }
  result.status = started.status;
  retire_finished();
  return result;
}

void SimCluster::start_pool_nodes(Running& run, double at) {
  // A failure over the budget stops new nodes from starting; those in flight still finish and are restored.
  if (run.status.nodes_failed > run.max_failed_nodes) return;
  if (run.stop_at && at >= *run.stop_at) return;  // the window's end: the nodes in hand finish, no other starts
  int in_flight = 0;
  for (const NodeTask& t : run.tasks) in_flight += t.step != Step::kPending && t.step != Step::kDone;
  for (NodeTask& t : run.tasks) {
    if (in_flight >= run.concurrency) break;
    if (t.step != Step::kPending) continue;
    model::NodeInfo& n = node(t.node);
    n.schedulable = false;
    emit(at, run.command.id, "node_cordoned", t.node, "cordoned for upgrade");
    t.step = Step::kDraining;
    t.due = at + options_.durations.drain_seconds;
    ++in_flight;
  }
}

void SimCluster::restore_schedulable(model::NodeInfo& n, const std::string& command_id, double at) {
  // Never leave a node cordoned and forgotten: at the end of its step a node is schedulable again unless the whole
  // cluster is cordoned (then uncordon_cluster restores it).
  if (!cordoned_ && !n.schedulable) {
    n.schedulable = true;
    emit(at, command_id, "node_uncordoned", n.name, "uncordoned");
  }
}

void SimCluster::wait_for_admission(NodeTask& task) {
  const auto& machine = admission_.nodes.at(task.node);
  task.step = Step::kAdmitting;
  // A probe already running answers too; otherwise the next one that starts.
  task.probes_before = machine.probes - (machine.state == model::Admission::kProbing ? 1 : 0);
}

void SimCluster::step(Running& run) {
  const std::string& id = run.command.id;
  if (run.due) {  // upgrade_control_plane
    double at = *run.due;
    run.due.reset();
    inventory_.kubernetes_version = run.kubernetes_version;
    emit(at, id, "control_plane_upgraded", "", "control plane at " + run.kubernetes_version);
    run.status.state = protocol::CommandState::kSucceeded;
    run.status.message = "control plane upgraded to " + run.kubernetes_version;
    finish(run, at);
    return;
  }
  NodeTask* task = nullptr;
  for (NodeTask& t : run.tasks) {
    bool active = t.step == Step::kDraining || t.step == Step::kUpgrading;
    if (active && (!task || t.due < task->due)) task = &t;
  }
  if (!task) return;
  const double at = task->due;
  if (run.command.kind() == protocol::CommandKind::kBlueGreenNodePool) return blue_green_step(run, *task, at);
  model::NodeInfo& n = node(task->node);
  const FaultRates& f = options_.faults;
  if (task->step == Step::kDraining) {
    if (draw(id, n.name, "drain") < f.drain_timeout) {
      emit(at, id, "node_drain_timed_out", n.name, "drain did not finish within the timeout; node left unchanged");
      restore_schedulable(n, id, at);
      return complete_task(run, *task, "drain_timed_out", at);
    }
    emit(at, id, "node_drained", n.name, "drained");
    task->step = Step::kUpgrading;
    task->due = at + options_.durations.node_upgrade_seconds;
    return;
  }
  if (draw(id, n.name, "upgrade") < f.node_upgrade_failure) {
    // The reimage failed and the node came back on its old image: it is usable as before.
    emit(at, id, "node_upgrade_failed", n.name, "upgrade failed; node rolled back to " + n.node_image_version);
    restore_schedulable(n, id, at);
    return complete_task(run, *task, "upgrade_failed", at);
  }
  if (!run.kubernetes_version.empty()) n.kubernetes_version = run.kubernetes_version;
  if (!run.node_image_version.empty()) n.node_image_version = run.node_image_version;
  for (model::GpuInfo& g : n.gpus) {
    if (!run.driver_version.empty()) g.driver_version = run.driver_version;
    if (!run.cuda_version.empty()) g.cuda_version = run.cuda_version;
  }
  emit(at, id, "node_upgraded", n.name, "node at " + n.kubernetes_version + " / " + n.node_image_version);
  if (n.gpus.empty()) {
    restore_schedulable(n, id, at);
    return complete_task(run, *task, "upgraded", at);
  }
  // An upgraded GPU node is unverified until its probe passes (DESIGN §5 node admission): the machine sees the
  // new versions, guards the node and probes it; the task waits for its verdict. "probing" in the status tells
  // fleetd's rollout executor the member is in its Probing phase.
  run.status.details[task->node] = "probing";
  wait_for_admission(*task);
  task->probes_before = admission_.nodes.at(n.name).probes;
  observe_nodes(at);
}

void SimCluster::settle_admitting(double at) {
  // Runs in start order, tasks in node order: the same events whatever the caller's advance() granularity.
  std::vector<Running*> runs;
  for (auto& [id, r] : running_) runs.push_back(&r);
  std::sort(runs.begin(), runs.end(), [](const Running* a, const Running* b) { return a->order < b->order; });
  for (Running* run : runs) {
    const bool pool_upgrade = run->command.kind() == protocol::CommandKind::kUpgradeNodePool;
    for (NodeTask& task : run->tasks) {
      if (task.step != Step::kAdmitting || run->status.state != protocol::CommandState::kRunning) continue;
      const auto& machine = admission_.nodes.at(task.node);
      const bool resolved =
          machine.state == model::Admission::kAdmitted || machine.state == model::Admission::kQuarantined;
      if (!resolved || machine.probes <= task.probes_before) continue;
      const bool admitted = machine.state == model::Admission::kAdmitted;
      if (pool_upgrade) restore_schedulable(node(task.node), run->command.id, at);
      complete_task(*run, task, admitted ? (pool_upgrade ? "upgraded" : "admitted") : "quarantined", at);
    }
  }
}

void SimCluster::complete_task(Running& run, NodeTask& task, const std::string& outcome, double at) {
  if (run.command.kind() == protocol::CommandKind::kBlueGreenNodePool) {
    return blue_green_task_done(run, task, outcome, at);
  }
  task.step = Step::kDone;
  run.status.nodes_done++;
  const bool ok = outcome == "upgraded" || outcome == "admitted";
  if (!ok) run.status.nodes_failed++;
  run.status.details[task.node] = outcome;
  const bool pool_upgrade = run.command.kind() == protocol::CommandKind::kUpgradeNodePool;
  if (pool_upgrade) start_pool_nodes(run, at);

  bool in_flight = false;
  int pending = 0;
  for (const NodeTask& t : run.tasks) {
    in_flight |= t.step != Step::kPending && t.step != Step::kDone;
    pending += t.step == Step::kPending;
  }
  const bool past_stop = pool_upgrade && run.stop_at && at >= *run.stop_at;
  if (in_flight || (pending > 0 && run.status.nodes_failed <= run.max_failed_nodes && !past_stop)) return;

  const int total = run.status.nodes_total;
  const int failed = run.status.nodes_failed;
  if (pool_upgrade) {
    if (failed > run.max_failed_nodes) {
      run.status.state = protocol::CommandState::kFailed;
      run.status.message = std::to_string(failed) + " of " + std::to_string(total) + " nodes of pool " + run.pool +
                           " failed (maxFailedNodes " + std::to_string(run.max_failed_nodes) + "); " +
                           std::to_string(pending) + " nodes not started";
    } else if (pending > 0) {  // past its notAfter
      run.status.state = protocol::CommandState::kSucceeded;
      run.status.stopped = true;
      run.status.message = "pool " + run.pool + " stopped at its notAfter after " + std::to_string(total - pending) +
                           " of " + std::to_string(total) + " nodes; " + std::to_string(pending) + " left";
    } else {
      run.status.state = protocol::CommandState::kSucceeded;
      run.status.message = "pool " + run.pool + " upgraded: " + std::to_string(total - failed) + " of " +
                           std::to_string(total) + " nodes";
      if (failed > 0) run.status.message += " (" + std::to_string(failed) + " failed, within maxFailedNodes)";
    }
    adopt_node_image();
  } else {
    run.status.state = failed > 0 ? protocol::CommandState::kFailed : protocol::CommandState::kSucceeded;
    run.status.message =
        std::to_string(total - failed) + " of " + std::to_string(total) + " nodes passed the GPU probe";
    if (failed > 0) run.status.message += "; " + std::to_string(failed) + " quarantined";
  }
  finish(run, at);
}

void SimCluster::set_wall_clock(Clock::WallTime origin, double time_scale) {
  wall_origin_ = origin;
  time_scale_ = time_scale;
}

double SimCluster::sim_time_of(Clock::WallTime t) const {
  return std::chrono::duration<double>(t - wall_origin_).count() * time_scale_;
}

void SimCluster::adopt_node_image() {
  if (inventory_.nodes.empty()) return;
  const std::string& image = inventory_.nodes.front().node_image_version;
  if (std::all_of(inventory_.nodes.begin(), inventory_.nodes.end(),
                  [&](const model::NodeInfo& x) { return x.node_image_version == image; })) {
    inventory_.node_image_version = image;
  }
}

void SimCluster::finish(Running& run, double at) {
  run.status.finished_at = at;
  bool ok = run.status.state == protocol::CommandState::kSucceeded;
  emit(at, run.command.id, ok ? "command_succeeded" : "command_failed", "", run.status.message);
}

void SimCluster::retire_finished() {
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second.status.state == protocol::CommandState::kRunning) {
      ++it;
      continue;
    }
    finished_.emplace(it->first, std::move(it->second.status));
    it = running_.erase(it);
  }
}

std::optional<double> SimCluster::next_due() const {
  std::optional<double> best = next_admission_due(false);
  for (const auto& [id, r] : running_) {
    if (r.due && (!best || *r.due < *best)) best = r.due;
    for (const NodeTask& t : r.tasks) {
      bool active = t.step == Step::kDraining || t.step == Step::kUpgrading;
      if (active && (!best || t.due < *best)) best = t.due;
    }
  }
  return best;
}

void SimCluster::advance(double now) {
  if (now < now_) return;
  while (true) {
    // The earliest due command step (ties: start order), else the earliest admission event; commands first on a
    // tie, so a step and a probe due together always happen in the same order.
    Running* best = nullptr;
    double best_due = 0;
    for (auto& [id, r] : running_) {
      std::optional<double> due = r.due;
      for (const NodeTask& t : r.tasks) {
        bool active = t.step == Step::kDraining || t.step == Step::kUpgrading;
        if (active && (!due || t.due < *due)) due = t.due;
      }
      if (!due || *due > now) continue;
      if (!best || *due < best_due || (*due == best_due && r.order < best->order)) {
        best = &r;
        best_due = *due;
      }
    }
    const std::optional<double> admission_due = next_admission_due(true);
    if (best && (!admission_due || best_due <= *admission_due)) {
      now_ = std::max(now_, best_due);
      step(*best);
    } else if (admission_due && *admission_due <= now) {
      now_ = std::max(now_, *admission_due);
      // The probe due first (ties: by id), else the machine's own schedule (re-probes).
      auto first = std::min_element(probes_.begin(), probes_.end(),
                                    [](const auto& a, const auto& b) { return a.second.due < b.second.due; });
      if (first != probes_.end() && first->second.due <= *admission_due) {
        finish_probe(first->first, *admission_due);
      } else {
        admission_step(admission::Tick{}, *admission_due);
        // A re-probe that was due has started. Should the machine find nothing due at that time after all, the
        // loop stops here rather than spin on the same time.
        if (next_admission_due(true) == admission_due) break;
      }
    } else {
      break;
    }
    retire_finished();
  }
  now_ = now;
}

}  // namespace fleet::agent
