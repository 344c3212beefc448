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

// The hash (hash_token) of the request's bearer credential, as agent credentials are stored and cached; nullopt
// when it has none.
std::optional<std::string> agent_credential_hash(const Call& call);
// nullopt when the request's bearer credential is `cluster`'s agent's, else the answer (401 no or unknown
// credential, 403 another cluster's).
std::optional<http::Response> refuse_agent(const Call& call, pqxx::transaction_base& txn, const std::string& cluster);

}  // namespace fleet
