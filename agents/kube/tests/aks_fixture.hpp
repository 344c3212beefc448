#pragma once
// The aks driver tests' fixtures (aks_driver_test.cpp, aks_blue_green_test.cpp): the ARM / Entra test double with
// two pools, a driver context that records events and status, and the kubernetes backend over a kube API double.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "agents/kube/kubernetes_backend.hpp"
#include "agents/kube/testing/arm_api_double.hpp"
#include "agents/kube/testing/kube_api_double.hpp"
#include "agents/kube/testing/test_pki.hpp"
#include "agents/kube/upgrade/aks_driver.hpp"
#include "agents/kube/upgrade/aksarc_driver.hpp"
#include "common/testing/eventually.hpp"

namespace fleet::agent::kube::aks_testing {

using ::fleet::testing::eventually;
using nlohmann::json;
using testing::ArmApiDouble;
using testing::ArmApiDoubleOptions;
using testing::ArmRecordedRequest;
using testing::KubeApiDouble;
using testing::KubeApiDoubleOptions;
using testing::TestPki;
using namespace std::chrono_literals;

inline constexpr const char* kImage = "AKSUbuntu-2204gen2containerd-202510.01.0";
// Poll intervals of milliseconds (Retry-After from the double is capped by poll_cap): every driver test runs fast.
inline const ArmPolling kPolling{5ms, 1ms, 10ms, 5ms};

struct AksFixture {
  TestPki pki;
  std::unique_ptr<ArmApiDouble> arm;
  std::filesystem::path token_file;

  std::mutex mutex;
  std::vector<protocol::CommandEvent> events;
  protocol::CommandStatus status;
  std::atomic<bool> stopping{false};
  std::function<std::vector<PoolNode>(const std::string&)> pool_nodes;

  // aks_arc: the double is an AKS Arc provisioned cluster instance instead of an AKS managed cluster.
  explicit AksFixture(bool aks_arc = false) {
    ArmApiDoubleOptions o;
    o.tls_cert_file = pki.server_cert_file;
    o.tls_key_file = pki.server_key_file;
    o.aks_arc = aks_arc;
    auto started = ArmApiDouble::start(o);
    REQUIRE(started.ok());
    arm = std::move(*started);
    arm->add_pool("system", "1.31.4", 3, kImage);
    arm->add_pool("gpu", "1.31.4", 4, kImage);
    token_file = pki.dir / "azure-identity-token";
    std::ofstream(token_file) << arm->options().federated_token << "\n";
  }

  WorkloadIdentity identity() const {
    WorkloadIdentity id;
    id.authority = arm->url();
    id.tenant_id = arm->options().tenant_id;
    id.client_id = arm->options().client_id;
    id.federated_token_file = token_file.string();
    return id;
  }

  ArmClientOptions arm_options() const {
    ArmClientOptions o;
    o.endpoint = arm->url();
    o.ca_file = pki.ca_file;
    o.timeout = 5s;
    return o;
  }

  std::shared_ptr<TokenSource> tokens() const {
    EntraTokenOptions t;
    t.identity = identity();
    t.ca_file = pki.ca_file;
    t.timeout = 5s;
    return make_entra_token_source(t);
  }

  AksDriverOptions options() const {
    AksDriverOptions o;
    auto ref = parse_aks_cluster_id(arm->cluster_id());
    REQUIRE(ref.ok());
    o.cluster = *ref;
    o.arm = arm_options();
    o.tokens = tokens();
    o.polling = kPolling;
    o.step_timeout = 5s;
    return o;
  }

  AksArcDriverOptions arc_options() const {
    AksArcDriverOptions o;
    auto ref = parse_connected_cluster_id(arm->cluster_id());
    REQUIRE(ref.ok());
    o.connected_cluster = *ref;
    o.arm = arm_options();
    o.tokens = tokens();
    o.polling = kPolling;
    o.step_timeout = 5s;
    return o;
  }

  UpgradeContext context() {
    UpgradeContext c;
    c.emit = [this](const std::string& type, const std::string& node, const std::string& message) {
      std::lock_guard lock(mutex);
      events.push_back(protocol::CommandEvent{0, "c1", type, node, message});
    };
    c.update = [this](const std::function<void(protocol::CommandStatus&)>& change) {
      std::lock_guard lock(mutex);
      change(status);
    };
    c.sleep = [this](std::chrono::milliseconds d) {
      std::this_thread::sleep_for(d);
      return !stopping.load();
    };
    c.now = [] { return std::chrono::steady_clock::now(); };
    c.pool_nodes = pool_nodes;
    return c;
  }

  int count_events(const std::string& type) {
    std::lock_guard lock(mutex);
    return static_cast<int>(std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.type == type; }));
  }

  // The ARM requests (not the token exchange), as "METHOD path-suffix" after the cluster id, in order.
  std::vector<std::string> arm_calls() const {
    std::vector<std::string> out;
    const std::string id = arm->cluster_id();
    for (const ArmRecordedRequest& r : arm->requests()) {
      if (r.path.find("/oauth2/") != std::string::npos) continue;
      std::string p = r.path.rfind(id, 0) == 0 ? r.path.substr(id.size()) : r.path.substr(r.path.rfind('/'));
      out.push_back(r.method + " " + (p.empty() ? "/" : p));
    }
    return out;
  }

  std::vector<ArmRecordedRequest> writes() const {
    std::vector<ArmRecordedRequest> out;
    for (const ArmRecordedRequest& r : arm->requests()) {
      if (r.method == "PUT" || (r.method == "POST" && r.path.find("/oauth2/") == std::string::npos)) out.push_back(r);
    }
    return out;
  }
};

inline protocol::UpgradeControlPlane control_plane(const std::string& version) {
  return protocol::UpgradeControlPlane{*model::parse_kubernetes_version(version)};
}

inline protocol::UpgradeNodePool pool_upgrade(const std::string& pool, const std::string& version) {
  protocol::UpgradeNodePool p;
  p.pool = pool;
  if (!version.empty()) p.kubernetes_version = *model::parse_kubernetes_version(version);
  p.max_surge = protocol::NodeBudget{33, true};
  return p;
}

inline json aks_node(const std::string& name, const std::string& pool) {
  return {{"metadata",
           {{"name", name},
            {"labels",
             {{"kubernetes.azure.com/agentpool", pool},
              {"kubernetes.azure.com/cluster", "MC_fleet-rg_aks-westeurope-1_westeurope"},
              {"kubernetes.azure.com/node-image-version", kImage}}}}},
          {"spec", json::object()},
          {"status",
           {{"capacity", {{"cpu", "8"}, {"memory", "32Gi"}}},
            {"allocatable", {{"cpu", "7"}, {"memory", "30Gi"}}},
            {"nodeInfo", {{"kubeletVersion", "v1.31.4"}, {"osImage", "Ubuntu 22.04.5 LTS"}}}}}};
}

struct BackendFixture : AksFixture {
  std::unique_ptr<KubeApiDouble> kube;

  explicit BackendFixture(bool aks_arc = false) : AksFixture(aks_arc) {
    KubeApiDoubleOptions o;
    o.tls_cert_file = pki.server_cert_file;
    o.tls_key_file = pki.server_key_file;
    o.watch_hold = 20ms;
    auto started = KubeApiDouble::start(o);
    REQUIRE(started.ok());
    kube = std::move(*started);
    kube->put_node(aks_node("aks-gpu-0", "gpu"));
  }

  KubernetesBackendOptions backend_options(bool aks) const {
    KubernetesBackendOptions o;
    KubeConnection c;
    c.server = kube->url();
    c.ca_file = pki.ca_file;
    c.token = "test-token";
    c.source = "test";
    o.connection = c;
    o.cluster_name = "aks-westeurope-1";
    o.watch_timeout = 5s;
    o.watch_retry = 20ms;
    o.request_timeout = 5s;
    o.gpu_admission = false;
    if (!aks) return o;
    (arm->options().aks_arc ? o.aks.arc_cluster_id : o.aks.cluster_id) = arm->cluster_id();
    o.aks.arm_endpoint = arm->url();
    o.aks.authority = arm->url();
    o.aks.tenant_id = arm->options().tenant_id;
    o.aks.client_id = arm->options().client_id;
    o.aks.federated_token_file = token_file.string();
    o.aks.ca_file = pki.ca_file;
    o.aks.poll_interval = 5ms;
    o.aks.poll_floor = 1ms;
    o.aks.poll_cap = 10ms;
    o.aks.busy_retry = 5ms;
    o.aks.step_timeout = 5s;
    return o;
  }

  static std::unique_ptr<ClusterBackend> backend(const KubernetesBackendOptions& o) {
    auto b = make_kubernetes_backend(o);
    REQUIRE(b.ok());
    REQUIRE((*b)->inventory().ok());
    return std::move(*b);
  }
};

inline protocol::CommandStatus wait_finished(ClusterBackend& b, const std::string& id) {
  std::optional<protocol::CommandStatus> s;
  REQUIRE(eventually([&] {
    s = b.status(id);
    return s && s->state != protocol::CommandState::kRunning;
  }));
  return *s;
}

}  // namespace fleet::agent::kube::aks_testing
