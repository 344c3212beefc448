#pragma once
// Member clusters for fleet-agent's kubernetes backend made of TEST DOUBLES, not an API server and not Azure: the
// Kubernetes API double over HTTPS with a test PKI and a kubeconfig for it (KubeClusterDouble), and for AKS (or AKS
// Arc) also the Azure Resource Manager double (the managed cluster or provisioned cluster instance, its agent pools,
// and the Entra token endpoint) with a federated token file (AksClusterDoubles); each starts fleet-agent against
// them, registered to a cluster fleetd has. And the staged run the drivers' end-to-end tests carry out on them.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/kube/testing/arm_api_double.hpp"
#include "agents/kube/testing/kube_api_double.hpp"
#include "agents/kube/testing/test_pki.hpp"
#include "integration-tests/child_process.hpp"
#include "integration-tests/fleetd_process.hpp"

namespace fleet::itest {

inline constexpr const char* kAksNodeImage = "AKSUbuntu-2204gen2containerd-202510.01.0";

// A CPU node of an AKS agent pool, its kubelet at `version` ("1.31.4").
nlohmann::json aks_node(const std::string& name, const std::string& pool, const std::string& version);

// A Full run `name` to `version` over the clusters labelled ring=one, created, started and followed until it ends
// (Completed, Failed or Aborted; at most 120 s): the run as GET /v1/rollouts/{name} last answered.
nlohmann::json full_run_to_end(FleetdProcess& fleetd, const std::string& name, const std::string& version);

// fleetd's inventory of `cluster` catches up: all `count` nodes' kubelets at `version` as the cluster spells it
// ("1.32.7", "1.32.7+k3s1"); at most 30 s.
void wait_for_nodes_at(FleetdProcess& fleetd, const std::string& cluster, const std::string& version, int count);

struct KubeClusterDouble {
  agent::kube::testing::TestPki pki;
  std::unique_ptr<agent::kube::testing::KubeApiDouble> kube;
  std::filesystem::path kubeconfig;

  // The double started, answering /version with `git_version` ("v1.31.4+k3s1"); the kubeconfig under `dir`.
  KubeClusterDouble(const std::filesystem::path& dir, const std::string& git_version);

  // fleet-agent --backend kubernetes (no GPU admission) with `args` added, registered to `cluster` through a
  // bootstrap token; its log and state under `dir`.
  std::unique_ptr<ChildProcess> start_agent(FleetdProcess& fleetd, const std::string& cluster,
                                            const std::filesystem::path& dir, const std::vector<std::string>& args,
                                            std::map<std::string, std::string> env = {}) const;
};

struct AksClusterDoubles : KubeClusterDouble {
  std::unique_ptr<agent::kube::testing::ArmApiDouble> arm;
  std::filesystem::path federated_token;
  std::vector<std::string> pools;  // as added

  // Both doubles started (the kube double answering /version with `version`; ARM's operations answering
  // InProgress `polls_to_finish` times; `aks_arc`: ARM's shape is AKS Arc's, a connected cluster's provisioned
  // cluster instance, and the agent gets --aksarc-cluster-id), the files written under `dir`.
  AksClusterDoubles(const std::filesystem::path& dir, const std::string& version, int polls_to_finish = 2,
                    bool aks_arc = false);

  // A pool in ARM and its nodes ("aks-<pool>-<i>") in the kube double, at `version`.
  void add_pool(const std::string& pool, int nodes, const std::string& version);
  // ARM's upgrades reach the kube double when they end: the pool's kubelets (or /version, for the control plane;
  // and AKS Arc's every pool) report the new version, as the provider's node replacement would. After add_pool.
  void follow_upgrades();

  // fleet-agent with the aks (or aksarc) driver, workload identity pointed at the ARM double.
  std::unique_ptr<ChildProcess> start_agent(FleetdProcess& fleetd, const std::string& cluster,
                                            const std::filesystem::path& dir) const;
};

}  // namespace fleet::itest
