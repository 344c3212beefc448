#pragma once
// Which upgrade driver a cluster gets (pure): the agent's --upgrade-driver flag (auto | aks | aksarc |
// system-upgrade-controller | none), and, for auto, what the agent can see cheaply: whether the AKS (or AKS Arc)
// resource is configured, and what the nodes say about the cluster. The label AKS puts on every node
// (kubernetes.azure.com/cluster) tells an AKS cluster but not which ARM resource it is, and a k3s / RKE2 kubelet
// version ("v1.32.7+k3s1") does not tell whether system-upgrade-controller is installed, so what the nodes say
// only explains a refusal; it never picks a driver on its own.
#include <string>
#include <string_view>

namespace fleet::agent::kube {

inline constexpr std::string_view kAksClusterLabel = "kubernetes.azure.com/cluster";

enum class UpgradeDriverKind { kNone, kAks, kAksArc, kSystemUpgradeController };

// What the node cache shows.
enum class SeenCluster { kUnknown, kOther, kAks, kK3sOrRke2 };
SeenCluster seen_cluster(bool any_aks_label, bool any_k3s_or_rke2_kubelet, bool nodes_read);

struct DriverChoice {
  UpgradeDriverKind kind = UpgradeDriverKind::kNone;
  std::string why;  // for kNone: the sentence a refused upgrade command carries
};

// `flag` is already one of auto, aks, aksarc, system-upgrade-controller, none. `aks_configured`: a managed
// cluster id was given; `arc_configured`: a connected cluster id (AKS Arc). With both, auto takes aks.
DriverChoice choose_upgrade_driver(std::string_view flag, bool aks_configured, bool arc_configured, SeenCluster seen);

}  // namespace fleet::agent::kube
