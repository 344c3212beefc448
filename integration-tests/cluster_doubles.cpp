#include "integration-tests/cluster_doubles.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

namespace fleet::itest {

using agent::kube::testing::ArmApiDouble;
using agent::kube::testing::ArmApiDoubleOptions;
using agent::kube::testing::KubeApiDouble;
using agent::kube::testing::KubeApiDoubleOptions;
using nlohmann::json;

json aks_node(const std::string& name, const std::string& pool, const std::string& version) {
  return {{"metadata",
           {{"name", name},
            {"labels",
             {{"kubernetes.azure.com/agentpool", pool},
              {"kubernetes.azure.com/node-image-version", kAksNodeImage},
              {"kubernetes.azure.com/cluster", "MC_fleet-rg_aks-westeurope-1_westeurope"}}}}},
          {"spec", json::object()},
          {"status",
           {{"capacity", {{"cpu", "8"}, {"memory", "32Gi"}}},
            {"allocatable", {{"cpu", "7"}, {"memory", "30Gi"}}},
            {"nodeInfo", {{"kubeletVersion", "v" + version}, {"osImage", "Ubuntu 22.04.5 LTS"}}}}}};
}

json full_run_to_end(FleetdProcess& fleetd, const std::string& name, const std::string& version) {
  using namespace std::chrono;
  const json body = {{"name", name},
                     {"target", {{"type", "Full"}, {"kubernetesVersion", version}, {"allowUnsupported", true}}},
                     {"strategy", {{"stages", {{{"name", "all"}, {"labelSelector", "ring=one"}}}}}}};
  fleetd.call_json("POST", "/v1/rollouts", body.dump(), 201);
  fleetd.call_json("POST", "/v1/rollouts/" + name + ":start", "");
  const auto deadline = steady_clock::now() + seconds(120);
  for (;;) {
    json run = fleetd.call_json("GET", "/v1/rollouts/" + name);
    if (run["state"] == "Completed" || run["state"] == "Failed" || run["state"] == "Aborted") return run;
    INFO(run.dump());
    REQUIRE(steady_clock::now() < deadline);
    std::this_thread::sleep_for(milliseconds(200));
  }
}

void wait_for_nodes_at(FleetdProcess& fleetd, const std::string& cluster, const std::string& version, int count) {
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + seconds(30);
  for (;;) {
    const json nodes = fleetd.call_json("GET", "/v1/clusters/" + cluster + "/nodes");
    int at = 0;
    for (const json& n : nodes["items"]) at += n["kubernetesVersion"] == version ? 1 : 0;
    if (at == count) return;
    INFO(nodes.dump());
    REQUIRE(steady_clock::now() < deadline);
    std::this_thread::sleep_for(milliseconds(200));
  }
}

KubeClusterDouble::KubeClusterDouble(const std::filesystem::path& dir, const std::string& git_version) {
  KubeApiDoubleOptions ko;
  ko.tls_cert_file = pki.server_cert_file;
  ko.tls_key_file = pki.server_key_file;
  ko.watch_hold = std::chrono::milliseconds(200);
  ko.git_version = git_version;
  auto started = KubeApiDouble::start(ko);
  REQUIRE(started.ok());
  kube = std::move(*started);
  kubeconfig = dir / "kubeconfig";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster:\n    server: "
                            << kube->url() << "\n    certificate-authority: " << pki.ca_file
                            << "\nusers:\n- name: agent\n  user:\n    token: test-token\ncontexts:\n- name: double\n"
                               "  context:\n    cluster: double\n    user: agent\ncurrent-context: double\n";
}

std::unique_ptr<ChildProcess> KubeClusterDouble::start_agent(FleetdProcess& fleetd, const std::string& cluster,
                                                             const std::filesystem::path& dir,
                                                             const std::vector<std::string>& args,
                                                             std::map<std::string, std::string> env) const {
  env["FLEET_BOOTSTRAP_TOKEN"] =
      fleetd.call_json("POST", "/v1/clusters/" + cluster + "/bootstrap-tokens", "", 201)["token"].get<std::string>();
  std::vector<std::string> argv{FLEET_AGENT_BINARY,
                                "--server",
                                fleetd.base_url(),
                                "--backend",
                                "kubernetes",
                                "--kubeconfig",
                                kubeconfig.string(),
                                "--gpu-admission",
                                "false",
                                "--state-file",
                                (dir / "state.json").string(),
                                "--heartbeat-interval",
                                "1"};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>(std::move(argv), (dir / "agent.log").string(), std::move(env));
}

AksClusterDoubles::AksClusterDoubles(const std::filesystem::path& dir, const std::string& version, int polls_to_finish,
                                     bool aks_arc)
    : KubeClusterDouble(dir, "v" + version) {
  ArmApiDoubleOptions ao;
  ao.tls_cert_file = pki.server_cert_file;
  ao.tls_key_file = pki.server_key_file;
  ao.kubernetes_version = version;
  ao.polls_to_finish = polls_to_finish;
  ao.aks_arc = aks_arc;
  auto arm_started = ArmApiDouble::start(ao);
  REQUIRE(arm_started.ok());
  arm = std::move(*arm_started);
  federated_token = dir / "azure-identity-token";
  std::ofstream(federated_token) << arm->options().federated_token << "\n";
}

void AksClusterDoubles::add_pool(const std::string& pool, int nodes, const std::string& version) {
  arm->add_pool(pool, version, nodes, kAksNodeImage);
  pools.push_back(pool);
  for (int i = 0; i < nodes; ++i) kube->put_node(aks_node("aks-" + pool + "-" + std::to_string(i), pool, version));
}

void AksClusterDoubles::follow_upgrades() {
  KubeApiDouble* k = kube.get();
  const bool whole_cluster = arm->options().aks_arc;
  arm->on_upgraded([k, whole_cluster, all = pools](const std::string& pool, const json& resource) {
    const json& p = resource["properties"];
    if (pool.empty()) {
      const std::string version = p.value("kubernetesVersion", std::string());
      k->set_git_version("v" + version);
      if (!whole_cluster) return;
      // AKS Arc: the instance's upgrade is every pool's too.
      for (const std::string& name : all) {
        for (int i = 0; k->node("aks-" + name + "-" + std::to_string(i)); ++i) {
          k->update_node("aks-" + name + "-" + std::to_string(i),
                         [&](json& n) { n["status"]["nodeInfo"]["kubeletVersion"] = "v" + version; });
        }
      }
      return;
    }
    const std::string version = p.value("currentOrchestratorVersion", std::string());
    const std::string image = p.value("nodeImageVersion", std::string());
    for (int i = 0; k->node("aks-" + pool + "-" + std::to_string(i)); ++i) {
      k->update_node("aks-" + pool + "-" + std::to_string(i), [&](json& n) {
        if (!version.empty()) n["status"]["nodeInfo"]["kubeletVersion"] = "v" + version;
        if (!image.empty()) n["metadata"]["labels"]["kubernetes.azure.com/node-image-version"] = image;
      });
    }
  });
}

std::unique_ptr<ChildProcess> AksClusterDoubles::start_agent(FleetdProcess& fleetd, const std::string& cluster,
                                                             const std::filesystem::path& dir) const {
  return KubeClusterDouble::start_agent(
      fleetd, cluster, dir,
      {arm->options().aks_arc ? "--aksarc-cluster-id" : "--aks-cluster-id", arm->cluster_id(), "--aks-arm-endpoint",
       arm->url(), "--aks-ca-file", pki.ca_file},
      {{"AZURE_AUTHORITY_HOST", arm->url()},
       {"AZURE_TENANT_ID", arm->options().tenant_id},
       {"AZURE_CLIENT_ID", arm->options().client_id},
       {"AZURE_FEDERATED_TOKEN_FILE", federated_token.string()}});
}

}  // namespace fleet::itest
