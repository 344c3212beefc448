#pragma once
// The kubernetes backend of fleet-agent (issue #3 item 4): the member cluster's API server over HTTPS.
// inventory() reads nodes through a list+watch cache, GPUs from NVIDIA GPU Feature Discovery labels and, where
// the cluster uses Dynamic Resource Allocation, from the NVIDIA DRA driver's ResourceSlices. Commands (cordon,
// drain through the Eviction API, taints, server-side apply) run on worker threads of the backend, so start()
// returns at once. Provider upgrades (upgrade_control_plane, upgrade_node_pool) go to the cluster's upgrade driver
// (upgrade/upgrade_driver.hpp: aks, system-upgrade-controller). docs/kubernetes-backend.md has the payloads, the
// RBAC and what is not supported.
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

// The ARM upgrade drivers: aks (agents/kube/upgrade/aks_driver.hpp), the managed cluster's ARM resource, and
// aksarc (aksarc_driver.hpp), an Arc connected cluster's provisioned cluster instance (AKS on Azure Local); the
// workload identity that may change them, and how the changes are followed, are the same for both.
struct AksUpgradeOptions {
  std::string cluster_id;  // /subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerService/managedClusters/…
  std::string arc_cluster_id;  // aksarc: /subscriptions/…/providers/Microsoft.Kubernetes/connectedClusters/…
  std::string arm_endpoint = "https://management.azure.com";
  // Workload identity; each empty one comes from the webhook's variable (AZURE_AUTHORITY_HOST, AZURE_TENANT_ID,
  // AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE); the authority defaults to https://login.microsoftonline.com.
  std::string authority;
  std::string tenant_id;
  std::string client_id;
  std::string federated_token_file;
  std::string ca_file;                    // trust for ARM and the authority; empty → the system's store
  bool disable_auto_upgrade = false;      // turn the cluster's own auto-upgrade channel off instead of failing
  bool honor_planned_maintenance = true;  // aks: hold an upgrade while the cluster's planned maintenance is closed
  std::chrono::milliseconds poll_interval{15000};  // when ARM sends no Retry-After
  std::chrono::milliseconds poll_floor{2000};      // Retry-After is kept within [poll_floor, poll_cap]
  std::chrono::milliseconds poll_cap{60000};
  std::chrono::milliseconds busy_retry{30000};  // after a 409 "another operation is in progress"
  std::chrono::milliseconds step_timeout{std::chrono::hours(4)};
};

// The system-upgrade-controller driver (agents/kube/upgrade/suc_driver.hpp) for k3s / RKE2 clusters.
struct SucUpgradeOptions {
  std::string namespace_ = "system-upgrade";          // where the controller watches Plans
  std::string service_account = "system-upgrade";     // its upgrade Jobs run as this
  std::string upgrade_image = "rancher/k3s-upgrade";  // rancher/rke2-upgrade for RKE2
  std::string version_suffix = "+k3s1";               // "1.32.7" → "v1.32.7+k3s1"; "+rke2r1" for RKE2
  std::chrono::milliseconds poll_interval{10000};     // the Plan is read this often
  std::chrono::milliseconds step_timeout{std::chrono::hours(4)};
};

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
  // Applied workloads are read back (workload_follower.hpp) at most this often, and after each apply or delete.
  std::chrono::milliseconds workload_status_interval{10000};
  int workers = 4;  // commands run in parallel; more wait their turn
  // While a command runs on a worker: how soon the agent looks for its progress (kubernetes_progress_due). The
  // agent's long poll cannot be woken by a worker, so without this a finished step waited for the poll's end.
  std::chrono::milliseconds progress_check{1000};
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
  // Provider upgrades (issue #13, docs/kubernetes-backend.md "Provider upgrades"): the driver that carries out
  // upgrade_control_plane and upgrade_node_pool. auto: aks when aks.cluster_id is set, aksarc when
  // aks.arc_cluster_id is, else none.
  std::string upgrade_driver = "auto";  // auto | aks | aksarc | system-upgrade-controller | none
  AksUpgradeOptions aks;
  SucUpgradeOptions suc;

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
// For the agent's BackendHints::next_due: 0 when events wait for poll(), options.progress_check while a command
// runs on a worker, nullopt when nothing runs (or for another backend).
std::optional<std::chrono::milliseconds> kubernetes_progress_due(const ClusterBackend& backend);

// Resolves the connection (kubeconfig or in-cluster) and checks that its files load; does not contact the API
// server (inventory() does, and reports what is wrong).
Result<std::unique_ptr<ClusterBackend>> make_kubernetes_backend(const KubernetesBackendOptions& options);

}  // namespace fleet::agent
