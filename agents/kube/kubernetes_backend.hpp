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
  std::function<double()> clock;  // seconds for events, status times and admission's clock; empty → Unix time

  // GPU node admission (issue #11, docs/kubernetes-backend.md "GPU node admission"): every new, upgraded or
  // re-probed GPU node is tainted fleet.io/gpu-unverified and proven by a gpu-probe Job before it takes work.
  // Off: no taints, no Jobs; run_probe and set_node_admission are refused, admission follows the fleet taints.
  bool gpu_admission = true;
  std::string probe_namespace = "fleet-system";        // where the probe Jobs run (the agent's own namespace)
  std::string probe_image;                             // empty → ghcr.io/fleetd/gpu-probe:<gpu-probe's version>
  std::chrono::milliseconds admission_interval{2000};  // probe Jobs are read (and failed writes retried) this often
  std::chrono::seconds probe_pending_grace{120};       // an unschedulable or unpullable probe pod gets this long
  std::chrono::seconds probe_job_ttl{3600};            // ttlSecondsAfterFinished: the backstop for a missed delete
  // Tests and callers that already know the connection: used instead of the kubeconfig / in-cluster lookup.
  std::optional<kube::KubeConnection> connection;
};

// GPU node admission's counters (node_admission_runner.hpp), for the agent to export; nullopt for another
// backend or with gpu_admission off.
struct KubernetesAdmissionStats {
  int unguarded_nodes = 0;       // GPU nodes first seen schedulable without fleet.io/gpu-unverified
  double unguarded_seconds = 0;  // how long they were, summed
  int unguarded_pods = 0;        // workload pods that had landed on them
  int probe_jobs_created = 0;
  int probe_jobs_deleted = 0;
};
std::optional<KubernetesAdmissionStats> kubernetes_admission_stats(const ClusterBackend& backend);

// Resolves the connection (kubeconfig or in-cluster) and checks that its files load; does not contact the API
// server (inventory() does, and reports what is wrong).
Result<std::unique_ptr<ClusterBackend>> make_kubernetes_backend(const KubernetesBackendOptions& options);

}  // namespace fleet::agent
