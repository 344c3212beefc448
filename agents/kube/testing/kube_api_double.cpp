#include "agents/kube/testing/kube_api_double.hpp"

#include <algorithm>
#include <utility>

#include "agents/kube/testing/kube_api_double_state.hpp"
#include "agents/kube/testing/query_string.hpp"

namespace fleet::agent::kube::testing {

namespace {

std::string media_type(const http::Request& req) {
  const std::string* ct = req.header("content-type");
  if (!ct) return {};
  return ct->substr(0, ct->find(';'));
}

}  // namespace

// Shared with the other source files of the double (kube_api_double_state.hpp).

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// "spec.nodeName=n1,spec.driver=gpu.nvidia.com" → {field: value}.

std::map<std::string, std::string> field_selector(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string term = text.substr(start, comma - start);
    auto eq = term.find('=');
    if (eq == std::string::npos && !term.empty()) {
      out[term] = kLabelExists;  // "key": the label exists, whatever its value
    } else if (eq != std::string::npos) {
      std::string value = term.substr(eq + 1);
      if (!value.empty() && value.front() == '=') value.erase(0, 1);  // "=="
      out[term.substr(0, eq)] = value;
    }
    start = comma + 1;
  }
  return out;
}

const json* at_path(const json& object, const std::string& dotted) {
  const json* cur = &object;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    auto dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    std::string key = dotted.substr(start, dot - start);
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    start = dot + 1;
  }
  return cur;
}

bool selected(const json& object, const std::map<std::string, std::string>& selector) {
  for (const auto& [field, value] : selector) {
    const json* v = at_path(object, field);
    if (!v || !v->is_string() || v->get<std::string>() != value) return false;
  }
  return true;
}

json status(int code, const std::string& reason, const std::string& message, json details) {
  json s = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", code < 300 ? "Success" : "Failure"},
            {"message", message},
            {"reason", reason},
            {"code", code}};
  if (!details.is_null()) s["details"] = std::move(details);
  return s;
}

http::Response json_response(int code, const json& body) {
  http::Response r;
  r.status = code;
  r.headers["content-type"] = "application/json";
  r.body = body.dump();
  r.route = "kube-double";
  return r;
}

std::string name_of(const json& object) {
  return object["metadata"].value("name", "");
}

bool labels_match(const json& object, const std::map<std::string, std::string>& selector) {
  for (const auto& [key, value] : selector) {
    const json* labels = at_path(object, "metadata.labels");
    if (!labels || !labels->is_object() || !labels->contains(key) || !(*labels)[key].is_string() ||
        (value != kLabelExists && (*labels)[key].get<std::string>() != value)) {
      return false;
    }
  }
  return true;
}

void KubeApiDouble::State::handle(const http::Request& req, const http::Respond& respond) {
  const auto qpos = req.target.find('?');
  const std::string path = req.target.substr(0, qpos);
  const std::string raw_query = qpos == std::string::npos ? "" : req.target.substr(qpos + 1);
  std::lock_guard lock(mutex);
  requests.push_back(RecordedRequest{req.method, path, raw_query, media_type(req), req.body});
  const std::string* auth = req.header("authorization");
  if (!auth || *auth != "Bearer " + options.token) {
    respond(json_response(401, status(401, "Unauthorized", "Unauthorized")));
    return;
  }
  handle_locked(req, path, parse_query_string(raw_query), respond);
}

void KubeApiDouble::State::list(const std::map<std::string, json>& items, const std::string& kind,
                                const std::map<std::string, std::string>& q, const http::Respond& respond) const {
  std::map<std::string, std::string> selector;
  if (auto it = q.find("fieldSelector"); it != q.end()) selector = field_selector(it->second);
  std::map<std::string, std::string> labels;
  if (auto it = q.find("labelSelector"); it != q.end()) labels = field_selector(it->second);
  std::size_t limit = 0;
  if (auto it = q.find("limit"); it != q.end()) limit = std::stoul(it->second);
  std::string after;
  if (auto it = q.find("continue"); it != q.end()) after = it->second;
  json list = {{"kind", kind},
               {"apiVersion", "v1"},
               {"metadata", {{"resourceVersion", std::to_string(rv)}}},
               {"items", json::array()}};
  for (auto it = after.empty() ? items.begin() : items.upper_bound(after); it != items.end(); ++it) {
    if (!selected(it->second, selector) || !labels_match(it->second, labels)) continue;
    if (limit && list["items"].size() == limit) {
      // The continue token is the last key returned; opaque to clients, as the real one is.
      list["metadata"]["continue"] = std::prev(it)->first;
      break;
    }
    list["items"].push_back(it->second);
  }
  respond(json_response(200, list));
}

// GET of a collection across namespaces ("/apis/apps/v1/deployments", "/api/v1/configmaps"): every applied object
// whose path is that group, version and plural in some namespace, as a <Kind>List.
bool KubeApiDouble::State::list_collection(const std::string& path, const std::map<std::string, std::string>& q,
                                           const http::Respond& respond) const {
  const auto seg = split_path(path);
  const std::size_t prefix = !seg.empty() && seg[0] == "api" ? 2 : 3;  // "api/v1" or "apis/<group>/<version>"
  if (seg.size() != prefix + 1 || (seg[0] != "api" && seg[0] != "apis")) return false;
  std::map<std::string, json> items;
  std::string kind;
  for (const auto& [object_path, object] : objects) {
    const auto o = split_path(object_path);
    if (o.size() != prefix + 4 || o[prefix] != "namespaces" || o[prefix + 2] != seg[prefix]) continue;
    if (!std::equal(seg.begin(), seg.begin() + static_cast<std::ptrdiff_t>(prefix), o.begin())) continue;
    items[o[prefix + 1] + "/" + o[prefix + 3]] = object;
    kind = object.value("kind", "");
  }
  list(items, kind + "List", q, respond);
  return true;
}

void KubeApiDouble::State::watch_nodes(const std::map<std::string, std::string>& q, const http::Respond& respond) {
  const std::string from_text = q.count("resourceVersion") ? q.at("resourceVersion") : "";
  const bool bookmarks = q.count("allowWatchBookmarks") && q.at("allowWatchBookmarks") == "true";
  std::int64_t from = from_text.empty() ? 0 : std::stoll(from_text);
  auto gone = [&] {
    json s = status(410, "Expired",
                    "too old resource version: " + from_text + " (" + std::to_string(compacted_before) + ")");
    respond(watch_response(line("ERROR", s)));
  };
  if (gone_watches > 0) {
    --gone_watches;
    gone();
    return;
  }
  if (from_text.empty() || from == 0) {
    // "Any version": the current state as ADDED events, then watch from now.
    std::string body;
    for (const auto& [name, node] : nodes) body += line("ADDED", node);
    if (bookmarks) body += bookmark();
    respond(watch_response(std::move(body)));
    return;
  }
  if (from < compacted_before) {
    gone();
    return;
  }
  std::string body = events_after(from);
  if (!body.empty()) {
    if (bookmarks) body += bookmark();
    respond(watch_response(std::move(body)));
    return;
  }
  auto hold = options.watch_hold;
  if (auto it = q.find("timeoutSeconds"); it != q.end()) {
    hold = std::min<std::chrono::milliseconds>(hold, std::chrono::seconds(std::stoll(it->second)));
  }
  watchers.push_back(Watcher{from, bookmarks, Clock::now() + hold, respond});
  timer_wake.notify_all();
}

void KubeApiDouble::State::patch_node(const http::Request& req, const std::string& name, const http::Respond& respond) {
  const std::string type = media_type(req);
  if (type != "application/merge-patch+json" && type != "application/strategic-merge-patch+json") {
    respond(json_response(415, status(415, "UnsupportedMediaType",
                                      "the body of the request was in an unknown format - accepted media types "
                                      "include: application/merge-patch+json, "
                                      "application/strategic-merge-patch+json")));
    return;
  }
  json patch = json::parse(req.body, nullptr, false);
  if (!patch.is_object()) {
    respond(json_response(400, status(400, "BadRequest", "invalid JSON in the patch")));
    return;
  }
  auto it = nodes.find(name);
  if (it == nodes.end()) {
    respond(json_response(
        404, status(404, "NotFound", "nodes \"" + name + "\" not found", {{"name", name}, {"kind", "nodes"}})));
    return;
  }
  json& node = it->second;
  if (patch.contains("metadata") && patch["metadata"].is_object() && patch["metadata"].contains("resourceVersion")) {
    const json given = patch["metadata"]["resourceVersion"];
    patch["metadata"].erase("resourceVersion");
    auto injected = conflicts.find(name);
    if (injected != conflicts.end() && injected->second > 0) {
      --injected->second;
      // Another writer changes the node first.
      node["metadata"]["annotations"]["example.com/other-writer"] = std::to_string(++rv);
      node["metadata"]["resourceVersion"] = std::to_string(rv);
      node_event("MODIFIED", node);
    }
    if (given != node["metadata"]["resourceVersion"]) {
      respond(json_response(
          409, status(409, "Conflict",
                      "Operation cannot be fulfilled on nodes \"" + name +
                          "\": the object has been modified; please apply your changes to the latest version and "
                          "try again",
                      {{"name", name}, {"kind", "nodes"}})));
      return;
    }
  }
  node.merge_patch(patch);
  node["metadata"]["resourceVersion"] = std::to_string(++rv);
  node_event("MODIFIED", node);
  respond(json_response(200, node));
}

void KubeApiDouble::State::evict(const http::Request& req, const std::string& key, const http::Respond& respond) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || body.value("kind", "") != "Eviction") {
    respond(json_response(400, status(400, "BadRequest", "the body must be a policy/v1 Eviction")));
    return;
  }
  ++eviction_attempts[key];
  auto it = pods.find(key);
  if (it == pods.end()) {
    const std::string name = key.substr(key.find('/') + 1);
    respond(json_response(
        404, status(404, "NotFound", "pods \"" + name + "\" not found", {{"name", name}, {"kind", "pods"}})));
    return;
  }
  const json& pod = it->second;
  const std::string ns = pod["metadata"].value("namespace", "");
  for (PdbBlock& pdb : pdbs) {
    if (pdb.namespace_ != ns || pdb.refusals == 0) continue;
    bool matches = true;
    for (const auto& [k, v] : pdb.selector) {
      const json* l = at_path(pod, "metadata.labels." + k);
      if (!l || !l->is_string() || l->get<std::string>() != v) matches = false;
    }
    if (!matches) continue;
    if (pdb.refusals > 0) --pdb.refusals;
    json details = {{"causes", json::array({{{"reason", "DisruptionBudget"},
                                             {"message", "The disruption budget " + pdb.name + " " + pdb.healthy}}})}};
    respond(json_response(
        429, status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                    std::move(details))));
    return;
  }
  if (options.pod_termination.count() > 0) {
    it->second["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    terminating[key] = Clock::now() + options.pod_termination;
    timer_wake.notify_all();
  } else {
    pods.erase(it);
  }
  respond(json_response(201, status(201, "", "")));
}

void KubeApiDouble::State::apply(const http::Request& req, const std::string& path,
                                 const std::map<std::string, std::string>& q, const http::Respond& respond) {
  auto manager = q.find("fieldManager");
  if (manager == q.end() || manager->second.empty()) {
    respond(json_response(400, status(400, "BadRequest", "PATCH with apply must have a fieldManager")));
    return;
  }
  // JSON is YAML; the double parses only that form, which is what the backend sends.
  json object = json::parse(req.body, nullptr, false);
  if (!object.is_object() || !object.contains("metadata") || name_of(object) != split_path(path).back()) {
    respond(json_response(400, status(400, "BadRequest", "the applied object must be JSON whose name is the path's")));
    return;
  }
  auto existing = objects.find(path);
  const bool created = existing == objects.end();
  json& md = object["metadata"];
  md["uid"] = created ? json(uid()) : existing->second["metadata"]["uid"];
  md["resourceVersion"] = std::to_string(++rv);
  md["creationTimestamp"] = "2026-01-01T00:00:00Z";
  md["generation"] = created ? 1 : existing->second["metadata"].value("generation", 1) + 1;
  md["managedFields"] = json::array({{{"manager", manager->second},
                                      {"operation", "Apply"},
                                      {"apiVersion", object.value("apiVersion", "")},
                                      {"time", "2026-01-01T00:00:00Z"},
                                      {"fieldsType", "FieldsV1"},
                                      {"fieldsV1", json::object()}}});
  objects[path] = object;
  respond(json_response(created ? 201 : 200, object));
}

void KubeApiDouble::State::handle_locked(const http::Request& req, const std::string& path,
                                         const std::map<std::string, std::string>& q, const http::Respond& respond) {
  const auto seg = split_path(path);
  const std::string& m = req.method;
  auto not_found = [&] {
    respond(json_response(404, status(404, "NotFound", "the server could not find the requested resource")));
  };
  if (m == "GET" && path == "/version") {
    const auto dot = options.git_version.find('.');
    respond(json_response(
        200, {{"major", "1"},
              {"minor", options.git_version.substr(dot + 1, options.git_version.find('.', dot + 1) - dot - 1)},
              {"gitVersion", options.git_version},
              {"platform", "linux/amd64"}}));
    return;
  }
  if (handle_jobs_locked(req, path, seg, q, respond)) return;
  if (path == "/api/v1/nodes" && m == "GET") {
    auto w = q.find("watch");
    if (w != q.end() && (w->second == "1" || w->second == "true")) {
      watch_nodes(q, respond);
    } else {
      list(nodes, "NodeList", q, respond);
    }
    return;
  }
  if (seg.size() == 4 && seg[0] == "api" && seg[2] == "nodes") {
    if (m == "GET") {
      auto it = nodes.find(seg[3]);
      if (it == nodes.end()) return not_found();
      respond(json_response(200, it->second));
    } else if (m == "PATCH") {
      patch_node(req, seg[3], respond);
    } else {
      respond(json_response(405, status(405, "MethodNotAllowed", "the double does not support this")));
    }
    return;
  }
  if (path == "/api/v1/pods" && m == "GET") {
    list(pods, "PodList", q, respond);
    return;
  }
  if (seg.size() >= 6 && seg[0] == "api" && seg[2] == "namespaces" && seg[4] == "pods") {
    const std::string key = seg[3] + "/" + seg[5];
    if (seg.size() == 7 && seg[6] == "eviction" && m == "POST") {
      evict(req, key, respond);
      return;
    }
    if (seg.size() == 6 && m == "GET") {
      auto it = pods.find(key);
      if (it == pods.end()) return not_found();
      respond(json_response(200, it->second));
      return;
    }
  }
  if (seg.size() == 4 && seg[0] == "apis" && seg[1] == "resource.k8s.io" && seg[3] == "resourceslices" && m == "GET") {
    if (seg[2] != options.resource_slice_version) return not_found();
    std::map<std::string, json> by_name;
    for (const json& s : slices) by_name[name_of(s)] = s;
    list(by_name, "ResourceSliceList", q, respond);
    return;
  }
  if (m == "PATCH" && media_type(req) == "application/apply-patch+yaml") {
    if (auto refusal = refused_applies.find(path); refusal != refused_applies.end()) {
      const json refused = refusal->second;
      if (auto left = refusals_left.find(path); left != refusals_left.end() && --left->second <= 0) {
        refusals_left.erase(left);
        refused_applies.erase(refusal);
      }
      respond(json_response(refused.value("code", 422), refused));
      return;
    }
    apply(req, path, q, respond);
    return;
  }
  if (m == "DELETE") {
    auto it = objects.find(path);
    if (it == objects.end()) return not_found();
    objects.erase(it);
    respond(json_response(200, status(200, "", "")));
    return;
  }
  if (m == "GET") {
    auto it = objects.find(path);
    if (it != objects.end()) {
      respond(json_response(200, it->second));
      return;
    }
    if (list_collection(path, q, respond)) return;
    return not_found();
  }
  not_found();
}

void KubeApiDouble::State::timer_loop() {
  std::unique_lock lock(mutex);
  while (!stopping) {
    timer_wake.wait_for(lock, std::chrono::milliseconds(5));
    const auto now = Clock::now();
    flush_watchers(false, now);
    for (auto it = terminating.begin(); it != terminating.end();) {
      if (it->second <= now) {
        pods.erase(it->first);
        it = terminating.erase(it);
      } else {
        ++it;
      }
    }
  }
}

Result<std::unique_ptr<KubeApiDouble>> KubeApiDouble::start(KubeApiDoubleOptions options) {
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return make_error(ErrorCode::kInvalid, "the API double needs a TLS certificate and key");
  }
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  State* s = state.get();
  http::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.threads = 2;
  so.tls_cert_file = s->options.tls_cert_file;
  so.tls_key_file = s->options.tls_key_file;
  auto server = http::Server::create(
      so, [s](const http::Request& req, const http::Respond& respond) { s->handle(req, respond); });
  if (!server) return server.error();
  s->server = std::move(*server);
  s->server_thread = std::thread([s] { s->server->run(); });
  s->timer_thread = std::thread([s] { s->timer_loop(); });
  return std::unique_ptr<KubeApiDouble>(new KubeApiDouble(std::move(state)));
}

KubeApiDouble::KubeApiDouble(std::unique_ptr<State> state) : state_(std::move(state)) {}

KubeApiDouble::~KubeApiDouble() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->flush_watchers(true);
  }
  state_->timer_wake.notify_all();
  state_->timer_thread.join();
  state_->server->shutdown(std::chrono::milliseconds(200));
  state_->server_thread.join();
}

std::string KubeApiDouble::url() const {
  return "https://" + state_->server->bound_address();
}

void KubeApiDouble::put_node(json node) {
  std::lock_guard lock(state_->mutex);
  const std::string name = name_of(node);
  const bool exists = state_->nodes.count(name) > 0;
  node["kind"] = "Node";
  node["apiVersion"] = "v1";
  node["metadata"]["uid"] = exists ? state_->nodes[name]["metadata"]["uid"] : json(state_->uid());
  node["metadata"]["resourceVersion"] = std::to_string(++state_->rv);
  state_->nodes[name] = node;
  state_->node_event(exists ? "MODIFIED" : "ADDED", node);
}

void KubeApiDouble::update_node(const std::string& name, const std::function<void(json&)>& change) {
  std::lock_guard lock(state_->mutex);
  json& node = state_->nodes.at(name);
  change(node);
  node["metadata"]["resourceVersion"] = std::to_string(++state_->rv);
  state_->node_event("MODIFIED", node);
}

std::vector<std::string> KubeApiDouble::node_names() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  out.reserve(state_->nodes.size());
  for (const auto& [name, node] : state_->nodes) out.push_back(name);
  return out;
}

void KubeApiDouble::set_git_version(const std::string& git_version) {
  std::lock_guard lock(state_->mutex);
  state_->options.git_version = git_version;
}

void KubeApiDouble::delete_node(const std::string& name) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->nodes.find(name);
  if (it == state_->nodes.end()) return;
  json node = it->second;
  state_->nodes.erase(it);
  node["metadata"]["resourceVersion"] = std::to_string(++state_->rv);
  state_->node_event("DELETED", node);
}

std::optional<json> KubeApiDouble::node(const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->nodes.find(name);
  if (it == state_->nodes.end()) return std::nullopt;
  return it->second;
}

void KubeApiDouble::put_pod(json pod) {
  std::lock_guard lock(state_->mutex);
  pod["kind"] = "Pod";
  pod["apiVersion"] = "v1";
  if (!pod["metadata"].contains("namespace")) pod["metadata"]["namespace"] = "default";
  if (!pod["metadata"].contains("uid")) pod["metadata"]["uid"] = state_->uid();
  pod["metadata"]["resourceVersion"] = std::to_string(++state_->rv);
  state_->pods[pod["metadata"].value("namespace", "") + "/" + name_of(pod)] = pod;
}

std::optional<json> KubeApiDouble::pod(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->pods.find(ns + "/" + name);
  if (it == state_->pods.end()) return std::nullopt;
  return it->second;
}

std::vector<json> KubeApiDouble::pods_on(const std::string& node) const {
  std::lock_guard lock(state_->mutex);
  std::vector<json> out;
  for (const auto& [key, pod] : state_->pods) {
    const json* n = at_path(pod, "spec.nodeName");
    if (n && n->is_string() && n->get<std::string>() == node) out.push_back(pod);
  }
  return out;
}

int KubeApiDouble::eviction_attempts(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->eviction_attempts.find(ns + "/" + name);
  return it == state_->eviction_attempts.end() ? 0 : it->second;
}

void KubeApiDouble::add_pdb(PdbBlock pdb) {
  std::lock_guard lock(state_->mutex);
  state_->pdbs.push_back(std::move(pdb));
}

void KubeApiDouble::put_resource_slice(json slice) {
  std::lock_guard lock(state_->mutex);
  slice["kind"] = "ResourceSlice";
  slice["apiVersion"] = "resource.k8s.io/" + state_->options.resource_slice_version;
  slice["metadata"]["resourceVersion"] = std::to_string(++state_->rv);
  state_->slices.push_back(std::move(slice));
}

void KubeApiDouble::refuse_apply(const std::string& path, int code, const std::string& reason,
                                 const std::string& message, json causes, int times) {
  std::lock_guard lock(state_->mutex);
  state_->refusals_left.erase(path);
  if (times == 0) {
    state_->refused_applies.erase(path);
    return;
  }
  json details = nullptr;
  if (!causes.is_null()) details = {{"causes", std::move(causes)}};
  state_->refused_applies[path] = status(code, reason, message, std::move(details));
  if (times > 0) state_->refusals_left[path] = times;
}

std::optional<json> KubeApiDouble::object(const std::string& path) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->objects.find(path);
  if (it == state_->objects.end()) return std::nullopt;
  return it->second;
}

void KubeApiDouble::put_object(const std::string& path, json object) {
  std::lock_guard lock(state_->mutex);
  state_->objects[path] = std::move(object);
}

void KubeApiDouble::inject_conflicts(const std::string& node, int count) {
  std::lock_guard lock(state_->mutex);
  state_->conflicts[node] = count;
}

void KubeApiDouble::fail_next_watches_with_gone(int count) {
  std::lock_guard lock(state_->mutex);
  state_->gone_watches = count;
}

void KubeApiDouble::compact() {
  std::lock_guard lock(state_->mutex);
  // As etcd compaction does: history before the new revision is gone and open watches end; a watch that resumes
  // from any version it has seen is now too old (410), and a relist gets the new revision.
  state_->compacted_before = ++state_->rv;
  state_->history.clear();
  state_->flush_watchers(true);
}

void KubeApiDouble::end_watches() {
  std::lock_guard lock(state_->mutex);
  state_->flush_watchers(true);
}

std::vector<RecordedRequest> KubeApiDouble::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

int KubeApiDouble::count_requests(const std::string& method, const std::string& path_prefix,
                                  const std::string& query_part) const {
  std::lock_guard lock(state_->mutex);
  return static_cast<int>(
      std::count_if(state_->requests.begin(), state_->requests.end(), [&](const RecordedRequest& r) {
        return r.method == method && r.path.rfind(path_prefix, 0) == 0 && r.query.find(query_part) != std::string::npos;
      }));
}

std::int64_t KubeApiDouble::resource_version() const {
  std::lock_guard lock(state_->mutex);
  return state_->rv;
}

}  // namespace fleet::agent::kube::testing
