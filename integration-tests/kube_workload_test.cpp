// A workload on a cluster run by the kubernetes backend (issue #15 item 4), end to end: real PostgreSQL, fleetd and
// fleet-agent --backend kubernetes, against the Kubernetes API TEST DOUBLE (agents/kube/testing/kube_api_double.hpp,
// an in-memory stand-in over HTTPS, not an API server). The agent server-side-applies the manifests fleetd rendered,
// reads their status back and reports it with its heartbeats; the binding follows: Applied while the Deployment
// rolls out, Running once the controller (this test, writing status as the Deployment controller would) says every
// replica is available, Failed with the API server's own words for a manifest it refuses, and the objects go when
// the workload does.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "agents/kube/testing/kube_api_double.hpp"
#include "agents/kube/testing/test_pki.hpp"
#include "integration-tests/child_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using fleet::agent::kube::testing::KubeApiDouble;
using fleet::agent::kube::testing::KubeApiDoubleOptions;
using fleet::agent::kube::testing::TestPki;
using nlohmann::json;

// A named namespace, not an anonymous one: the integration tests build in unity batches, where another file's
// wait_for or workload would collide.
namespace kube_workload_itest {

constexpr const char* kWebPath = "/apis/apps/v1/namespaces/serving/deployments/web";
constexpr const char* kBadPath = "/apis/apps/v1/namespaces/serving/deployments/bad";

json cpu_node(const std::string& name) {
  return {
      {"metadata",
       {{"name", name}, {"labels", {{"kubernetes.azure.com/agentpool", "system"}, {"kubernetes.io/hostname", name}}}}},
      {"spec", json::object()},
      {"status",
       {{"capacity", {{"cpu", "16"}, {"memory", "64Gi"}}},
        {"allocatable", {{"cpu", "15"}, {"memory", "60Gi"}}},
        {"nodeInfo", {{"kubeletVersion", "v1.33.2"}, {"osImage", "Ubuntu 22.04.5 LTS"}}}}}};
}

json workload(const std::string& name) {
  return {
      {"name", name},
      {"replicas", 2},
      {"resources", {{"cpu", 1}, {"memoryGiB", 1}}},
      {"manifests",
       json::array({{{"apiVersion", "apps/v1"},
                     {"kind", "Deployment"},
                     {"metadata", {{"name", name}, {"namespace", "serving"}}},
                     {"spec",
                      {{"template",
                        {{"spec", {{"containers", json::array({{{"name", "web"}, {"image", "nginx:1.27"}}})}}}}}}}}})}};
}

void wait_for(FleetdProcess& fleetd, const std::string& workload, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    INFO(fleetd.call_json("GET", "/v1/workloads/" + workload + "/placement").dump());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

json binding_of(FleetdProcess& fleetd, const std::string& workload) {
  const json placement = fleetd.call_json("GET", "/v1/workloads/" + workload + "/placement");
  return placement.contains("bindings") && !placement["bindings"].empty() ? placement["bindings"][0] : json();
}

std::string binding_state(FleetdProcess& fleetd, const std::string& workload) {
  const json b = binding_of(fleetd, workload);
  return b.is_object() ? b.value("state", "") : "";
}

bool has_event(FleetdProcess& fleetd, const std::string& workload, const std::string& type, const std::string& text) {
  for (const json& e : fleetd.list_all("/v1/workloads/" + workload + "/events")) {
    if (e.value("type", "") == type && e.value("message", "").find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("kubernetes backend end to end: apply, status read back into the binding, a refused manifest, delete",
          "[integration][placement][kube]") {
  TempDir dir;
  TestPki pki;
  KubeApiDoubleOptions o;
  o.tls_cert_file = pki.server_cert_file;
  o.tls_key_file = pki.server_key_file;
  o.watch_hold = std::chrono::milliseconds(200);
  auto started = KubeApiDouble::start(o);
  REQUIRE(started.ok());
  KubeApiDouble& api = **started;
  api.put_node(cpu_node("node-a"));
  api.put_node(cpu_node("node-b"));
  const auto kubeconfig = dir.path() / "kubeconfig";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster:\n    server: "
                            << api.url() << "\n    certificate-authority: " << pki.ca_file
                            << "\nusers:\n- name: agent\n  user:\n    token: test-token\ncontexts:\n- name: double\n"
                               "  context:\n    cluster: double\n    user: agent\ncurrent-context: double\n";

  FleetdOptions options(dir.path() / "data", {}, {"--heartbeat-interval", "1"});
  FleetdProcess fleetd(options);
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "onprem-1", "provider": "arc"})", 201);
  const std::string token =
      fleetd.call_json("POST", "/v1/clusters/onprem-1/bootstrap-tokens", "", 201)["token"].get<std::string>();
  ChildProcess agent(
      {FLEET_AGENT_BINARY, "--server", fleetd.base_url(), "--backend", "kubernetes", "--kubeconfig",
       kubeconfig.string(), "--gpu-admission", "false", "--state-file", (dir.path() / "state.json").string(),
       "--heartbeat-interval", "1", "--workload-status-interval", "1"},
      (dir.path() / "agent.log").string(), {{"FLEET_BOOTSTRAP_TOKEN", token}});

  // Applied: the Deployment is on the cluster with fleetd's labels, and has no status yet.
  fleetd.call_json("POST", "/v1/workloads", workload("web").dump(), 201);
  wait_for(fleetd, "web", [&] { return binding_state(fleetd, "web") == "Applied"; });
  const auto applied = api.object(kWebPath);
  REQUIRE(applied.has_value());
  CHECK(applied->at("spec").at("replicas") == 2);
  CHECK(applied->at("metadata").at("labels").at("fleet.io/workload") == "web");
  CHECK(applied->at("metadata").at("managedFields").at(0).at("manager") == "fleet-agent");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // read back Progressing more than once: still Applied
  CHECK(binding_state(fleetd, "web") == "Applied");

  // The Deployment controller: every replica updated and available.
  json deployment = *api.object(kWebPath);
  deployment["status"] = {{"observedGeneration", deployment["metadata"]["generation"]},
                          {"replicas", 2},
                          {"updatedReplicas", 2},
                          {"readyReplicas", 2},
                          {"availableReplicas", 2}};
  api.put_object(kWebPath, deployment);
  wait_for(fleetd, "web", [&] { return binding_state(fleetd, "web") == "Running"; });
  CHECK(has_event(fleetd, "web", "Running", "the cluster reports every object of the workload ready"));

  // A replica stops being available: the binding says so, and comes back.
  deployment["status"]["availableReplicas"] = 1;
  api.put_object(kWebPath, deployment);
  wait_for(fleetd, "web", [&] { return binding_state(fleetd, "web") == "Applied"; });
  CHECK(has_event(fleetd, "web", "Applied", "the cluster reports it not ready: Deployment serving/web"));
  deployment["status"]["availableReplicas"] = 2;
  api.put_object(kWebPath, deployment);
  wait_for(fleetd, "web", [&] { return binding_state(fleetd, "web") == "Running"; });

  // A manifest the API server refuses: the binding fails with the server's message.
  api.refuse_apply(kBadPath, 422, "Invalid",
                   "Deployment.apps \"bad\" is invalid: spec.template.spec.containers[0].image: Required value",
                   json::array({{{"reason", "FieldValueRequired"},
                                 {"message", "Required value"},
                                 {"field", "spec.template.spec.containers[0].image"}}}));
  fleetd.call_json("POST", "/v1/workloads", workload("bad").dump(), 201);
  wait_for(fleetd, "bad", [&] { return binding_state(fleetd, "bad") == "Failed"; });
  const json failed = binding_of(fleetd, "bad");
  INFO(failed.dump());
  CHECK(failed.dump().find("spec.template.spec.containers[0].image: Required value") != std::string::npos);
  CHECK(has_event(fleetd, "bad", "Failed", "422"));

  // Deleted on unbind: the workload goes, and so do its objects on the cluster.
  REQUIRE(fleetd.call("DELETE", "/v1/workloads/web").status < 300);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (api.object(kWebPath).has_value()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  wait_for(fleetd, "bad", [&] { return fleetd.call("GET", "/v1/workloads/web").status == 404; });
}

}  // namespace kube_workload_itest
