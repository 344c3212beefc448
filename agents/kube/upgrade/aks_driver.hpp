#pragma once
// The aks upgrade driver: the managed cluster's own Azure Resource Manager API, called from inside the cluster
// with workload identity (entra_token.hpp). Control plane: GET the managed cluster, PUT it back with
// kubernetesVersion (control plane only); a pool: GET and PUT the agent pool with orchestratorVersion and
// upgradeSettings.maxSurge; a node image: POST …/agentPools/{pool}/upgradeNodeImageVersion. Each accepted request
// is followed through Azure-AsyncOperation (or Location) polling, honouring Retry-After. Before sending, the
// resource is read: an upgrade toward the same target already in flight (this agent restarted mid-operation)
// is followed instead of requested again, and a 409 "another operation is in progress" waits and sends again.
// The cluster's own auto-upgrade channel is a conflict: reported, and the command fails unless
// disable_auto_upgrade turns the channel off first. Every step has a deadline. An upgrade that would be sent while the
// cluster's planned maintenance window for it is closed is not: the command ends stopped, saying when it opens.
#include <chrono>
#include <memory>
#include <string>

#include "agents/kube/upgrade/aks_requests.hpp"
#include "agents/kube/upgrade/arm_client.hpp"
#include "agents/kube/upgrade/arm_operation.hpp"
#include "agents/kube/upgrade/entra_token.hpp"
#include "agents/kube/upgrade/upgrade_driver.hpp"

namespace fleet::agent::kube {

struct AksDriverOptions {
  AksClusterRef cluster;
  ArmClientOptions arm;
  std::shared_ptr<TokenSource> tokens;  // required (make_entra_token_source)
  bool disable_auto_upgrade = false;    // --aks-disable-auto-upgrade: set upgradeChannel none instead of failing
  // AKS planned maintenance (aks_maintenance.hpp): an upgrade is not begun while the cluster's own window for it is
  // closed; the command ends stopped with notBefore (its opening) and fleetd holds the member until then.
  // --aks-ignore-planned-maintenance turns it off.
  bool honor_planned_maintenance = true;
  // Polls wait Retry-After when ARM sends one, else poll_interval, always within [poll_floor, poll_cap];
  // busy_retry after a 409 or while another operation runs.
  ArmPolling polling;
  // One step (the control plane, one pool, one node image) may take this long before the command fails. AKS
  // upgrades a large pool node by node, so the default is generous.
  std::chrono::milliseconds step_timeout{std::chrono::hours(4)};
};

std::unique_ptr<UpgradeDriver> make_aks_driver(AksDriverOptions options);

}  // namespace fleet::agent::kube
