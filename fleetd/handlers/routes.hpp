#pragma once
// Route registration for every endpoint fleetd serves, one function per group, each in its own file. A new
// endpoint goes into the group's file (or a new file and a line here and in app/daemon.cpp).
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "fleetd/http/api_service.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

class CommandNotifier;
class HeartbeatCache;
class LivenessRecorder;

// /v1/clusters (cluster_handlers.cpp). `credentials`: a deleted cluster's agent credential is forgotten there.
void register_cluster_routes(ApiService& api, HeartbeatCache& credentials);
// /v1/tokens and /v1/audit (token_handlers.cpp).
void register_token_routes(ApiService& api);
// /v1/clusters/{name}/nodes and /v1/gpus (inventory_handlers.cpp).
void register_inventory_routes(ApiService& api);
// GPU probe results: /v1/probes, /v1/clusters/{name}/nodes/{node}/probes (probe_handlers.cpp).
void register_probe_routes(ApiService& api);
// Admission policies, the agent's policy, and :probe / :admit / :quarantine on a node (admission_handlers.cpp).
void register_admission_routes(ApiService& api);
// The version catalog: /v1/versions (version_handlers.cpp).
void register_version_routes(ApiService& api);
// Update strategies: /v1/strategies (strategy_handlers.cpp).
void register_strategy_routes(ApiService& api);
// Update runs: /v1/rollouts, plans, actions and events (rollout_handlers.cpp). `clock` is the run machine's now.
void register_rollout_routes(ApiService& api, const Clock& clock);
// Auto-upgrade profiles: /v1/auto-upgrade-profiles (auto_upgrade_handlers.cpp). `clock`: what a channel selects now.
void register_auto_upgrade_routes(ApiService& api, const Clock& clock);
// A workload's placement and a cluster's GPU capacity (placement_handlers.cpp).
void register_placement_routes(ApiService& api);
// Workloads: /v1/workloads (workload_handlers.cpp).
void register_workload_routes(ApiService& api);
// Per-cluster overrides of workloads' manifests: /v1/overrides (override_handlers.cpp).
void register_override_routes(ApiService& api);

// What the agent endpoints share: the per-replica memory that answers most agent requests without SQL
// (fleetd/gateway/).
struct AgentGateway {
  HeartbeatCache& cache;       // inventories and agent credentials
  LivenessRecorder& liveness;  // heartbeat times, written in batches
  CommandNotifier& notifier;   // command wake-ups and the commandsPending hint
};

struct AgentRouteOptions {
  unsigned heartbeat_interval_seconds = 10;  // what agents learn in the register and heartbeat answers
};
// Bootstrap tokens, registration and revocation (agent_handlers.cpp). `credentials`: a credential replaced or
// revoked is forgotten there as the change commits.
void register_agent_routes(ApiService& api, HeartbeatCache& credentials, AgentRouteOptions options);
// Heartbeats (heartbeat_handlers.cpp).
void register_heartbeat_routes(ApiService& api, AgentGateway gateway, AgentRouteOptions options);
// The one request that may carry more than the server's body limit (up to protocol::kMaxHeartbeatBytes): a
// heartbeat, which may hold a full inventory. For the server's ServerLimits::allows_large_body.
bool allows_large_body(std::string_view method, std::string_view target);
// ServerLimits::authorize_large_body for that heartbeat: only the cluster's own agent, checked before the body is
// read. From the credential cache when it knows the credential, else one read on `pool` (the answer remembered,
// so the agent's next large heartbeat is answered from memory). An agent whose full inventory is refused here
// (413) has its credential checked again on its next, smaller request; a full pool refuses (413) too.
std::function<void(std::string_view target, std::string_view authorization, std::function<void(bool)> verdict)>
heartbeat_body_authorizer(HeartbeatCache& cache, DbPool& pool);

// The agent command queue: operators' endpoints (command_handlers.cpp), the agents' long poll and reports
// (command_poll_handlers.cpp).
struct CommandQueueOptions {
  std::chrono::seconds lease{60};  // a leased command returns to the queue when its agent stays silent this long
  int max_attempts = 5;            // deliveries before an expired lease fails the command instead
};
void register_command_routes(ApiService& api);
void register_command_poll_routes(ApiService& api, AgentGateway gateway, CommandQueueOptions options);

// /healthz, /readyz, /metrics, /openapi.json, /version (system_handlers.cpp).
struct SystemInfo {
  std::string version;
  std::string commit;
  std::string build_date;
  // For /readyz: runs on a database worker; ok when the database answers and the schema is current.
  std::function<Status(pqxx::connection_base&)> readiness;
};
void register_system_routes(ApiService& api, Metrics& metrics, const SystemInfo& info);

}  // namespace fleet
