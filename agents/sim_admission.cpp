// The sim's GPU node admission: the admission machine (admission/admission_machine.hpp) on simulated time. A probe
// takes probeSeconds; it fails with probeFailure, naming a check chosen by the seed, in a report of gpu-probe's
// schema; a failed probe marks the GPU it blames unhealthy until a later probe passes.
#include <algorithm>
#include <array>
#include <cmath>

#include "agents/sim_cluster.hpp"
#include "common/seeded_random.hpp"

namespace fleet::agent {
namespace {

// What gpu-probe reports when it fails a node (docs/gpu-probe.md): a memory pattern, HBM bandwidth, a GEMM
// mismatch, ECC, the PCIe link or a straggler.
constexpr std::array<std::string_view, 6> kFailingChecks = {
    "memory_test", "hbm_bandwidth", "gemm_bf16_correctness", "ecc_uncorrected_volatile", "pcie_link", "straggler_hbm"};
constexpr std::array<std::string_view, 3> kPassingChecks = {"memory_test", "hbm_bandwidth", "gemm_bf16_correctness"};

gpuprobe::CheckResult check(std::string_view name, gpuprobe::CheckStatus status) {
  gpuprobe::CheckResult c;
  c.name = std::string(name);
  c.status = status;
  c.message = status == gpuprobe::CheckStatus::kFail ? "simulated failure" : "";
  return c;
}

void set_fleet_taints(model::NodeInfo& node, const std::vector<model::Taint>& taints) {
  std::erase_if(node.taints, [](const model::Taint& t) {
    return t.key == model::kTaintGpuUnverified || t.key == model::kTaintGpuQuarantined;
  });
  node.taints.insert(node.taints.end(), taints.begin(), taints.end());
}

}  // namespace

Clock::WallTime SimCluster::wall_time(double at) {
  constexpr std::chrono::seconds kEpoch{1767225600};  // 2026-01-01T00:00:00Z
  return Clock::WallTime(
      std::chrono::duration_cast<Clock::WallTime::duration>(kEpoch + std::chrono::duration<double>(at)));
}

std::vector<admission::ProbeRecord> SimCluster::take_probe_records() {
  return std::exchange(probe_records_, {});
}

void SimCluster::set_admission_policy(const admission::AdmissionPolicy& policy, double now) {
  advance(now);
  admission_policy_ = policy;
  admission_step(admission::Tick{}, now);
}

void SimCluster::observe_nodes(double at) {
  admission::Observe observe;
  for (const model::NodeInfo& n : inventory_.nodes) {
    admission::ObservedNode o;
    o.name = n.name;
    o.gpus = static_cast<int>(n.gpus.size());
    for (const model::GpuInfo& g : n.gpus) o.gpu_uuids.push_back(g.uuid);
    o.gpus_healthy = n.healthy_gpus() == static_cast<std::int64_t>(n.gpus.size());
    o.kubernetes_version = n.kubernetes_version;
    o.node_image_version = n.node_image_version;
    o.driver_version = n.gpus.empty() ? "" : n.gpus.front().driver_version;
    o.taints = n.taints;
    o.recorded = n.admission;  // the sim remembers what its machine decided
    observe.nodes.push_back(std::move(o));
  }
  admission_step(observe, at);
}

void SimCluster::admission_step(const admission::Input& input, double at) {
  apply_admission(admission::apply(admission_, input, admission_policy_, wall_time(at)), at);
}

void SimCluster::apply_admission(const admission::Decision& d, double at) {
  for (const auto& c : d.cancel) probes_.erase(c.probe_id);
  for (const auto& s : d.start) probes_[s.probe_id] = {s.node, at + options_.durations.probe_seconds};
  for (const auto& t : d.taints) set_fleet_taints(node(t.node), t.taints);
  for (const auto& r : d.records) {
    // The GPU the failed report blames is unhealthy until a later probe passes.
    if (r.verdict.admitted || !r.report) continue;
    model::NodeInfo& n = node(r.node);
    for (const auto& g : r.report->gpus) {
      const bool failed = std::any_of(g.checks.begin(), g.checks.end(),
                                      [](const auto& c) { return c.status == gpuprobe::CheckStatus::kFail; });
      if (failed && g.device.index >= 0 && g.device.index < static_cast<int>(n.gpus.size())) {
        n.gpus[static_cast<std::size_t>(g.device.index)].health = "unhealthy";
      }
    }
    n.allocatable.gpus = n.healthy_gpus();
  }
  for (const auto& tr : d.transitions) {
    model::NodeInfo& n = node(tr.node);
    n.admission = tr.to;
    if (tr.to == model::Admission::kAdmitted && !n.gpus.empty()) {
      for (model::GpuInfo& g : n.gpus) g.health = "healthy";
      n.allocatable.gpus = n.healthy_gpus();
      emit(at, waiting_command(tr.node), "node_admitted", tr.node, tr.reason);
    } else if (tr.to == model::Admission::kQuarantined) {
      emit(at, waiting_command(tr.node), "node_quarantined", tr.node, tr.reason);
    }
  }
  probe_records_.insert(probe_records_.end(), d.records.begin(), d.records.end());
  settle_admitting(at);
}

void SimCluster::finish_probe(const std::string& id, double at) {
  auto it = probes_.find(id);
  if (it == probes_.end()) return;
  // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): `id` may be the map's own key, erased next
  const std::string probe_id = id;
  const std::string node_name = it->second.node;
  probes_.erase(it);
  admission_step(admission::ProbeFinished{node_name, probe_id, simulated_probe(node(node_name), probe_id)}, at);
}

admission::ProbeOutcome SimCluster::simulated_probe(const model::NodeInfo& n, const std::string& probe_id) const {
  gpuprobe::Report r;
  r.probe_version = "sim";
  r.host = n.name;
  r.mode = admission_policy_.mode == "full" ? gpuprobe::Mode::kFull : gpuprobe::Mode::kQuick;
  r.verdict = gpuprobe::Verdict::kPass;
  const bool fails = draw(probe_id, n.name, "probe") < options_.faults.probe_failure;
  const auto bad_gpu =
      static_cast<std::size_t>(draw(probe_id, n.name, "probe-gpu") * static_cast<double>(n.gpus.size()));
  const auto bad_check =
      kFailingChecks[std::min(kFailingChecks.size() - 1,
                              static_cast<std::size_t>(draw(probe_id, n.name, "probe-check") * kFailingChecks.size()))];
  for (std::size_t i = 0; i < n.gpus.size(); ++i) {
    gpuprobe::GpuReport g;
    g.device.index = static_cast<int>(i);
    g.device.name = n.gpus[i].model;
    g.device.uuid = n.gpus[i].uuid;
    g.status = gpuprobe::CheckStatus::kPass;
    for (auto name : kPassingChecks) g.checks.push_back(check(name, gpuprobe::CheckStatus::kPass));
    if (fails && i == std::min(bad_gpu, n.gpus.size() - 1)) {
      g.checks.push_back(check(bad_check, gpuprobe::CheckStatus::kFail));
      g.status = gpuprobe::CheckStatus::kFail;
      r.verdict = gpuprobe::Verdict::kFail;
    }
    r.gpus.push_back(std::move(g));
  }
  return admission::ProbeReport{std::move(r)};
}

std::string SimCluster::waiting_command(std::string_view node_name) const {
  const Running* first = nullptr;
  for (const auto& [id, r] : running_) {
    for (const NodeTask& t : r.tasks) {
      if (t.node == node_name && t.step == Step::kAdmitting && (!first || r.order < first->order)) first = &r;
    }
  }
  return first ? first->command.id : std::string();
}

std::optional<double> SimCluster::next_admission_due(bool with_schedule) const {
  std::optional<double> best;
  for (const auto& [id, p] : probes_) {
    if (!best || p.due < *best) best = p.due;
  }
  if (!with_schedule) return best;
  // An admitted GPU node's re-probe, rounded up to the microsecond so that the machine, handed this time back as
  // wall time, finds it due.
  for (const auto& [name, n] : admission_.nodes) {
    if (n.state != model::Admission::kAdmitted || n.gpus == 0) continue;
    const auto due_ns = n.admitted_at + admission_policy_.reprobe_interval - wall_time(0);
    const double due = std::ceil(std::chrono::duration<double, std::micro>(due_ns).count()) / 1e6;
    if (!best || due < *best) best = due;
  }
  return best;
}

}  // namespace fleet::agent
