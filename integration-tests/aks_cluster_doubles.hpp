#pragma once
// An AKS (or AKS Arc) cluster as fleet-agent's kubernetes backend and its upgrade driver see it, made of TEST DOUBLES,
// not an API server and not Azure: the Kubernetes API double (nodes labelled by agent pool) and the Azure Resource
// Manager double (the managed cluster and its agent pools, and the Entra token endpoint), both over HTTPS with one test
// PKI; a kubeconfig and a federated token file for the agent; and fleet-agent started against them.
#include <filesystem>
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

struct AksClusterDoubles {
  agent::kube::testing::TestPki pki;
  std::unique_ptr<agent::kube::testing::KubeApiDouble> kube;
  std::unique_ptr<agent::kube::testing::ArmApiDouble> arm;
  std::filesystem::path kubeconfig;
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

  // fleet-agent --backend kubernetes with the aks driver, registered to `cluster` (which fleetd has) through a
  // bootstrap token; logs and state under `dir`.
  std::unique_ptr<ChildProcess> start_agent(FleetdProcess& fleetd, const std::string& cluster,
                                            const std::filesystem::path& dir) const;
};

}  // namespace fleet::itest
