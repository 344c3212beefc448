// The system-upgrade-controller upgrade driver: the Plans it builds (pure), and the driver against the Kubernetes
// API test double (testing/kube_api_double.hpp), with testing/suc_controller_double.hpp standing in for the
// controller: it reads the applied Plan, "upgrades" the selected nodes (their kubelet version) and writes the Plan's
// status as system-upgrade-controller does. Not a real controller: no cordon or drain, and no Jobs of its own (a
// test that needs a failed upgrade Job puts one in the double, in the controller's shape).
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "agents/kube/kube_api.hpp"
#include "agents/kube/kubernetes_backend.hpp"
#include "agents/kube/testing/kube_api_double.hpp"
#include "agents/kube/testing/suc_controller_double.hpp"
#include "agents/kube/testing/test_pki.hpp"
#include "agents/kube/upgrade/suc_driver.hpp"
#include "agents/testing/start_command.hpp"
#include "common/time_format.hpp"
#include "model/version.hpp"

namespace fleet::agent::kube {

using nlohmann::json;
using testing::KubeApiDouble;
using testing::KubeApiDoubleOptions;
using testing::SucControllerDouble;
using testing::TestPki;
using namespace std::chrono_literals;

namespace {

const std::string kPlans = "/apis/upgrade.cattle.io/v1/namespaces/system-upgrade/plans/";

json k3s_node(const std::string& name, bool control_plane) {
  json labels = {{"kubernetes.io/hostname", name}, {"node.kubernetes.io/pool", control_plane ? "server" : "workers"}};
  if (control_plane) labels["node-role.kubernetes.io/control-plane"] = "true";
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", json::object()},
          {"status", {{"nodeInfo", {{"kubeletVersion", "v1.31.4+k3s1"}}}}}};
}

struct SucFixture {
  TestPki pki;
  std::unique_ptr<KubeApiDouble> api;
  std::unique_ptr<KubeApi> client;
  std::mutex mutex;
  std::vector<std::string> events;  // "type node"
  protocol::CommandStatus status;

  SucFixture() {
    KubeApiDoubleOptions o;
    o.tls_cert_file = pki.server_cert_file;
    o.tls_key_file = pki.server_key_file;
    auto started = KubeApiDouble::start(o);
    REQUIRE(started.ok());
    api = std::move(*started);
    api->put_node(k3s_node("server-0", true));
    api->put_node(k3s_node("worker-0", false));
    api->put_node(k3s_node("worker-1", false));
    KubeConnection c;
    c.server = api->url();
    c.ca_file = pki.ca_file;
    c.token = "test-token";
    c.source = "test";
    auto k = KubeApi::create(c, 5s);
    REQUIRE(k.ok());
    client = std::move(*k);
  }

  UpgradeContext context() {
    UpgradeContext c;
    c.emit = [this](const std::string& type, const std::string& node, const std::string&) {
      std::lock_guard lock(mutex);
      events.push_back(type + (node.empty() ? "" : " " + node));
    };
    c.update = [this](const std::function<void(protocol::CommandStatus&)>& change) {
      std::lock_guard lock(mutex);
      change(status);
    };
    c.sleep = [](std::chrono::milliseconds d) {
      std::this_thread::sleep_for(d);
      return true;
    };
    c.now = [] { return std::chrono::steady_clock::now(); };
    c.pool_nodes = [this](const std::string& pool) {
      std::vector<PoolNode> out;
      if (pool != "workers") return out;
      for (const char* name : {"worker-0", "worker-1"}) {
        std::string v = api->node(name).value()["status"]["nodeInfo"]["kubeletVersion"];
        out.push_back(PoolNode{name, v.substr(1), ""});
      }
      return out;
    };
    c.kube = client.get();
    return c;
  }

  static SucDriverOptions options() {
    SucDriverOptions o;
    o.poll_interval = 5ms;
    o.step_timeout = 5s;
    return o;
  }

  int plan_applies() const { return api->count_requests("PATCH", kPlans); }
};

protocol::UpgradeNodePool workers(const std::string& version) {
  protocol::UpgradeNodePool p;
  p.pool = "workers";
  p.kubernetes_version = *model::parse_kubernetes_version(version);
  p.max_unavailable = protocol::NodeBudget{50, true};
  return p;
}

}  // namespace

TEST_CASE("suc plan: the control-plane and pool Plans in the upgrade.cattle.io/v1 shape", "[suc]") {
  const SucPlanOptions o;
  const json cp = control_plane_plan("1.32.7", o);
  CHECK(cp["apiVersion"] == "upgrade.cattle.io/v1");
  CHECK(cp["kind"] == "Plan");
  CHECK(cp["metadata"]["name"] == "fleet-control-plane");
  CHECK(cp["metadata"]["namespace"] == "system-upgrade");
  CHECK(cp["spec"]["version"] == "v1.32.7+k3s1");
  CHECK(cp["spec"]["concurrency"] == 1);
  CHECK(cp["spec"]["cordon"] == true);
  CHECK_FALSE(cp["spec"].contains("drain"));
  CHECK(cp["spec"]["serviceAccountName"] == "system-upgrade");
  CHECK(cp["spec"]["upgrade"]["image"] == "rancher/k3s-upgrade");
  CHECK(cp["spec"]["nodeSelector"]["matchExpressions"][0]["key"] == "node-role.kubernetes.io/control-plane");

  const json pool = pool_plan("gpu", {"n2", "n1"}, "1.32.7", 2, o);
  CHECK(pool["metadata"]["name"] == "fleet-pool-gpu");
  CHECK(pool["spec"]["concurrency"] == 2);
  CHECK(pool["spec"]["drain"]["force"] == true);
  const json& sel = pool["spec"]["nodeSelector"]["matchExpressions"];
  CHECK(sel[0] == json{{"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", {"n1", "n2"}}});
  CHECK(sel[1] == json{{"key", "node-role.kubernetes.io/control-plane"}, {"operator", "DoesNotExist"}});
  CHECK(suc_plan_name(std::string(60, 'a')).size() == 63);
  CHECK(suc_plan_path("p", o) == "/apis/upgrade.cattle.io/v1/namespaces/system-upgrade/plans/p");
}

TEST_CASE("suc plan: apply, follow a Plan in flight, or nothing to do", "[suc]") {
  CHECK(decide_plan(read_plan(nullptr), "v1.32.7+k3s1") == UpgradeDecision::kSend);
  json plan = {{"spec", {{"version", "v1.31.4+k3s1"}}}};
  CHECK(decide_plan(read_plan(plan), "v1.32.7+k3s1") == UpgradeDecision::kSend);
  plan["spec"]["version"] = "v1.32.7+k3s1";
  CHECK(decide_plan(read_plan(plan), "v1.32.7+k3s1") == UpgradeDecision::kFollow);
  plan["status"] = {{"latestVersion", "v1.32.7-k3s1"},
                    {"applying", json::array({"n1"})},
                    {"conditions", json::array({{{"type", "Complete"}, {"status", "False"}, {"reason", "Applying"}}})}};
  const PlanView v = read_plan(plan);
  CHECK(v.applying == std::vector<std::string>{"n1"});
  CHECK(v.complete == false);
  CHECK(decide_plan(v, "v1.32.7+k3s1") == UpgradeDecision::kFollow);
  plan["status"]["conditions"][0]["status"] = "True";
  CHECK(decide_plan(read_plan(plan), "v1.32.7+k3s1") == UpgradeDecision::kDone);
  // A pool's Plan is decided with the nodes it selects too: one cut short at a window's end selects fewer.
  const json pool = pool_plan("workers", {"w2", "w1"}, "1.32.7", 1, SucPlanOptions{});
  CHECK(read_plan(pool).hostnames == std::vector<std::string>{"w1", "w2"});
  CHECK(decide_plan(read_plan(pool), "v1.32.7+k3s1", std::vector<std::string>{"w2", "w1"}) == UpgradeDecision::kFollow);
  CHECK(decide_plan(read_plan(pool), "v1.32.7+k3s1", std::vector<std::string>{"w1"}) == UpgradeDecision::kSend);
  const json none = pool_plan("workers", {}, "1.32.7", 1, SucPlanOptions{});
  CHECK(none["spec"]["nodeSelector"]["matchExpressions"][0] ==
        json{{"key", "kubernetes.io/hostname"}, {"operator", "DoesNotExist"}});
  CHECK(read_plan(none).hostnames == std::vector<std::string>{});
  CHECK_FALSE(read_plan(control_plane_plan("1.32.7", SucPlanOptions{})).hostnames.has_value());
  CHECK(same_suc_version("v1.32.7+k3s1", "v1.32.7-k3s1"));
  CHECK(kubelet_at("1.32.7+k3s1", "1.32.7"));
  CHECK(kubelet_at("1.32.7", "1.32.7"));
  CHECK_FALSE(kubelet_at("1.32.70", "1.32.7"));
  CHECK_FALSE(kubelet_at("1.31.4+k3s1", "1.32.7"));
}

TEST_CASE("suc plan: the controller's upgrade Job that failed for the Plan's version", "[suc]") {
  CHECK(suc_jobs_path("fleet-pool-gpu", SucPlanOptions{}) ==
        "/apis/batch/v1/namespaces/system-upgrade/jobs?labelSelector=upgrade.cattle.io%2Fplan%3Dfleet-pool-gpu");
  const auto job = [](const std::string& name, const std::string& node, const std::string& version,
                      const std::string& failed) {
    json j = {{"metadata",
               {{"name", name},
                {"labels",
                 {{"upgrade.cattle.io/plan", "fleet-pool-gpu"},
                  {"upgrade.cattle.io/node", node},
                  {"upgrade.cattle.io/version", version}}}}},
              {"status", {{"active", 1}}}};
    if (!failed.empty()) {
      j["status"] = {{"failed", 3},
                     {"conditions", json::array({{{"type", "Failed"},
                                                  {"status", failed},
                                                  {"reason", "BackoffLimitExceeded"},
                                                  {"message", "Job has reached the specified backoff limit"}}})}};
    }
    return j;
  };
  json list = {
      {"kind", "JobList"},
      {"items", json::array({job("apply-fleet-pool-gpu-on-n3-with-aa", "n3", "v1.31.4-k3s1", "True"),  // a leftover
                             job("apply-fleet-pool-gpu-on-n1-with-bb", "n1", "v1.32.7-k3s1", ""),      // running
                             job("apply-fleet-pool-gpu-on-n2-with-bb", "n2", "v1.32.7-k3s1", "False"), 42,
                             json{{"metadata", {{"labels", {{"upgrade.cattle.io/version", 7}}}}}}})}};
  CHECK_FALSE(failed_upgrade_job(list, "v1.32.7-k3s1").has_value());
  list["items"][2]["status"]["conditions"][0]["status"] = "True";
  const auto failed = failed_upgrade_job(list, "v1.32.7+k3s1");  // the spec's spelling works as well
  REQUIRE(failed.has_value());
  CHECK(failed->job == "apply-fleet-pool-gpu-on-n2-with-bb");
  CHECK(failed->node == "n2");
  CHECK(failed->reason == "BackoffLimitExceeded");
  CHECK(failed->message == "Job has reached the specified backoff limit");
  CHECK(failed_upgrade_job(list, "v1.31.4-k3s1")->node == "n3");
  CHECK_FALSE(failed_upgrade_job(json::array(), "v1.32.7-k3s1").has_value());
  CHECK_FALSE(failed_upgrade_job(json{{"items", "x"}}, "v1.32.7-k3s1").has_value());
}

TEST_CASE("suc driver: a pool upgrade applies one Plan and follows it to Complete, node by node", "[suc]") {
  SucFixture f;
  SucControllerDouble controller(*f.api, {kPlans + "fleet-pool-workers"});
  auto driver = make_suc_driver(SucFixture::options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, workers("1.32.7"));
  REQUIRE(out.ok());
  CHECK(*out == "pool workers upgraded to 1.32.7 by system-upgrade-controller");
  CHECK(f.plan_applies() == 1);
  const auto applied = f.api->requests();
  const auto patch = std::find_if(applied.begin(), applied.end(), [](const auto& r) { return r.method == "PATCH"; });
  REQUIRE(patch != applied.end());
  CHECK(patch->path == kPlans + "fleet-pool-workers");
  CHECK(patch->content_type == "application/apply-patch+yaml");
  CHECK(patch->query.find("fieldManager=fleet-agent") != std::string::npos);
  const json plan = json::parse(patch->body);
  CHECK(plan["spec"]["version"] == "v1.32.7+k3s1");
  CHECK(plan["spec"]["concurrency"] == 1);  // 50% of 2 nodes
  CHECK(plan["spec"]["nodeSelector"]["matchExpressions"][0]["values"] == json{"worker-0", "worker-1"});
  std::lock_guard lock(f.mutex);
  CHECK(std::count(f.events.begin(), f.events.end(), "node_upgraded worker-0") == 1);
  CHECK(std::count(f.events.begin(), f.events.end(), "node_upgraded worker-1") == 1);
  CHECK(std::count(f.events.begin(), f.events.end(), "upgrade_started") == 1);
  CHECK(f.status.nodes_done == 2);
}

TEST_CASE("suc driver: the control plane, and a second command for the same version sends nothing", "[suc]") {
  SucFixture f;
  SucControllerDouble controller(*f.api, {kPlans + "fleet-control-plane"});
  auto driver = make_suc_driver(SucFixture::options());
  auto ctx = f.context();
  auto out =
      driver->upgrade_control_plane(ctx, protocol::UpgradeControlPlane{*model::parse_kubernetes_version("1.32.7")});
  REQUIRE(out.ok());
  CHECK(f.api->count_requests("PATCH", kPlans + "fleet-control-plane") == 1);
  auto again =
      driver->upgrade_control_plane(ctx, protocol::UpgradeControlPlane{*model::parse_kubernetes_version("1.32.7")});
  REQUIRE(again.ok());
  CHECK(*again == "the control plane is already at 1.32.7");
  CHECK(f.plan_applies() == 1);
  std::lock_guard lock(f.mutex);
  CHECK(std::count(f.events.begin(), f.events.end(), "control_plane_upgraded") == 1);
}

TEST_CASE("suc driver: a Plan already applied for the version is followed after a restart, not applied again",
          "[suc]") {
  SucFixture f;
  json plan = pool_plan("workers", {"worker-0", "worker-1"}, "1.32.7", 1, SucPlanOptions{});
  plan["status"] = {{"latestVersion", "v1.32.7+k3s1"},
                    {"applying", json::array({"worker-0"})},
                    {"conditions", json::array({{{"type", "Complete"}, {"status", "False"}}})}};
  f.api->put_object(kPlans + "fleet-pool-workers", plan);
  // The controller goes on only once the driver has read the Plan, so that it cannot finish the Plan before the
  // driver looks (it did under a loaded CTest).
  SucControllerDouble controller(*f.api, {kPlans + "fleet-pool-workers"}, true);
  std::thread release([&] {
    while (f.api->count_requests("GET", kPlans) == 0) std::this_thread::sleep_for(1ms);
    controller.hold(false);
  });
  auto driver = make_suc_driver(SucFixture::options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, workers("1.32.7"));
  release.join();
  REQUIRE(out.ok());
  CHECK(*out == "pool workers upgraded to 1.32.7 by system-upgrade-controller (a Plan already applied was followed)");
  CHECK(f.plan_applies() == 0);
}

TEST_CASE("suc driver: a Plan that never completes fails at the step timeout", "[suc]") {
  SucFixture f;
  SucControllerDouble controller(*f.api, {kPlans + "fleet-pool-workers"}, true);  // never finishes a node
  SucDriverOptions o = SucFixture::options();
  o.step_timeout = 150ms;
  auto driver = make_suc_driver(o);
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, workers("1.32.7"));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().type == "upgrade-timeout");
  CHECK(out.error().message.find("system-upgrade-controller: pool workers did not reach 1.32.7 within the step "
                                 "timeout") == 0);
  CHECK(f.plan_applies() == 1);
  protocol::UpgradeNodePool image;
  image.pool = "workers";
  image.node_image_version = "x";
  CHECK(driver->upgrade_node_pool(ctx, image).error().type == "unsupported-command");
}

TEST_CASE("suc driver: a node whose upgrade Job failed fails the command at once, naming it", "[suc]") {
  SucFixture f;
  SucControllerDouble controller(*f.api, {kPlans + "fleet-pool-workers"}, true);  // stuck applying worker-0
  // The controller's Job for worker-0 ran out of retries.
  f.api->put_object("/apis/batch/v1/namespaces/system-upgrade/jobs/apply-fleet-pool-workers-on-worker-0-with-5c1e2f",
                    {{"apiVersion", "batch/v1"},
                     {"kind", "Job"},
                     {"metadata",
                      {{"name", "apply-fleet-pool-workers-on-worker-0-with-5c1e2f"},
                       {"namespace", "system-upgrade"},
                       {"labels",
                        {{"upgrade.cattle.io/controller", "system-upgrade-controller"},
                         {"upgrade.cattle.io/plan", "fleet-pool-workers"},
                         {"upgrade.cattle.io/node", "worker-0"},
                         {"upgrade.cattle.io/version", "v1.32.7-k3s1"}}}}},
                     {"status",
                      {{"failed", 3},
                       {"conditions", json::array({{{"type", "Failed"},
                                                    {"status", "True"},
                                                    {"reason", "BackoffLimitExceeded"},
                                                    {"message", "Job has reached the specified backoff limit"}}})}}}});
  auto driver = make_suc_driver(SucFixture::options());  // a 5 s step timeout
  auto ctx = f.context();
  const auto started = std::chrono::steady_clock::now();
  auto out = driver->upgrade_node_pool(ctx, workers("1.32.7"));
  REQUIRE_FALSE(out.ok());
  CHECK(std::chrono::steady_clock::now() - started < 3s);  // at the first look, not at the timeout
  CHECK(out.error().type == "upgrade-failed");
  CHECK(out.error().message ==
        "system-upgrade-controller: the upgrade of node worker-0 to 1.32.7 failed (Job "
        "apply-fleet-pool-workers-on-worker-0-with-5c1e2f: BackoffLimitExceeded: Job has reached the specified "
        "backoff limit), so pool workers did not reach 1.32.7; the Plan stays (the controller tries the node again "
        "once the Job is deleted, and a later command for the same version follows it instead of applying it "
        "again), and the node stays cordoned as the controller left it");
  CHECK(f.plan_applies() == 1);
  CHECK(f.api->object(kPlans + "fleet-pool-workers").has_value());  // left for the controller
  CHECK(f.api->count_requests("GET", "/apis/batch/v1/namespaces/system-upgrade/jobs") >= 1);
  std::lock_guard lock(f.mutex);
  CHECK(f.status.details.at("worker-0") == "failed");
  CHECK(f.status.nodes_failed == 1);
}

TEST_CASE("suc driver: an apply answered 409 reads the Plan again and applies it again", "[suc]") {
  SucFixture f;
  f.api->refuse_apply(kPlans + "fleet-pool-workers", 409, "Conflict",
                      "Operation cannot be fulfilled on plans.upgrade.cattle.io \"fleet-pool-workers\": the object "
                      "has been modified; please apply your changes to the latest version and try again",
                      nullptr, 2);
  SucControllerDouble controller(*f.api, {kPlans + "fleet-pool-workers"});
  auto driver = make_suc_driver(SucFixture::options());
  auto ctx = f.context();
  auto out = driver->upgrade_node_pool(ctx, workers("1.32.7"));
  REQUIRE(out.ok());
  CHECK(*out == "pool workers upgraded to 1.32.7 by system-upgrade-controller");
  CHECK(f.plan_applies() == 3);
  CHECK(f.api->count_requests("GET", kPlans + "fleet-pool-workers") >= 3);  // read before each apply
  std::lock_guard lock(f.mutex);
  CHECK(std::count(f.events.begin(), f.events.end(), "upgrade_waiting") == 2);
  CHECK(std::count(f.events.begin(), f.events.end(), "upgrade_started") == 1);
}

TEST_CASE("suc driver: at notAfter the node in hand finishes, no other starts, and the next window finishes the pool",
          "[suc]") {
  SucFixture f;
  const auto not_after = std::chrono::system_clock::now() + std::chrono::hours(1);
  std::atomic<bool> ended{false};  // the wall clock: before notAfter, then after it
  auto ctx = f.context();
  ctx.wall_now = [&] { return ended ? not_after + 1s : not_after - 1h; };
  auto driver = make_suc_driver(SucFixture::options());
  protocol::UpgradeNodePool step = workers("1.32.7");
  step.not_after = not_after;

  SECTION("the window ends while worker-0 is in hand") {
    SucControllerDouble controller(*f.api, {kPlans + "fleet-pool-workers"}, true);  // worker-0 held in hand
    auto running = std::async(std::launch::async, [&] { return driver->upgrade_node_pool(ctx, step); });
    const auto applying = [&](const std::string& node) {
      auto plan = f.api->object(kPlans + "fleet-pool-workers");
      return plan && read_plan(*plan).applying == std::vector<std::string>{node};
    };
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!applying("worker-0")) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(2ms);
    }
    ended = true;
    // The driver applies the Plan again, selecting only worker-0, before the controller lets worker-0 finish.
    while (read_plan(f.api->object(kPlans + "fleet-pool-workers").value()).hostnames !=
           std::vector<std::string>{"worker-0"}) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(2ms);
    }
    controller.hold(false);
    auto out = running.get();
    REQUIRE(out.ok());
    CHECK(*out == "pool workers stopped at the maintenance window's end (notAfter " + format_rfc3339(not_after) +
                      "): the nodes in hand finished; 1 node left for the next window (worker-1)");
    CHECK(f.plan_applies() == 2);
    CHECK(f.api->node("worker-0").value()["status"]["nodeInfo"]["kubeletVersion"] == "v1.32.7+k3s1");
    CHECK(f.api->node("worker-1").value()["status"]["nodeInfo"]["kubeletVersion"] == "v1.31.4+k3s1");
    {
      std::lock_guard lock(f.mutex);
      CHECK(f.status.stopped);
    }

    // The next window: the same step again, without notAfter, applies the whole pool and finishes it.
    ended = false;
    step.not_after.reset();
    auto next = driver->upgrade_node_pool(ctx, step);
    REQUIRE(next.ok());
    CHECK(*next == "pool workers upgraded to 1.32.7 by system-upgrade-controller");
    CHECK(f.plan_applies() == 3);
    CHECK(f.api->node("worker-1").value()["status"]["nodeInfo"]["kubeletVersion"] == "v1.32.7+k3s1");
  }
  SECTION("delivered after notAfter: nothing is applied") {
    ended = true;
    auto out = driver->upgrade_node_pool(ctx, step);
    REQUIRE(out.ok());
    CHECK(*out == "pool workers stopped at the maintenance window's end (notAfter " + format_rfc3339(not_after) +
                      "): notAfter had passed when the command arrived; no node started; 2 nodes left for the next "
                      "window (worker-0, worker-1)");
    CHECK(f.plan_applies() == 0);
    std::lock_guard lock(f.mutex);
    CHECK(f.status.stopped);
  }
}

TEST_CASE("suc backend: upgrade_node_pool through the kubernetes backend, and the k3s hint without a driver", "[suc]") {
  SucFixture f;
  KubernetesBackendOptions o;
  KubeConnection c;
  c.server = f.api->url();
  c.ca_file = f.pki.ca_file;
  c.token = "test-token";
  c.source = "test";
  o.connection = c;
  o.watch_timeout = 5s;
  o.watch_retry = 20ms;
  o.request_timeout = 5s;
  o.gpu_admission = false;
  {
    auto none = make_kubernetes_backend(o);
    REQUIRE(none.ok());
    REQUIRE((*none)->inventory().ok());
    auto refused = ::fleet::agent::testing::start_command(**none, "u1", "upgrade_control_plane",
                                                          {{"kubernetesVersion", "1.32.7"}});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("looks like a k3s or RKE2 cluster") != std::string::npos);
  }
  o.upgrade_driver = "system-upgrade-controller";
  o.suc.poll_interval = 5ms;
  o.suc.step_timeout = 5s;
  auto made = make_kubernetes_backend(o);
  REQUIRE(made.ok());
  auto& b = **made;
  REQUIRE(b.inventory().ok());
  SucControllerDouble controller(*f.api, {kPlans + "fleet-pool-workers"});
  REQUIRE(::fleet::agent::testing::start_command(b, "np", "upgrade_node_pool",
                                                 {{"pool", "workers"}, {"kubernetesVersion", "1.32.7"}})
              .ok());
  std::optional<protocol::CommandStatus> s;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    s = b.status("np");
    if (s && s->state != protocol::CommandState::kRunning) break;
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(s);
  CHECK(s->state == protocol::CommandState::kSucceeded);
  CHECK(s->message == "pool workers upgraded to 1.32.7 by system-upgrade-controller");
  CHECK(s->nodes_total == 2);
  CHECK(f.plan_applies() == 1);
}

}  // namespace fleet::agent::kube
