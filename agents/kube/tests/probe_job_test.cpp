// The pure parts of the gpu-probe Job (issue #11 item 3): its name, its manifest (device plugin and DRA), the
// shipped deploy/kubernetes/gpu-probe-job.yaml, the container's script, and how a Job and its pod are read into
// an outcome. The pod shapes come from the API double's helpers, which write them as the kubelet does.
#include <sys/wait.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agents/kube/probe_job.hpp"
#include "agents/kube/probe_job_status.hpp"
#include "agents/kube/testing/kube_api_double.hpp"
#include "gpu-probe/core/report_json.hpp"
#include "model/names.hpp"

namespace fleet::agent::kube {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

ProbeJobRequest request(bool dra = false) {
  ProbeJobRequest r;
  r.node = "aks-gpu-0";
  r.probe_id = "aks-gpu-0-probe-1";
  r.trigger = "join";
  r.mode = "quick";
  r.gpus = 8;
  r.timeout = 600s;
  r.dra = dra;
  return r;
}

// YAML as the API server reads it: quoted scalars are strings, plain ones numbers or booleans where they read so.
json to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    json out = json::object();
    for (const auto& kv : n) out[kv.first.as<std::string>()] = to_json(kv.second);
    return out;
  }
  if (n.IsSequence()) {
    json out = json::array();
    for (const auto& item : n) out.push_back(to_json(item));
    return out;
  }
  const std::string text = n.as<std::string>();
  if (n.Tag() == "!") return text;
  if (text == "true" || text == "false") return text == "true";
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && end == text.c_str() + text.size()) return v;
  return text;
}

gpuprobe::Report report(gpuprobe::Verdict verdict, int gpus, const std::string& failing = "") {
  gpuprobe::Report r;
  r.verdict = verdict;
  r.host = "aks-gpu-0";
  for (int i = 0; i < gpus; ++i) {
    gpuprobe::GpuReport g;
    g.device.index = i;
    gpuprobe::CheckResult c;
    c.name = i == 0 && !failing.empty() ? failing : "hbm_bandwidth";
    c.status = i == 0 && !failing.empty() ? gpuprobe::CheckStatus::kFail : gpuprobe::CheckStatus::kPass;
    g.checks.push_back(c);
    r.gpus.push_back(g);
  }
  return r;
}

// What the real gpu-probe printed on a machine without a GPU (build/gpu-probe/gpu-probe --quick --expect-gpus 8,
// exit status 2), verbatim.
constexpr std::string_view kRealCouldNotRun = R"json({
  "could_not_run": {
    "code": "no-cuda-device",
    "reason": "no CUDA device: no NVIDIA driver found (libcuda.so.1 missing or not loadable)"
  },
  "environment": {
    "built_with_cuda": true,
    "driver_cuda_version": 0,
    "driver_version": "",
    "nvml_available": false,
    "nvml_error": "cannot load libnvidia-ml.so.1 (NVIDIA driver not installed?): libnvidia-ml.so.1: cannot open shared object file: No such file or directory",
    "runtime_version": 13000
  },
  "exit_code": 2,
  "gpus": [],
  "host": "vm",
  "injected": [],
  "mode": "quick",
  "node_checks": [],
  "probe_version": "0.1.0",
  "schema": "fleet.gpu-probe.report/v1",
  "schema_version": 1,
  "started_at": "2026-12-03T13:29:31.739Z",
  "verdict": "could-not-run",
  "wall_ms": 0.177143
}
)json";

json probe_pod() {
  return {{"metadata", {{"name", "gpu-probe-aks-gpu-0-probe-1-10001"}}},
          {"spec", {{"containers", json::array({{{"name", "gpu-probe"}}})}}}};
}

json pods_of(const json& pod) {
  return json::array({pod});
}

}  // namespace

TEST_CASE("probe Job names are DNS labels of at most 63 characters, distinct for distinct probes", "[kube][probe]") {
  CHECK(probe_job_name("aks-gpu-0-probe-1") == "gpu-probe-aks-gpu-0-probe-1");
  const std::string long_node(80, 'n');
  const std::string a = probe_job_name(long_node + "-probe-1");
  const std::string b = probe_job_name(long_node + "-probe-2");
  CHECK(a.size() <= 63);
  CHECK(a != b);
  CHECK(model::dns1123_label_problem(a).empty());
  const std::string odd = probe_job_name("GPU.Node_7.example.com-probe-3");
  CHECK(model::dns1123_label_problem(odd).empty());
  CHECK(odd.rfind("gpu-probe-gpu-node-7-example-com-probe-3-", 0) == 0);  // readable, then the hash
  CHECK(bounded_label_value("aks-gpu-0") == "aks-gpu-0");
  const std::string cut = bounded_label_value(std::string(200, 'x') + ".example.com");
  CHECK(cut.size() <= 63);
  CHECK(model::label_value_problem(cut).empty());
}

TEST_CASE("the probe Job: pinned to the node, tolerating the fleet taints, asking for all its GPUs", "[kube][probe]") {
  const json job = probe_job_manifest(request(), ProbeJobOptions{});
  CHECK(job["apiVersion"] == "batch/v1");
  CHECK(job["kind"] == "Job");
  CHECK(job["metadata"]["name"] == "gpu-probe-aks-gpu-0-probe-1");
  CHECK(job["metadata"]["namespace"] == "fleet-system");
  CHECK(job["metadata"]["labels"] == json{{"app.kubernetes.io/name", "gpu-probe"},
                                          {"app.kubernetes.io/managed-by", "fleet-agent"},
                                          {"fleet.io/probe-id", "aks-gpu-0-probe-1"},
                                          {"fleet.io/node", "aks-gpu-0"}});
  CHECK(job["spec"]["backoffLimit"] == 0);
  CHECK(job["spec"]["activeDeadlineSeconds"] == 600);
  CHECK(job["spec"]["ttlSecondsAfterFinished"] == 3600);
  const json& pod = job["spec"]["template"]["spec"];
  CHECK(job["spec"]["template"]["metadata"]["labels"] == job["metadata"]["labels"]);
  CHECK(pod["nodeName"] == "aks-gpu-0");
  CHECK(pod["restartPolicy"] == "Never");
  CHECK_FALSE(pod.contains("affinity"));
  CHECK_FALSE(pod.contains("resourceClaims"));
  CHECK(pod["tolerations"] ==
        json::parse(R"([{"key": "fleet.io/gpu-unverified", "operator": "Exists", "effect": "NoSchedule"},
                        {"key": "fleet.io/gpu-quarantined", "operator": "Exists", "effect": "NoSchedule"},
                        {"key": "nvidia.com/gpu", "operator": "Exists"},
                        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}])"));
  REQUIRE(pod["containers"].size() == 1);
  const json& c = pod["containers"][0];
  CHECK(c["name"] == "gpu-probe");
  CHECK(c["image"] == "ghcr.io/fleetd/gpu-probe:0.1.0");
  CHECK(c["command"] == json::array({"/bin/sh", "-c", std::string(kProbeScript)}));
  CHECK(c["args"] == json::array({"gpu-probe", "--quick", "--expect-gpus", "8"}));
  CHECK(c["resources"] == json{{"limits", {{"nvidia.com/gpu", "8"}}}});
  CHECK(c["terminationMessagePolicy"] == "FallbackToLogsOnError");
  CHECK_FALSE(c.contains("env"));
  CHECK_FALSE(probe_claim_template(request(), ProbeJobOptions{}).has_value());

  // A full probe with the policy's thresholds: the script writes them to the file gpu-probe reads.
  ProbeJobRequest full = request();
  full.mode = "full";
  full.gpus = 4;
  full.timeout = 1800s;
  full.thresholds = {{"skus", {{"h100-sxm", {{"hbm_bandwidth_gbs", 3000}}}}}};
  ProbeJobOptions o;
  o.image = "registry.example.com/gpu-probe:dev";
  o.namespace_ = "gpu-admission";
  const json j = probe_job_manifest(full, o);
  const json& fc = j["spec"]["template"]["spec"]["containers"][0];
  CHECK(j["metadata"]["namespace"] == "gpu-admission");
  CHECK(j["spec"]["activeDeadlineSeconds"] == 1800);
  CHECK(fc["image"] == "registry.example.com/gpu-probe:dev");
  CHECK(fc["args"] ==
        json::array({"gpu-probe", "--full", "--expect-gpus", "4", "--thresholds", "/tmp/fleet-probe/thresholds.json"}));
  CHECK(fc["env"] == json::array({{{"name", "FLEET_PROBE_THRESHOLDS"}, {"value", full.thresholds.dump()}}}));
  CHECK(fc["resources"]["limits"]["nvidia.com/gpu"] == "4");
}

TEST_CASE("a DRA node's probe claims all its devices through a ResourceClaimTemplate", "[kube][probe]") {
  const json job = probe_job_manifest(request(true), ProbeJobOptions{});
  const json& pod = job["spec"]["template"]["spec"];
  // The scheduler allocates claims, and nodeName skips it: node affinity on the name pins the pod instead.
  CHECK_FALSE(pod.contains("nodeName"));
  CHECK(pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] ==
        json::parse(R"([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["aks-gpu-0"]}]}])"));
  CHECK(pod["resourceClaims"] ==
        json::parse(R"([{"name": "gpus", "resourceClaimTemplateName": "gpu-probe-aks-gpu-0-probe-1"}])"));
  CHECK(pod["containers"][0]["resources"] == json::parse(R"({"claims": [{"name": "gpus"}]})"));

  auto v1 = probe_claim_template(request(true), ProbeJobOptions{});
  REQUIRE(v1.has_value());
  CHECK((*v1)["apiVersion"] == "resource.k8s.io/v1");
  CHECK((*v1)["kind"] == "ResourceClaimTemplate");
  CHECK((*v1)["metadata"]["name"] == "gpu-probe-aks-gpu-0-probe-1");
  CHECK((*v1)["metadata"]["namespace"] == "fleet-system");
  CHECK((*v1)["spec"] == json::parse(R"({"spec": {"devices": {"requests": [
      {"name": "gpus", "exactly": {"deviceClassName": "gpu.nvidia.com", "allocationMode": "All"}}]}}})"));
  ProbeJobOptions beta;
  beta.dra_version = "v1beta1";
  auto v1beta1 = probe_claim_template(request(true), beta);
  CHECK((*v1beta1)["apiVersion"] == "resource.k8s.io/v1beta1");
  CHECK((*v1beta1)["spec"] == json::parse(R"({"spec": {"devices": {"requests": [
      {"name": "gpus", "deviceClassName": "gpu.nvidia.com", "allocationMode": "All"}]}}})"));
  CHECK(claim_templates_path("fleet-system", "v1") ==
        "/apis/resource.k8s.io/v1/namespaces/fleet-system/resourceclaimtemplates");
}

TEST_CASE("deploy/kubernetes/gpu-probe-job.yaml is the Job the agent creates", "[kube][probe]") {
  const YAML::Node doc = YAML::LoadFile(FLEET_PROBE_JOB_YAML);
  CHECK(to_json(doc) == probe_job_manifest(request(), ProbeJobOptions{}));
}

TEST_CASE("the container's script: the report on stdout, in the termination message if small, the exit kept",
          "[kube][probe]") {
  // The script run by /bin/sh with a stand-in for gpu-probe and the paths moved into a scratch directory.
  const auto dir = std::filesystem::temp_directory_path() / ("kube-script-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [](const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; };
  auto read = [](const std::filesystem::path& p) {
    std::stringstream ss;
    ss << std::ifstream(p).rdbuf();
    return ss.str();
  };
  auto run = [&](const std::string& fake_probe, const std::string& thresholds) {
    write(dir / "gpu-probe", "#!/bin/sh\n" + fake_probe);
    std::filesystem::permissions(dir / "gpu-probe", std::filesystem::perms::owner_all);
    std::filesystem::remove(dir / "termination-log");
    std::filesystem::remove_all(dir / "work");
    std::string script(kProbeScript);
    auto replace = [&](const std::string& from, const std::string& to) {
      for (auto at = script.find(from); at != std::string::npos; at = script.find(from, at + to.size())) {
        script.replace(at, from.size(), to);
      }
    };
    replace("/usr/local/bin/gpu-probe", (dir / "gpu-probe").string());
    replace("/dev/termination-log", (dir / "termination-log").string());
    replace("/tmp/fleet-probe", (dir / "work").string());
    write(dir / "script.sh", script);
    // As the container runs it: sh -c SCRIPT gpu-probe ARGS… ($0 is "gpu-probe", "$@" the arguments).
    const std::string cmd = "cd " + dir.string() + " && FLEET_PROBE_THRESHOLDS='" + thresholds +
                            "' /bin/sh -c \"$(cat script.sh)\" gpu-probe --quick --expect-gpus 8 > stdout.txt";
    const int status = std::system(cmd.c_str());
    return WEXITSTATUS(status);
  };
  // A fake gpu-probe that writes a report of `bytes` characters to --output and exits 1, echoing its arguments.
  const std::string fake = R"(out=''; prev=''
for a in "$@"; do [ "$prev" = --output ] && out=$a; prev=$a; done
pad=$(head -c "$BYTES" /dev/zero | tr '\0' x)
printf '{"args": "%s", "pad": "%s"}\n' "$*" "$pad" > "$out"
exit 1
)";
  setenv("BYTES", "100", 1);
  CHECK(run(fake, "") == 1);
  const std::string small = read(dir / "stdout.txt");
  CHECK(small.find("\"args\": \"--quick --expect-gpus 8 --output " + (dir / "work/report.json").string() + "\"") !=
        std::string::npos);
  CHECK(read(dir / "termination-log") == small);
  CHECK_FALSE(std::filesystem::exists(dir / "work/thresholds.json"));

  setenv("BYTES", "5000", 1);
  CHECK(run(fake, R"({"skus": {}})") == 1);
  CHECK(read(dir / "stdout.txt").size() > 5000);
  CHECK_FALSE(std::filesystem::exists(dir / "termination-log"));  // over 4 KiB: the log alone carries it
  CHECK(read(dir / "work/thresholds.json") == R"({"skus": {}})");

  // No report at all (gpu-probe missing): nothing printed, the shell's status kept.
  CHECK(run("exit 127\n", "") == 127);
  CHECK(read(dir / "stdout.txt").empty());
  unsetenv("BYTES");
  std::filesystem::remove_all(dir);
}

TEST_CASE("a pod that ended: the report from the termination message, else from the log", "[kube][probe]") {
  const std::string pass = gpuprobe::report_to_json(report(gpuprobe::Verdict::kPass, 8)).dump();
  json pod = probe_pod();
  testing::pod_terminated(pod, 0, pass);
  auto state = read_probe_job(json::object(), pods_of(pod));
  REQUIRE(std::holds_alternative<ProbeEnded>(state));
  const auto& ended = std::get<ProbeEnded>(state);
  CHECK(ended.pod == "gpu-probe-aks-gpu-0-probe-1-10001");
  CHECK(ended.exit_code == 0);
  CHECK_FALSE(needs_log(ended));
  auto outcome = outcome_of(ended, std::nullopt);
  REQUIRE(std::holds_alternative<admission::ProbeReport>(outcome));
  CHECK(admission::judge(outcome, 8).reason == "passed");

  // A failing report too big for the termination message: FallbackToLogsOnError leaves its tail there, which
  // does not parse; the log has it whole.
  const std::string fail =
      gpuprobe::report_to_json(report(gpuprobe::Verdict::kFail, 8, "gemm_bf16_correctness")).dump(2);
  testing::pod_terminated(pod, 1, fail.substr(fail.size() - 2048));
  const auto big = std::get<ProbeEnded>(read_probe_job(json::object(), pods_of(pod)));
  CHECK(needs_log(big));
  auto failed = outcome_of(big, fail);
  CHECK(admission::judge(failed, 8).reason == "failed: gemm_bf16_correctness");

  // Exit 2, the real binary's could-not-run report: parsed, and it says why.
  testing::pod_terminated(pod, 2, std::string(kRealCouldNotRun));
  const auto cnr = std::get<ProbeEnded>(read_probe_job(json::object(), pods_of(pod)));
  auto v = admission::judge(outcome_of(cnr, std::nullopt), 8);
  CHECK_FALSE(v.admitted);
  CHECK(v.verdict == "could-not-run");
  CHECK(v.reason == "could not run: no CUDA device: no NVIDIA driver found (libcuda.so.1 missing or not loadable)");

  // Garbage, and nothing at all.
  testing::pod_terminated(pod, 1, "Segmentation fault");
  const auto garbage = std::get<ProbeEnded>(read_probe_job(json::object(), pods_of(pod)));
  CHECK(admission::judge(outcome_of(garbage, "Segmentation fault\n"), 8).reason ==
        "report does not parse: no JSON object in the probe's output (exit code 1 (Error))");
  testing::pod_terminated(pod, 137, "", "OOMKilled");
  const auto killed = std::get<ProbeEnded>(read_probe_job(json::object(), pods_of(pod)));
  CHECK(admission::judge(outcome_of(killed, ""), 8).reason ==
        "the probe ended without a report (exit code 137 (OOMKilled))");
}

TEST_CASE("a pod that cannot start: unschedulable, image not pulled, rejected, a Job that gave up", "[kube][probe]") {
  json pod = probe_pod();
  CHECK(std::holds_alternative<ProbeRunning>(read_probe_job(json::object(), json::array())));
  CHECK(std::holds_alternative<ProbeRunning>(read_probe_job(json::object(), pods_of(pod))));
  testing::pod_running(pod);
  CHECK(std::holds_alternative<ProbeRunning>(read_probe_job(json::object(), pods_of(pod))));

  testing::pod_unschedulable(pod, "0/3 nodes are available: 1 Insufficient nvidia.com/gpu.");
  auto s = read_probe_job(json::object(), pods_of(pod));
  REQUIRE(std::holds_alternative<ProbeBlocked>(s));
  const auto unschedulable = std::get<ProbeBlocked>(s);
  CHECK(unschedulable.reason == "pod could not be scheduled: 0/3 nodes are available: 1 Insufficient nvidia.com/gpu.");
  CHECK_FALSE(unschedulable.final);
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
  CHECK_FALSE(blocked_for_good(unschedulable, t0, t0 + 119s, 120s));
  CHECK(blocked_for_good(unschedulable, t0, t0 + 120s, 120s));

  testing::pod_waiting(pod, "ImagePullBackOff", "Back-off pulling image \"ghcr.io/fleetd/gpu-probe:0.1.0\"");
  const auto pull = std::get<ProbeBlocked>(read_probe_job(json::object(), pods_of(pod)));
  CHECK(pull.reason == "image could not be pulled: Back-off pulling image \"ghcr.io/fleetd/gpu-probe:0.1.0\"");
  CHECK_FALSE(pull.final);
  testing::pod_waiting(pod, "InvalidImageName", "couldn't parse image name \"GHCR.io/x\"");
  CHECK(std::get<ProbeBlocked>(read_probe_job(json::object(), pods_of(pod))).final);
  testing::pod_waiting(pod, "ContainerCreating", "");
  CHECK(std::holds_alternative<ProbeRunning>(read_probe_job(json::object(), pods_of(pod))));

  // The kubelet refused the pod: its GPUs are in use.
  pod["status"] = {{"phase", "Failed"},
                   {"reason", "OutOfnvidia.com/gpu"},
                   {"message", "Pod was rejected: Node didn't have enough resource: nvidia.com/gpu"}};
  const auto rejected = std::get<ProbeBlocked>(read_probe_job(json::object(), pods_of(pod)));
  CHECK(rejected.final);
  CHECK(rejected.gpus_busy);       // no verdict on a re-probe: workloads hold the GPUs
  CHECK(unschedulable.gpus_busy);  // "Insufficient nvidia.com/gpu"
  CHECK_FALSE(pull.gpus_busy);
  CHECK(rejected.reason ==
        "the probe's pod failed before gpu-probe ran: OutOfnvidia.com/gpu: Pod was rejected: "
        "Node didn't have enough resource: nvidia.com/gpu");

  const json job = {{"status",
                     {{"conditions", json::array({{{"type", "Failed"},
                                                   {"status", "True"},
                                                   {"reason", "DeadlineExceeded"},
                                                   {"message", "Job was active longer than specified deadline"}}})}}}};
  const auto gave_up = std::get<ProbeBlocked>(read_probe_job(job, json::array()));
  CHECK(gave_up.final);
  CHECK(gave_up.reason == "the probe's Job failed: DeadlineExceeded: Job was active longer than specified deadline");
}

}  // namespace fleet::agent::kube
