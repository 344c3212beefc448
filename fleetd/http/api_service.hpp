#pragma once
// fleetd's HTTP front: routes a request, authenticates its bearer token, checks the role, runs the handler on a
// database worker and turns every outcome into a response (problem+json for errors). Also the access log and
// request metrics. Beast-free: it sees only net/http_types.hpp.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "fleetd/auth/credentials.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/http/metrics.hpp"
#include "net/http_types.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

// One request in a handler's hands.
struct Call {
  const http::Request& req;
  std::map<std::string, std::string> path;   // path parameters, decoded: {"name": "aks-1"}
  std::map<std::string, std::string> query;  // decoded query parameters
  std::string path_only;                     // the decoded path, for problem "instance"
  Principal principal;
  // Owns `req` for handlers that answer later (async routes keep the Call, and with it the request).
  std::shared_ptr<const http::Request> request_owner;
};

using DbHandler = std::function<http::Response(Call&, pqxx::connection_base&)>;
using PlainHandler = std::function<http::Response(Call&)>;
// A request answered later (the agents' long poll). Runs on an HTTP thread and must not block: database work
// goes to the pool. It keeps `call` as long as it needs the request and answers through `respond` exactly once,
// from any thread.
using AsyncHandler = std::function<void(std::shared_ptr<Call> call, http::Respond respond)>;

struct ApiServiceOptions {
  std::chrono::seconds auth_cache_ttl{5};  // a revoked token may work this long on other replicas
  std::string version = "0.0.0";
  std::string commit = "unknown";
};

class ApiService {
 public:
  ApiService(DbPool& pool, Metrics& metrics, ApiServiceOptions options);

  // Registration, before serving. `route` is a template such as "/v1/clusters/{name}".
  void add_db_route(std::string method, std::string route, std::optional<Role> min_role, DbHandler handler);
  void add_plain_route(std::string method, std::string route, PlainHandler handler);
  // No API token check: the handler authenticates the caller itself (agent credentials).
  void add_async_route(std::string method, std::string route, AsyncHandler handler);

  DbPool& pool() { return pool_; }

  // The http::Handler given to the server.
  void handle(http::Request req, http::Respond respond);

  // Forget cached principals (after a token is revoked through this replica).
  void invalidate_auth_cache();

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    std::optional<Role> min_role;  // for DB routes: nullopt = no token needed
    DbHandler db_handler;
    PlainHandler plain_handler;
    AsyncHandler async_handler;
  };
  struct CachedPrincipal {
    Principal principal;
    std::chrono::steady_clock::time_point expires;
  };

  const Route* match(const std::vector<std::string>& segments, const std::string& method, bool& path_matched,
                     std::map<std::string, std::string>& params) const;
  std::optional<Principal> cached_principal(const std::string& hash);
  void remember_principal(const std::string& hash, const Principal& p);

  DbPool& pool_;
  Metrics& metrics_;
  ApiServiceOptions options_;
  std::vector<Route> routes_;
  std::mutex auth_mutex_;
  std::unordered_map<std::string, CachedPrincipal> auth_cache_;
};

// Response helpers shared by the handlers.
http::Response json_response(int status, const std::string& body);
http::Response problem(const Call& call, const Error& error);

}  // namespace fleet
