#pragma once
// Route registration for every endpoint fleetd serves. Each group lives in its own file.
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "fleetd/http/api_service.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet {

class CommandNotifier;
class HeartbeatCache;
class LivenessRecorder;

void register_cluster_routes(ApiService& api);
void register_token_routes(ApiService& api);
struct AgentRouteOptions {
  unsigned heartbeat_interval_seconds = 10;  // what agents learn in the register and heartbeat answers
  // Both optional (null: every heartbeat is a transaction that also sets last_heartbeat); fleetd passes both.
  HeartbeatCache* cache = nullptr;
  LivenessRecorder* liveness = nullptr;
  // Optional: answers "commandsPending" in heartbeat replies (false once a poll found the cluster's queue empty
  // and nothing was queued since), for agents that do not hold a long poll.
  CommandNotifier* notifier = nullptr;
  // With cache, liveness and pool set, a heartbeat the cache answers alone is answered on the HTTP thread and
  // never waits in the database queue behind heavier work.
  DbPool* pool = nullptr;
};
void register_agent_routes(ApiService& api, AgentRouteOptions options = {});
// The hash (hash_token) of the request's bearer credential, as agent credentials are stored and cached; nullopt
// when it has none.
std::optional<std::string> agent_credential_hash(const Call& call);
// For the agent endpoints: nullopt when the request's bearer credential is `cluster`'s agent's, else the answer
// (401 no or unknown credential, 403 another cluster's).
std::optional<http::Response> refuse_agent(const Call& call, pqxx::transaction_base& txn, const std::string& cluster);

// The agent command queue (fleetd/command_handlers.cpp).
struct CommandQueueOptions {
  std::chrono::seconds lease{60};  // a leased command returns to the queue when its agent stays silent this long
  int max_attempts = 5;            // deliveries before an expired lease fails the command instead
  // Optional: agent credentials checked lately (shared with the heartbeat route), so a poll of a quiet cluster
  // needs no database at all.
  HeartbeatCache* credentials = nullptr;
};
void register_command_routes(ApiService& api, CommandNotifier& notifier, CommandQueueOptions options);
void register_inventory_routes(ApiService& api);

struct SystemInfo {
  std::string version;
  std::string commit;
  std::string build_date;
  // For /readyz: runs on a database worker; ok when the database answers and the schema is current.
  std::function<Status(pqxx::connection_base&)> readiness;
};
void register_system_routes(ApiService& api, Metrics& metrics, SystemInfo info);

// The `limit` query parameter of a list: a whole number from 1 to `max`, else invalid-query naming the range.
Result<int> parse_limit(const std::string& value, int max);

// If-Match: "<n>", <n>, W/"<n>" or *. nullopt when absent or *; an Error when malformed.
Result<std::optional<std::int64_t>> parse_if_match(const Call& call);

}  // namespace fleet
