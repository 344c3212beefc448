#pragma once
// The inside of the API test double (kube_api_double.hpp), shared by its source files: the store, the server, and
// the helpers that shape API answers. Not for tests to include.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/kube/testing/kube_api_double.hpp"
#include "net/http_server.hpp"

namespace fleet::agent::kube::testing {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A selector term without "=" ("fleet.io/workload") asks only that the label exist; "*" is no label value.
inline constexpr const char* kLabelExists = "*";

std::vector<std::string> split_path(std::string_view path);
// "spec.nodeName=n1,spec.driver=gpu.nvidia.com" (a field or label selector of equalities) → {key: value}.
std::map<std::string, std::string> field_selector(const std::string& text);
const json* at_path(const json& object, const std::string& dotted);
bool selected(const json& object, const std::map<std::string, std::string>& selector);
bool labels_match(const json& object, const std::map<std::string, std::string>& selector);
json status(int code, const std::string& reason, const std::string& message, json details = nullptr);
http::Response json_response(int code, const json& body);
std::string name_of(const json& object);

struct KubeApiDouble::State {
  struct Event {
    std::int64_t rv;
    std::string type;
    json object;
  };
  struct Watcher {
    std::int64_t from;
    bool bookmarks;
    Clock::time_point deadline;
    http::Respond respond;
  };

  KubeApiDoubleOptions options;
  std::unique_ptr<http::Server> server;
  std::thread server_thread;
  std::thread timer_thread;

  mutable std::mutex mutex;
  std::condition_variable timer_wake;
  bool stopping = false;
  std::int64_t rv = 100;
  std::int64_t compacted_before = 0;  // watches from a version older than this get 410
  int next_uid = 1;
  std::map<std::string, json> nodes;
  std::map<std::string, json> pods;  // "ns/name"
  std::map<std::string, Clock::time_point> terminating;
  std::map<std::string, int> eviction_attempts;
  std::vector<PdbBlock> pdbs;
  std::vector<json> slices;
  std::map<std::string, json> objects;          // applied, by path
  std::map<std::string, json> refused_applies;  // path → the Status every apply of it gets …
  std::map<std::string, int> refusals_left;     // … or the next n applies (absent: every one)
  std::vector<Event> history;
  std::vector<Watcher> watchers;
  std::map<std::string, int> conflicts;
  int gone_watches = 0;
  std::vector<RecordedRequest> requests;

  std::string uid() { return "00000000-0000-4000-8000-" + std::to_string(100000000000 + next_uid++); }

  // Caller holds mutex.
  void node_event(const std::string& type, json node) {
    history.push_back(Event{rv, type, std::move(node)});
    flush_watchers(false);
  }

  static std::string line(const std::string& type, const json& object) {
    return json{{"type", type}, {"object", object}}.dump() + "\n";
  }

  std::string bookmark() const {
    return line("BOOKMARK",
                {{"kind", "Node"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", std::to_string(rv)}}}});
  }

  // The events after `from`, one line each; empty when there are none.
  std::string events_after(std::int64_t from) const {
    std::string out;
    for (const Event& e : history) {
      if (e.rv > from) out += line(e.type, e.object);
    }
    return out;
  }

  static http::Response watch_response(std::string body) {
    http::Response r;
    r.status = 200;
    r.headers["content-type"] = "application/json";
    r.body = std::move(body);
    r.route = "kube-double-watch";
    return r;
  }

  // Answers the waiting watches that have events now, and those whose wait is over (`now`) with a bookmark. `drop`
  // ends every one at once with only its pending events, no bookmark: a dropped connection.
  void flush_watchers(bool drop, Clock::time_point now = Clock::time_point::min()) {
    for (auto it = watchers.begin(); it != watchers.end();) {
      std::string body = events_after(it->from);
      const bool due = it->deadline <= now;
      if (body.empty() && !due && !drop) {
        ++it;
        continue;
      }
      if (it->bookmarks && !drop) body += bookmark();
      it->respond(watch_response(std::move(body)));
      it = watchers.erase(it);
    }
  }

  void handle(const http::Request& req, const http::Respond& respond);
  void handle_locked(const http::Request& req, const std::string& path, const std::map<std::string, std::string>& q,
                     const http::Respond& respond);
  void list(const std::map<std::string, json>& items, const std::string& kind,
            const std::map<std::string, std::string>& q, const http::Respond& respond) const;
  void watch_nodes(const std::map<std::string, std::string>& q, const http::Respond& respond);
  void patch_node(const http::Request& req, const std::string& name, const http::Respond& respond);
  void evict(const http::Request& req, const std::string& key, const http::Respond& respond);
  void apply(const http::Request& req, const std::string& path, const std::map<std::string, std::string>& q,
             const http::Respond& respond);
  bool list_collection(const std::string& path, const std::map<std::string, std::string>& q,
                       const http::Respond& respond) const;
  void timer_loop();

  // batch/v1 Jobs and what the probe Jobs need around them (kube_api_double_jobs.cpp).
  KubeApiDouble::JobPodHook job_pod_hook;
  std::map<std::string, std::string> pod_logs;  // "ns/name" → the log
  std::vector<std::string> deleted_jobs;        // "ns/name"
  // The Job, namespaced pod list, pod log and collection-create calls; false when the request is none of them.
  bool handle_jobs_locked(const http::Request& req, const std::string& path, const std::vector<std::string>& seg,
                          const std::map<std::string, std::string>& q, const http::Respond& respond);
  void create_job(const http::Request& req, const std::string& path, const http::Respond& respond);
  void create_object(const http::Request& req, const std::string& path, const http::Respond& respond);
  void delete_job(const std::string& path, const http::Respond& respond);
  void job_follows_pod(const json& pod);
};

}  // namespace fleet::agent::kube::testing
