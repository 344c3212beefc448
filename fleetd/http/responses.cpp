#include "fleetd/http/responses.hpp"

#include "api/problem.hpp"

namespace fleet {

http::Response json_response(int status, const std::string& body) {
  http::Response r;
  r.status = status;
  r.headers["content-type"] = "application/json";
  r.body = body;
  return r;
}

http::Response problem(const Call& call, const Error& error) {
  return api::problem_response(error, call.req.request_id, call.path_only);
}

http::Response failure_response(const Call& call, const DbFailure& failure) {
  if (failure.kind == DbFailure::Kind::kInternal) {
    return problem(call, make_error(ErrorCode::kInternal, failure.message, "", "internal"));
  }
  auto r = problem(call, make_error(ErrorCode::kUnavailable, failure.message, "", "unavailable"));
  // A database that is down takes longer to come back than a queue takes to drain.
  r.headers["retry-after"] = failure.kind == DbFailure::Kind::kUnavailable ? "5" : "1";
  return r;
}

}  // namespace fleet
