#pragma once
// One GPU node's admission as the admission machine keeps it: its state (model::Admission), why it is (being)
// probed, the probe in flight, and what the last probe found.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "model/inventory.hpp"

namespace fleet::admission {

// Why a node is probed: it joined, was upgraded or reimaged, its re-probe was due, its GPUs' health changed (or an
// XID asked for it), an operator asked, or a repair was signalled.
enum class Trigger { kJoin, kUpgrade, kSchedule, kHealth, kManual, kRepair };
std::string_view to_string(Trigger trigger);  // "join" | "upgrade" | "schedule" | "health" | "manual" | "repair"
std::optional<Trigger> parse_trigger(std::string_view text);

struct NodeAdmission {
  std::string node;
  model::Admission state = model::Admission::kPendingProbe;
  Trigger trigger = Trigger::kJoin;  // of the pending or running probe, or of the last one
  int gpus = 0;                      // what the node reports: the probe must see as many
  std::vector<std::string> gpu_uuids;
  // What the node runs: a change of any is an upgrade or reimage.
  std::string kubernetes_version;
  std::string node_image_version;
  std::string driver_version;
  Clock::WallTime pending_since{};  // when it last became pending (the order probes start in)
  std::string probe_id;             // of the probe in flight; "" when none
  Clock::WallTime probe_started{};
  int probes = 0;  // started on this node, for probe ids
  std::optional<Clock::WallTime> last_probe_finished;
  Clock::WallTime admitted_at{};  // the re-probe schedule counts from here
  std::string last_verdict;       // "" before the first probe
  std::string reason;             // why the node is in its state: "passed", "failed: hbm_bandwidth", …
  std::string quarantine_check;   // the check the quarantine taint names
  // Its GPUs were busy when a probe wanted them (GpusBusy): no probe starts on it before this.
  std::optional<Clock::WallTime> retry_after;
};

// The taints an admission state asks for on a GPU node (DESIGN §5): pending and probing carry
// fleet.io/gpu-unverified=:NoSchedule; quarantined also fleet.io/gpu-quarantined=<check>:NoSchedule; admitted neither.
std::vector<model::Taint> taints_for(const NodeAdmission& node);

}  // namespace fleet::admission
