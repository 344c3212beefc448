// The API test double's batch/v1 Jobs, their pods and logs, and creating objects by POST (kube_api_double.hpp).
#include <utility>

#include "agents/kube/testing/kube_api_double_state.hpp"

namespace fleet::agent::kube::testing {
namespace {

constexpr std::string_view kNow = "2026-01-01T00:00:00Z";

bool is_jobs(const std::vector<std::string>& seg) {
  return seg.size() >= 6 && seg[0] == "apis" && seg[1] == "batch" && seg[2] == "v1" && seg[3] == "namespaces" &&
         seg[5] == "jobs";
}

std::string key_of(const json& object) {
  return object["metadata"].value("namespace", "") + "/" + name_of(object);
}

json& container_status(json& pod) {
  json& s = pod["status"];
  const std::string name = pod["spec"]["containers"][0].value("name", "");
  s["containerStatuses"] = json::array({{{"name", name}, {"ready", false}, {"restartCount", 0}}});
  return s["containerStatuses"][0];
}

}  // namespace

bool KubeApiDouble::State::handle_jobs_locked(const http::Request& req, const std::string& path,
                                              const std::vector<std::string>& seg,
                                              const std::map<std::string, std::string>& q,
                                              const http::Respond& respond) {
  const std::string& m = req.method;
  if (is_jobs(seg) && seg.size() == 6 && m == "POST") {
    create_job(req, path, respond);
    return true;
  }
  if (is_jobs(seg) && seg.size() == 6 && m == "GET") {
    std::map<std::string, json> in_namespace;
    for (const auto& [p, object] : objects) {
      if (p.rfind(path + "/", 0) == 0) in_namespace[name_of(object)] = object;
    }
    list(in_namespace, "JobList", q, respond);
    return true;
  }
  if (is_jobs(seg) && seg.size() == 7 && m == "DELETE") {
    delete_job(path, respond);
    return true;
  }
  if (seg.size() == 5 && seg[0] == "api" && seg[2] == "namespaces" && seg[4] == "pods" && m == "GET") {
    std::map<std::string, json> in_namespace;
    for (const auto& [key, pod] : pods) {
      if (key.rfind(seg[3] + "/", 0) == 0) in_namespace[key] = pod;
    }
    list(in_namespace, "PodList", q, respond);
    return true;
  }
  if (seg.size() == 7 && seg[0] == "api" && seg[2] == "namespaces" && seg[4] == "pods" && seg[6] == "log" &&
      m == "GET") {
    const std::string key = seg[3] + "/" + seg[5];
    auto log = pod_logs.find(key);
    if (!pods.count(key) || log == pod_logs.end()) {
      respond(json_response(pods.count(key) ? 400 : 404,
                            status(pods.count(key) ? 400 : 404, pods.count(key) ? "BadRequest" : "NotFound",
                                   "container \"gpu-probe\" in pod \"" + seg[5] + "\" has no log")));
      return true;
    }
    http::Response r;
    r.status = 200;
    r.headers["content-type"] = "text/plain";
    r.body = log->second;
    r.route = "kube-double";
    respond(std::move(r));
    return true;
  }
  // Any other collection (a ResourceClaimTemplate's): .../namespaces/{ns}/{resource}.
  if (m == "POST" && seg.size() >= 5 && seg[seg.size() - 3] == "namespaces") {
    create_object(req, path, respond);
    return true;
  }
  return false;
}

void KubeApiDouble::State::create_object(const http::Request& req, const std::string& path,
                                         const http::Respond& respond) {
  json object = json::parse(req.body, nullptr, false);
  if (!object.is_object() || !object.contains("metadata") || name_of(object).empty()) {
    respond(json_response(400, status(400, "BadRequest", "the object must be JSON with metadata.name")));
    return;
  }
  const std::string at = path + "/" + name_of(object);
  if (objects.count(at)) {
    const std::string resource = split_path(path).back();
    respond(json_response(409, status(409, "AlreadyExists", resource + " \"" + name_of(object) + "\" already exists",
                                      {{"name", name_of(object)}, {"kind", resource}})));
    return;
  }
  json& md = object["metadata"];
  md["namespace"] = split_path(path)[split_path(path).size() - 2];
  md["uid"] = uid();
  md["resourceVersion"] = std::to_string(++rv);
  md["creationTimestamp"] = kNow;
  objects[at] = object;
  respond(json_response(201, object));
}

void KubeApiDouble::State::create_job(const http::Request& req, const std::string& path, const http::Respond& respond) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || body.value("kind", "") != "Job" || !body.contains("spec") ||
      !body["spec"].contains("template")) {
    respond(json_response(400, status(400, "BadRequest", "the body must be a batch/v1 Job with a pod template")));
    return;
  }
  create_object(req, path, [&](http::Response r) {
    if (r.status != 201) return respond(std::move(r));
    const std::string at = path + "/" + name_of(body);
    json& job = objects[at];
    job["status"] = {{"startTime", kNow}, {"active", 1}};
    const std::string ns = job["metadata"].value("namespace", "");
    const std::string job_uid = job["metadata"].value("uid", "");
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    pod["metadata"] = job["spec"]["template"].value("metadata", json::object());
    pod["metadata"]["name"] = name_of(job) + "-" + std::to_string(10000 + next_uid);
    pod["metadata"]["namespace"] = ns;
    pod["metadata"]["uid"] = uid();
    pod["metadata"]["resourceVersion"] = std::to_string(++rv);
    pod["metadata"]["creationTimestamp"] = kNow;
    pod["metadata"]["labels"]["job-name"] = name_of(job);
    pod["metadata"]["labels"]["batch.kubernetes.io/job-name"] = name_of(job);
    pod["metadata"]["labels"]["controller-uid"] = job_uid;
    pod["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "batch/v1"},
                                                       {"kind", "Job"},
                                                       {"name", name_of(job)},
                                                       {"uid", job_uid},
                                                       {"controller", true}}});
    pod["spec"] = job["spec"]["template"]["spec"];
    pod["status"] = {{"phase", "Pending"}};
    std::string log;
    if (job_pod_hook) job_pod_hook(job, pod, log);
    if (!log.empty()) pod_logs[key_of(pod)] = log;
    pods[key_of(pod)] = pod;
    job_follows_pod(pod);
    respond(json_response(201, job));
  });
}

void KubeApiDouble::State::job_follows_pod(const json& pod) {
  const std::string job_name = pod["metadata"]["labels"].value("job-name", "");
  auto it = objects.find("/apis/batch/v1/namespaces/" + pod["metadata"].value("namespace", "") + "/jobs/" + job_name);
  if (it == objects.end()) return;
  json& job = it->second;
  const std::string phase = pod["status"].value("phase", "");
  if (phase == "Succeeded") {
    job["status"] = {{"startTime", kNow},
                     {"succeeded", 1},
                     {"conditions", json::array({{{"type", "Complete"}, {"status", "True"}}})}};
  } else if (phase == "Failed") {
    job["status"] = {{"startTime", kNow},
                     {"failed", 1},
                     {"conditions", json::array({{{"type", "Failed"},
                                                  {"status", "True"},
                                                  {"reason", "BackoffLimitExceeded"},
                                                  {"message", "Job has reached the specified backoff limit"}}})}};
  }
  job["metadata"]["resourceVersion"] = std::to_string(++rv);
}

void KubeApiDouble::State::delete_job(const std::string& path, const http::Respond& respond) {
  auto it = objects.find(path);
  if (it == objects.end()) {
    respond(json_response(404, status(404, "NotFound", "jobs.batch \"" + split_path(path).back() + "\" not found")));
    return;
  }
  const json job = it->second;
  const std::string job_uid = job["metadata"].value("uid", "");
  objects.erase(it);
  deleted_jobs.push_back(key_of(job));
  // What the garbage collector does next: the Job's pods and the objects it owns go too.
  std::erase_if(pods, [&](const auto& e) { return labels_match(e.second, {{"controller-uid", job_uid}}); });
  std::erase_if(objects, [&](const auto& e) {
    const json* owners = at_path(e.second, "metadata.ownerReferences");
    if (!owners || !owners->is_array()) return false;
    for (const json& o : *owners) {
      if (o.value("uid", "") == job_uid) return true;
    }
    return false;
  });
  respond(json_response(200, status(200, "Success", "")));
}

void KubeApiDouble::set_job_pod_hook(JobPodHook hook) {
  std::lock_guard lock(state_->mutex);
  state_->job_pod_hook = std::move(hook);
}

std::vector<json> KubeApiDouble::jobs() const {
  std::lock_guard lock(state_->mutex);
  std::vector<json> out;
  for (const auto& [path, object] : state_->objects) {
    if (is_jobs(split_path(path)) && split_path(path).size() == 7) out.push_back(object);
  }
  return out;
}

std::optional<json> KubeApiDouble::job_pod(const std::string& ns, const std::string& job) const {
  std::lock_guard lock(state_->mutex);
  for (const auto& [key, pod] : state_->pods) {
    if (key.rfind(ns + "/", 0) == 0 && labels_match(pod, {{"job-name", job}})) return pod;
  }
  return std::nullopt;
}

void KubeApiDouble::update_job_pod(const std::string& ns, const std::string& job,
                                   const std::function<void(json&)>& change) {
  std::lock_guard lock(state_->mutex);
  for (auto& [key, pod] : state_->pods) {
    if (key.rfind(ns + "/", 0) != 0 || !labels_match(pod, {{"job-name", job}})) continue;
    change(pod);
    pod["metadata"]["resourceVersion"] = std::to_string(++state_->rv);
    state_->job_follows_pod(pod);
  }
}

std::vector<std::string> KubeApiDouble::deleted_jobs() const {
  std::lock_guard lock(state_->mutex);
  return state_->deleted_jobs;
}

void pod_running(json& pod) {
  pod["status"] = {{"phase", "Running"}, {"conditions", json::array({{{"type", "PodScheduled"}, {"status", "True"}}})}};
  container_status(pod)["state"] = {{"running", {{"startedAt", kNow}}}};
}

void pod_terminated(json& pod, int exit_code, const std::string& termination_message, const std::string& reason) {
  pod["status"] = {{"phase", exit_code == 0 ? "Succeeded" : "Failed"},
                   {"conditions", json::array({{{"type", "PodScheduled"}, {"status", "True"}}})}};
  json terminated = {{"exitCode", exit_code},
                     {"reason", !reason.empty()  ? reason
                                : exit_code == 0 ? "Completed"
                                                 : "Error"},
                     {"startedAt", kNow},
                     {"finishedAt", kNow}};
  if (!termination_message.empty()) terminated["message"] = termination_message;
  container_status(pod)["state"] = {{"terminated", terminated}};
}

void pod_unschedulable(json& pod, const std::string& message) {
  pod["status"] = {
      {"phase", "Pending"},
      {"conditions",
       json::array(
           {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}, {"message", message}}})}};
}

void pod_waiting(json& pod, const std::string& reason, const std::string& message) {
  pod["status"] = {{"phase", "Pending"}, {"conditions", json::array({{{"type", "PodScheduled"}, {"status", "True"}}})}};
  container_status(pod)["state"] = {{"waiting", {{"reason", reason}, {"message", message}}}};
}

}  // namespace fleet::agent::kube::testing
