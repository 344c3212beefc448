#pragma once
// The node cache behind inventory(): list the nodes (paged), then watch from the list's resourceVersion, as
// client-go's informers do. A watch that ends (timeoutSeconds, a dropped connection, a server that ends every
// response) resumes from the last resourceVersion seen, which bookmarks keep fresh; a 410 Gone (the version was
// compacted away) relists. The watch runs on a thread of its own with its own connection.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/kube/kube_api.hpp"
#include "agents/kube/node_mapping.hpp"
#include "common/error.hpp"
#include "model/inventory.hpp"

namespace fleet::agent::kube {

struct InformerOptions {
  std::size_t page_size = 500;
  std::chrono::seconds watch_timeout{300};        // timeoutSeconds of each watch request
  std::chrono::milliseconds retry_backoff{1000};  // after a failed list or watch; doubles up to 30 s
  NodeMappingOptions mapping;
};

struct InformerStats {
  int lists = 0;    // complete (all pages) lists, the first included
  int watches = 0;  // watch requests made
  int relists_after_gone = 0;
  std::string resource_version;
};

class NodeInformer {
 public:
  using ApiFactory = std::function<Result<std::unique_ptr<KubeApi>>()>;
  NodeInformer(ApiFactory make_api, InformerOptions options);
  ~NodeInformer();
  NodeInformer(const NodeInformer&) = delete;
  NodeInformer& operator=(const NodeInformer&) = delete;

  // Until the first list succeeds: lists on the caller's thread with `api` (an Error when it fails), then starts
  // the watch thread. Afterwards: nothing.
  Status ensure_synced(KubeApi& api);
  bool synced() const;
  // The cached nodes, sorted by name.
  std::vector<model::NodeInfo> nodes() const;
  bool has_node(std::string_view name) const;
  // Creation time and recorded admission of the cached nodes (node_mapping.hpp), by name.
  std::map<std::string, NodeMeta, std::less<>> node_meta() const;
  InformerStats stats() const;

 private:
  struct Listed {
    std::map<std::string, model::NodeInfo, std::less<>> nodes;
    std::map<std::string, NodeMeta, std::less<>> meta;
    std::string resource_version;
  };
  enum class Outcome { kContinue, kGone };

  Result<Listed> list(KubeApi& api);
  void watch_loop();
  // One watch request; kGone when the server said 410.
  Result<Outcome> watch_once(KubeApi& api);
  Outcome apply_event(std::string_view line);
  bool wait(std::chrono::milliseconds d);  // false when stopping

  ApiFactory make_api_;
  InformerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, model::NodeInfo, std::less<>> cache_;
  std::map<std::string, NodeMeta, std::less<>> meta_;
  std::string resource_version_;
  bool synced_ = false;
  bool stopping_ = false;
  InformerStats stats_;
  KubeApi* watch_api_ = nullptr;  // for cancel() at shutdown; owned by the watch thread
  std::thread thread_;
};

}  // namespace fleet::agent::kube
