#pragma once
// A typed payload for each command kind (protocol/command_kind.hpp), parsed and validated once: fleetd parses a
// payload when a command is queued (a bad one is a 422 there, never an agent-side failure later), and the agent
// parses what it leases before a backend sees it. What only the cluster can tell (does the node exist, is the
// version a legal step from the current one) is the backend's to check.
//
// Every payload is a JSON object; unknown members are refused (an older agent cannot honour a newer field).
// Errors are kInvalid and name the member as "payload.<path>".
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"
#include "model/version.hpp"
#include "protocol/command_kind.hpp"

namespace fleet::protocol {

inline constexpr std::size_t kMaxPayloadBytes = 64 * 1024;  // of compact JSON
inline constexpr std::size_t kMaxManifests = 256;

// A node count as a number (1, "1") or a percent of a pool ("25%").
struct NodeBudget {
  int value = 0;
  bool percent = false;
  bool operator==(const NodeBudget&) const = default;
  // For a pool of `pool_size` nodes. Percents round up for surge and down for unavailability, as Kubernetes
  // rolling updates do, so that a percent never makes an upgrade more disruptive than asked.
  int resolve(int pool_size, bool round_up) const;
};

struct UpgradeControlPlane {
  model::KubernetesVersion kubernetes_version;
  bool operator==(const UpgradeControlPlane&) const = default;
};

struct UpgradeNodePool {
  std::string pool;
  std::optional<model::KubernetesVersion> kubernetes_version;  // at least one of the two versions
  std::string node_image_version;                              // empty: unchanged
  std::string driver_version;                                  // empty: unchanged (the sim's GPU driver)
  std::string cuda_version;
  NodeBudget max_surge{1, false};
  NodeBudget max_unavailable{0, false};
  int max_failed_nodes = 0;  // nodes that may fail before the command fails
  // A maintenance window's end (issue #13 item 2): no node starts at or after it; the nodes in hand finish and the
  // command ends succeeded with CommandStatus::stopped when nodes are left. JSON "notAfter": RFC 3339.
  std::optional<std::chrono::system_clock::time_point> not_after;
  bool operator==(const UpgradeNodePool&) const = default;
};

struct RunProbe {
  std::optional<std::vector<std::string>> nodes;  // nullopt: every GPU node; sorted and unique
  bool operator==(const RunProbe&) const = default;
};

// apply_workload and delete_workload: Kubernetes objects, each with apiVersion, kind and metadata.name.
struct Manifests {
  std::vector<nlohmann::json> objects;
  bool operator==(const Manifests&) const = default;
};

inline constexpr int kMaxGpusPerReplica = 16;
inline constexpr int kMaxReplicasPerNode = 10000;

struct NodeReplicas {
  std::string node;
  int replicas = 0;  // 1..kMaxReplicasPerNode
  bool operator==(const NodeReplicas&) const = default;
};

// The "placement" member (issue #14): what fleetd's placement decided for this cluster, so that the agent can
// account the workload's resources per node and refuse a decision that over-commits one.
//   apply_workload:  {"workload": DNS label, "generation": int64 >= 0, "gpusPerReplica": 0..16 (0),
//                     "cpuMillicores": >= 0 (0), "memoryBytes": >= 0 (0),
//                     "nodes": [{"node": DNS subdomain, "replicas": 1..10000}, …] (required, may be empty; at most
//                     model::kMaxNodes, unique, kept sorted by node)}; the per-replica figures are requests.
//   delete_workload: {"workload": DNS label} only: a delete releases whatever the workload holds, so any other
//                     member is refused (unknown-field) rather than silently ignored.
// Without it the command carries manifests only and nothing is accounted. The whole payload stays within
// kMaxPayloadBytes, which bounds "nodes" well before model::kMaxNodes (about 40 bytes an entry).
struct WorkloadPlacement {
  std::string workload;
  std::int64_t generation = 0;  // the decision's version: an apply older than the one held is refused as stale
  int gpus_per_replica = 0;
  std::int64_t cpu_millicores = 0;  // per replica
  std::int64_t memory_bytes = 0;    // per replica
  std::vector<NodeReplicas> nodes;
  bool operator==(const WorkloadPlacement&) const = default;
};

struct ApplyWorkload : Manifests {
  std::optional<WorkloadPlacement> placement;
  bool operator==(const ApplyWorkload&) const = default;
};
struct DeleteWorkload : Manifests {
  std::optional<WorkloadPlacement> placement;  // only `workload` is set
  bool operator==(const DeleteWorkload&) const = default;
};

struct CordonCluster {
  bool cordon = true;  // false: uncordon
  bool operator==(const CordonCluster&) const = default;
};

struct CordonNode {
  std::string node;
  bool cordon = true;
  bool operator==(const CordonNode&) const = default;
};

struct DrainNode {
  std::string node;
  std::optional<double> timeout_seconds;    // the agent's default when absent
  std::optional<int> grace_period_seconds;  // the pods' own when absent
  bool operator==(const DrainNode&) const = default;
};

struct TaintNode {
  std::string node;
  std::vector<model::Taint> add;     // replaces a taint with the same key and effect
  std::vector<model::Taint> remove;  // by key, and by effect too when one is given (value is ignored)
  bool operator==(const TaintNode&) const = default;
};

// An operator's decision on a GPU node's admission (issue #11), audited in fleetd: admit it without a passing
// probe, or quarantine it. The agent's admission machine carries it out (admission/admission_machine.hpp).
struct SetNodeAdmission {
  std::string node;
  bool admit = false;  // "admission": "admitted" | "quarantined"
  std::string reason;  // required: why the operator overrides the probe
  bool operator==(const SetNodeAdmission&) const = default;
};
inline constexpr std::size_t kMaxAdmissionReasonLength = 1024;

// A blue-green node pool (issue #13 item 4): a node pool replaced by a parallel one instead of reimaged in place, in
// three phases, each one command:
//   Replace  create `new_pool` beside `pool`, as many nodes of the same shape, at the target versions; wait until
//            every new node is ready (and a GPU node admitted by its probe); then cordon and drain `pool`, so that
//            its workloads move to `new_pool`. `pool` is kept, cordoned and empty, for the soak. The new pool takes
//            the old one's workloads only whole: when a new node fails (or its probe does), `new_pool` is deleted
//            again and `pool` is left as it was.
//   Retire   after the soak: delete `pool` (cordoned and empty by Replace).
//   Restore  a rollback within the soak: uncordon `pool`, cordon and drain `new_pool` (its workloads move back),
//            then delete `new_pool`.
//   {"pool": DNS label, "newPool": DNS label (not `pool`), "phase": "Replace"|"Retire"|"Restore",
//    Replace: "kubernetesVersion"?, "nodeImageVersion"? (at least one; refused in the other phases)}
enum class BlueGreenPhase { kReplace, kRetire, kRestore };
std::string_view to_string(BlueGreenPhase phase);

struct BlueGreenNodePool {
  std::string pool;
  std::string new_pool;
  BlueGreenPhase phase = BlueGreenPhase::kReplace;
  std::optional<model::KubernetesVersion> kubernetes_version;
  std::string node_image_version;
  bool operator==(const BlueGreenNodePool&) const = default;
};

// In the order of CommandKind.
using CommandPayload =
    std::variant<UpgradeControlPlane, UpgradeNodePool, RunProbe, ApplyWorkload, DeleteWorkload, CordonCluster,
                 CordonNode, DrainNode, TaintNode, SetNodeAdmission, BlueGreenNodePool>;

CommandKind kind_of(const CommandPayload& payload);

// `payload` may be null or absent (an empty object) for kinds whose members are all optional.
Result<CommandPayload> parse_command_payload(CommandKind kind, const nlohmann::json& payload);
// The canonical JSON form: parse_command_payload(kind_of(p), to_json(p)) == p.
nlohmann::json to_json(const CommandPayload& payload);

}  // namespace fleet::protocol
