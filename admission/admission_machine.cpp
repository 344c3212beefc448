#include "admission/admission_machine.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "gpu-probe/core/xid_classifier.hpp"

namespace fleet::admission {
namespace {

using model::Admission;

bool has_taint(const std::vector<model::Taint>& taints, std::string_view key) {
  return std::any_of(taints.begin(), taints.end(), [&](const model::Taint& t) { return t.key == key; });
}

// The order pending probes start in: nodes a rollout or a sick GPU waits on first, routine re-probes last.
int priority(Trigger t) {
  switch (t) {
    case Trigger::kUpgrade:
      return 0;
    case Trigger::kHealth:
      return 1;
    case Trigger::kRepair:
      return 2;
    case Trigger::kManual:
      return 3;
    case Trigger::kJoin:
      return 4;
    case Trigger::kSchedule:
      return 5;
  }
  return 5;
}

// What a quarantine taint names: the first failing check, or how the probe failed to prove the node.
std::string quarantine_check(const AdmissionVerdict& v) {
  if (!v.failed_checks.empty()) return v.failed_checks.front();
  if (v.verdict == "could-not-run") return "could-not-run";
  if (v.verdict == "not-run") return "no-report";
  return "not-proven";
}

// One apply(): the state, the policy, `now`, and the decision being built.
class Step {
 public:
  Step(AdmissionState& state, const AdmissionPolicy& policy, Clock::WallTime now)
      : state_(state), policy_(policy), now_(now) {}

  void operator()(const Observe& in);
  void operator()(const ProbeFinished& in);
  void operator()(const GpusBusy& in);
  void operator()(const XidSeen& in);
  void operator()(const ProbeRequested& in);
  void operator()(const OperatorAdmit& in);
  void operator()(const OperatorQuarantine& in);
  void operator()(const RepairSignalled& in);
  void operator()(const Tick&) {}

  // What every step ends with: timeouts, re-probes due, then the probes there is room for.
  Decision finish() &&;

 private:
  NodeAdmission* find(std::string_view node);
  void take_in(const ObservedNode& o);
  void re_examine(NodeAdmission& n, const ObservedNode& o);
  void move_to(NodeAdmission& n, Admission to, Trigger trigger, std::string reason);
  void make_pending(NodeAdmission& n, Trigger trigger, std::string reason);
  void cancel_running(NodeAdmission& n, const std::string& reason);
  void conclude(NodeAdmission& n, const ProbeOutcome& outcome);
  void expire_probes();
  void schedule_reprobes();
  void start_probes();

  AdmissionState& state_;
  const AdmissionPolicy& policy_;
  Clock::WallTime now_;
  Decision d_;
};

NodeAdmission* Step::find(std::string_view node) {
  auto it = state_.nodes.find(node);
  return it == state_.nodes.end() ? nullptr : &it->second;
}

void Step::move_to(NodeAdmission& n, Admission to, Trigger trigger, std::string reason) {
  const Admission from = n.state;
  n.state = to;
  n.trigger = trigger;
  n.reason = std::move(reason);
  if (to == Admission::kPendingProbe && from != Admission::kPendingProbe) n.pending_since = now_;
  if (to == Admission::kAdmitted) {
    n.admitted_at = now_;
    n.quarantine_check.clear();
  }
  if (from != to) d_.transitions.push_back({n.node, from, to, trigger, n.reason});
  if (n.gpus > 0) d_.taints.push_back({n.node, taints_for(n)});
}

void Step::cancel_running(NodeAdmission& n, const std::string& reason) {
  if (n.state != Admission::kProbing || n.probe_id.empty()) return;
  d_.cancel.push_back({n.node, n.probe_id, reason});
  n.probe_id.clear();
}

void Step::make_pending(NodeAdmission& n, Trigger trigger, std::string reason) {
  cancel_running(n, "the node is to be probed again: " + reason);
  move_to(n, Admission::kPendingProbe, trigger, std::move(reason));
}

void Step::take_in(const ObservedNode& o) {
  NodeAdmission n;
  n.node = o.name;
  n.gpus = o.gpus;
  n.gpu_uuids = o.gpu_uuids;
  n.kubernetes_version = o.kubernetes_version;
  n.node_image_version = o.node_image_version;
  n.driver_version = o.driver_version;
  n.last_probe_finished = o.recorded_last_probe;
  const bool unverified = has_taint(o.taints, model::kTaintGpuUnverified);
  const bool quarantined = has_taint(o.taints, model::kTaintGpuQuarantined);
  auto& stored = state_.nodes.emplace(o.name, std::move(n)).first->second;
  if (o.gpus == 0) {
    // Nothing to prove. Fleet taints on it were not put there by this machine (a kubelet flag, or GPUs that have
    // not registered yet): they stay until the node has GPUs and passes a probe.
    stored.state = Admission::kAdmitted;
    stored.reason = "no GPUs";
    return;
  }
  if (o.recorded == Admission::kQuarantined || quarantined) {
    stored.state = Admission::kQuarantined;
    stored.reason = "quarantined before this agent started";
    // The check its taint names stays named (a restart must not rewrite what operators see); else "not-proven".
    stored.quarantine_check = "not-proven";
    for (const model::Taint& t : o.taints) {
      if (t.key == model::kTaintGpuQuarantined && !t.value.empty()) stored.quarantine_check = t.value;
    }
    d_.taints.push_back({stored.node, taints_for(stored)});
    return;
  }
  if (o.recorded == Admission::kAdmitted && !unverified) {
    stored.state = Admission::kAdmitted;
    stored.reason = "admitted before this agent started";
    stored.admitted_at = o.recorded_last_probe.value_or(now_);
    return;
  }
  if (!o.recorded && !unverified) d_.unguarded.push_back({stored.node});
  stored.state = Admission::kPendingProbe;
  stored.pending_since = now_;
  stored.trigger = Trigger::kJoin;
  stored.reason = "joined with GPUs";
  d_.taints.push_back({stored.node, taints_for(stored)});
}

void Step::re_examine(NodeAdmission& n, const ObservedNode& o) {
  const bool became_gpu_node = n.gpus == 0 && o.gpus > 0;
  const bool upgraded = o.kubernetes_version != n.kubernetes_version || o.node_image_version != n.node_image_version ||
                        o.driver_version != n.driver_version;
  const bool gpus_changed = n.gpus > 0 && (o.gpus != n.gpus || !o.gpus_healthy);
  n.gpus = o.gpus;
  n.gpu_uuids = o.gpu_uuids;
  n.kubernetes_version = o.kubernetes_version;
  n.node_image_version = o.node_image_version;
  n.driver_version = o.driver_version;
  if (o.gpus == 0) return;  // GPUs gone (or not registered yet): nothing to prove
  if (became_gpu_node) return make_pending(n, Trigger::kJoin, "GPUs appeared");
  if (upgraded) return make_pending(n, Trigger::kUpgrade, "upgraded or reimaged");
  if (gpus_changed && n.state == Admission::kAdmitted) {
    return make_pending(n, Trigger::kHealth, o.gpus_healthy ? "its GPU count changed" : "a GPU is not healthy");
  }
  // A guard someone took away from a node that is not proven is put back.
  if (n.state != Admission::kAdmitted && !has_taint(o.taints, model::kTaintGpuUnverified)) {
    d_.taints.push_back({n.node, taints_for(n)});
  }
}

void Step::operator()(const Observe& in) {
  for (auto it = state_.nodes.begin(); it != state_.nodes.end();) {
    const bool seen = std::any_of(in.nodes.begin(), in.nodes.end(), [&](const auto& o) { return o.name == it->first; });
    if (seen) {
      ++it;
      continue;
    }
    cancel_running(it->second, "the node was deleted");
    it = state_.nodes.erase(it);
  }
  for (const ObservedNode& o : in.nodes) {
    if (NodeAdmission* n = find(o.name)) {
      re_examine(*n, o);
    } else {
      take_in(o);
    }
  }
}

void Step::conclude(NodeAdmission& n, const ProbeOutcome& outcome) {
  ProbeRecord record{n.node, n.probe_id, n.trigger, n.gpu_uuids, n.probe_started, now_, judge(outcome, n.gpus), {}};
  if (const auto* r = std::get_if<ProbeReport>(&outcome)) record.report = r->report;
  n.probe_id.clear();
  n.last_probe_finished = now_;
  n.last_verdict = record.verdict.verdict;
  if (record.verdict.admitted) {
    move_to(n, Admission::kAdmitted, n.trigger, record.verdict.reason);
  } else {
    n.quarantine_check = quarantine_check(record.verdict);
    move_to(n, Admission::kQuarantined, n.trigger, record.verdict.reason);
  }
  d_.records.push_back(std::move(record));
}

void Step::operator()(const ProbeFinished& in) {
  NodeAdmission* n = find(in.node);
  // A report for a probe this machine no longer waits for (cancelled, timed out, the node replaced) changes nothing.
  if (!n || n->state != Admission::kProbing || n->probe_id != in.probe_id) return;
  conclude(*n, in.outcome);
}

void Step::operator()(const GpusBusy& in) {
  NodeAdmission* n = find(in.node);
  if (!n || n->state != Admission::kProbing || n->probe_id != in.probe_id) return;
  n->probe_id.clear();
  n->retry_after = now_ + policy_.busy_retry;
  const std::string again = "; again in " + std::to_string(policy_.busy_retry.count()) + " s";
  if (n->trigger == Trigger::kSchedule) {
    // Proven when it was admitted, and nothing since says otherwise: it stays admitted, its proof as old as it was.
    const Clock::WallTime proven = n->admitted_at;
    move_to(*n, Admission::kAdmitted, Trigger::kSchedule, "re-probe postponed: " + in.reason + again);
    n->admitted_at = proven;
  } else {
    move_to(*n, Admission::kPendingProbe, n->trigger, "waiting for its GPUs: " + in.reason + again);
  }
}

void Step::operator()(const XidSeen& in) {
  NodeAdmission* n = find(in.node);
  if (!n || n->state != Admission::kAdmitted || n->gpus == 0) return;
  const auto cls = gpuprobe::classify_xid(in.xid);
  if (cls != gpuprobe::XidClass::kDrain && cls != gpuprobe::XidClass::kResetReprobe) return;
  make_pending(*n, Trigger::kHealth,
               "XID " + std::to_string(in.xid) + " (" + std::string(gpuprobe::to_string(cls)) + ")");
}

void Step::operator()(const ProbeRequested& in) {
  NodeAdmission* n = find(in.node);
  if (!n || n->gpus == 0 || n->state == Admission::kProbing || n->state == Admission::kPendingProbe) return;
  make_pending(*n, Trigger::kManual, "an operator asked for a probe");
}

void Step::operator()(const OperatorAdmit& in) {
  NodeAdmission* n = find(in.node);
  if (!n) return;
  cancel_running(*n, "admitted by an operator");
  move_to(*n, Admission::kAdmitted, Trigger::kManual, "admitted by an operator: " + in.reason);
}

void Step::operator()(const OperatorQuarantine& in) {
  NodeAdmission* n = find(in.node);
  if (!n) return;
  cancel_running(*n, "quarantined by an operator");
  n->quarantine_check = "operator";
  move_to(*n, Admission::kQuarantined, Trigger::kManual, "quarantined by an operator: " + in.reason);
}

void Step::operator()(const RepairSignalled& in) {
  NodeAdmission* n = find(in.node);
  if (!n || n->state != Admission::kQuarantined || n->gpus == 0) return;
  make_pending(*n, Trigger::kRepair, "repaired");
}

void Step::expire_probes() {
  for (auto& [name, n] : state_.nodes) {
    if (n.state != Admission::kProbing || now_ - n.probe_started < policy_.probe_timeout) continue;
    const std::string why = "timed out after " + std::to_string(policy_.probe_timeout.count()) + " s";
    d_.cancel.push_back({n.node, n.probe_id, why});
    conclude(n, ProbeNotRun{why});
  }
}

void Step::schedule_reprobes() {
  for (auto& [name, n] : state_.nodes) {
    if (n.state != Admission::kAdmitted || n.gpus == 0 || now_ - n.admitted_at < policy_.reprobe_interval) continue;
    if (n.retry_after && now_ < *n.retry_after) continue;  // its GPUs were busy: not yet
    make_pending(n, Trigger::kSchedule, "its re-probe is due");
  }
}

void Step::start_probes() {
  int gpu_nodes = 0;
  int probing = 0;
  std::vector<NodeAdmission*> pending;
  for (auto& [name, n] : state_.nodes) {
    if (n.gpus == 0) continue;
    ++gpu_nodes;
    if (n.state == Admission::kProbing) ++probing;
    if (n.state == Admission::kPendingProbe && (!n.retry_after || now_ >= *n.retry_after)) pending.push_back(&n);
  }
  std::sort(pending.begin(), pending.end(), [](const NodeAdmission* a, const NodeAdmission* b) {
    return std::tuple(priority(a->trigger), a->pending_since, a->node) <
           std::tuple(priority(b->trigger), b->pending_since, b->node);
  });
  const int cap = max_concurrent_probes(policy_, gpu_nodes);
  for (NodeAdmission* n : pending) {
    if (probing >= cap) break;
    n->probe_id = n->node + "-probe-" + std::to_string(++n->probes);
    n->probe_started = now_;
    n->retry_after.reset();
    d_.start.push_back({n->node, n->probe_id, n->trigger, policy_.mode, n->gpus, policy_.thresholds});
    move_to(*n, Admission::kProbing, n->trigger, n->reason);
    ++probing;
  }
}

Decision Step::finish() && {
  expire_probes();
  schedule_reprobes();
  start_probes();
  return std::move(d_);
}

}  // namespace

bool Decision::empty() const {
  return transitions.empty() && start.empty() && cancel.empty() && taints.empty() && records.empty() &&
         unguarded.empty();
}

Decision apply(AdmissionState& state, const Input& input, const AdmissionPolicy& policy, Clock::WallTime now) {
  Step step(state, policy, now);
  std::visit(step, input);
  return std::move(step).finish();
}

}  // namespace fleet::admission
