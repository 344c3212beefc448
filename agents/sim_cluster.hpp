#pragma once
// A deterministic simulated member cluster (the sim backend of issue #3): one Fleet spec cluster, a seed, and
// commands as data. Time is injected: `now` is simulated seconds on a clock the caller owns (the I/O shell maps
// real time through timeScale). No threads, no I/O, no wall clock.
//
// Determinism: state transitions happen at their due times, whatever the granularity of advance() calls, and each
// fault draw is keyed by (seed, cluster, command id, node, step); so the same spec, seed and command/advance
// inputs give the same events, and calling advance() more or less often gives the same events too.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "admission/admission_machine.hpp"
#include "agents/cluster_backend.hpp"
#include "agents/fleet_spec.hpp"
#include "common/error.hpp"
#include "model/inventory.hpp"
#include "protocol/command.hpp"
#include "protocol/command_status.hpp"

namespace fleet::agent {

struct SimOptions {
  Durations durations;
  FaultRates faults;
  std::uint64_t seed = 1;  // mixed with the cluster name, so one fleet seed gives each cluster its own draws
  double disconnect_window_seconds = 60;
};

class SimCluster {
 public:
  SimCluster(ClusterSpec spec, SimOptions options);
  // The cluster at `index` of a fleet spec, with the spec's durations, faults and seed.
  static SimCluster from_fleet_spec(const FleetSpec& fleet, std::size_t index);

  const ClusterSpec& spec() const { return spec_; }
  const model::ClusterInventory& inventory() const { return inventory_; }
  bool cordoned() const { return cordoned_; }
  double now() const { return now_; }

  // Validates and starts a command at `now` (or at the last time seen, if that is later). A known id is not run
  // again: started=false and its status (its stored result once finished). Errors: unknown kind or bad payload
  // (kInvalid), a known id with another kind or payload or a command that collides with one in flight (kConflict),
  // a node that does not exist (kNotFound). cordon_cluster, set_node_admission, apply_workload, delete_workload
  // and no-op commands finish at once.
  Result<StartResult> start(const protocol::Command& command, double now);
  // Runs every transition due at or before `now`, in time order. Earlier `now` than already seen: nothing.
  void advance(double now);
  // The earliest time at which something is due (commands, probes); nullopt when nothing runs. Lets the shell
  // sleep exactly. Periodic re-probes are not included: they happen within any advance() that passes their time.
  std::optional<double> next_due() const;

  std::optional<protocol::CommandStatus> status(std::string_view command_id) const;
  // The objects of the workload's last successful apply_workload (with a placement) as the cluster holds them, or
  // nullptr when it holds none: what a test or a demo reads to see what fleetd sent this cluster.
  const std::vector<nlohmann::json>* applied_objects(std::string_view workload) const;
  // Events since the last call, oldest first.
  std::vector<protocol::CommandEvent> take_events();
  // The agentDisconnect fault: whether the agent should behave as disconnected (send nothing, poll nothing) at
  // `now`. Each disconnect window is disconnected with probability faults.agentDisconnect, independently.
  bool should_disconnect(double now) const;

  // GPU node admission runs the admission machine (admission/admission_machine.hpp) on simulated time: a probe
  // takes probeSeconds and fails with probeFailure, naming a check chosen by the seed, with a report in gpu-probe's
  // schema. Probes finished since the last call, for fleetd's probe results.
  std::vector<admission::ProbeRecord> take_probe_records();
  // From the next admission decision on (a probe in flight keeps its mode); a Tick applies the new cap at once.
  void set_admission_policy(const admission::AdmissionPolicy& policy, double now);
  const admission::AdmissionState& admission() const { return admission_; }
  // Simulated seconds as wall time (the admission machine's clock): 2026-01-01T00:00:00Z plus `at`.
  static Clock::WallTime wall_time(double at);
  // How a wall time a command carries (upgrade_node_pool's notAfter) maps onto simulated seconds: `origin` is the
  // wall time of simulated second 0 and `time_scale` simulated seconds pass per real one. By default wall_time()'s
  // epoch at scale 1; SimBackend sets the real mapping of its scaled clock.
  void set_wall_clock(Clock::WallTime origin, double time_scale);
  double sim_time_of(Clock::WallTime t) const;

 private:
  // kAdmitting: waiting for the admission machine to admit or quarantine the node (no due time of its own).
  enum class Step { kPending, kDraining, kUpgrading, kAdmitting, kDone };
  struct NodeTask {
    std::string node;
    Step step = Step::kPending;
    double due = 0;
    int probes_before = 0;  // the node's probe count when the task began to wait: a later probe answers it
  };
  struct Running {
    protocol::Command command;
    std::uint64_t order = 0;  // start order: breaks ties between commands due at the same time
    protocol::CommandStatus status;
    std::optional<double> due;       // upgrade_control_plane
    std::string kubernetes_version;  // targets; empty = unchanged
    std::string node_image_version;
    std::string driver_version;
    std::string cuda_version;
    std::string pool;
    int concurrency = 1;
    int max_failed_nodes = 0;
    std::optional<double> stop_at;  // upgrade_node_pool's notAfter on the simulated clock: no node starts from then
    std::vector<NodeTask> tasks;    // node pool upgrades and probes, in node name order
    // blue_green_node_pool (sim_blue_green.cpp): the old pool's nodes paired with the new pool's, by position in
    // node name order; Replace's tasks are the new nodes' (provisioned, then admitted) and then the old nodes'
    // (drained once every new node is up); Restore's are the new nodes' (drained, then deleted).
    std::vector<std::pair<std::string, std::string>> pairs;
    bool moved = false;  // Replace: the workloads moved to the new pool
  };

  // What the cluster's state says of a command whose payload parsed: a version step it cannot take, a pool or node
  // it lacks, a node or the control plane busy with another command. Fills `run` with the targets.
  Status validate(const protocol::UpgradeControlPlane& p, Running& run) const;
  Status validate(const protocol::UpgradeNodePool& p, Running& run) const;
  Status validate(const protocol::RunProbe& p, Running& run) const;
  Status validate(const protocol::CordonCluster& p, Running& run) const;
  Status validate(const protocol::SetNodeAdmission& p, Running& run) const;
  Status validate(const protocol::ApplyWorkload& p, Running& run) const;
  Status validate(const protocol::DeleteWorkload& p, Running& run) const;
  template <typename Unsupported>
  Status validate(const Unsupported& p, Running& run) const;
  // kConflict when `version` (a pool's target) is newer than the control plane.
  Status node_version_allowed(const std::optional<model::KubernetesVersion>& version) const;
  const Running* busy_upgrade() const;
  bool node_in_flight(std::string_view node) const;
  void cordon_cluster(bool cordon, const std::string& command_id, Running& run, double now);
  void finish(Running& run, double at);
  void step(Running& run);
  void complete_task(Running& run, NodeTask& task, const std::string& outcome, double at);
  void wait_for_admission(NodeTask& task);
  void settle_admitting(double at);  // tasks whose node the machine admitted or quarantined since they began waiting
  void retire_finished();            // runs that finished move to finished_
  void start_pool_nodes(Running& run, double at);
  void emit(double at, const std::string& command_id, std::string type, std::string node, std::string message);
  double draw(std::string_view command_id, std::string_view node, std::string_view step) const;
  void restore_schedulable(model::NodeInfo& node, const std::string& command_id, double at);
  void adopt_node_image();  // the cluster's node image is the one every node runs, once they all run one
  model::NodeInfo& node(const std::string& name);

  // sim_blue_green.cpp: blue_green_node_pool, a pool replaced by a parallel one (issue #13 item 4).
  Status validate(const protocol::BlueGreenNodePool& p, Running& run) const;
  void start_blue_green(const protocol::BlueGreenNodePool& p, Running& run, double at);
  void blue_green_step(Running& run, NodeTask& task, double at);
  void blue_green_task_done(Running& run, NodeTask& task, const std::string& outcome, double at);
  void provision_node(Running& run, NodeTask& task, double at);
  void move_workloads(const std::vector<std::pair<std::string, std::string>>& pairs, bool forward);
  void delete_nodes(const std::vector<std::string>& names, const std::string& command_id, double at);

  // sim_workloads.cpp: workload placements accounted per node (NodeInfo::allocated).
  void apply_workload(const protocol::ApplyWorkload& p, Running& run);
  void delete_workload(const protocol::DeleteWorkload& p, Running& run);
  void account(const protocol::WorkloadPlacement& placement, int sign);

  // sim_admission.cpp: the admission machine on simulated time.
  struct ProbeInFlight {
    std::string node;
    double due = 0;
  };
  void observe_nodes(double at);
  void admission_step(const admission::Input& input, double at);
  void apply_admission(const admission::Decision& decision, double at);
  void finish_probe(const std::string& probe_id, double at);
  admission::ProbeOutcome simulated_probe(const model::NodeInfo& node, const std::string& probe_id) const;
  std::string waiting_command(std::string_view node) const;  // the command a node's admission answers, or ""
  // The next probe to finish and, with_schedule, the next re-probe due. Re-probes happen at their time within
  // advance() but do not count for next_due(): they recur for ever, and "nothing runs" must be reachable.
  std::optional<double> next_admission_due(bool with_schedule) const;

  ClusterSpec spec_;
  SimOptions options_;
  std::uint64_t seed_;
  Clock::WallTime wall_origin_ = wall_time(0);
  double time_scale_ = 1;
  model::ClusterInventory inventory_;
  bool cordoned_ = false;
  double now_ = 0;
  std::uint64_t next_order_ = 0;
  std::map<std::string, Running, std::less<>> running_;
  std::map<std::string, protocol::CommandStatus, std::less<>> finished_;
  std::map<std::string, protocol::Command, std::less<>> bodies_;  // every accepted command, for the idempotency check
  std::vector<protocol::CommandEvent> events_;
  admission::AdmissionPolicy admission_policy_;
  admission::AdmissionState admission_;
  std::map<std::string, ProbeInFlight, std::less<>> probes_;  // by probe id
  std::vector<admission::ProbeRecord> probe_records_;
  std::map<std::string, protocol::WorkloadPlacement, std::less<>> workloads_;  // applied placements, by workload
  std::map<std::string, std::vector<nlohmann::json>, std::less<>> objects_;    // their objects, by workload
};

// A simulated node's name: AKS-looking, "aks-<pool>-<8 digits>-vmss<6 digits>" ("moc-…" on Arc), the 8 digits a
// per-pool hash like a VM scale set's suffix.
std::string sim_node_name(const ClusterSpec& spec, std::uint64_t cluster_seed, std::string_view pool, int index);

// The inventory a spec cluster starts with (what SimCluster's constructor builds).
model::ClusterInventory initial_inventory(const ClusterSpec& spec, std::uint64_t cluster_seed);

}  // namespace fleet::agent
