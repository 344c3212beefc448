#include "agents/kube/admission_calls.hpp"

#include <algorithm>

#include "agents/kube/commands.hpp"
#include "agents/kube/json_fields.hpp"
#include "agents/kube/node_mapping.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLogBytes = 1 << 20;  // outcome_from_report_text reads at most this much

std::string job_path(std::string_view ns, std::string_view name) {
  return jobs_path(ns) + "/" + std::string(name);
}

// POST that treats 409 AlreadyExists as done; the created (or, after a 409, nothing) object comes back.
Result<json> create(KubeApi& api, const std::string& path, const json& object) {
  auto r = api.call("POST", path, object.dump());
  if (!r) return r.error();
  if (r->status == 409) return json();
  if (r->status < 200 || r->status >= 300) return api_error("POST", path, *r);
  return std::move(r->body);
}

}  // namespace

Status create_probe_job(KubeApi& api, const json& job, const std::optional<json>& claim_template,
                        const ProbeJobOptions& options) {
  const std::string name = str(member(job, "metadata"), "name");
  auto created = create(api, jobs_path(options.namespace_), job);
  if (!created) return created.error();
  if (!claim_template) return Ok{};
  std::string uid = str(member(*created, "metadata"), "uid");
  if (uid.empty()) {  // it existed already: its uid from a read
    auto existing = api.get(job_path(options.namespace_, name));
    if (!existing) return existing.error();
    uid = str(member(*existing, "metadata"), "uid");
  }
  json tmpl = *claim_template;
  tmpl["metadata"]["ownerReferences"] =
      json::array({{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"name", name}, {"uid", uid}}});
  auto made = create(api, claim_templates_path(options.namespace_, options.dra_version), tmpl);
  if (!made) return made.error();
  return Ok{};
}

Status delete_probe_job(KubeApi& api, std::string_view ns, std::string_view name) {
  const std::string path = http::with_query(job_path(ns, name), {{"propagationPolicy", "Background"}});
  auto r = api.call("DELETE", path);
  if (!r) return r.error();
  if (r->status == 404 || (r->status >= 200 && r->status < 300)) return Ok{};
  return api_error("DELETE", path, *r);
}

Result<ProbeJobState> read_probe_job_state(KubeApi& api, std::string_view ns, std::string_view name,
                                           std::size_t page_size) {
  const std::string path = job_path(ns, name);
  auto r = api.call("GET", path);
  if (!r) return r.error();
  if (r->status == 404) return ProbeJobState{ProbeBlocked{"the probe's Job was deleted before it finished", true}};
  if (r->status < 200 || r->status >= 300) return api_error("GET", path, *r);
  const std::string pods_path = http::with_query("/api/v1/namespaces/" + std::string(ns) + "/pods",
                                                 {{"labelSelector", "job-name=" + std::string(name)}});
  auto pods = api.list(pods_path, page_size);
  if (!pods) return pods.error();
  return read_probe_job(r->body, (*pods)["items"]);
}

std::optional<std::string> read_probe_log(KubeApi& api, std::string_view ns, std::string_view pod) {
  const std::string path =
      http::with_query("/api/v1/namespaces/" + std::string(ns) + "/pods/" + std::string(pod) + "/log",
                       {{"container", std::string(kProbeContainer)}, {"limitBytes", std::to_string(kMaxLogBytes)}});
  auto r = api.call("GET", path);
  if (!r || r->status != 200) return std::nullopt;
  return std::move(r->raw);
}

Result<std::vector<std::string>> list_probe_jobs(KubeApi& api, std::string_view ns, std::size_t page_size) {
  const std::string selector =
      std::string(kProbeAppLabel) + "=gpu-probe," + std::string(kManagedByLabel) + "=" + std::string(kManagedBy);
  auto list = api.list(http::with_query(jobs_path(ns), {{"labelSelector", selector}}), page_size);
  if (!list) return list.error();
  std::vector<std::string> out;
  for (const json& job : (*list)["items"]) out.push_back(str(member(job, "metadata"), "name"));
  return out;
}

Status write_node_admission(KubeApi& api, const std::string& node, const NodeAdmissionWrite& write,
                            int conflict_retries) {
  const std::string path = "/api/v1/nodes/" + node;
  for (int attempt = 0; attempt <= conflict_retries; ++attempt) {
    auto current = api.get(path);
    if (!current) return current.error();
    json patch = {{"metadata", json::object()}};
    if (write.fleet_taints) {
      // Exactly these fleet taints: the fleet keys not asked for go, the others are added or given their value.
      TaintChange change{node, *write.fleet_taints, {}};
      for (std::string_view key : {model::kTaintGpuUnverified, model::kTaintGpuQuarantined}) {
        const bool wanted = std::any_of(write.fleet_taints->begin(), write.fleet_taints->end(),
                                        [&](const model::Taint& t) { return t.key == key; });
        if (!wanted) change.remove.push_back({std::string(key), "", ""});
      }
      const json& taints = member(member(*current, "spec"), "taints");
      json next = taints_after(taints, change);
      if (next != (taints.is_array() ? taints : json::array())) patch["spec"] = {{"taints", next}};
    }
    const json& annotations = member(member(*current, "metadata"), "annotations");
    auto annotate = [&](std::string_view key, const std::optional<std::string>& value) {
      if (value && str(annotations, std::string(key).c_str()) != *value) {
        patch["metadata"]["annotations"][std::string(key)] = *value;
      }
    };
    annotate(kAdmissionAnnotation, write.admission);
    annotate(kLastProbeAnnotation, write.last_probe);
    if (!patch.contains("spec") && patch["metadata"].empty()) return Ok{};
    // The resourceVersion makes the write conditional: the merge patch replaces the whole taints list, so a write
    // based on a stale read would drop a taint someone else added meanwhile.
    patch["metadata"]["resourceVersion"] = str(member(*current, "metadata"), "resourceVersion");
    auto r = api.call("PATCH", path, patch.dump(), kMergePatch);
    if (!r) return r.error();
    if (r->status == 409) continue;
    if (r->status < 200 || r->status >= 300) return api_error("PATCH", path, *r);
    return Ok{};
  }
  return make_error(ErrorCode::kConflict, "node " + node + ": the taints kept changing underneath (" +
                                              std::to_string(conflict_retries + 1) + " conflicts in a row)");
}

Result<std::vector<std::string>> workload_pods_on(KubeApi& api, const std::string& node, std::size_t page_size) {
  auto list = api.list(http::with_query("/api/v1/pods", {{"fieldSelector", "spec.nodeName=" + node}}), page_size);
  if (!list) return list.error();
  std::vector<std::string> out;
  for (const json& pod : (*list)["items"]) {
    if (!pod_needs_eviction(pod)) continue;
    const json& md = member(pod, "metadata");
    out.push_back(str(md, "namespace") + "/" + str(md, "name"));
  }
  return out;
}

}  // namespace fleet::agent::kube
