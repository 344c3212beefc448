#include "agents/kube/upgrade/driver_choice.hpp"

namespace fleet::agent::kube {

SeenCluster seen_cluster(bool any_aks_label, bool any_k3s_or_rke2_kubelet, bool nodes_read) {
  if (!nodes_read) return SeenCluster::kUnknown;
  if (any_aks_label) return SeenCluster::kAks;
  if (any_k3s_or_rke2_kubelet) return SeenCluster::kK3sOrRke2;
  return SeenCluster::kOther;
}

DriverChoice choose_upgrade_driver(std::string_view flag, bool aks_configured, bool arc_configured, SeenCluster seen) {
  if (flag == "none") {
    return {UpgradeDriverKind::kNone,
            "the agent runs with --upgrade-driver none: provider upgrades are left to the cluster's owner; this "
            "backend still cordons, drains and taints nodes"};
  }
  if (flag == "system-upgrade-controller") return {UpgradeDriverKind::kSystemUpgradeController, {}};
  if (flag == "aksarc") return {UpgradeDriverKind::kAksArc, {}};
  if (flag == "aks" || aks_configured) return {UpgradeDriverKind::kAks, {}};
  if (arc_configured) return {UpgradeDriverKind::kAksArc, {}};
  if (seen == SeenCluster::kAks) {
    return {UpgradeDriverKind::kNone,
            "this looks like an AKS cluster (its nodes carry " + std::string(kAksClusterLabel) +
                "), but the agent has no --aks-cluster-id (the managed cluster's ARM resource id), so it cannot call "
                "Azure Resource Manager"};
  }
  if (seen == SeenCluster::kK3sOrRke2) {
    return {UpgradeDriverKind::kNone,
            "this looks like a k3s or RKE2 cluster (its kubelets say so); with system-upgrade-controller installed, "
            "start the agent with --upgrade-driver system-upgrade-controller"};
  }
  return {UpgradeDriverKind::kNone,
          "no upgrade driver for this cluster: start the agent with --aks-cluster-id for an AKS cluster, "
          "--aksarc-cluster-id for AKS on Azure Local (AKS enabled by Azure Arc), or --upgrade-driver "
          "system-upgrade-controller for k3s / RKE2 with system-upgrade-controller"};
}

}  // namespace fleet::agent::kube
