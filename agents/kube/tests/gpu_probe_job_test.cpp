// Probe-gated GPU node admission on the kubernetes backend (issue #11 item 3), against the API TEST DOUBLE
// (testing/kube_api_double.hpp), not a real API server: a new GPU node is guarded by the taint, proven by a
// gpu-probe Job pinned to it, admitted or quarantined from what the Job's pod says, and the Job is deleted however
// the probe ended. The double runs no Job controller: each test says through a JobPodHook what the probe's pod
// does. Time is the backend's `clock`, moved by the test, so the 600 s timeout and the pending grace take no wall
// time; the admission thread wakes every 10 ms.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "agents/kube/kubernetes_backend.hpp"
#include "agents/kube/testing/kube_api_double.hpp"
#include "agents/kube/testing/test_pki.hpp"
#include "agents/testing/start_command.hpp"
#include "gpu-probe/core/report_json.hpp"

namespace fleet::agent::kube {

using ::fleet::agent::testing::start_command;
using nlohmann::json;
using testing::KubeApiDouble;
using testing::KubeApiDoubleOptions;
using testing::TestPki;
using namespace std::chrono_literals;

namespace {

constexpr double kStart = 1767225600;  // 2026-01-01T00:00:00Z
constexpr const char* kNs = "fleet-system";

const json kUnverified = {{"key", "fleet.io/gpu-unverified"}, {"effect", "NoSchedule"}};

json make_node(const std::string& name, int gpus, json taints = json::array(), json annotations = json::object()) {
  json labels = {{"kubernetes.azure.com/agentpool", "gpu"}, {"kubernetes.io/hostname", name}};
  json capacity = {{"cpu", "96"}, {"memory", "1056Gi"}};
  if (gpus > 0) {
    labels["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3";
    labels["nvidia.com/gpu.count"] = std::to_string(gpus);
    capacity["nvidia.com/gpu"] = std::to_string(gpus);
  }
  return {{"metadata",
           {{"name", name},
            {"labels", labels},
            {"annotations", annotations},
            {"creationTimestamp", "2025-12-31T23:55:00Z"}}},  // 300 s before kStart
          {"spec", {{"taints", taints}}},
          {"status",
           {{"capacity", capacity},
            {"allocatable", capacity},
            {"nodeInfo", {{"kubeletVersion", "v1.34.1"}, {"osImage", "Ubuntu 22.04.5 LTS"}}}}}};
}

std::string report_text(gpuprobe::Verdict verdict, int gpus, const std::string& failing = "", int pretty = -1) {
  gpuprobe::Report r;
  r.verdict = verdict;
  r.host = "node";
  for (int i = 0; i < gpus; ++i) {
    gpuprobe::GpuReport g;
    g.device.index = i;
    g.device.uuid = "GPU-" + std::to_string(i);
    for (const char* name : {"memory_test", "hbm_bandwidth", "gemm_bf16_correctness"}) {
      gpuprobe::CheckResult c;
      c.name = name;
      c.status = i == 0 && failing == name ? gpuprobe::CheckStatus::kFail : gpuprobe::CheckStatus::kPass;
      c.message = std::string(c.status == gpuprobe::CheckStatus::kFail ? "mismatch" : "within spec") + " on GPU " +
                  std::to_string(i);
      g.checks.push_back(c);
    }
    r.gpus.push_back(g);
  }
  return gpuprobe::report_to_json(r).dump(pretty);
}

std::string job_name(const std::string& node) {
  return "gpu-probe-" + node + "-probe-1";
}

std::string node_of(const json& job) {
  return job["metadata"]["annotations"].value("fleet.io/node", "");
}

bool has_taint(const json& node, const std::string& key, const std::string& value = "") {
  for (const json& t : node["spec"]["taints"]) {
    if (t.value("key", "") == key && t.value("value", "") == value && t.value("effect", "") == "NoSchedule") {
      return true;
    }
  }
  return false;
}

struct ProbeJobFixture {
  TestPki pki;
  std::unique_ptr<KubeApiDouble> api;
  std::atomic<double> now{kStart};
  std::vector<protocol::CommandEvent> events;
  std::vector<protocol::ProbeResult> results;

  ProbeJobFixture() {
    KubeApiDoubleOptions o;
    o.tls_cert_file = pki.server_cert_file;
    o.tls_key_file = pki.server_key_file;
    o.watch_hold = 50ms;
    auto started = KubeApiDouble::start(o);
    REQUIRE(started.ok());
    api = std::move(*started);
  }

  KubernetesBackendOptions options() {
    KubernetesBackendOptions o;
    KubeConnection c;
    c.server = api->url();
    c.ca_file = pki.ca_file;
    c.token = "test-token";
    c.source = "test";
    o.connection = c;
    o.cluster_name = "kube-test";
    o.watch_retry = 20ms;
    o.watch_timeout = 5s;
    o.request_timeout = 5s;
    o.resource_slice_refresh = 0ms;
    o.admission_interval = 10ms;
    o.probe_pending_grace = 60s;
    o.clock = [this] { return now.load(); };
    return o;
  }

  std::unique_ptr<ClusterBackend> backend(const KubernetesBackendOptions& o) {
    auto b = make_kubernetes_backend(o);
    REQUIRE(b.ok());
    REQUIRE((*b)->inventory().ok());
    return std::move(*b);
  }
  std::unique_ptr<ClusterBackend> backend() { return backend(options()); }

  // Polls the backend (as the agent does) until `done`, collecting its events and probe results.
  bool until(ClusterBackend& b, const std::function<bool()>& done, std::chrono::milliseconds within = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (true) {
      for (auto& e : b.poll()) events.push_back(std::move(e));
      for (auto& r : b.take_probe_results()) results.push_back(std::move(r));
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }

  const protocol::ProbeResult* result_for(const std::string& node) const {
    for (const auto& r : results) {
      if (r.node == node) return &r;
    }
    return nullptr;
  }

  const protocol::CommandEvent* event(const std::string& type, const std::string& node) const {
    for (const auto& e : events) {
      if (e.type == type && e.node == node) return &e;
    }
    return nullptr;
  }

  bool job_gone(const std::string& node) const {
    const auto deleted = api->deleted_jobs();
    return !api->object(std::string("/apis/batch/v1/namespaces/") + kNs + "/jobs/" + job_name(node)) &&
           std::find(deleted.begin(), deleted.end(), std::string(kNs) + "/" + job_name(node)) != deleted.end() &&
           !api->job_pod(kNs, job_name(node));
  }

  // Each node's probe pod behaves as `script[node]` says (nothing: it stays Pending, unscheduled yet).
  void pods_do(std::map<std::string, std::function<void(json& pod, std::string& log)>> script) {
    api->set_job_pod_hook([script = std::move(script)](const json& job, json& pod, std::string& log) {
      if (auto it = script.find(node_of(job)); it != script.end()) it->second(pod, log);
    });
  }
};

}  // namespace

TEST_CASE("admission: a new GPU node without the taint gets it, and a Job pinned to it probes all its GPUs",
          "[kube][admission]") {
  ProbeJobFixture f;
  f.api->put_node(make_node("aks-gpu-0", 8));
  f.api->put_node(make_node("aks-cpu-0", 0));
  f.api->put_pod({{"metadata", {{"name", "web-0"}, {"namespace", "default"}}}, {"spec", {{"nodeName", "aks-gpu-0"}}}});
  auto b = f.backend();

  REQUIRE(f.until(*b, [&] { return f.api->job_pod(kNs, job_name("aks-gpu-0")).has_value(); }));
  REQUIRE(f.until(*b, [&] {
    const json node = *f.api->node("aks-gpu-0");
    return has_taint(node, "fleet.io/gpu-unverified") &&
           node["metadata"]["annotations"].value("fleet.io/admission", "") == "probing";
  }));
  const auto jobs = f.api->jobs();
  REQUIRE(jobs.size() == 1);
  const json& job = jobs[0];
  CHECK(job["metadata"]["name"] == "gpu-probe-aks-gpu-0-probe-1");
  CHECK(job["metadata"]["namespace"] == "fleet-system");
  CHECK(job["metadata"]["labels"]["fleet.io/probe-id"] == "aks-gpu-0-probe-1");
  CHECK(job["metadata"]["annotations"]["fleet.io/probe-trigger"] == "join");
  CHECK(job["spec"]["backoffLimit"] == 0);
  CHECK(job["spec"]["activeDeadlineSeconds"] == 600);
  const json& pod = job["spec"]["template"]["spec"];
  CHECK(pod["nodeName"] == "aks-gpu-0");
  CHECK(pod["restartPolicy"] == "Never");
  CHECK(pod["tolerations"][0] ==
        json{{"key", "fleet.io/gpu-unverified"}, {"operator", "Exists"}, {"effect", "NoSchedule"}});
  CHECK(pod["tolerations"][1] ==
        json{{"key", "fleet.io/gpu-quarantined"}, {"operator", "Exists"}, {"effect", "NoSchedule"}});
  CHECK(pod["tolerations"][2] == json{{"key", "nvidia.com/gpu"}, {"operator", "Exists"}});
  const json& c = pod["containers"][0];
  CHECK(c["image"] == "ghcr.io/fleetd/gpu-probe:0.1.0");
  CHECK(c["args"] == json::array({"gpu-probe", "--quick", "--expect-gpus", "8"}));
  CHECK(c["resources"]["limits"] == json{{"nvidia.com/gpu", "8"}});
  CHECK(f.api->count_requests("POST", "/apis/batch/v1/namespaces/fleet-system/jobs") == 1);

  // It was schedulable for the 300 s since it registered, and a pod landed on it: an event and the counters.
  REQUIRE(f.until(*b, [&] { return f.event("node_unguarded", "aks-gpu-0") != nullptr; }));
  CHECK(f.event("node_unguarded", "aks-gpu-0")->message ==
        "GPU node aks-gpu-0 joined without fleet.io/gpu-unverified and was schedulable unguarded for 300 s; "
        "tainted now; 1 pod landed on it: default/web-0");
  REQUIRE(f.until(*b, [&] { return kubernetes_admission_stats(*b)->probe_jobs_created == 1; }));
  const auto stats = kubernetes_admission_stats(*b);
  REQUIRE(stats.has_value());
  CHECK(stats->unguarded_nodes == 1);
  CHECK(stats->unguarded_seconds == Approx(300));
  CHECK(stats->unguarded_pods == 1);
  // The same, for fleetd (the agent sends it with its next heartbeat).
  const auto reports = b->take_unguarded_nodes();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].node == "aks-gpu-0");
  CHECK(reports[0].seconds == Approx(300));
  CHECK(reports[0].pods == 1);
  CHECK(reports[0].pod_names == std::vector<std::string>{"default/web-0"});
  CHECK(b->take_unguarded_nodes().empty());

  // The node without GPUs is admitted and never written; the probing node says so in the inventory.
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(inv->find_node("aks-gpu-0")->admission == model::Admission::kProbing);
  CHECK(inv->find_node("aks-cpu-0")->admission == model::Admission::kAdmitted);
  CHECK(f.api->count_requests("PATCH", "/api/v1/nodes/aks-cpu-0") == 0);
  CHECK(f.results.empty());
}

TEST_CASE("admission: a passing report admits (the taint goes, others stay) and the Job is deleted",
          "[kube][admission]") {
  ProbeJobFixture f;
  const json sku = {{"key", "sku"}, {"value", "gpu"}, {"effect", "NoSchedule"}};
  f.api->put_node(make_node("aks-gpu-0", 8, json::array({kUnverified, sku})));
  // The report comes in the termination message (it fits in 4 KiB): no log read.
  f.pods_do({{"aks-gpu-0", [](json& pod, std::string&) {
                testing::pod_terminated(pod, 0, report_text(gpuprobe::Verdict::kPass, 8));
              }}});
  auto b = f.backend();

  REQUIRE(f.until(*b, [&] { return f.result_for("aks-gpu-0") && f.job_gone("aks-gpu-0"); }));
  const protocol::ProbeResult& r = *f.result_for("aks-gpu-0");
  CHECK(r.probe_id == "aks-gpu-0-probe-1");
  CHECK(r.trigger == "join");
  CHECK(r.verdict == "pass");
  CHECK(r.admitted);
  CHECK(r.reason == "passed");
  REQUIRE(r.report.has_value());
  CHECK((*r.report)["gpus"].size() == 8);
  REQUIRE(f.until(*b, [&] {
    const json node = *f.api->node("aks-gpu-0");
    return !has_taint(node, "fleet.io/gpu-unverified") &&
           node["metadata"]["annotations"].value("fleet.io/admission", "") == "admitted";
  }));
  const json node = *f.api->node("aks-gpu-0");
  CHECK(node["spec"]["taints"] == json::array({sku}));
  CHECK(node["metadata"]["annotations"]["fleet.io/last-probe"] == "2026-01-01T00:00:00.000Z");
  CHECK(f.api->count_requests("DELETE", "/apis/batch/v1/namespaces/fleet-system/jobs/gpu-probe-aks-gpu-0-probe-1",
                              "propagationPolicy=Background") == 1);
  CHECK(f.api->count_requests("GET", "/api/v1/namespaces/fleet-system/pods/") == 0);  // no log read
  CHECK(f.event("node_admitted", "aks-gpu-0") != nullptr);
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(inv->find_node("aks-gpu-0")->admission == model::Admission::kAdmitted);
  CHECK(f.api->count_requests("POST", "/apis/batch/v1/") == 1);  // admitted: no second probe
}

TEST_CASE("admission: a routine re-probe of a node whose GPUs are at work is postponed, never a quarantine",
          "[kube][admission]") {
  ProbeJobFixture f;
  f.api->put_node(make_node("aks-gpu-0", 8, json::array({kUnverified})));
  int pods = 0;
  // The join probe passes; the re-probe a week later finds the GPUs taken by workloads (the kubelet refuses it).
  f.pods_do({{"aks-gpu-0", [&pods](json& pod, std::string&) {
                if (++pods == 1) {
                  testing::pod_terminated(pod, 0, report_text(gpuprobe::Verdict::kPass, 8));
                } else {
                  pod["status"] = {{"phase", "Failed"},
                                   {"reason", "OutOfnvidia.com/gpu"},
                                   {"message", "Pod was rejected: Node didn't have enough resource: nvidia.com/gpu"}};
                }
              }}});
  auto b = f.backend();
  REQUIRE(f.until(*b, [&] { return f.result_for("aks-gpu-0") && f.job_gone("aks-gpu-0"); }));
  REQUIRE(f.result_for("aks-gpu-0")->admitted);
  f.now = kStart + 7 * 24 * 3600 + 1;
  REQUIRE(f.until(*b, [&] { return f.api->count_requests("POST", "/apis/batch/v1/") == 2; }));
  REQUIRE(f.until(*b, [&] {
    const json node = *f.api->node("aks-gpu-0");
    return f.api->jobs().empty() && !has_taint(node, "fleet.io/gpu-unverified") &&
           node["metadata"]["annotations"].value("fleet.io/admission", "") == "admitted";
  }));
  CHECK(f.results.size() == 1);  // no verdict drawn from busy GPUs
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(inv->find_node("aks-gpu-0")->admission == model::Admission::kAdmitted);
  // Tried again after the policy's busy_retry (30 min), not before.
  f.now = kStart + 7 * 24 * 3600 + 1 + 1700;
  CHECK_FALSE(f.until(
      *b, [&] { return f.api->count_requests("POST", "/apis/batch/v1/") == 3; }, 300ms));
  f.now = kStart + 7 * 24 * 3600 + 1 + 1801;
  CHECK(f.until(*b, [&] { return f.api->count_requests("POST", "/apis/batch/v1/") == 3; }));
}

TEST_CASE("admission: a failing report quarantines naming the check, read from the log when it is large",
          "[kube][admission]") {
  ProbeJobFixture f;
  f.api->put_node(make_node("aks-gpu-0", 8, json::array({kUnverified})));
  const std::string report = report_text(gpuprobe::Verdict::kFail, 8, "gemm_bf16_correctness", 2);
  REQUIRE(report.size() > 4096);
  f.pods_do({{"aks-gpu-0", [&](json& pod, std::string& log) {
                // Over 4 KiB: the script leaves the termination message empty, FallbackToLogsOnError puts the
                // log's tail there, and the whole report is in the log.
                testing::pod_terminated(pod, 1, report.substr(report.size() - 2048));
                log = report;
              }}});
  auto b = f.backend();

  REQUIRE(f.until(*b, [&] { return f.result_for("aks-gpu-0") && f.job_gone("aks-gpu-0"); }));
  const protocol::ProbeResult& r = *f.result_for("aks-gpu-0");
  CHECK(r.verdict == "fail");
  CHECK_FALSE(r.admitted);
  CHECK(r.reason == "failed: gemm_bf16_correctness");
  CHECK(r.failed_checks == std::vector<std::string>{"gemm_bf16_correctness"});
  REQUIRE(f.until(
      *b, [&] { return has_taint(*f.api->node("aks-gpu-0"), "fleet.io/gpu-quarantined", "gemm_bf16_correctness"); }));
  const json node = *f.api->node("aks-gpu-0");
  CHECK(has_taint(node, "fleet.io/gpu-unverified"));
  CHECK(node["spec"]["taints"].size() == 2);
  CHECK(node["metadata"]["annotations"]["fleet.io/admission"] == "quarantined");
  CHECK(f.api->count_requests("GET", "/api/v1/namespaces/fleet-system/pods/gpu-probe-aks-gpu-0-probe-1-",
                              "container=gpu-probe") == 1);
  CHECK(f.event("node_quarantined", "aks-gpu-0")->message == "failed: gemm_bf16_correctness");
  CHECK(f.api->count_requests("POST", "/apis/batch/v1/") == 1);  // quarantined: not probed again by itself
}

TEST_CASE("admission: stuck Pending, a pull error, a timeout and a garbage report each quarantine with their reason",
          "[kube][admission]") {
  ProbeJobFixture f;
  for (const std::string n : {"n-pending", "n-pull", "n-timeout", "n-garbage"}) {
    f.api->put_node(make_node(n, 4, json::array({kUnverified})));
  }
  f.pods_do({{"n-pending",
              [](json& pod, std::string&) {
                testing::pod_unschedulable(pod, "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.");
              }},
             {"n-pull",
              [](json& pod, std::string&) {
                testing::pod_waiting(pod, "ErrImagePull",
                                     "rpc error: code = NotFound desc = ghcr.io/fleetd/gpu-probe:0.1.0: not found");
              }},
             {"n-timeout", [](json& pod, std::string&) { testing::pod_running(pod); }},
             {"n-garbage", [](json& pod, std::string& log) {
                testing::pod_terminated(pod, 0, "");
                log = "probe: all good, trust me\n";
              }}});
  auto b = f.backend();
  admission::AdmissionPolicy policy;
  policy.max_probing_nodes = 4;  // all four at once
  b->set_admission_policy(policy);

  // The garbage report ends at once; the Pending and pull errors wait out their grace (60 s), the running probe
  // its timeout (600 s).
  REQUIRE(f.until(*b, [&] { return f.result_for("n-garbage") != nullptr; }));
  CHECK(f.result_for("n-garbage")->reason ==
        "report does not parse: no JSON object in the probe's output (exit code 0 (Completed))");
  REQUIRE(f.until(*b, [&] { return f.event("probe_blocked", "n-pending") && f.event("probe_blocked", "n-pull"); }));
  CHECK(f.event("probe_blocked", "n-pull")->message ==
        "image could not be pulled: rpc error: code = NotFound desc = ghcr.io/fleetd/gpu-probe:0.1.0: not found; "
        "waiting up to 60 s");
  CHECK(f.results.size() == 1);
  f.now = kStart + 61;
  REQUIRE(f.until(*b, [&] { return f.result_for("n-pending") && f.result_for("n-pull"); }));
  CHECK(f.result_for("n-pending")->reason ==
        "pod could not be scheduled: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.");
  CHECK(f.result_for("n-pull")->reason ==
        "image could not be pulled: rpc error: code = NotFound desc = ghcr.io/fleetd/gpu-probe:0.1.0: not found");
  CHECK_FALSE(f.result_for("n-timeout"));
  f.now = kStart + 600;
  REQUIRE(f.until(*b, [&] { return f.result_for("n-timeout") != nullptr; }));
  CHECK(f.result_for("n-timeout")->reason == "timed out after 600 s");
  CHECK(f.event("probe_cancelled", "n-timeout")->message == "timed out after 600 s");

  for (const std::string n : {"n-pending", "n-pull", "n-timeout", "n-garbage"}) {
    INFO(n);
    const protocol::ProbeResult& r = *f.result_for(n);
    CHECK(r.verdict == "not-run");
    CHECK_FALSE(r.admitted);
    CHECK_FALSE(r.report.has_value());
    REQUIRE(f.until(*b, [&] {
      const json node = *f.api->node(n);
      return f.job_gone(n) && has_taint(node, "fleet.io/gpu-quarantined", "no-report") &&
             has_taint(node, "fleet.io/gpu-unverified");
    }));
  }
  CHECK(f.until(*b, [&] {
    const auto stats = kubernetes_admission_stats(*b);
    return stats->probe_jobs_created == 4 && stats->probe_jobs_deleted == 4;
  }));
}

TEST_CASE("admission: a node deleted mid-probe cleans up its Job and is forgotten", "[kube][admission]") {
  ProbeJobFixture f;
  f.api->put_node(make_node("aks-gpu-0", 8, json::array({kUnverified})));
  f.pods_do({{"aks-gpu-0", [](json& pod, std::string&) { testing::pod_running(pod); }}});
  auto b = f.backend();
  REQUIRE(f.until(*b, [&] { return f.api->job_pod(kNs, job_name("aks-gpu-0")).has_value(); }));
  f.api->delete_node("aks-gpu-0");
  REQUIRE(f.until(*b, [&] { return f.job_gone("aks-gpu-0"); }));
  CHECK(f.event("probe_cancelled", "aks-gpu-0")->message == "the node was deleted");
  CHECK(f.results.empty());  // nothing was proven or disproven
  auto inv = b->inventory();
  REQUIRE(inv.ok());
  CHECK(inv->nodes.empty());
  CHECK(f.api->count_requests("PATCH", "/api/v1/nodes/aks-gpu-0") == 1);  // the annotation, before; none after
}

TEST_CASE("admission: run_probe re-proves an admitted node, set_node_admission is the operator's word",
          "[kube][admission]") {
  ProbeJobFixture f;
  // Admitted by an earlier agent (recorded, no taint): carried on, not probed again. Its leftover Job goes.
  f.api->put_node(make_node("aks-gpu-0", 8, json::array(), {{"fleet.io/admission", "admitted"}}));
  f.api->put_node(make_node("aks-cpu-0", 0));
  f.api->put_object(
      "/apis/batch/v1/namespaces/fleet-system/jobs/gpu-probe-old",
      {{"metadata",
        {{"name", "gpu-probe-old"},
         {"namespace", "fleet-system"},
         {"labels", {{"app.kubernetes.io/name", "gpu-probe"}, {"app.kubernetes.io/managed-by", "fleet-agent"}}}}}});
  f.pods_do({{"aks-gpu-0", [](json& pod, std::string&) {
                testing::pod_terminated(pod, 0, report_text(gpuprobe::Verdict::kPass, 8));
              }}});
  auto b = f.backend();
  REQUIRE(f.until(*b, [&] {
    auto d = f.api->deleted_jobs();
    return std::find(d.begin(), d.end(), "fleet-system/gpu-probe-old") != d.end();
  }));
  CHECK(f.api->jobs().empty());

  auto started = start_command(*b, "p1", "run_probe", {{"nodes", json::array({"aks-gpu-0"})}});
  REQUIRE(started.ok());
  CHECK(started->status.state == protocol::CommandState::kRunning);
  REQUIRE(f.until(*b, [&] { return b->status("p1")->state != protocol::CommandState::kRunning; }));
  auto st = *b->status("p1");
  CHECK(st.state == protocol::CommandState::kSucceeded);
  CHECK(st.message == "1 of 1 nodes passed the GPU probe");
  CHECK(st.details["aks-gpu-0"] == "admitted");
  REQUIRE(f.result_for("aks-gpu-0"));
  CHECK(f.result_for("aks-gpu-0")->trigger == "manual");
  CHECK(f.event("node_admitted", "aks-gpu-0")->command_id == "p1");
  CHECK(f.until(*b, [&] { return f.job_gone("aks-gpu-0"); }));

  CHECK(start_command(*b, "p2", "run_probe", {{"nodes", json::array({"aks-cpu-0"})}}).error().code ==
        ErrorCode::kInvalid);
  CHECK(start_command(*b, "p3", "run_probe", {{"nodes", json::array({"nope"})}}).error().code == ErrorCode::kNotFound);

  auto q = start_command(*b, "q1", "set_node_admission",
                         {{"node", "aks-gpu-0"}, {"admission", "quarantined"}, {"reason", "ticket 42"}});
  REQUIRE(q.ok());
  CHECK(q->status.state == protocol::CommandState::kSucceeded);
  CHECK(q->status.message == "node aks-gpu-0 quarantined by an operator: ticket 42");
  REQUIRE(f.until(*b, [&] { return has_taint(*f.api->node("aks-gpu-0"), "fleet.io/gpu-quarantined", "operator"); }));
  auto a = start_command(*b, "a1", "set_node_admission",
                         {{"node", "aks-gpu-0"}, {"admission", "admitted"}, {"reason", "replaced the GPU"}});
  REQUIRE(a.ok());
  REQUIRE(f.until(*b, [&] { return f.api->node("aks-gpu-0")->at("spec").at("taints").empty(); }));
  CHECK(f.api->count_requests("POST", "/apis/batch/v1/") == 1);  // only the run_probe's Job
}

TEST_CASE("admission: a DRA node's probe claims its devices through a template the Job owns", "[kube][admission]") {
  ProbeJobFixture f;
  f.api->put_node(make_node("dra-0", 0, json::array({kUnverified})));
  json devices = json::array();
  for (int i = 0; i < 2; ++i) {
    devices.push_back({{"name", "gpu-" + std::to_string(i)},
                       {"attributes",
                        {{"type", {{"string", "gpu"}}},
                         {"uuid", {{"string", "GPU-dra-0-" + std::to_string(i)}}},
                         {"index", {{"int", i}}},
                         {"productName", {{"string", "NVIDIA H200"}}}}}});
  }
  f.api->put_resource_slice({{"metadata", {{"name", "dra-0-gpu.nvidia.com"}}},
                             {"spec", {{"driver", "gpu.nvidia.com"}, {"nodeName", "dra-0"}, {"devices", devices}}}});
  f.pods_do({{"dra-0", [](json& pod, std::string&) { testing::pod_running(pod); }}});
  auto b = f.backend();
  REQUIRE(f.until(*b, [&] { return f.api->job_pod(kNs, job_name("dra-0")).has_value(); }));
  const std::string tmpl_path =
      "/apis/resource.k8s.io/v1/namespaces/fleet-system/resourceclaimtemplates/" + job_name("dra-0");
  REQUIRE(f.until(*b, [&] { return f.api->object(tmpl_path).has_value(); }));
  const json job = f.api->jobs().at(0);
  const json tmpl = *f.api->object(tmpl_path);
  CHECK(job["spec"]["template"]["spec"]["resourceClaims"][0]["resourceClaimTemplateName"] == job_name("dra-0"));
  CHECK_FALSE(job["spec"]["template"]["spec"].contains("nodeName"));
  CHECK(job["spec"]["template"]["spec"]["containers"][0]["args"] ==
        json::array({"gpu-probe", "--quick", "--expect-gpus", "2"}));
  CHECK(tmpl["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]);
  CHECK(tmpl["spec"]["spec"]["devices"]["requests"][0]["exactly"]["allocationMode"] == "All");

  f.api->update_job_pod(kNs, job_name("dra-0"),
                        [](json& pod) { testing::pod_terminated(pod, 0, report_text(gpuprobe::Verdict::kPass, 2)); });
  REQUIRE(f.until(*b, [&] { return f.result_for("dra-0") && f.job_gone("dra-0"); }));
  CHECK(f.result_for("dra-0")->admitted);
  CHECK_FALSE(f.api->object(tmpl_path).has_value());  // gone with its owner
}

}  // namespace fleet::agent::kube
