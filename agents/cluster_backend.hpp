#pragma once
// What fleet-agent drives: one member cluster, behind an interface with two implementations, `sim` (SimCluster
// on a scaled clock) and `kubernetes` (the cluster's API server). The agent's protocol loop (register, heartbeat,
// pull commands, report) is the same for both; only this interface differs.
//
// Threading: the agent calls every method from one thread. A backend whose work blocks (a drain waiting on a
// PodDisruptionBudget) runs it on threads of its own, so that heartbeats keep flowing while a command runs.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admission/admission_policy.hpp"
#include "common/error.hpp"
#include "model/inventory.hpp"
#include "protocol/command.hpp"
#include "protocol/command_status.hpp"
#include "protocol/probe_result.hpp"
#include "protocol/unguarded_node.hpp"
#include "protocol/workload_status.hpp"

namespace fleet::agent {

struct StartResult {
  bool started = false;  // false: the id was known; `status` is its current progress or stored result
  protocol::CommandStatus status;
};

class ClusterBackend {
 public:
  virtual ~ClusterBackend() = default;

  virtual std::string_view name() const = 0;  // "sim" | "kubernetes"

  // The cluster as it is now, canonical and valid (validate_inventory). An Error when the cluster cannot be read
  // (the API server is down): the agent then skips this heartbeat's inventory rather than report a guess.
  virtual Result<model::ClusterInventory> inventory() = 0;

  // Starts a command whose payload parsed (protocol/command.hpp), idempotent by id: a known id is not run again
  // (started=false, its current status or stored result). Returns at once; the work goes on in the background (or
  // on the simulated clock). Errors: a kind this backend does not run (kInvalid `unsupported-command`, saying
  // why), what the cluster's state refuses (kInvalid), a conflict with a command in flight or a known id with
  // another payload (kConflict), a missing node or pool (kNotFound).
  virtual Result<StartResult> start(const protocol::Command& command) = 0;

  // Moves work forward to now (the sim advances its clock; the kubernetes backend collects finished steps) and
  // returns the step events since the last call, oldest first. The agent logs them and reports progress.
  virtual std::vector<protocol::CommandEvent> poll() = 0;

  // The progress of a command this backend has seen, or its stored result once finished; nullopt when unknown.
  virtual std::optional<protocol::CommandStatus> status(std::string_view command_id) const = 0;

  // GPU node admission (issue #11): both backends run admission/admission_machine.hpp. Probes finished since the
  // last call, oldest first; the agent sends them with its next heartbeat and keeps them until fleetd took it.
  virtual std::vector<protocol::ProbeResult> take_probe_results() = 0;
  // GPU nodes found schedulable before admission guarded them, since the last call (sent like probe results). The
  // sim starts every GPU node guarded, so only a real cluster has any.
  virtual std::vector<protocol::UnguardedNode> take_unguarded_nodes() { return {}; }
  // Workloads whose read-back state changed since the last call (issue #15 item 4), the latest per workload; the
  // agent sends them like probe results. Only the kubernetes backend reads its objects back; the sim's bindings
  // run when its inventory shows their GPUs in use.
  virtual std::vector<protocol::WorkloadStatus> take_workload_statuses() { return {}; }
  // The admission policy fleetd holds for this cluster (GET /v1/agents/{cluster}/admission-policy); it applies
  // from the backend's next admission decision on.
  virtual void set_admission_policy(const admission::AdmissionPolicy& policy) = 0;
};

}  // namespace fleet::agent
