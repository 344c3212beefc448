#pragma once
// The kubernetes backend of fleet-agent (issue #3 item 4): the member cluster's API server over HTTPS.
// inventory() reads nodes through a list+watch cache, GPUs from NVIDIA GPU Feature Discovery labels and, where
// the cluster uses Dynamic Resource Allocation, from the NVIDIA DRA driver's ResourceSlices. Commands (cordon,
// drain through the Eviction API, taints, server-side apply) run on worker threads of the backend, so start()
// returns at once. docs/kubernetes-backend.md has the payloads, the RBAC and what is not supported.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agents/cluster_backend.hpp"
#include "agents/kube/kubeconfig.hpp"
#include "common/error.hpp"

namespace fleet::agent {

struct KubernetesBackendOptions {
  std::string kubeconfig;  // path; empty → in-cluster (KUBERNETES_SERVICE_HOST/PORT and the service account)
  std::string context;     // kubeconfig context; empty → current-context
  std::chrono::seconds drain_timeout{600};         // drain_node's default; the payload's timeoutSeconds wins
  std::chrono::milliseconds eviction_retry{5000};  // wait after a 429 before retrying an eviction
  std::string field_manager = "fleet-agent";       // server-side apply's fieldManager

  std::string cluster_name;  // the fleet's name for the cluster: seeds the synthetic GPU uuids
  std::uint64_t gpu_uuid_seed = 0;
  std::chrono::milliseconds request_timeout{30000};         // every API call but a watch
  std::chrono::seconds watch_timeout{300};                  // timeoutSeconds of each node watch
  std::chrono::milliseconds watch_retry{1000};              // backoff after a failed watch or list
  std::chrono::milliseconds pod_poll_interval{1000};        // drain: how often to look whether evicted pods are gone
  std::chrono::milliseconds resource_slice_refresh{30000};  // ResourceSlices are listed at most this often
  std::size_t list_page_size = 500;
  int workers = 4;                // commands run in parallel; more wait their turn
  int conflict_retries = 5;       // read-modify-write of a node's taints on 409 Conflict
  std::function<double()> clock;  // seconds for events and status times; empty → Unix time
  // Tests and callers that already know the connection: used instead of the kubeconfig / in-cluster lookup.
  std::optional<kube::KubeConnection> connection;
};

// Resolves the connection (kubeconfig or in-cluster) and checks that its files load; does not contact the API
// server (inventory() does, and reports what is wrong).
Result<std::unique_ptr<ClusterBackend>> make_kubernetes_backend(const KubernetesBackendOptions& options);

}  // namespace fleet::agent
