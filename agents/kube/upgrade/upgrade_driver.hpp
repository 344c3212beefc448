#pragma once
// How the kubernetes backend carries out upgrade_control_plane and upgrade_node_pool (issue #13): the cluster's
// provider does the upgrade (AKS through Azure Resource Manager, …), so each provider is a driver behind this
// interface. Every driver reports through the same UpgradeContext with the same event types, so fleetd and the
// rollout executor read an AKS upgrade the way they read any other:
//   upgrade_started    the provider accepted the request (the AKS PUT, the applied Plan)
//   upgrade_resumed    an operation toward the same target was already in flight (an agent restart): followed,
//                      not requested again
//   upgrade_waiting    the provider is busy with another operation (409): waiting, then trying again
//   upgrade_progress   each change of the operation's state as the provider reports it
//   upgrade_conflict   the cluster's own auto-upgrade would fight the fleet (Azure/AKS #5811)
//   maintenance_window_closed  the cluster's own maintenance window (AKS planned maintenance) is closed: nothing
//                      is sent, and the command ends stopped with notBefore (protocol/command_status.hpp)
//   node_upgraded      a node of the pool reports the target version (from the node cache)
// and for blue-green pools the events fleet-sim writes for them: pool_creating, node_created, node_admitted,
// node_cordoned, node_drained, workloads_moved, pool_deleting, pool_deleted.
// The backend adds command_started / command_succeeded / command_failed around them.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "model/inventory.hpp"
#include "protocol/command_payloads.hpp"
#include "protocol/command_status.hpp"

namespace fleet::agent::kube {

class KubeApi;

// A node as the kube API reports it, for per-node progress while a provider upgrades its pool.
struct PoolNode {
  std::string name;
  std::string kubelet_version;  // "1.32.7", without the "v"
  std::string node_image;
  bool gpu = false;
  model::Admission admission = model::Admission::kAdmitted;  // the agent's admission machine's word
};

// pool_nodes(kEveryPool): every node, for a step that upgrades the whole cluster (aksarc's one PUT). Not a pool name:
// those are DNS labels.
inline constexpr const char* kEveryPool = "*";

struct UpgradeContext {
  std::function<void(const std::string& type, const std::string& node, const std::string& message)> emit;
  std::function<void(const std::function<void(protocol::CommandStatus&)>&)> update;  // under the backend's lock
  std::function<bool(std::chrono::milliseconds)> sleep;                              // false: the backend is stopping
  std::function<std::chrono::steady_clock::time_point()> now;
  // The pool's nodes from the backend's node cache (no network call), or with kEveryPool every node of the cluster;
  // empty function → no per-node events.
  std::function<std::vector<PoolNode>(const std::string& pool)> pool_nodes;
  // The worker's own connection to the member cluster's API server, for drivers that work through it
  // (system-upgrade-controller); null where there is none.
  KubeApi* kube = nullptr;
  // The kube side of blue-green pools, through the backend's own command bodies (commands.hpp): cordon or
  // uncordon a node; drain one (cordon, evict within PodDisruptionBudgets, wait for the pods to go). Empty: the
  // backend cannot, and blue_green_node_pool fails before it changes anything.
  std::function<Result<std::string>(const std::string& node, bool cordon)> cordon;
  std::function<Result<std::string>(const std::string& node)> drain;
  // The wall clock, for windows that are calendar times (AKS planned maintenance); empty → system_clock::now().
  std::function<std::chrono::system_clock::time_point()> wall_now;
};

using UpgradeOutcome = Result<std::string>;  // the success message, or the Error that fails the command

class UpgradeDriver {
 public:
  virtual ~UpgradeDriver() = default;
  virtual std::string name() const = 0;  // "aks"
  virtual UpgradeOutcome upgrade_control_plane(UpgradeContext& ctx, const protocol::UpgradeControlPlane& c) = 0;
  // A Kubernetes version upgrade of the pool, or (version absent) a node-image upgrade.
  virtual UpgradeOutcome upgrade_node_pool(UpgradeContext& ctx, const protocol::UpgradeNodePool& c) = 0;
  // Blue-green pools (issue #13 item 4; the phases are in protocol/command_payloads.hpp). Only a driver whose
  // provider creates and deletes node pools can; the backend refuses the command at start for the others, so a
  // run's member fails with nothing changed.
  virtual bool replaces_node_pools() const { return false; }
  virtual UpgradeOutcome blue_green_node_pool(UpgradeContext& /*ctx*/, const protocol::BlueGreenNodePool& /*c*/) {
    return make_error(ErrorCode::kInvalid, "the " + name() + " upgrade driver cannot create or delete node pools",
                      "kind", "unsupported-command");
  }
};

}  // namespace fleet::agent::kube
