#pragma once
// The command bodies of the kubernetes backend, each a blocking function run on a backend worker thread with
// its own API connection. Each returns the success message or the Error that fails the command; progress and
// step events go through the context. The pure rules (which pods a drain evicts, a node's taints after a change)
// are exposed for unit tests.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/kube/kube_api.hpp"
#include "model/inventory.hpp"
#include "protocol/command_status.hpp"

namespace fleet::agent::kube {

struct CommandContext {
  KubeApi& api;
  std::string field_manager;
  std::string default_namespace;
  std::chrono::milliseconds eviction_retry{5000};
  std::chrono::milliseconds pod_poll_interval{1000};
  std::size_t page_size = 500;
  int conflict_retries = 5;
  std::function<void(const std::string& type, const std::string& node, const std::string& message)> emit;
  std::function<void(const std::function<void(protocol::CommandStatus&)>&)> update;  // under the backend's lock
  std::function<bool(std::chrono::milliseconds)> sleep;                              // false: the backend is stopping
};

using Outcome = Result<std::string>;

Outcome run_cordon_cluster(CommandContext& ctx, bool cordon);
Outcome run_cordon_node(CommandContext& ctx, const std::string& node, bool cordon);

struct DrainRequest {
  std::string node;
  std::chrono::milliseconds timeout{600000};
  std::optional<int> grace_period_seconds;  // the pods' own grace period when absent
};
// Cordon, evict every pod but DaemonSet-owned and mirror pods (429 → wait eviction_retry and retry until the
// timeout; 404 → already gone), then wait until the evicted pods are gone. A timeout fails the command with the
// blocking pod and PodDisruptionBudget named, and leaves the node cordoned.
Outcome run_drain_node(CommandContext& ctx, const DrainRequest& request);

struct TaintChange {
  std::string node;
  std::vector<model::Taint> add;     // replaces a taint with the same key and effect
  std::vector<model::Taint> remove;  // by key, and by effect too when one is given
};
// Read-modify-write of spec.taints guarded by resourceVersion (a merge patch replaces the whole list), retried
// on 409 Conflict up to conflict_retries times. No change → no write.
Outcome run_taint_node(CommandContext& ctx, const TaintChange& change);

// Server-side apply, in order (PATCH …?fieldManager=…&force=true, application/apply-patch+yaml), and DELETE in
// reverse order (404 is fine). The manifests were checked with object_ref at start().
Outcome run_apply(CommandContext& ctx, const std::vector<nlohmann::json>& manifests);
Outcome run_delete(CommandContext& ctx, const std::vector<nlohmann::json>& manifests);

// Pure rules.
bool pod_needs_eviction(const nlohmann::json& pod);  // not DaemonSet-owned, not a mirror pod
nlohmann::json taints_after(const nlohmann::json& current, const TaintChange& change);

}  // namespace fleet::agent::kube
