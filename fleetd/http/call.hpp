#pragma once
// One request in a handler's hands, and the three kinds of handler ApiService routes to.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "fleetd/auth/credentials.hpp"
#include "net/http_types.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

struct Call {
  const http::Request& req;
  std::map<std::string, std::string> path;   // path parameters, decoded: {"name": "aks-1"}
  std::map<std::string, std::string> query;  // decoded query parameters
  std::string path_only;                     // the decoded path, for problem "instance"
  Principal principal;
  // Owns `req` for handlers that answer later (async routes keep the Call, and with it the request).
  std::shared_ptr<const http::Request> request_owner;
};

// Runs on a database worker with its connection and returns the answer. What it throws is answered by ApiService:
// 500 for a bug, a retry for a serialization failure (fleetd/db/db_pool.hpp), 503 for a lost database.
using DbHandler = std::function<http::Response(Call&, pqxx::connection_base&)>;
// Runs on the HTTP thread; must be quick and must not touch the database.
using PlainHandler = std::function<http::Response(Call&)>;
// A request answered later (the agents' long poll). Runs on an HTTP thread and must not block: database work
// goes to the pool (fleetd/http/database_job.hpp). It keeps `call` as long as it needs the request and answers
// through `respond` exactly once, from any thread.
using AsyncHandler = std::function<void(std::shared_ptr<Call> call, http::Respond respond)>;

}  // namespace fleet
