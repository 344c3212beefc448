// Blue-green node pools on AKS (issue #13 item 4): the aks driver's blue_green_node_pool against the ARM test double
// (testing/arm_api_double.hpp; not Azure), with the node cache, cordon and drain as recorded fakes; then through the
// kubernetes backend, where cordon and drain are real calls to the kube API double and the new pool's nodes appear
// in it when ARM's create ends. What is checked: the requests ARM gets (one PUT creating the new pool from the old
// one, one DELETE), the order on the nodes (every old node cordoned before any is drained, and only once every new
// node is up and admitted), a replace that cannot finish putting things back, Retire and Restore, and a replace
// sent again after an agent restart following the create in flight instead of sending another.
#include <catch2/catch.hpp>
#include <future>

#include "agents/kube/tests/aks_fixture.hpp"
#include "agents/testing/start_command.hpp"

namespace fleet::agent::kube {

using namespace aks_testing;

namespace aks_blue_green_test {

// The cluster's nodes as the driver sees them: the old pool's four GPU nodes, and the new pool's once ARM's create
// has ended (each admitted after `reads_to_admit` reads of the node cache, or quarantined if named).
struct Nodes {
  AksFixture& f;
  std::mutex mutex;
  std::vector<std::string> calls;  // "cordon aks-gpu-0", "uncordon …", "drain …", in order
  std::map<std::string, int> reads;
  int reads_to_admit = 2;
  std::string quarantine;  // a new node whose probe fails
  std::string drain_fails;

  explicit Nodes(AksFixture& fixture) : f(fixture) {}

  std::vector<PoolNode> pool(const std::string& name) {
    std::vector<PoolNode> out;
    auto resource = f.arm->pool(name);
    if (!resource || resource->value("/properties/provisioningState"_json_pointer, std::string()) == "Creating") {
      return out;
    }
    const std::string version = (*resource)["properties"].value("currentOrchestratorVersion", "1.31.4");
    std::lock_guard lock(mutex);
    for (int i = 0; i < 4; ++i) {
      PoolNode n{"aks-" + name + "-" + std::to_string(i), version, kImage, true, model::Admission::kAdmitted};
      if (name != "gpu") {
        n.node_image = f.arm->options().latest_node_image;
        n.admission = ++reads[n.name] > reads_to_admit ? model::Admission::kAdmitted : model::Admission::kPendingProbe;
        if (n.name == quarantine && reads[n.name] > 1) n.admission = model::Admission::kQuarantined;
      }
      out.push_back(n);
    }
    return out;
  }

  void attach(UpgradeContext& ctx) {
    ctx.pool_nodes = [this](const std::string& name) { return pool(name); };
    ctx.cordon = [this](const std::string& node, bool cordon) -> Result<std::string> {
      std::lock_guard lock(mutex);
      calls.push_back((cordon ? "cordon " : "uncordon ") + node);
      return std::string("ok");
    };
    ctx.drain = [this](const std::string& node) -> Result<std::string> {
      std::lock_guard lock(mutex);
      calls.push_back("drain " + node);
      if (node == drain_fails) {
        return make_error(ErrorCode::kUnavailable, "drain of " + node + " timed out: pod default/web-1 (PDB web)");
      }
      return std::string("drained");
    };
  }

  std::vector<std::string> recorded() {
    std::lock_guard lock(mutex);
    return calls;
  }
};

protocol::BlueGreenNodePool phase(protocol::BlueGreenPhase p) {
  protocol::BlueGreenNodePool c;
  c.pool = "gpu";
  c.new_pool = "gpu2";
  c.phase = p;
  if (p == protocol::BlueGreenPhase::kReplace) c.kubernetes_version = *model::parse_kubernetes_version("1.32.7");
  return c;
}

std::vector<std::string> writes_of(const AksFixture& f) {
  std::vector<std::string> out;
  for (const ArmRecordedRequest& r : f.arm->requests()) {
    if (r.method == "PUT" || r.method == "DELETE") out.push_back(r.method + " " + r.path.substr(r.path.rfind('/')));
  }
  return out;
}

// The driver over the ARM double with the recorded node fakes: what each driver test starts from.
struct BlueGreen {
  AksFixture f;
  Nodes nodes{f};
  std::unique_ptr<UpgradeDriver> driver = make_aks_driver(f.options());
  UpgradeContext ctx = context();

  UpgradeContext context() {
    UpgradeContext c = f.context();
    nodes.attach(c);
    return c;
  }
  UpgradeOutcome run(protocol::BlueGreenPhase p) { return driver->blue_green_node_pool(ctx, phase(p)); }
};

}  // namespace aks_blue_green_test

using aks_blue_green_test::BlueGreen;
using aks_blue_green_test::phase;
using aks_blue_green_test::writes_of;
using protocol::BlueGreenPhase;

TEST_CASE(
    "aks blue-green: Replace creates the new pool from the old one, waits for its nodes to be admitted, then "
    "cordons every old node before draining them",
    "[aks][blue-green]") {
  BlueGreen t;
  AksFixture& f = t.f;
  REQUIRE(t.driver->replaces_node_pools());
  auto out = t.run(BlueGreenPhase::kReplace);
  REQUIRE(out.ok());
  CHECK(*out ==
        "AKS pool gpu replaced by gpu2 at 1.32.7 (4 nodes, node image AKSUbuntu-2204gen2containerd-202511.03.0); "
        "pool gpu is cordoned and drained, kept until it is retired");

  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2"});
  const ArmRecordedRequest put = [&] {
    for (const ArmRecordedRequest& r : f.arm->requests()) {
      if (r.method == "PUT") return r;
    }
    return ArmRecordedRequest{};
  }();
  CHECK(put.query == "api-version=2025-05-01");
  CHECK(put.if_match.empty());
  const json body = json::parse(put.body);
  CHECK(body["properties"]["orchestratorVersion"] == "1.32.7");
  CHECK(body["properties"]["vmSize"] == "Standard_ND96isr_H100_v5");
  CHECK(body["properties"]["count"] == 4);
  CHECK(body["properties"]["mode"] == "User");
  CHECK_FALSE(body["properties"].contains("provisioningState"));
  CHECK_FALSE(body.contains("name"));
  const json created = f.arm->pool("gpu2").value();
  CHECK(created["properties"]["provisioningState"] == "Succeeded");
  CHECK(created["properties"]["currentOrchestratorVersion"] == "1.32.7");
  CHECK(f.arm->pool("gpu").has_value());  // kept for the soak

  const std::vector<std::string> expected = {"cordon aks-gpu-0", "cordon aks-gpu-1", "cordon aks-gpu-2",
                                             "cordon aks-gpu-3", "drain aks-gpu-0",  "drain aks-gpu-1",
                                             "drain aks-gpu-2",  "drain aks-gpu-3"};
  CHECK(t.nodes.recorded() == expected);
  CHECK(f.count_events("pool_creating") == 1);
  CHECK(f.count_events("upgrade_started") == 1);
  CHECK(f.count_events("node_created") == 4);
  CHECK(f.count_events("node_admitted") == 4);
  CHECK(f.count_events("workloads_moved") == 1);
  {
    std::lock_guard lock(f.mutex);
    CHECK(f.status.nodes_total == 4);
    CHECK(f.status.nodes_done == 4);
    // Every new node was admitted before the first old node was cordoned: the events say so in order.
    std::size_t last_admitted = 0;
    std::size_t moved = 0;
    for (std::size_t i = 0; i < f.events.size(); ++i) {
      if (f.events[i].type == "node_admitted") last_admitted = i;
      if (f.events[i].type == "workloads_moved") moved = i;
    }
    CHECK(last_admitted < moved);
  }

  // Sent again (a redelivery): the pool is there at the target, so nothing is created; the nodes are read again.
  auto again = t.run(BlueGreenPhase::kReplace);
  REQUIRE(again.ok());
  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2"});
}

TEST_CASE("aks blue-green: a new node whose probe fails deletes the new pool and leaves the old one as it was",
          "[aks][blue-green]") {
  BlueGreen t;
  AksFixture& f = t.f;
  t.nodes.reads_to_admit = 100;
  t.nodes.quarantine = "aks-gpu2-2";
  auto out = t.run(BlueGreenPhase::kReplace);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().type == "probe-failed");
  CHECK(out.error().message ==
        "node aks-gpu2-2 of the new pool gpu2 failed its GPU probe (quarantined); pool gpu2 was deleted and pool gpu "
        "is as it was");
  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2", "DELETE /gpu2"});
  CHECK_FALSE(f.arm->pool("gpu2").has_value());
  for (const std::string& call : t.nodes.recorded()) {
    INFO(call);
    CHECK(call.rfind("uncordon aks-gpu-", 0) == 0);  // nothing was cordoned or drained; uncordon is harmless
  }
  CHECK(f.count_events("pool_deleted") == 1);
}

TEST_CASE("aks blue-green: a drain that fails uncordons the old pool and deletes the new one", "[aks][blue-green]") {
  BlueGreen t;
  AksFixture& f = t.f;
  t.nodes.drain_fails = "aks-gpu-1";
  auto out = t.run(BlueGreenPhase::kReplace);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().message ==
        "drain of aks-gpu-1 timed out: pod default/web-1 (PDB web); pool gpu2 was deleted and pool gpu is as it was");
  const std::vector<std::string> calls = t.nodes.recorded();
  REQUIRE(calls.size() == 10);
  CHECK(calls[5] == "drain aks-gpu-1");
  CHECK(
      std::vector<std::string>(calls.begin() + 6, calls.end()) ==
      std::vector<std::string>{"uncordon aks-gpu-0", "uncordon aks-gpu-1", "uncordon aks-gpu-2", "uncordon aks-gpu-3"});
  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2", "DELETE /gpu2"});
  CHECK_FALSE(f.arm->pool("gpu2").has_value());
}

TEST_CASE("aks blue-green: a new pool name AKS already has is refused and left alone", "[aks][blue-green]") {
  BlueGreen t;
  AksFixture& f = t.f;
  f.arm->add_pool("gpu2", "1.31.4", 2, kImage);
  auto out = t.run(BlueGreenPhase::kReplace);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().type == "pool-exists");
  CHECK(writes_of(f).empty());
  CHECK(t.nodes.recorded().empty());
  CHECK(f.arm->pool("gpu2").has_value());
}

TEST_CASE("aks blue-green: Retire deletes the old pool once, following the 202, and not while the new one is missing",
          "[aks][blue-green]") {
  BlueGreen t;
  AksFixture& f = t.f;

  auto early = t.run(BlueGreenPhase::kRetire);
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().type == "no-replacement");
  CHECK(early.error().message ==
        "AKS has no pool gpu2, so retiring pool gpu would leave its workloads nowhere to go; pool gpu is kept");
  CHECK(writes_of(f).empty());

  REQUIRE(t.run(BlueGreenPhase::kReplace).ok());
  SECTION("with Azure-AsyncOperation") {}
  SECTION("with Location only") {
    f.arm->location_only(true);
  }
  auto retired = t.run(BlueGreenPhase::kRetire);
  REQUIRE(retired.ok());
  CHECK(*retired == "AKS pool gpu deleted; gpu2 replaces it");
  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2", "DELETE /gpu"});
  CHECK_FALSE(f.arm->pool("gpu").has_value());
  CHECK(f.arm->pool("gpu2").has_value());
  CHECK(f.count_events("pool_deleting") == 1);
  CHECK(f.count_events("pool_deleted") == 1);

  // Sent again (an agent restart after the deletion): nothing is sent, and nothing is said to be deleted.
  auto again = t.run(BlueGreenPhase::kRetire);
  REQUIRE(again.ok());
  CHECK(*again == "AKS pool gpu was already deleted");
  CHECK(writes_of(f).size() == 2);
  CHECK(f.count_events("pool_deleting") == 1);
  CHECK(f.count_events("pool_deleted") == 1);
}

TEST_CASE("aks blue-green: Restore uncordons the old pool first, drains the new one, then deletes it",
          "[aks][blue-green]") {
  BlueGreen t;
  AksFixture& f = t.f;
  REQUIRE(t.run(BlueGreenPhase::kReplace).ok());
  const std::size_t replace_calls = t.nodes.recorded().size();
  auto restored = t.run(BlueGreenPhase::kRestore);
  REQUIRE(restored.ok());
  CHECK(*restored == "AKS pool gpu takes its workloads back; pool gpu2 deleted");
  const std::vector<std::string> calls = t.nodes.recorded();
  CHECK(std::vector<std::string>(calls.begin() + static_cast<std::ptrdiff_t>(replace_calls), calls.end()) ==
        std::vector<std::string>{"uncordon aks-gpu-0", "uncordon aks-gpu-1", "uncordon aks-gpu-2", "uncordon aks-gpu-3",
                                 "cordon aks-gpu2-0", "cordon aks-gpu2-1", "cordon aks-gpu2-2", "cordon aks-gpu2-3",
                                 "drain aks-gpu2-0", "drain aks-gpu2-1", "drain aks-gpu2-2", "drain aks-gpu2-3"});
  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2", "DELETE /gpu2"});
  CHECK_FALSE(f.arm->pool("gpu2").has_value());
  CHECK(f.arm->pool("gpu").has_value());

  // After a Retire there is nothing to go back to.
  REQUIRE(t.run(BlueGreenPhase::kReplace).ok());
  REQUIRE(t.run(BlueGreenPhase::kRetire).ok());
  auto late = t.run(BlueGreenPhase::kRestore);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == ErrorCode::kNotFound);
}

TEST_CASE("aks blue-green: a replace sent again after an agent restart follows the create in flight",
          "[aks][blue-green]") {
  BlueGreen t;
  AksFixture& f = t.f;
  f.arm->end_operations_with(testing::OperationEnd::kHang);
  auto first = std::async(std::launch::async, [&] { return t.run(BlueGreenPhase::kReplace); });
  REQUIRE(eventually([&] { return f.arm->count("GET", "/operations/") >= 1; }));
  f.stopping = true;  // the agent stops while ARM is still creating the pool
  auto out = first.get();
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().type == "agent-stopping");
  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2"});  // stopping undoes nothing
  CHECK(f.arm->pool("gpu2").value()["properties"]["provisioningState"] == "Creating");

  f.arm->release_hung_operations(2);
  f.stopping = false;
  auto restarted = make_aks_driver(f.options());  // the next agent
  auto ctx = t.context();
  auto second = restarted->blue_green_node_pool(ctx, phase(BlueGreenPhase::kReplace));
  REQUIRE(second.ok());
  CHECK(writes_of(f) == std::vector<std::string>{"PUT /gpu2"});
  CHECK(f.count_events("upgrade_resumed") == 1);
  CHECK(f.count_events("pool_creating") == 1);  // the first agent's; the resume created nothing
  CHECK(f.arm->pool("gpu2").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
}

// Through the kubernetes backend: real cordons and evictions in the kube API double, the new pool's nodes added to
// it when ARM's create ends and the old pool's removed when its delete ends.
TEST_CASE("aks backend: blue_green_node_pool moves the pods off the old pool through the kube API, then retires it",
          "[aks][blue-green]") {
  BackendFixture f;
  f.kube->put_pod(
      {{"metadata",
        {{"name", "web-1"},
         {"namespace", "default"},
         {"ownerReferences", json::array({{{"kind", "ReplicaSet"}, {"name", "web"}, {"controller", true}}})}}},
       {"spec", {{"nodeName", "aks-gpu-0"}}}});
  KubeApiDouble* kube = f.kube.get();
  f.arm->on_pool_created([kube](const std::string& name, const json& pool) {
    for (int i = 0; i < pool["properties"]["count"].get<int>(); ++i) {
      json node = aks_node("aks-" + name + "-" + std::to_string(i), name);
      node["status"]["nodeInfo"]["kubeletVersion"] =
          "v" + pool["properties"]["currentOrchestratorVersion"].get<std::string>();
      kube->put_node(node);
    }
  });
  f.arm->on_pool_deleted([kube](const std::string& name) {
    for (int i = 0; i < 8; ++i) {
      const std::string node = "aks-" + name + "-" + std::to_string(i);
      if (kube->node(node)) kube->delete_node(node);
    }
  });
  auto b = BackendFixture::backend(f.backend_options(true));
  using ::fleet::agent::testing::start_command;
  const json replace = {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Replace"}, {"kubernetesVersion", "1.32.7"}};
  REQUIRE(start_command(*b, "bg", "blue_green_node_pool", replace).ok());
  protocol::CommandStatus s = wait_finished(*b, "bg");
  INFO(s.message);
  REQUIRE(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.nodes_total == 4);  // the new pool's nodes, up and admitted
  CHECK(s.nodes_done == 4);
  CHECK(s.details["aks-gpu-0"] == "drained");
  CHECK(f.kube->node("aks-gpu-0").value()["spec"]["unschedulable"] == true);
  CHECK(f.kube->pods_on("aks-gpu-0").empty());
  CHECK(f.kube->eviction_attempts("default", "web-1") == 1);
  CHECK(f.kube->node("aks-gpu2-0").has_value());
  std::vector<std::string> types;
  for (const auto& e : b->poll()) types.push_back(e.type + (e.node.empty() ? "" : " " + e.node));
  for (const char* want : {"pool_creating", "upgrade_started", "node_created aks-gpu2-0", "node_cordoned aks-gpu-0",
                           "pod_evicted aks-gpu-0", "node_drained aks-gpu-0", "workloads_moved", "command_succeeded"}) {
    INFO(want);
    CHECK(std::find(types.begin(), types.end(), want) != types.end());
  }

  const json retire = {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Retire"}};
  REQUIRE(start_command(*b, "bg.retire", "blue_green_node_pool", retire).ok());
  CHECK(wait_finished(*b, "bg.retire").state == protocol::CommandState::kSucceeded);
  CHECK_FALSE(f.arm->pool("gpu").has_value());
  REQUIRE(eventually([&] { return !f.kube->node("aks-gpu-0").has_value(); }));
}

TEST_CASE("aks backend: blue_green_node_pool is refused at start without a driver that creates pools",
          "[aks][blue-green]") {
  BackendFixture f;
  auto b = BackendFixture::backend(f.backend_options(false));
  const json replace = {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Replace"}, {"kubernetesVersion", "1.32.7"}};
  auto started = ::fleet::agent::testing::start_command(*b, "bg", "blue_green_node_pool", replace);
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().type == "unsupported-command");
  CHECK(started.error().message.find("looks like an AKS cluster") != std::string::npos);
}

}  // namespace fleet::agent::kube
