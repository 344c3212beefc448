#pragma once
// How the agent endpoints know their caller: the bearer credential fleetd issued to a cluster's agent at
// registration, stored (and cached) as its hash.
#include <optional>
#include <string>

#include "fleetd/http/call.hpp"
#include "net/http_types.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet {

class ApiService;
class HeartbeatCache;

// The hash (hash_token) of the request's bearer credential, as agent credentials are stored and cached; nullopt
// when it has none.
std::optional<std::string> agent_credential_hash(const Call& call);
// nullopt when the request's bearer credential is `cluster`'s agent's, else the answer (401 no or unknown
// credential, 403 another cluster's). The check key-share locks the agent row (store::find_agent_cluster): what
// `txn` writes after it is written under a credential that is still valid at commit.
std::optional<http::Response> refuse_agent(const Call& call, pqxx::transaction_base& txn, const std::string& cluster);
// refuse_agent, for a request this replica's cache let through: when the database refuses the credential, the
// cache forgets it as well, so the agent's next request is refused without waiting for the notification that the
// credential ended (credential_listener.hpp).
std::optional<http::Response> refuse_cached_agent(const Call& call, pqxx::transaction_base& txn,
                                                  const std::string& cluster, HeartbeatCache& cache, ApiService& api);
// The refusals that need no database (issue #10): no bearer credential, one the database did not know a moment
// ago (HeartbeatCache::known_unknown_credential), or a source over its budget of failed authentications (429,
// ApiService::throttle_lookup). For an agent path's front, before it takes a database worker, when the cache does
// not know the credential.
std::optional<http::Response> refuse_without_lookup(const Call& call, HeartbeatCache& cache, ApiService& api);
// After refuse_agent: a credential the database did not know is remembered as unknown, and counted against the
// caller's source.
void remember_if_unknown(const Call& call, const std::optional<http::Response>& refused, HeartbeatCache& cache,
                         ApiService& api);

}  // namespace fleet
