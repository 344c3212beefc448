#pragma once
// The admission life of a cluster's GPU nodes (issue #11), one state machine for both backends:
//
//   pending_probe ──(a probe starts, within the concurrency cap)──▶ probing ──▶ admitted | quarantined
//        ▲                                                                       │            │
//        └── joined, upgraded/reimaged, re-probe due, GPU health change or XID ──┘            │
//        └── an operator asks (probe), or a repair is signalled ──────────────────────────────┘
//
// Nodes without GPUs are admitted without a probe. Only a passing report admits (probe_verdict.hpp), or an
// operator's explicit, audited admit. A quarantined node is probed again only on request or after a repair. At
// most max_concurrent_probes() nodes of the cluster probe at once; a probe that outlives the policy's timeout is
// cancelled and quarantines its node.
//
// Pure: the backend calls apply() with what it saw (its inventory, a finished probe, an XID, an operator's action)
// or with tick(), always with `now`, and carries out the returned decision: start or cancel probes, set taints,
// report transitions and probe results. The state is plain data the backend keeps (and may rebuild from the
// taints and the recorded admission of its nodes after a restart).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "admission/admission_policy.hpp"
#include "admission/node_admission.hpp"
#include "admission/probe_verdict.hpp"
#include "common/clock.hpp"
#include "model/inventory.hpp"

namespace fleet::admission {

struct AdmissionState {
  std::map<std::string, NodeAdmission, std::less<>> nodes;  // GPU nodes and GPU-less ones (admitted at once)
};

// ---- inputs ----

// A node as the backend reads it now.
struct ObservedNode {
  std::string name;
  int gpus = 0;
  std::vector<std::string> gpu_uuids;
  bool gpus_healthy = true;  // every GPU reported healthy
  std::string kubernetes_version;
  std::string node_image_version;
  std::string driver_version;
  std::vector<model::Taint> taints;
  // What this machine recorded on the node before (a kubernetes annotation, the sim's memory): lets a restarted
  // agent carry on instead of probing every node again. nullopt: never seen by an admission machine.
  std::optional<model::Admission> recorded;
  std::optional<Clock::WallTime> recorded_last_probe;
};
// The cluster's nodes now: new ones are taken in, changed ones re-examined, missing ones forgotten.
struct Observe {
  std::vector<ObservedNode> nodes;
};
struct ProbeFinished {
  std::string node;
  std::string probe_id;
  ProbeOutcome outcome;
};
// The probe could not have the node's GPUs: workloads hold them (the kubelet refused the probe's pod). That says
// nothing about the GPUs' health, so it is no verdict: a routine re-probe leaves the node admitted, any other
// probe leaves it pending; either is tried again after the policy's busy_retry.
struct GpusBusy {
  std::string node;
  std::string probe_id;
  std::string reason;
};
struct XidSeen {
  std::string node;
  std::uint64_t xid = 0;
};
struct ProbeRequested {  // an operator: probe this node again now
  std::string node;
};
struct OperatorAdmit {
  std::string node;
  std::string reason;
};
struct OperatorQuarantine {
  std::string node;
  std::string reason;
};
struct RepairSignalled {  // the node was repaired (a GPU replaced, a reset done): prove it again
  std::string node;
};
struct Tick {};  // timeouts, re-probes that are due, probes to start
using Input = std::variant<Observe, ProbeFinished, GpusBusy, XidSeen, ProbeRequested, OperatorAdmit, OperatorQuarantine,
                           RepairSignalled, Tick>;

// ---- the decision ----

struct StartProbe {
  std::string node;
  std::string probe_id;  // unique per node and attempt: the backend's idempotency key (Job name)
  Trigger trigger;
  std::string mode;  // "quick" | "full"
  int expect_gpus = 0;
  nlohmann::json thresholds;
};
struct CancelProbe {
  std::string node;
  std::string probe_id;
  std::string reason;
};
struct SetTaints {  // make the node's fleet taints exactly these (others are left alone)
  std::string node;
  std::vector<model::Taint> taints;
};
struct Transition {
  std::string node;
  model::Admission from;
  model::Admission to;
  Trigger trigger;
  std::string reason;
};
// A finished (or abandoned) probe: what fleetd stores in probe_results.
struct ProbeRecord {
  std::string node;
  std::string probe_id;
  Trigger trigger;
  std::vector<std::string> gpu_uuids;
  Clock::WallTime started{};
  Clock::WallTime finished{};
  AdmissionVerdict verdict;
  std::optional<gpuprobe::Report> report;  // when the probe wrote one
};
// A GPU node first seen without the unverified taint and with no recorded admission: it was schedulable,
// unguarded, since it joined (the backend measures how long and whether pods landed).
struct Unguarded {
  std::string node;
};

struct Decision {
  std::vector<Transition> transitions;
  std::vector<StartProbe> start;
  std::vector<CancelProbe> cancel;
  std::vector<SetTaints> taints;
  std::vector<ProbeRecord> records;
  std::vector<Unguarded> unguarded;
  bool empty() const;
};

// Carries out `input` on `state` at `now` under `policy`, and says what the backend must do.
Decision apply(AdmissionState& state, const Input& input, const AdmissionPolicy& policy, Clock::WallTime now);

}  // namespace fleet::admission
