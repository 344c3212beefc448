#include "agents/kube/node_informer.hpp"

#include <algorithm>
#include <utility>

#include "agents/kube/manifest_url.hpp"
#include "common/log.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

std::string resource_version_of(const json& object) {
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return {};
  auto rv = md->find("resourceVersion");
  return rv != md->end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

}  // namespace

NodeInformer::NodeInformer(ApiFactory make_api, InformerOptions options)
    : make_api_(std::move(make_api)), options_(std::move(options)) {}

NodeInformer::~NodeInformer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (watch_api_) watch_api_->cancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool NodeInformer::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [&] { return stopping_; });
  return !stopping_;
}

Result<NodeInformer::Listed> NodeInformer::list(KubeApi& api) {
  auto list = api.list("/api/v1/nodes", options_.page_size);
  if (!list) return list.error();
  Listed out;
  for (const json& item : (*list)["items"]) {
    auto node = node_info_from_k8s(item, options_.mapping);
    if (!node) {
      log::warn("kubernetes: node left out of the inventory", {{"error", node.error().message}});
      continue;
    }
    out.meta.insert_or_assign(node->name, node_meta_from_k8s(item));
    std::string name = node->name;
    out.nodes.insert_or_assign(std::move(name), std::move(*node));
  }
  out.resource_version = (*list)["metadata"].value("resourceVersion", "");
  if (out.resource_version.empty()) {
    return make_error(ErrorCode::kUnavailable, "GET /api/v1/nodes: the list has no resourceVersion to watch from");
  }
  return out;
}

Status NodeInformer::ensure_synced(KubeApi& api) {
  if (synced()) return Ok{};
  auto listed = list(api);
  if (!listed) return listed.error();
  {
    std::lock_guard lock(mutex_);
    if (synced_) return Ok{};
    cache_ = std::move(listed->nodes);
    meta_ = std::move(listed->meta);
    resource_version_ = std::move(listed->resource_version);
    synced_ = true;
    ++stats_.lists;
  }
  thread_ = std::thread([this] { watch_loop(); });
  return Ok{};
}

bool NodeInformer::synced() const {
  std::lock_guard lock(mutex_);
  return synced_;
}

std::vector<model::NodeInfo> NodeInformer::nodes() const {
  std::lock_guard lock(mutex_);
  std::vector<model::NodeInfo> out;
  out.reserve(cache_.size());
  for (const auto& [name, node] : cache_) out.push_back(node);
  return out;
}

bool NodeInformer::has_node(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return cache_.find(name) != cache_.end();
}

std::map<std::string, NodeMeta, std::less<>> NodeInformer::node_meta() const {
  std::lock_guard lock(mutex_);
  return meta_;
}

InformerStats NodeInformer::stats() const {
  std::lock_guard lock(mutex_);
  InformerStats s = stats_;
  s.resource_version = resource_version_;
  return s;
}

NodeInformer::Outcome NodeInformer::apply_event(std::string_view line) {
  json event = json::parse(line, nullptr, false);
  if (!event.is_object() || !event.contains("type") || !event["type"].is_string()) {
    log::warn("kubernetes: ignoring a malformed watch event", {{"line", std::string(line.substr(0, 200))}});
    return Outcome::kContinue;
  }
  const std::string type = event["type"].get<std::string>();
  const json& object = event.contains("object") ? event["object"] : json::object();
  if (type == "ERROR") {
    // A watch reports a compacted resourceVersion as an ERROR event carrying a 410 Status.
    if (object.is_object() && object.value("code", 0) == 410) return Outcome::kGone;
    log::warn("kubernetes: the node watch reported an error", {{"status", object}});
    return Outcome::kContinue;
  }
  const std::string rv = resource_version_of(object);
  std::lock_guard lock(mutex_);
  if (type == "ADDED" || type == "MODIFIED") {
    auto node = node_info_from_k8s(object, options_.mapping);
    if (node) {
      meta_.insert_or_assign(node->name, node_meta_from_k8s(object));
      std::string name = node->name;
      cache_.insert_or_assign(std::move(name), std::move(*node));
    } else {
      log::warn("kubernetes: node left out of the inventory", {{"error", node.error().message}});
    }
  } else if (type == "DELETED") {
    const json& md = object.contains("metadata") ? object["metadata"] : json::object();
    if (md.is_object()) {
      cache_.erase(md.value("name", ""));
      meta_.erase(md.value("name", ""));
    }
  } else if (type != "BOOKMARK") {
    return Outcome::kContinue;
  }
  if (!rv.empty()) resource_version_ = rv;
  return Outcome::kContinue;
}

Result<NodeInformer::Outcome> NodeInformer::watch_once(KubeApi& api) {
  std::string rv;
  {
    std::lock_guard lock(mutex_);
    rv = resource_version_;
    ++stats_.watches;
  }
  const std::string path =
      http::with_query("/api/v1/nodes", {{"watch", "1"},
                                         {"resourceVersion", rv},
                                         {"allowWatchBookmarks", "true"},
                                         {"timeoutSeconds", std::to_string(options_.watch_timeout.count())}});
  Outcome outcome = Outcome::kContinue;
  auto r = api.watch(
      path,
      [&](std::string_view line) {
        outcome = apply_event(line);
        return outcome == Outcome::kContinue;
      },
      // The server ends the watch at timeoutSeconds; the margin covers its clock and the network.
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.watch_timeout) + std::chrono::seconds(30));
  if (!r) return r.error();
  if (r->status == 410) return Outcome::kGone;
  if (r->status != 200) return api_error("GET", path, *r);
  return outcome;
}

void NodeInformer::watch_loop() {
  std::unique_ptr<KubeApi> api;
  bool relist = false;
  int failures = 0;  // in a row: the backoff doubles with each, up to kMaxBackoff, so a down server is not hammered
  auto backoff = [&] {
    constexpr auto kMaxBackoff = std::chrono::milliseconds(30000);
    auto d = options_.retry_backoff;
    for (int i = 0; i < std::min(failures, 10) && d < kMaxBackoff; ++i) d *= 2;
    ++failures;
    return wait(std::min(d, kMaxBackoff));
  };
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    if (!api) {
      auto made = make_api_();
      if (!made) {
        log::error("kubernetes: cannot create the watch client", {{"error", made.error().message}});
        if (!backoff()) break;
        continue;
      }
      api = std::move(*made);
      std::lock_guard lock(mutex_);
      watch_api_ = api.get();
      if (stopping_) break;
    }
    if (relist) {
      auto listed = list(*api);
      if (!listed) {
        log::warn("kubernetes: relisting nodes failed", {{"error", listed.error().message}});
        if (!backoff()) break;
        continue;
      }
      std::lock_guard lock(mutex_);
      cache_ = std::move(listed->nodes);
      meta_ = std::move(listed->meta);
      resource_version_ = std::move(listed->resource_version);
      ++stats_.lists;
      relist = false;
    }
    const auto started = std::chrono::steady_clock::now();
    auto outcome = watch_once(*api);
    if (!outcome) {
      log::warn("kubernetes: the node watch failed; resuming", {{"error", outcome.error().message}});
      if (!backoff()) break;
      continue;
    }
    failures = 0;
    if (*outcome == Outcome::kGone) {
      log::info("kubernetes: the node watch's resourceVersion is too old (410 Gone); relisting");
      std::lock_guard lock(mutex_);
      ++stats_.relists_after_gone;
      relist = true;
      continue;
    }
    // A server that ends watches at once would otherwise be polled in a tight loop.
    if (std::chrono::steady_clock::now() - started < std::chrono::milliseconds(10) &&
        !wait(std::min(options_.retry_backoff, std::chrono::milliseconds(100)))) {
      break;
    }
  }
  std::lock_guard lock(mutex_);
  watch_api_ = nullptr;
}

}  // namespace fleet::agent::kube
