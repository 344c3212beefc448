#pragma once
// A TEST DOUBLE of Azure Resource Manager (the AKS resource provider) and of the Microsoft Entra token endpoint,
// not Azure: one HTTPS server (fleet::http::Server with a test PKI) that answers the aks upgrade driver's calls
// with the published JSON shapes and status codes:
//   POST /{tenant}/oauth2/v2.0/token                       client credentials with a JWT-bearer assertion
//   GET|PUT  …/managedClusters/{name}?api-version=…         ManagedCluster (eTag, provisioningState, versions)
//   GET|PUT  …/managedClusters/{name}/agentPools/{pool}      AgentPool (orchestratorVersion, upgradeSettings)
//   PUT      …/agentPools/{new}                              201 Created: a new pool (blue-green), Creating
//   DELETE   …/agentPools/{pool}                             202 Accepted (Deleting, then 404), 204 when absent
//   POST     …/agentPools/{pool}/upgradeNodeImageVersion     202 Accepted
//   GET      …/maintenanceConfigurations/{name}              MaintenanceConfiguration (planned maintenance), or 404
//   GET      …/locations/{loc}/operations/{id}               Azure-AsyncOperation status {"status", "error"?}
//   GET      …/locations/{loc}/operationresults/{id}         Location polling: 202 until done
// An accepted request starts an operation on its resource (provisioningState Upgrading / Updating /
// UpgradingNodeImageVersion); each GET of its status, or of its resource (the managed cluster counts for all),
// moves it one poll closer to its end (`polls_to_finish`), when the resource takes its new state. Scripted faults: 409
// OperationNotAllowed while an operation runs (or for the next N writes), a refused federated token, operations that
// fail, are canceled or never end, Location-only answers, 412 on a stale If-Match. Every request is recorded. What it
// does not model: ARM's validation of whole bodies beyond the members the driver changes, RBAC, throttling, real
// upgrade rules (version skew), per-node state.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::agent::kube::testing {

struct ArmApiDoubleOptions {
  std::string tls_cert_file;  // both required: HTTPS only
  std::string tls_key_file;
  std::string tenant_id = "72f988bf-0000-0000-0000-000000000001";
  std::string client_id = "5b1f3c2a-0000-0000-0000-00000000c11e";
  std::string federated_token = "eyJhbGciOiJSUzI1NiJ9.federated.sig";  // the assertion the endpoint accepts
  int expires_in = 3599;
  std::string subscription = "00000000-0000-0000-0000-0000000000a1";
  std::string resource_group = "fleet-rg";
  std::string cluster = "aks-westeurope-1";
  std::string location = "westeurope";
  std::string kubernetes_version = "1.31.4";
  std::string latest_node_image = "AKSUbuntu-2204gen2containerd-202511.03.0";
  // AKS enabled by Azure Arc instead of AKS: the cluster is a connected cluster's provisioned cluster instance
  // (Microsoft.HybridContainerService, extendedLocation, no eTag), whose kubernetesVersion every pool follows:
  // an upgrade of the instance ends with every pool at its version. cluster_id() is then the connected cluster's.
  bool aks_arc = false;
  int polls_to_finish = 2;        // polls answered InProgress before an operation ends
  std::string retry_after = "1";  // Retry-After on accepted requests and InProgress polls; "" → none
};

enum class OperationEnd { kSucceed, kFail, kCancel, kHang };

struct ArmRecordedRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // raw
  std::string authorization;
  std::string if_match;
  std::string content_type;
  std::string body;
};

class ArmApiDouble {
 public:
  static Result<std::unique_ptr<ArmApiDouble>> start(ArmApiDoubleOptions options);
  ~ArmApiDouble();
  ArmApiDouble(const ArmApiDouble&) = delete;
  ArmApiDouble& operator=(const ArmApiDouble&) = delete;

  std::string url() const;         // "https://127.0.0.1:PORT": both the ARM endpoint and the authority
  std::string cluster_id() const;  // the id the agent is configured with (see aks_arc)
  const ArmApiDoubleOptions& options() const;

  void add_pool(const std::string& name, const std::string& version, int count, const std::string& node_image);
  void set_auto_upgrade_channel(const std::string& channel);
  nlohmann::json managed_cluster() const;
  std::optional<nlohmann::json> pool(const std::string& name) const;

  // Scripts and faults.
  void refuse_tokens(bool refuse);    // 401 invalid_client AADSTS700213 for every assertion
  void revoke_tokens();               // the access tokens issued so far get 401 InvalidAuthenticationToken
  void busy_next_writes(int count);   // the next `count` PUT/POST answer 409 OperationNotAllowed
  void stale_next_writes(int count);  // the next `count` PUT/POST with If-Match answer 412
  void end_operations_with(OperationEnd end, std::string code = "UpgradeFailed",
                           std::string message = "Upgrade failed: node aks-gpu-0 did not become Ready");
  void location_only(bool on);  // accepted requests carry Location only (202), no Azure-AsyncOperation
  // Operations that hang end after `polls` more polls with the end now set (an agent restart test).
  void release_hung_operations(int polls);
  // An operation another client started (the portal, an earlier agent): the resource shows it in flight.
  void start_operation(const std::string& pool, const std::string& target);  // pool "" → the control plane

  // When a pool's create or delete ends, under the double's lock (a hook must not call the double): a test adds or
  // removes the pool's nodes in a kube API double, as AKS's node provisioning would.
  void on_pool_created(std::function<void(const std::string& name, const nlohmann::json& pool)> hook);
  void on_pool_deleted(std::function<void(const std::string& name)> hook);
  // When an upgrade ends in success (pool "" for the control plane, or AKS Arc's whole cluster; a pool's version or
  // node image), with the resource as it now is, under the double's lock: a test moves the kubelets in a kube API
  // double, as the provider's node replacement would.
  void on_upgraded(std::function<void(const std::string& pool, const nlohmann::json& resource)> hook);

  // AKS planned maintenance: GET …/maintenanceConfigurations/{name} answers this resource (its
  // properties.maintenanceWindow as given), or 404 NotFound for a name never set.
  void set_maintenance_configuration(const std::string& name, const nlohmann::json& maintenance_window);

  std::vector<ArmRecordedRequest> requests() const;
  // Requests with this method whose path contains `path_part`.
  int count(const std::string& method, const std::string& path_part) const;
  int token_requests() const;

  struct State;

 private:
  explicit ArmApiDouble(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fleet::agent::kube::testing
