#include "agents/kube/upgrade/suc_plan.hpp"

#include <algorithm>

#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

json plan(std::string_view name, json selector, std::string_view version, int concurrency, const SucPlanOptions& o) {
  return {{"apiVersion", "upgrade.cattle.io/v1"},
          {"kind", "Plan"},
          {"metadata",
           {{"name", std::string(name)},
            {"namespace", o.namespace_},
            {"labels", {{"app.kubernetes.io/managed-by", "fleet-agent"}}}}},
          {"spec",
           {{"concurrency", std::max(1, concurrency)},
            {"nodeSelector", std::move(selector)},
            {"serviceAccountName", o.service_account},
            {"version", std::string(version)},
            {"cordon", true},
            {"upgrade", {{"image", o.upgrade_image}}}}}};
}

// "1.32.7+k3s1" and "v1.32.7-k3s1" alike: the controller munges '+' to '-' for image tags.
std::string normalized(std::string_view v) {
  std::string out(v);
  if (!out.empty() && out.front() == 'v') out.erase(0, 1);
  std::replace(out.begin(), out.end(), '+', '-');
  return out;
}

}  // namespace

std::string suc_plan_name(std::string_view pool) {
  if (pool.empty()) return "fleet-control-plane";
  std::string name = "fleet-pool-" + std::string(pool);
  if (name.size() > 63) name.resize(63);  // pool names are DNS labels already; the prefix may push one over
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name;
}

std::string suc_version(std::string_view kubernetes_version, const SucPlanOptions& options) {
  return "v" + std::string(kubernetes_version) + options.version_suffix;
}

std::string suc_plan_path(std::string_view name, const SucPlanOptions& options) {
  return "/apis/upgrade.cattle.io/v1/namespaces/" + options.namespace_ + "/plans/" + std::string(name);
}

json control_plane_plan(std::string_view kubernetes_version, const SucPlanOptions& options) {
  json selector = {{"matchExpressions", json::array({{{"key", std::string(kControlPlaneRoleLabel)},
                                                      {"operator", "In"},
                                                      {"values", json::array({"true"})}}})}};
  json p = plan(suc_plan_name(""), std::move(selector), suc_version(kubernetes_version, options), 1, options);
  // The upgrade Job must run where the control plane's taints would keep it off.
  p["spec"]["tolerations"] = json::array({{{"key", std::string(kControlPlaneRoleLabel)}, {"operator", "Exists"}},
                                          {{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}}});
  return p;
}

json pool_plan(std::string_view pool, const std::vector<std::string>& node_names, std::string_view kubernetes_version,
               int concurrency, const SucPlanOptions& options) {
  std::vector<std::string> names = node_names;
  std::sort(names.begin(), names.end());  // a stable Plan for the same pool: re-applying it changes nothing
  // No names: a Plan that selects no node (`In` needs values; the controller itself requires the hostname label,
  // so DoesNotExist matches nothing). What a maintenance window's end leaves when no node was in hand.
  json hostname = names.empty() ? json{{"key", std::string(kHostnameLabel)}, {"operator", "DoesNotExist"}}
                                : json{{"key", std::string(kHostnameLabel)}, {"operator", "In"}, {"values", names}};
  json selector = {{"matchExpressions",
                    json::array({std::move(hostname),
                                 {{"key", std::string(kControlPlaneRoleLabel)}, {"operator", "DoesNotExist"}}})}};
  json p =
      plan(suc_plan_name(pool), std::move(selector), suc_version(kubernetes_version, options), concurrency, options);
  p["spec"]["drain"] = {
      {"force", true}, {"ignoreDaemonSets", true}, {"deleteEmptydirData", true}, {"skipWaitForDeleteTimeout", 60}};
  return p;
}

PlanView read_plan(const json& plan) {
  PlanView v;
  if (!plan.is_object()) return v;
  v.exists = true;
  v.spec_version = plan.value("/spec/version"_json_pointer, std::string());
  const json expressions = plan.value("/spec/nodeSelector/matchExpressions"_json_pointer, json::array());
  for (const json& e : expressions.is_array() ? expressions : json::array()) {
    if (!e.is_object() || e.value("key", json()) != std::string(kHostnameLabel)) continue;
    const json op = e.value("operator", json());
    if (op == "DoesNotExist") v.hostnames.emplace();
    if (op != "In") continue;
    std::vector<std::string> names;
    for (const json& n : e.value("values", json::array())) {
      if (n.is_string()) names.push_back(n.get<std::string>());
    }
    std::sort(names.begin(), names.end());
    v.hostnames = std::move(names);
  }
  const json* status = plan.contains("status") && plan["status"].is_object() ? &plan["status"] : nullptr;
  if (!status) return v;
  v.latest_version = status->value("latestVersion", "");
  v.latest_hash = status->value("latestHash", "");
  if (auto a = status->find("applying"); a != status->end() && a->is_array()) {
    for (const json& n : *a) {
      if (n.is_string()) v.applying.push_back(n.get<std::string>());
    }
  }
  if (auto c = status->find("conditions"); c != status->end() && c->is_array()) {
    for (const json& cond : *c) {
      if (!cond.is_object() || cond.value("type", "") != "Complete") continue;
      v.complete = cond.value("status", "") == "True";
      const std::string reason = cond.value("reason", "");
      const std::string message = cond.value("message", "");
      v.message = reason + (reason.empty() || message.empty() ? "" : ": ") + message;
    }
  }
  return v;
}

UpgradeDecision decide_plan(const PlanView& plan, std::string_view suc_version,
                            const std::optional<std::vector<std::string>>& hostnames) {
  if (!plan.exists || normalized(plan.spec_version) != normalized(suc_version)) return UpgradeDecision::kSend;
  if (hostnames) {
    std::vector<std::string> wanted = *hostnames;
    std::sort(wanted.begin(), wanted.end());
    if (plan.hostnames != wanted) return UpgradeDecision::kSend;
  }
  if (plan.complete.value_or(false) && normalized(plan.latest_version) == normalized(suc_version)) {
    return UpgradeDecision::kDone;
  }
  return UpgradeDecision::kFollow;
}

std::string suc_jobs_path(std::string_view plan_name, const SucPlanOptions& options) {
  return http::with_query("/apis/batch/v1/namespaces/" + options.namespace_ + "/jobs",
                          {{"labelSelector", "upgrade.cattle.io/plan=" + std::string(plan_name)}});
}

std::optional<FailedUpgradeJob> failed_upgrade_job(const json& job_list, std::string_view latest_version) {
  // What the API server sends is read defensively: a member that is missing or not a string reads as "".
  const auto text = [](const json& object, std::string_view key) {
    if (!object.is_object()) return std::string();
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const json* items = job_list.is_object() && job_list.contains("items") ? &job_list["items"] : nullptr;
  if (!items || !items->is_array()) return std::nullopt;
  std::optional<FailedUpgradeJob> first;
  const json none = json::object();
  for (const json& job : *items) {
    const json& metadata = job.is_object() && job.contains("metadata") ? job["metadata"] : none;
    const json& labels = metadata.is_object() && metadata.contains("labels") ? metadata["labels"] : none;
    const std::string version = text(labels, "upgrade.cattle.io/version");
    if (!version.empty() && normalized(version) != normalized(latest_version)) continue;
    const json* status = job.is_object() && job.contains("status") ? &job["status"] : nullptr;
    const json* conditions =
        status && status->is_object() && status->contains("conditions") ? &(*status)["conditions"] : nullptr;
    if (!conditions || !conditions->is_array()) continue;
    for (const json& c : *conditions) {
      if (text(c, "type") != "Failed" || text(c, "status") != "True") continue;
      FailedUpgradeJob f{text(metadata, "name"), text(labels, "upgrade.cattle.io/node"), text(c, "reason"),
                         text(c, "message")};
      if (!first || f.job < first->job) first = std::move(f);
      break;
    }
  }
  return first;
}

bool same_suc_version(std::string_view a, std::string_view b) {
  return normalized(a) == normalized(b);
}

bool kubelet_at(std::string_view kubelet_version, std::string_view kubernetes_version) {
  if (kubelet_version.substr(0, kubernetes_version.size()) != kubernetes_version) return false;
  return kubelet_version.size() == kubernetes_version.size() || kubelet_version[kubernetes_version.size()] == '+' ||
         kubelet_version[kubernetes_version.size()] == '-';
}

}  // namespace fleet::agent::kube
