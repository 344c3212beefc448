#include "fleetd/handlers/agent_auth.hpp"

#include <pqxx/pqxx>

#include "fleetd/auth/credentials.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/http/api_service.hpp"
#include "fleetd/http/responses.hpp"
#include "fleetd/store/agent_store.hpp"

namespace fleet {

std::optional<std::string> agent_credential_hash(const Call& call) {
  const std::string* authz = call.req.header("authorization");
  std::optional<std::string> credential = authz ? bearer_token(*authz) : std::nullopt;
  if (!credential) return std::nullopt;
  return hash_token(*credential);
}

namespace {

http::Response no_credential(const Call& call) {
  auto resp = problem(call, make_error(ErrorCode::kUnauthenticated, "agent endpoints need the agent's credential", "",
                                       "unauthenticated"));
  resp.headers["www-authenticate"] = "Bearer";
  return resp;
}

http::Response unknown_credential(const Call& call) {
  return problem(call, make_error(ErrorCode::kUnauthenticated, "unknown agent credential (register again)", "",
                                  "unauthenticated"));
}

}  // namespace

std::optional<http::Response> refuse_agent(const Call& call, pqxx::transaction_base& txn, const std::string& cluster) {
  const std::optional<std::string> hash = agent_credential_hash(call);
  if (!hash) return no_credential(call);
  auto owner = store::find_agent_cluster(txn, *hash);
  if (!owner) return unknown_credential(call);
  if (*owner != cluster) {
    return problem(call, make_error(ErrorCode::kForbidden,
                                    "this credential belongs to cluster \"" + *owner + "\", not \"" + cluster + "\"",
                                    "", "forbidden"));
  }
  return std::nullopt;
}

std::optional<http::Response> refuse_cached_agent(const Call& call, pqxx::transaction_base& txn,
                                                  const std::string& cluster, HeartbeatCache& cache, ApiService& api) {
  auto refused = refuse_agent(call, txn, cluster);
  const std::optional<std::string> hash = refused ? agent_credential_hash(call) : std::nullopt;
  // Only a credential the cache holds: a flood of unknown ones must not keep moving its epoch (which would keep
  // every concurrent lookup from being remembered).
  if (hash && cache.credential_owner(*hash)) cache.forget_credential(*hash);
  remember_if_unknown(call, refused, cache, api);
  return refused;
}

std::optional<http::Response> refuse_without_lookup(const Call& call, HeartbeatCache& cache, ApiService& api) {
  const std::optional<std::string> hash = agent_credential_hash(call);
  if (!hash) return no_credential(call);
  if (cache.known_unknown_credential(*hash)) return unknown_credential(call);
  return api.throttle_lookup(call);
}

void remember_if_unknown(const Call& call, const std::optional<http::Response>& refused, HeartbeatCache& cache,
                         ApiService& api) {
  if (!refused || refused->status != 401) return;
  const std::optional<std::string> hash = agent_credential_hash(call);
  if (!hash) return;
  cache.remember_unknown_credential(*hash);
  api.count_failed_lookup(call);
}

}  // namespace fleet
