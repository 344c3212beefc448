// The kubernetes backend against the API test double (testing/kube_api_double.hpp) over HTTPS with a throwaway
// CA: inventory, the watch, each command, and the failures (wrong CA, wrong token, conflicts, PDB refusals). GPU
// node admission is off here (gpu_probe_job_test.cpp tests it).
// Retry and poll intervals are milliseconds so that every test runs in well under a second.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "agents/kube/kubernetes_backend.hpp"
#include "agents/kube/manifest_url.hpp"
#include "agents/kube/testing/kube_api_double.hpp"
#include "agents/kube/testing/test_pki.hpp"
#include "agents/testing/start_command.hpp"
#include "common/testing/eventually.hpp"

namespace fleet::agent::kube {

using ::fleet::agent::testing::command_of;
using ::fleet::agent::testing::start_command;
using ::fleet::testing::eventually;
using nlohmann::json;
using testing::KubeApiDouble;
using testing::KubeApiDoubleOptions;
using testing::PdbBlock;
using testing::TestPki;
using namespace std::chrono_literals;

namespace {

json make_node(const std::string& name, const std::string& pool, int gpus, json taints = json::array()) {
  json labels = {{"kubernetes.azure.com/agentpool", pool},
                 {"kubernetes.azure.com/node-image-version", "AKSUbuntu-2204gen2containerd-202510.01.0"},
                 {"kubernetes.io/hostname", name}};
  json capacity = {{"cpu", "96"}, {"memory", "1056Gi"}};
  json allocatable = {{"cpu", "95110m"}, {"memory", "1000000Ki"}};
  if (gpus > 0) {
    labels["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3";
    labels["nvidia.com/gpu.memory"] = "81559";
    labels["nvidia.com/gpu.count"] = std::to_string(gpus);
    labels["nvidia.com/cuda.driver.major"] = "550";
    labels["nvidia.com/cuda.driver.minor"] = "90";
    labels["nvidia.com/cuda.driver.rev"] = "07";
    labels["nvidia.com/cuda.runtime.major"] = "12";
    labels["nvidia.com/cuda.runtime.minor"] = "4";
    capacity["nvidia.com/gpu"] = std::to_string(gpus);
    allocatable["nvidia.com/gpu"] = std::to_string(gpus);
  }
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", {{"taints", taints}}},
          {"status",
           {{"capacity", capacity},
            {"allocatable", allocatable},
            {"nodeInfo", {{"kubeletVersion", "v1.34.1"}, {"osImage", "Ubuntu 22.04.5 LTS"}}}}}};
}

json make_pod(const std::string& name, const std::string& node, const std::string& owner_kind = "ReplicaSet",
              json labels = json::object()) {
  return {{"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"labels", labels},
            {"ownerReferences", json::array({{{"kind", owner_kind}, {"name", "owner"}, {"controller", true}}})}}},
          {"spec", {{"nodeName", node}}}};
}

std::string base64(const std::string& in) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kChars[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kChars[(buffer << (6 - bits)) & 63];
  while (out.size() % 4) out += '=';
  return out;
}

struct Fixture {
  TestPki pki;
  std::unique_ptr<KubeApiDouble> api;
  std::vector<protocol::CommandEvent> events;

  explicit Fixture(const std::function<void(KubeApiDoubleOptions&)>& tweak = {}) {
    KubeApiDoubleOptions o;
    o.tls_cert_file = pki.server_cert_file;
    o.tls_key_file = pki.server_key_file;
    o.watch_hold = 50ms;
    if (tweak) tweak(o);
    auto started = KubeApiDouble::start(o);
    REQUIRE(started.ok());
    api = std::move(*started);
  }

  KubeConnection connection() const {
    KubeConnection c;
    c.server = api->url();
    c.ca_file = pki.ca_file;
    c.token = "test-token";
    c.source = "test";
    return c;
  }

  KubernetesBackendOptions options() const {
    KubernetesBackendOptions o;
    o.connection = connection();
    o.cluster_name = "kube-test";
    o.eviction_retry = 20ms;
    o.pod_poll_interval = 10ms;
    o.watch_retry = 20ms;
    o.watch_timeout = 5s;
    o.request_timeout = 5s;
    o.resource_slice_refresh = 0ms;
    // GPU node admission writes taints and creates probe Jobs on its own; these tests count the backend's
    // requests per command, so it is off here and tested in gpu_probe_job_test.cpp.
    o.gpu_admission = false;
    return o;
  }

  std::unique_ptr<ClusterBackend> backend(const KubernetesBackendOptions& o) {
    auto b = make_kubernetes_backend(o);
    REQUIRE(b.ok());
    return std::move(*b);
  }
  std::unique_ptr<ClusterBackend> backend() { return backend(options()); }

  protocol::CommandStatus run(ClusterBackend& b, const std::string& id, const std::string& kind, json payload) {
    auto started = start_command(b, id, kind, std::move(payload));
    REQUIRE(started.ok());
    CHECK(started->started);
    std::optional<protocol::CommandStatus> s;
    REQUIRE(eventually([&] {
      s = b.status(id);
      return s && s->state != protocol::CommandState::kRunning;
    }));
    for (auto& e : b.poll()) events.push_back(std::move(e));
    return *s;
  }

  int count_events(const std::string& type) const {
    return static_cast<int>(
        std::count_if(events.begin(), events.end(), [&](const protocol::CommandEvent& e) { return e.type == type; }));
  }
};

std::int64_t total_gpus(const model::ClusterInventory& inv) {
  std::int64_t n = 0;
  for (const auto& node : inv.nodes) n += static_cast<std::int64_t>(node.gpus.size());
  return n;
}

}  // namespace

TEST_CASE("kubernetes backend: inventory from nodes with GPU Feature Discovery labels, listed in pages", "[kube]") {
  Fixture f;
  f.api->put_node(make_node("aks-gpu-0", "gpu", 8));
  f.api->put_node(
      make_node("aks-gpu-1", "gpu", 8, json::array({{{"key", "fleet.io/gpu-unverified"}, {"effect", "NoSchedule"}}})));
  f.api->put_node(make_node("aks-system-0", "system", 0));
  auto o = f.options();
  o.list_page_size = 2;
  auto b = f.backend(o);
  CHECK(b->name() == "kubernetes");
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(inv->kubernetes_version == "1.34.1");
  CHECK(inv->node_image_version == "AKSUbuntu-2204gen2containerd-202510.01.0");
  REQUIRE(inv->nodes.size() == 3);
  CHECK(total_gpus(*inv) == 16);
  CHECK(inv->nodes[0].gpus[3].model == "NVIDIA H100 80GB HBM3");
  CHECK(inv->nodes[0].gpus[3].uuid == model::make_gpu_uuid(0, "kube-test", "aks-gpu-0", 3));
  CHECK(inv->nodes[0].admission == model::Admission::kAdmitted);
  CHECK(inv->nodes[1].admission == model::Admission::kPendingProbe);
  CHECK(inv->nodes[2].pool == "system");
  CHECK(model::validate_inventory(*inv).ok());
  CHECK(f.api->count_requests("GET", "/api/v1/nodes", "limit=2") == 2);
  CHECK(f.api->count_requests("GET", "/api/v1/nodes", "continue=") == 1);
  CHECK(f.api->count_requests("GET", "/version") == 1);
}

TEST_CASE("kubernetes backend: GPUs from NVIDIA DRA ResourceSlices override the labels", "[kube]") {
  const std::string version = GENERATE(std::string("v1"), std::string("v1beta1"));
  Fixture f([&](KubeApiDoubleOptions& o) { o.resource_slice_version = version; });
  f.api->put_node(make_node("dra-0", "gpu", 2));
  f.api->put_node(make_node("dra-1", "gpu", 0));  // DRA only: no device plugin capacity
  f.api->put_node(make_node("plain-0", "gpu", 4));
  for (const std::string node : {"dra-0", "dra-1"}) {
    json devices = json::array();
    for (int i = 0; i < 2; ++i) {
      json attributes = {{"type", {{"string", "gpu"}}},
                         {"uuid", {{"string", "GPU-" + node + "-real-" + std::to_string(i)}}},
                         {"index", {{"int", i}}},
                         {"productName", {{"string", "NVIDIA H200"}}},
                         {"driverVersion", {{"version", "570.86.15"}}},
                         {"cudaDriverVersion", {{"version", "12.8.0"}}}};
      json capacity = {{"memory", {{"value", "141Gi"}}}};
      if (version == "v1") {
        devices.push_back({{"name", "gpu-" + std::to_string(i)}, {"attributes", attributes}, {"capacity", capacity}});
      } else {
        devices.push_back(
            {{"name", "gpu-" + std::to_string(i)}, {"basic", {{"attributes", attributes}, {"capacity", capacity}}}});
      }
    }
    f.api->put_resource_slice({{"metadata", {{"name", node + "-gpu.nvidia.com"}}},
                               {"spec", {{"driver", "gpu.nvidia.com"}, {"nodeName", node}, {"devices", devices}}}});
  }
  auto b = f.backend();
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(total_gpus(*inv) == 8);
  const model::NodeInfo* dra0 = inv->find_node("dra-0");
  REQUIRE(dra0);
  REQUIRE(dra0->gpus.size() == 2);
  CHECK(dra0->gpus[1].uuid == "GPU-dra-0-real-1");
  CHECK(dra0->gpus[1].model == "NVIDIA H200");
  CHECK(dra0->gpus[1].memory_bytes == 141LL << 30);
  CHECK(dra0->gpus[1].cuda_version == "12.8");
  const model::NodeInfo* dra1 = inv->find_node("dra-1");
  CHECK(dra1->capacity.gpus == 2);
  CHECK(dra1->allocatable.gpus == 2);
  CHECK(inv->find_node("plain-0")->gpus[0].model == "NVIDIA H100 80GB HBM3");
  CHECK(f.api->count_requests("GET", "/apis/resource.k8s.io/" + version + "/resourceslices",
                              "fieldSelector=spec.driver%3Dgpu.nvidia.com") == 1);
}

TEST_CASE("kubernetes backend: a cluster without resource.k8s.io still reports its nodes", "[kube]") {
  Fixture f([](KubeApiDoubleOptions& o) { o.resource_slice_version = ""; });
  f.api->put_node(make_node("n0", "gpu", 8));
  auto b = f.backend();
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(total_gpus(*inv) == 8);
}

TEST_CASE("kubernetes backend: the wrong CA is refused with a TLS verification error", "[kube]") {
  Fixture f;
  TestPki other("other CA");
  auto o = f.options();
  o.connection->ca_file = other.ca_file;
  auto b = f.backend(o);
  auto inv = b->inventory();
  REQUIRE_FALSE(inv.ok());
  CHECK(inv.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(inv.error().message, Catch::Contains("TLS certificate verification failed"));
  CHECK(f.api->requests().empty());
}

TEST_CASE("kubernetes backend: a wrong token gets an error naming 401", "[kube]") {
  Fixture f;
  auto o = f.options();
  o.connection->token = "wrong";
  auto b = f.backend(o);
  auto inv = b->inventory();
  REQUIRE_FALSE(inv.ok());
  CHECK(inv.error().code == ErrorCode::kUnauthenticated);
  CHECK_THAT(inv.error().message, Catch::Contains("401 Unauthorized"));
}

TEST_CASE("kubernetes backend: a kubeconfig with inline CA data, a token file and a client certificate", "[kube]") {
  Fixture f;
  f.api->put_node(make_node("n0", "gpu", 8));
  const std::string token_file = (f.pki.dir / "token").string();
  std::ofstream(token_file) << "test-token\n";
  const std::string path = (f.pki.dir / "kubeconfig").string();
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                      << "clusters:\n- name: c\n  cluster:\n    server: " << f.api->url()
                      << "\n    certificate-authority-data: " << base64(f.pki.ca_pem) << "\n"
                      << "users:\n- name: u\n  user:\n    tokenFile: token\n"
                      << "    client-certificate-data: " << base64(f.pki.client_cert_pem) << "\n"
                      << "    client-key-data: " << base64(f.pki.client_key_pem) << "\n"
                      << "contexts:\n- name: test\n  context:\n    cluster: c\n    user: u\n";
  KubernetesBackendOptions o = f.options();
  o.connection.reset();
  o.kubeconfig = path;
  auto b = f.backend(o);
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(total_gpus(*inv) == 8);

  o.context = "missing";
  auto bad = make_kubernetes_backend(o);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("no context named \"missing\""));
}

TEST_CASE("kubernetes backend: cordon and uncordon the cluster, idempotent by id and by state", "[kube]") {
  Fixture f;
  for (const char* n : {"n0", "n1", "n2"}) f.api->put_node(make_node(n, "gpu", 8));
  auto b = f.backend();
  REQUIRE(b->inventory().ok());

  auto s = f.run(*b, "c1", "cordon_cluster", {{"cordon", true}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.nodes_total == 3);
  CHECK(s.nodes_done == 3);
  CHECK(s.details["n1"] == "cordoned");
  for (const char* n : {"n0", "n1", "n2"}) CHECK(f.api->node(n)->at("spec").at("unschedulable") == true);
  CHECK(f.count_events("node_cordoned") == 3);
  CHECK(f.count_events("cluster_cordoned") == 1);
  CHECK(f.api->count_requests("PATCH", "/api/v1/nodes/") == 3);

  // The same id again: not run again, its result comes back; the same id with another payload: a conflict.
  auto again = start_command(*b, "c1", "cordon_cluster", {{"cordon", true}});
  REQUIRE(again.ok());
  CHECK_FALSE(again->started);
  CHECK(again->status.state == protocol::CommandState::kSucceeded);
  auto clash = start_command(*b, "c1", "cordon_cluster", {{"cordon", false}});
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().code == ErrorCode::kConflict);

  // A new id on an already cordoned cluster changes nothing.
  s = f.run(*b, "c2", "cordon_cluster", {{"cordon", true}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(f.api->count_requests("PATCH", "/api/v1/nodes/") == 3);

  s = f.run(*b, "c3", "cordon_cluster", {{"cordon", false}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  for (const char* n : {"n0", "n1", "n2"}) CHECK(f.api->node(n)->at("spec").at("unschedulable") == false);
  CHECK(f.count_events("cluster_uncordoned") == 1);
  // The watch carries the change into the inventory.
  CHECK(eventually([&] {
    auto inv = b->inventory();
    return inv.ok() &&
           std::all_of(inv->nodes.begin(), inv->nodes.end(), [](const model::NodeInfo& n) { return n.schedulable; });
  }));
}

TEST_CASE("kubernetes backend: taints are read-modify-written and retried on 409 Conflict", "[kube]") {
  Fixture f;
  f.api->put_node(make_node("n0", "gpu", 8,
                            json::array({{{"key", "fleet.io/gpu-unverified"}, {"effect", "NoSchedule"}},
                                         {{"key", "sku"}, {"value", "gpu"}, {"effect", "NoSchedule"}}})));
  auto b = f.backend();
  REQUIRE(b->inventory().ok());
  f.api->inject_conflicts("n0", 2);
  auto s = f.run(*b, "t1", "taint_node",
                 {{"node", "n0"},
                  {"add", json::array({"fleet.io/gpu-quarantined=:NoSchedule"})},
                  {"remove", json::array({"fleet.io/gpu-unverified"})}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(f.api->count_requests("PATCH", "/api/v1/nodes/n0") == 3);  // two conflicts, then the write
  const json taints = f.api->node("n0")->at("spec").at("taints");
  CHECK(taints == json::parse(R"([{"key": "sku", "value": "gpu", "effect": "NoSchedule"},
                                  {"key": "fleet.io/gpu-quarantined", "effect": "NoSchedule"}])"));
  CHECK(f.api->node("n0")->at("metadata").at("annotations").contains("example.com/other-writer"));
  CHECK(f.count_events("node_tainted") == 1);
  CHECK(eventually([&] {
    auto inv = b->inventory();
    return inv.ok() && inv->find_node("n0")->admission == model::Admission::kQuarantined;
  }));

  // Already as asked: no write.
  s = f.run(*b, "t2", "taint_node", {{"node", "n0"}, {"remove", json::array({"fleet.io/gpu-unverified"})}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(f.api->count_requests("PATCH", "/api/v1/nodes/n0") == 3);

  // A conflict that never clears fails the command.
  f.api->inject_conflicts("n0", 100);
  s = f.run(*b, "t3", "taint_node", {{"node", "n0"}, {"remove", json::array({"fleet.io/gpu-quarantined"})}});
  CHECK(s.state == protocol::CommandState::kFailed);
  CHECK_THAT(s.message, Catch::Contains("conflicts in a row"));
}

TEST_CASE("kubernetes backend: drain waits out a PodDisruptionBudget that blocks for a while", "[kube]") {
  Fixture f([](KubeApiDoubleOptions& o) { o.pod_termination = 30ms; });
  f.api->put_node(make_node("n0", "gpu", 8));
  f.api->put_node(make_node("n1", "gpu", 8));
  f.api->put_pod(make_pod("web-1", "n0", "ReplicaSet", {{"app", "web"}}));
  f.api->put_pod(make_pod("batch-1", "n0", "Job"));
  f.api->put_pod(make_pod("dcgm-exporter-x", "n0", "DaemonSet"));
  json mirror = make_pod("kube-proxy-n0", "n0", "Node");
  mirror["metadata"]["annotations"] = {{"kubernetes.io/config.mirror", "abc"}};
  f.api->put_pod(mirror);
  f.api->put_pod(make_pod("web-2", "n1", "ReplicaSet", {{"app", "web"}}));
  f.api->add_pdb(PdbBlock{"web-pdb", "default", {{"app", "web"}}, 3});

  auto b = f.backend();
  REQUIRE(b->inventory().ok());
  auto s = f.run(*b, "d1", "drain_node", {{"node", "n0"}, {"timeoutSeconds", 10}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK_THAT(s.message, Catch::Contains("2 pods evicted"));
  CHECK(s.details["n0"] == "drained");
  CHECK(f.api->eviction_attempts("default", "web-1") == 4);  // 3 × 429, then 201
  CHECK(f.api->eviction_attempts("default", "batch-1") == 1);
  CHECK(f.api->eviction_attempts("default", "dcgm-exporter-x") == 0);
  CHECK(f.api->eviction_attempts("default", "kube-proxy-n0") == 0);
  CHECK(f.api->eviction_attempts("default", "web-2") == 0);
  CHECK(f.api->pods_on("n0").size() == 2);  // the DaemonSet pod and the mirror pod stay
  CHECK(f.api->node("n0")->at("spec").at("unschedulable") == true);
  CHECK(f.count_events("eviction_blocked") == 1);
  CHECK(f.count_events("pod_evicted") == 2);
  CHECK(f.count_events("node_drained") == 1);
  CHECK(f.api->count_requests("GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn0") >= 2);
}

TEST_CASE("kubernetes backend: while a command runs the agent is told to look again soon, not while idle", "[kube]") {
  Fixture f;
  f.api->put_node(make_node("n0", "gpu", 8));
  f.api->put_pod(make_pod("web-1", "n0", "ReplicaSet", {{"app", "web"}}));
  f.api->add_pdb(PdbBlock{"web-pdb", "default", {{"app", "web"}}});  // refuses every eviction
  KubernetesBackendOptions o = f.options();
  o.progress_check = std::chrono::milliseconds(700);
  auto b = f.backend(o);
  REQUIRE(b->inventory().ok());
  CHECK_FALSE(kubernetes_progress_due(*b).has_value());
  auto started = start_command(*b, "d1", "drain_node", {{"node", "n0"}, {"timeoutSeconds", 2}});
  REQUIRE(started.ok());
  // Running, its events collected: look again within progress_check.
  CHECK(eventually([&] {
    b->poll();
    return kubernetes_progress_due(*b) == std::optional<std::chrono::milliseconds>(700);
  }));
  // Finished (the drain timed out), its outcome's events not yet collected: look now.
  REQUIRE(eventually([&] {
    const auto s = b->status("d1");
    return s && s->state != protocol::CommandState::kRunning;
  }));
  CHECK(kubernetes_progress_due(*b) == std::optional<std::chrono::milliseconds>(0));
  b->poll();
  CHECK_FALSE(kubernetes_progress_due(*b).has_value());
}

TEST_CASE("kubernetes backend: a drain blocked past its timeout fails naming the pod and the budget", "[kube]") {
  Fixture f;
  f.api->put_node(make_node("n0", "gpu", 8));
  f.api->put_pod(make_pod("web-1", "n0", "ReplicaSet", {{"app", "web"}}));
  f.api->add_pdb(PdbBlock{"web-pdb", "default", {{"app", "web"}}, -1});
  auto b = f.backend();
  REQUIRE(b->inventory().ok());
  const auto began = std::chrono::steady_clock::now();
  auto s = f.run(*b, "d1", "drain_node", {{"node", "n0"}, {"timeoutSeconds", 0.2}});
  CHECK(std::chrono::steady_clock::now() - began < 3s);
  CHECK(s.state == protocol::CommandState::kFailed);
  CHECK_THAT(s.message, Catch::Contains("timed out after"));
  CHECK_THAT(s.message, Catch::Contains("default/web-1"));
  CHECK_THAT(s.message, Catch::Contains("The disruption budget web-pdb"));
  CHECK_THAT(s.message, Catch::Contains("stays cordoned"));
  CHECK(s.nodes_failed == 1);
  CHECK(f.api->eviction_attempts("default", "web-1") >= 2);  // refused, waited, retried (more when the machine is fast)
  CHECK(f.api->pod("default", "web-1").has_value());
  CHECK(f.count_events("node_drain_timed_out") == 1);
  CHECK(f.count_events("command_failed") == 1);
}

TEST_CASE("kubernetes backend: the watch resumes after a dropped watch and relists after 410 Gone", "[kube]") {
  Fixture f;
  f.api->put_node(make_node("n0", "gpu", 8));
  auto b = f.backend();
  REQUIRE(b->inventory().ok());
  auto has = [&](const std::string& name) {
    auto inv = b->inventory();
    return inv.ok() && inv->find_node(name) != nullptr;
  };
  auto lists = [&] { return f.api->count_requests("GET", "/api/v1/nodes", "limit="); };
  CHECK(lists() == 1);

  // Every watch response of the double ends (a dropped watch); changes keep arriving without a relist.
  f.api->put_node(make_node("n1", "gpu", 8));
  CHECK(eventually([&] { return has("n1"); }));
  f.api->end_watches();
  f.api->delete_node("n0");
  CHECK(eventually([&] { return !has("n0"); }));
  CHECK(f.api->count_requests("GET", "/api/v1/nodes", "watch=1") >= 2);
  CHECK(f.api->count_requests("GET", "/api/v1/nodes", "allowWatchBookmarks=true") >= 2);
  CHECK(lists() == 1);

  // The resourceVersion is gone: the informer lists again and watches on from the new list.
  f.api->fail_next_watches_with_gone(1);
  f.api->end_watches();
  CHECK(eventually([&] { return lists() == 2; }));
  f.api->put_node(make_node("n2", "gpu", 8));
  CHECK(eventually([&] { return has("n2"); }));

  // History compacted past the version the watch resumes from: 410, relist.
  f.api->compact();
  f.api->end_watches();
  CHECK(eventually([&] { return lists() == 3; }));
  f.api->update_node("n1", [](json& n) { n["spec"]["unschedulable"] = true; });
  CHECK(eventually([&] {
    auto inv = b->inventory();
    return inv.ok() && !inv->find_node("n1")->schedulable;
  }));
}

TEST_CASE("kubernetes backend: server-side apply and delete of workload manifests", "[kube]") {
  Fixture f;
  auto b = f.backend();
  json deployment = json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "llama", "namespace": "serving"}, "spec": {"replicas": 2}})");
  json config = json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "llama-config"},
      "data": {"model": "llama-70b"}})");
  auto s = f.run(*b, "a1", "apply_workload", {{"manifests", json::array({deployment, config})}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.details["Deployment serving/llama"] == "applied");
  auto stored = f.api->object("/apis/apps/v1/namespaces/serving/deployments/llama");
  REQUIRE(stored.has_value());
  CHECK(stored->at("spec").at("replicas") == 2);
  CHECK(stored->at("metadata").at("managedFields")[0].at("manager") == "fleet-agent");
  CHECK(stored->at("metadata").at("managedFields")[0].at("operation") == "Apply");
  auto cm = f.api->object("/api/v1/namespaces/default/configmaps/llama-config");
  REQUIRE(cm.has_value());
  CHECK(cm->at("metadata").at("namespace") == "default");
  CHECK(f.api->count_requests("PATCH", "/apis/apps/v1/namespaces/serving/deployments/llama",
                              "fieldManager=fleet-agent&force=true") == 1);
  for (const auto& r : f.api->requests()) {
    if (r.method == "PATCH") CHECK(r.content_type == "application/apply-patch+yaml");
  }
  CHECK(f.count_events("manifest_applied") == 2);

  // Applying again updates in place.
  deployment["spec"]["replicas"] = 3;
  s = f.run(*b, "a2", "apply_workload", {{"manifests", json::array({deployment})}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(f.api->object("/apis/apps/v1/namespaces/serving/deployments/llama")->at("spec").at("replicas") == 3);

  s = f.run(*b, "x1", "delete_workload", {{"manifests", json::array({deployment, config})}});
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK_FALSE(f.api->object("/apis/apps/v1/namespaces/serving/deployments/llama").has_value());
  CHECK_FALSE(f.api->object("/api/v1/namespaces/default/configmaps/llama-config").has_value());
  s = f.run(*b, "x2", "delete_workload", {{"manifests", json::array({deployment})}});
  CHECK(s.state == protocol::CommandState::kSucceeded);  // already gone is fine
  CHECK(s.details["Deployment serving/llama"] == "absent");
}

namespace {

// An object as fleetd renders it for a binding (fleetd/loops/workload_manifests.hpp): its workload's labels.
json rendered(const std::string& api_version, const std::string& kind, const std::string& workload, json spec) {
  return {{"apiVersion", api_version},
          {"kind", kind},
          {"metadata",
           {{"name", workload},
            {"namespace", "serving"},
            {"labels", {{"fleet.io/workload", workload}, {"fleet.io/generation", "1"}}}}},
          {"spec", std::move(spec)}};
}

// What each kind's controller writes once its pods run (the real status shapes: apps/v1, batch/v1, KAITO's
// Workspace, KubeRay's RayCluster and RayService).
json ready_status(const std::string& kind) {
  const auto condition = [](const std::string& type) {
    return json{{"type", type}, {"status", "True"}, {"reason", type}, {"lastTransitionTime", "2026-12-06T10:00:00Z"}};
  };
  if (kind == "Deployment") {
    return {{"observedGeneration", 1},
            {"replicas", 2},
            {"updatedReplicas", 2},
            {"readyReplicas", 2},
            {"availableReplicas", 2},
            {"conditions",
             json::array({{{"type", "Available"}, {"status", "True"}, {"reason", "MinimumReplicasAvailable"}},
                          {{"type", "Progressing"}, {"status", "True"}, {"reason", "NewReplicaSetAvailable"}}})}};
  }
  if (kind == "StatefulSet") {
    return {{"observedGeneration", 1},     {"replicas", 2},        {"readyReplicas", 2},
            {"currentReplicas", 2},        {"updatedReplicas", 2}, {"currentRevision", "llm-7d9f"},
            {"updateRevision", "llm-7d9f"}};
  }
  if (kind == "Job") return {{"active", 1}, {"ready", 1}, {"startTime", "2026-12-06T10:00:00Z"}};
  if (kind == "Workspace") {
    return {{"workerNodes", json::array({"n0"})},
            {"conditions",
             json::array({condition("ResourceReady"), condition("InferenceReady"), condition("WorkspaceSucceeded")})}};
  }
  if (kind == "RayCluster") {
    return {{"state", "ready"},
            {"readyWorkerReplicas", 2},
            {"desiredWorkerReplicas", 2},
            {"conditions", json::array({condition("RayClusterProvisioned"), condition("HeadPodReady")})}};
  }
  return {{"serviceStatus", "Running"}, {"conditions", json::array({condition("Ready")})}};  // RayService
}

std::map<std::string, protocol::WorkloadStatus> by_workload(const std::vector<protocol::WorkloadStatus>& statuses) {
  std::map<std::string, protocol::WorkloadStatus> out;
  for (const auto& s : statuses) out[s.workload] = s;
  return out;
}

}  // namespace

TEST_CASE("kubernetes backend: applied workloads are read back for each followed kind", "[kube]") {
  Fixture f;
  KubernetesBackendOptions o = f.options();
  o.workload_status_interval = 0ms;
  auto b = f.backend(o);
  const json pod_template = {
      {"spec", {{"containers", json::array({{{"name", "main"}, {"image", "vllm/vllm-openai"}}})}}}};
  const std::vector<json> manifests = {
      rendered("apps/v1", "Deployment", "vllm", {{"replicas", 2}, {"template", pod_template}}),
      rendered("apps/v1", "StatefulSet", "llm", {{"replicas", 2}, {"template", pod_template}}),
      rendered("batch/v1", "Job", "train", {{"template", pod_template}}),
      rendered("kaito.sh/v1beta1", "Workspace", "phi", json::object()),
      rendered("ray.io/v1", "RayCluster", "ray", json::object()),
      rendered("ray.io/v1", "RayService", "serve", json::object())};
  auto s = f.run(*b, "a1", "apply_workload", {{"manifests", manifests}});
  REQUIRE(s.state == protocol::CommandState::kSucceeded);

  auto read = by_workload(b->take_workload_statuses());
  REQUIRE(read.size() == 6);
  for (const auto& [name, status] : read) {
    INFO(name << ": " << status.message);
    CHECK(status.state == protocol::WorkloadReadiness::kProgressing);
    CHECK(status.generation == 1);
  }
  CHECK(b->take_workload_statuses().empty());  // nothing changed

  // The controllers write status: every workload is ready.
  for (const json& m : manifests) {
    const std::string kind = m["kind"];
    auto ref = object_ref(m, "default");
    REQUIRE(ref.ok());
    json stored = *f.api->object(ref->path);
    stored["status"] = ready_status(kind);
    f.api->put_object(ref->path, stored);
  }
  read = by_workload(b->take_workload_statuses());
  REQUIRE(read.size() == 6);
  for (const auto& [name, status] : read) {
    INFO(name << ": " << status.message);
    CHECK(status.state == protocol::WorkloadReadiness::kReady);
  }
  CHECK(f.api->count_requests("GET", "/apis/apps/v1/deployments", "labelSelector=fleet.io%2Fworkload") >= 1);

  // The Job runs out of retries.
  json job = *f.api->object("/apis/batch/v1/namespaces/serving/jobs/train");
  job["status"] = {{"failed", 7},
                   {"conditions", json::array({{{"type", "Failed"},
                                                {"status", "True"},
                                                {"reason", "BackoffLimitExceeded"},
                                                {"message", "Job has reached the specified backoff limit"}}})}};
  f.api->put_object("/apis/batch/v1/namespaces/serving/jobs/train", job);
  auto changed = b->take_workload_statuses();
  REQUIRE(changed.size() == 1);
  CHECK(changed[0].workload == "train");
  CHECK(changed[0].state == protocol::WorkloadReadiness::kFailed);
  CHECK_THAT(changed[0].message, Catch::Contains("Job serving/train") && Catch::Contains("BackoffLimitExceeded"));

  // Deleted on unbind: the objects go, and the workload is reported gone once.
  s = f.run(*b, "x1", "delete_workload", {{"manifests", json::array({manifests[0]})}});
  REQUIRE(s.state == protocol::CommandState::kSucceeded);
  CHECK_FALSE(f.api->object("/apis/apps/v1/namespaces/serving/deployments/vllm").has_value());
  changed = b->take_workload_statuses();
  REQUIRE(changed.size() == 1);
  CHECK(changed[0] == protocol::WorkloadStatus{"vllm", 1, protocol::WorkloadReadiness::kProgressing,
                                               "no objects of the workload found on the cluster"});
  CHECK(b->take_workload_statuses().empty());
}

TEST_CASE("kubernetes backend: a manifest the API server refuses fails apply_workload with its message", "[kube]") {
  Fixture f;
  auto b = f.backend();
  const std::string path = "/apis/apps/v1/namespaces/serving/deployments/vllm";
  f.api->refuse_apply(path, 422, "Invalid",
                      "Deployment.apps \"vllm\" is invalid: spec.template.spec.containers[0].image: Required value",
                      json::array({{{"reason", "FieldValueRequired"},
                                    {"message", "Required value"},
                                    {"field", "spec.template.spec.containers[0].image"}}}));
  const json config = json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "vllm-config", "namespace": "serving"}, "data": {"model": "phi-3"}})");
  const json deployment = rendered("apps/v1", "Deployment", "vllm", {{"replicas", 1}});
  auto s = f.run(*b, "a1", "apply_workload", {{"manifests", json::array({config, deployment})}});
  CHECK(s.state == protocol::CommandState::kFailed);
  CHECK_THAT(s.message,
             Catch::Contains("422") && Catch::Contains("spec.template.spec.containers[0].image: Required value"));
  CHECK(s.details["ConfigMap serving/vllm-config"] == "applied");  // in order: the objects before it were applied
  CHECK_FALSE(f.api->object(path).has_value());
}

TEST_CASE("kubernetes backend: unsupported kinds, bad payloads and unknown nodes are refused at start", "[kube]") {
  Fixture f;
  f.api->put_node(make_node("n0", "gpu", 8));
  auto b = f.backend();
  REQUIRE(b->inventory().ok());
  // Payloads that parse, of kinds this backend does not run (run_probe: with GPU node admission off): refused by
  // the backend, naming the kind.
  const std::vector<std::pair<std::string, json>> unsupported = {
      {"upgrade_control_plane", {{"kubernetesVersion", "1.35.0"}}},
      {"upgrade_node_pool", {{"pool", "gpu"}, {"nodeImageVersion", "x"}}},
      {"run_probe", json::object()}};
  for (const auto& [kind, payload] : unsupported) {
    auto r = start_command(*b, "u-" + std::to_string(kind.size()), kind, payload);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalid);
    CHECK(r.error().type == "unsupported-command");
    CHECK_THAT(r.error().message, Catch::Contains("not supported by the kubernetes backend"));
    CHECK_THAT(r.error().message, Catch::Contains(kind == "run_probe" ? "gpu-probe" : "AKS"));
  }
  CHECK(start_command(*b, "k1", "reboot_node", {}).error().code == ErrorCode::kInvalid);
  CHECK(start_command(*b, "k2", "drain_node", json::object()).error().field == "payload.node");
  CHECK(start_command(*b, "k3", "drain_node", {{"node", "n0"}, {"timeoutSeconds", "soon"}}).error().code ==
        ErrorCode::kInvalid);
  CHECK(start_command(*b, "k4", "taint_node", {{"node", "n0"}}).error().code == ErrorCode::kInvalid);
  CHECK(start_command(*b, "k5", "apply_workload", {{"manifests", json::array({{{"kind", "X"}}})}}).error().code ==
        ErrorCode::kInvalid);
  auto missing = start_command(*b, "k6", "drain_node", {{"node", "n9"}});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK_FALSE(b->status("k6").has_value());
  CHECK(f.api->count_requests("POST", "/") == 0);
}

}  // namespace fleet::agent::kube
