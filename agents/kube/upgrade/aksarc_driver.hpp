#pragma once
// The aksarc upgrade driver: AKS enabled by Azure Arc (AKS on Azure Local), through its provisioned cluster
// instance in Azure Resource Manager (aksarc_requests.hpp), called from inside the cluster with workload identity
// (entra_token.hpp), each change followed like the aks driver's (arm_operation.hpp).
//   upgrade_control_plane  GET the instance, PUT it back with kubernetesVersion: AKS Arc upgrades the control plane
//                          and then every node pool (its API has no control-plane-only upgrade); followed through
//                          the operation, or the instance's provisioningState.
//   upgrade_node_pool      a pool's version is the instance's, so the pool is read: at the target (upgraded with
//                          the cluster) → done, with its nodes reported; busy → waited for; else refused, naming
//                          upgrade_control_plane. A node-image-only upgrade is refused: the API has none.
//   blue_green_node_pool   not offered: a new pool would run the cluster's version, not the target.
// An agent restart mid-upgrade finds the instance Upgrading toward the target and follows it instead of sending
// another PUT; a 409 waits and sends again; every step has a deadline.
#include <chrono>
#include <memory>

#include "agents/kube/upgrade/aksarc_requests.hpp"
#include "agents/kube/upgrade/arm_client.hpp"
#include "agents/kube/upgrade/arm_operation.hpp"
#include "agents/kube/upgrade/entra_token.hpp"
#include "agents/kube/upgrade/upgrade_driver.hpp"

namespace fleet::agent::kube {

struct AksArcDriverOptions {
  AksClusterRef connected_cluster;  // parse_connected_cluster_id
  ArmClientOptions arm;
  std::shared_ptr<TokenSource> tokens;  // required (make_entra_token_source)
  ArmPolling polling;
  std::chrono::milliseconds step_timeout{std::chrono::hours(4)};  // the whole cluster is one step
};

std::unique_ptr<UpgradeDriver> make_aksarc_driver(AksArcDriverOptions options);

}  // namespace fleet::agent::kube
