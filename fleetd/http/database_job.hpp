#pragma once
// The one way a request's work reaches the database: a job on the pool that answers the request itself, or, when
// it cannot run or complete, the matching answer (failure_response: 503 overloaded or unavailable, 500 for a bug).
#include <functional>
#include <memory>

#include "fleetd/db/db_pool.hpp"
#include "fleetd/http/call.hpp"
#include "net/http_types.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

// `run` answers through `respond` (which must tolerate a second call: ApiService's does) and may be run again after
// a serialization failure or deadlock, so it must not answer before its transaction commits.
void run_on_database(DbPool& pool, const std::shared_ptr<Call>& call, const http::Respond& respond,
                     std::function<void(pqxx::connection_base&)> run);

}  // namespace fleet
