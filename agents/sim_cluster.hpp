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

#include "agents/fleet_spec.hpp"
#include "agents/inventory.hpp"
#include "common/error.hpp"

namespace fleet::agent {

inline constexpr std::string_view kCommandUpgradeControlPlane = "upgrade_control_plane";
inline constexpr std::string_view kCommandUpgradeNodePool = "upgrade_node_pool";
inline constexpr std::string_view kCommandRunProbe = "run_probe";
inline constexpr std::string_view kCommandCordonCluster = "cordon_cluster";

struct Command {
  std::string id;
  std::string kind;
  nlohmann::json payload = nlohmann::json::object();
  bool operator==(const Command&) const = default;
};

enum class CommandState { kRunning, kSucceeded, kFailed };
std::string_view to_string(CommandState state);  // "running" | "succeeded" | "failed"

// What the agent reports about a command: progress while running, the result once finished.
struct CommandStatus {
  std::string id;
  std::string kind;
  CommandState state = CommandState::kRunning;
  std::string message;
  double started_at = 0;
  std::optional<double> finished_at;
  int nodes_total = 0;  // nodes the command acts on (0 for control-plane and cordon commands)
  int nodes_done = 0;   // finished, either way
  int nodes_failed = 0;
  nlohmann::json details = nlohmann::json::object();  // per-node outcome, {"node": "admitted" | "quarantined" | …}
  bool operator==(const CommandStatus&) const = default;
};
nlohmann::json to_json(const CommandStatus& status);

// One step of progress. `type` is one of: command_started, command_succeeded, command_failed,
// control_plane_upgraded, cluster_cordoned, cluster_uncordoned, node_cordoned, node_drained, node_drain_timed_out,
// node_upgraded, node_upgrade_failed, node_admitted, node_quarantined, node_uncordoned.
struct SimEvent {
  double at = 0;
  std::string command_id;
  std::string type;
  std::string node;  // empty when the event is not about one node
  std::string message;
  bool operator==(const SimEvent&) const = default;
};
nlohmann::json to_json(const SimEvent& event);

struct StartResult {
  bool started = false;  // false: the id was known; `status` is its current progress or stored result
  CommandStatus status;
};

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
  const ClusterInventory& inventory() const { return inventory_; }
  bool cordoned() const { return cordoned_; }
  double now() const { return now_; }

  // Validates and starts a command at `now` (or at the last time seen, if that is later). A known id is not run
  // again: started=false and its status (its stored result once finished). Errors: unknown kind or bad payload
  // (kInvalid), a known id with another kind or payload or a command that collides with one in flight (kConflict),
  // a node that does not exist (kNotFound). cordon_cluster and no-op commands finish at once.
  Result<StartResult> start(const Command& command, double now);
  // Runs every transition due at or before `now`, in time order. Earlier `now` than already seen: nothing.
  void advance(double now);
  // The earliest time at which something is due; nullopt when nothing runs. Lets the shell sleep exactly.
  std::optional<double> next_due() const;

  std::optional<CommandStatus> status(std::string_view command_id) const;
  // Events since the last call, oldest first.
  std::vector<SimEvent> take_events();
  // The agentDisconnect fault: whether the agent should behave as disconnected (send nothing, poll nothing) at
  // `now`. Each disconnect window is disconnected with probability faults.agentDisconnect, independently.
  bool should_disconnect(double now) const;

 private:
  enum class Step { kPending, kDraining, kUpgrading, kProbing, kDone };
  struct NodeTask {
    std::string node;
    Step step = Step::kPending;
    double due = 0;
  };
  struct Running {
    Command command;
    std::uint64_t order = 0;  // start order: breaks ties between commands due at the same time
    CommandStatus status;
    std::optional<double> due;       // upgrade_control_plane
    std::string kubernetes_version;  // targets; empty = unchanged
    std::string node_image_version;
    std::string driver_version;
    std::string cuda_version;
    std::string pool;
    int concurrency = 1;
    int max_failed_nodes = 0;
    std::vector<NodeTask> tasks;  // node pool upgrades and probes, in node name order
  };

  Status validate_command(const Command& command, Running& run) const;
  void finish(Running& run, double at);
  void step(Running& run);
  void start_pool_nodes(Running& run, double at);
  void emit(double at, const std::string& command_id, std::string type, std::string node, std::string message);
  double draw(std::string_view command_id, std::string_view node, std::string_view step) const;
  void restore_schedulable(NodeInfo& node, const std::string& command_id, double at);
  void quarantine(NodeInfo& node, const std::string& command_id, double at, std::string_view why);
  void admit(NodeInfo& node, const std::string& command_id, double at);
  NodeInfo& node(const std::string& name);

  ClusterSpec spec_;
  SimOptions options_;
  std::uint64_t seed_;
  ClusterInventory inventory_;
  bool cordoned_ = false;
  double now_ = 0;
  std::uint64_t next_order_ = 0;
  std::map<std::string, Running, std::less<>> running_;
  std::map<std::string, CommandStatus, std::less<>> finished_;
  std::map<std::string, Command, std::less<>> bodies_;  // every accepted command, for the idempotency check
  std::vector<SimEvent> events_;
};

// The inventory a spec cluster starts with (what SimCluster's constructor builds).
ClusterInventory initial_inventory(const ClusterSpec& spec, std::uint64_t cluster_seed);

}  // namespace fleet::agent
