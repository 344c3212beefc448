#pragma once
// Building answers: JSON bodies, problem+json for an Error (api/problem.hpp decides the status), and the answer for
// a database job that could not complete.
#include <string>

#include "common/error.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/http/call.hpp"
#include "net/http_types.hpp"

namespace fleet {

http::Response json_response(int status, const std::string& body);
http::Response problem(const Call& call, const Error& error);
// 503 `unavailable` with Retry-After for overload, an unreachable database or contention that outlasted the
// retries; 500 `internal` for a bug (the detail stays in the log, under the request id).
http::Response failure_response(const Call& call, const DbFailure& failure);

}  // namespace fleet
