#include "agents/kube/probe_job.hpp"

#include <cstdint>
#include <cstdio>

#include "agents/kube/node_mapping.hpp"
#include "gpu-probe/core/version.hpp"
#include "model/names.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxNameLength = 63;
constexpr std::string_view kJobPrefix = "gpu-probe-";
constexpr std::string_view kThresholdsFile = "/tmp/fleet-probe/thresholds.json";

// FNV-1a: stable across builds and platforms, which std::hash is not; 8 hex digits keep cut names distinct.
std::string short_hash(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(h ^ (h >> 32)));
  return buf;
}

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Lowercase alphanumerics and single dashes, no dash at either end.
std::string dns_label_chars(std::string_view text) {
  std::string out;
  for (char c : text) {
    const char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (alnum(l)) {
      out += l;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string trim_end_dashes(std::string s) {
  while (!s.empty() && !alnum(s.back())) s.pop_back();
  return s;
}

json labels_of(const ProbeJobRequest& r) {
  return {{std::string(kProbeAppLabel), "gpu-probe"},
          {std::string(kManagedByLabel), std::string(kManagedBy)},
          {std::string(kProbeIdKey), bounded_label_value(r.probe_id)},
          {std::string(kProbeNodeKey), bounded_label_value(r.node)}};
}

json tolerations() {
  // The fleet's admission taints are on the node because it is being proven; nvidia.com/gpu taints (any effect)
  // keep ordinary pods off GPU nodes; a cordoned node is proven too (an upgrade cordons before the probe).
  return json::array({{{"key", "fleet.io/gpu-unverified"}, {"operator", "Exists"}, {"effect", "NoSchedule"}},
                      {{"key", "fleet.io/gpu-quarantined"}, {"operator", "Exists"}, {"effect", "NoSchedule"}},
                      {{"key", std::string(kGpuResource)}, {"operator", "Exists"}},
                      {{"key", "node.kubernetes.io/unschedulable"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}});
}

json container(const ProbeJobRequest& r, const ProbeJobOptions& o) {
  json args = json::array({std::string(kProbeContainer)});  // the script's $0
  for (const std::string& a : probe_args(r)) args.push_back(a);
  json c = {{"name", std::string(kProbeContainer)},
            {"image", o.image.empty() ? default_probe_image() : o.image},
            {"imagePullPolicy", o.image_pull_policy},
            {"command", json::array({"/bin/sh", "-c", std::string(kProbeScript)})},
            {"args", args},
            {"terminationMessagePolicy", "FallbackToLogsOnError"},
            {"securityContext", {{"allowPrivilegeEscalation", false}}}};
  if (r.thresholds.is_object() && !r.thresholds.empty()) {
    c["env"] = json::array({{{"name", std::string(kThresholdsEnv)}, {"value", r.thresholds.dump()}}});
  }
  if (r.dra) {
    c["resources"] = {{"claims", json::array({{{"name", "gpus"}}})}};
  } else {
    // Extended resources are requested through limits (requests follow); all of the node's GPUs, so that no
    // workload shares them while they are measured.
    c["resources"] = {{"limits", {{std::string(kGpuResource), std::to_string(r.gpus)}}}};
  }
  return c;
}

}  // namespace

const std::string_view kProbeScript =
    "set -u\n"
    "dir=/tmp/fleet-probe\n"
    "mkdir -p \"$dir\"\n"
    "if [ -n \"${FLEET_PROBE_THRESHOLDS:-}\" ]; then\n"
    "  printf '%s' \"$FLEET_PROBE_THRESHOLDS\" > \"$dir/thresholds.json\"\n"
    "fi\n"
    "/usr/local/bin/gpu-probe \"$@\" --output \"$dir/report.json\"\n"
    "code=$?\n"
    "if [ -s \"$dir/report.json\" ]; then\n"
    "  cat \"$dir/report.json\"\n"
    "  if [ $(wc -c < \"$dir/report.json\") -le 4096 ]; then\n"
    "    cat \"$dir/report.json\" > /dev/termination-log\n"
    "  fi\n"
    "fi\n"
    "exit \"$code\"\n";

std::string default_probe_image() {
  return "ghcr.io/fleetd/gpu-probe:" + std::string(gpuprobe::kProbeVersion);
}

std::string probe_job_name(std::string_view probe_id) {
  std::string base = dns_label_chars(probe_id);
  std::string name = std::string(kJobPrefix) + base;
  if (name.size() <= kMaxNameLength && !base.empty() && base == probe_id) return name;
  // Cut (or changed): the hash of the original id keeps two ids that read alike apart.
  const std::string hash = short_hash(probe_id);
  const std::size_t room = kMaxNameLength - kJobPrefix.size() - hash.size() - 1;
  if (base.size() > room) base = trim_end_dashes(base.substr(0, room));
  return std::string(kJobPrefix) + (base.empty() ? "" : base + "-") + hash;
}

std::string bounded_label_value(std::string_view text) {
  if (model::label_value_problem(text).empty()) return std::string(text);
  std::string cut;
  for (char c : text) cut += (alnum(c) || c == '.' || c == '_' || c == '-') ? c : '-';
  const std::string hash = short_hash(text);
  cut = trim_end_dashes(cut.substr(0, kMaxNameLength - hash.size() - 1));
  while (!cut.empty() && !alnum(cut.front())) cut.erase(0, 1);
  return cut.empty() ? hash : cut + "-" + hash;
}

std::vector<std::string> probe_args(const ProbeJobRequest& r) {
  std::vector<std::string> args = {r.mode == "full" ? "--full" : "--quick", "--expect-gpus", std::to_string(r.gpus)};
  if (r.thresholds.is_object() && !r.thresholds.empty()) {
    args.push_back("--thresholds");
    args.emplace_back(kThresholdsFile);
  }
  return args;
}

json probe_job_manifest(const ProbeJobRequest& r, const ProbeJobOptions& o) {
  const std::string name = probe_job_name(r.probe_id);
  const json labels = labels_of(r);
  json pod_spec = {{"restartPolicy", "Never"},
                   {"automountServiceAccountToken", false},
                   {"terminationGracePeriodSeconds", 10},
                   {"tolerations", tolerations()},
                   {"containers", json::array({container(r, o)})}};
  if (r.dra) {
    // A pod with spec.nodeName skips the scheduler, and the scheduler is what allocates a ResourceClaim: a DRA
    // probe is pinned by node affinity on the node's name instead (as DaemonSets are).
    pod_spec["affinity"] = {
        {"nodeAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           {{"nodeSelectorTerms",
             json::array({{{"matchFields", json::array({{{"key", "metadata.name"},
                                                         {"operator", "In"},
                                                         {"values", json::array({r.node})}}})}}})}}}}}};
    pod_spec["resourceClaims"] = json::array({{{"name", "gpus"}, {"resourceClaimTemplateName", name}}});
  } else {
    pod_spec["nodeName"] = r.node;
  }
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata",
           {{"name", name},
            {"namespace", o.namespace_},
            {"labels", labels},
            {"annotations",
             {{std::string(kProbeIdKey), r.probe_id},
              {std::string(kProbeNodeKey), r.node},
              {std::string(kProbeTriggerKey), r.trigger}}}}},
          {"spec",
           {// One attempt: a probe that failed is a verdict, not something to retry until it passes.
            {"backoffLimit", 0},
            // The admission machine gives up at the same time; this ends the pod if the agent is gone by then.
            {"activeDeadlineSeconds", r.timeout.count()},
            {"ttlSecondsAfterFinished", o.ttl_after_finished.count()},
            {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}}}};
}

std::optional<json> probe_claim_template(const ProbeJobRequest& r, const ProbeJobOptions& o) {
  if (!r.dra) return std::nullopt;
  // allocationMode All: every gpu.nvidia.com device of the node the pod lands on, so the probe sees them all.
  json request = {{"name", "gpus"}};
  const json exactly = {{"deviceClassName", std::string(kDraDeviceClass)}, {"allocationMode", "All"}};
  if (o.dra_version == "v1beta1") {
    request.update(exactly);  // v1beta1 has the fields on the request itself
  } else {
    request["exactly"] = exactly;  // v1 (and v1beta2)
  }
  return json{
      {"apiVersion", "resource.k8s.io/" + o.dra_version},
      {"kind", "ResourceClaimTemplate"},
      {"metadata", {{"name", probe_job_name(r.probe_id)}, {"namespace", o.namespace_}, {"labels", labels_of(r)}}},
      {"spec", {{"spec", {{"devices", {{"requests", json::array({request})}}}}}}}};
}

std::string jobs_path(std::string_view namespace_) {
  return "/apis/batch/v1/namespaces/" + std::string(namespace_) + "/jobs";
}

std::string claim_templates_path(std::string_view namespace_, std::string_view dra_version) {
  return "/apis/resource.k8s.io/" + std::string(dra_version) + "/namespaces/" + std::string(namespace_) +
         "/resourceclaimtemplates";
}

}  // namespace fleet::agent::kube
