#pragma once
// fleetd's HTTP front: routes a request, authenticates its bearer token, checks the role, runs the handler (on a
// database worker for database routes) and turns every outcome into a response. It is the error boundary: an
// Error becomes problem+json (api/problem.hpp), an exception from a handler a 500 `internal` whose log line
// carries the request id, a database that cannot be reached or is overloaded a 503. Also the access log and
// request metrics. Beast-free: it sees only net/http_types.hpp.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/expiring_set.hpp"
#include "common/log.hpp"
#include "fleetd/auth/credentials.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/http/auth_failure_limiter.hpp"
#include "fleetd/http/call.hpp"
#include "fleetd/http/metrics.hpp"
#include "fleetd/http/responses.hpp"
#include "net/http_types.hpp"

namespace fleet {

struct ApiServiceOptions {
  std::chrono::seconds auth_cache_ttl{5};     // a revoked token may work this long on other replicas
  AuthFailureLimiter::Options auth_failures;  // per source: past this, lookups of unknown tokens answer 429
  std::string version = "0.0.0";
  std::string commit = "unknown";
};

class ApiService {
 public:
  ApiService(DbPool& pool, Metrics& metrics, const Clock& clock, ApiServiceOptions options);

  // Registration, before serving. `route` is a template such as "/v1/clusters/{name}".
  void add_db_route(std::string method, std::string route, std::optional<Role> min_role, DbHandler handler);
  void add_plain_route(std::string method, std::string route, PlainHandler handler);
  // Whether a GET also answers HEAD (RFC 9110 §9.3.2: the same answer without its body). Every GET of the DB and
  // plain routes does; an async GET says so, because the agents' command poll leases commands and a HEAD must not.
  enum class Safety { kSafe, kChangesState };
  // No API token check: the handler authenticates the caller itself (agent credentials).
  void add_async_route(std::string method, std::string route, AsyncHandler handler,
                       Safety safety = Safety::kChangesState);

  // Routes whose successful answers are a fleet's steady traffic (agents' heartbeats and polls, scrapes, probes):
  // their access log lines are written at debug, so that a person reading the log at info sees what matters and
  // not a line a second per cluster (issue #16). Their failures (4xx, 5xx) stay at info. Before serving.
  void set_routine(std::string route);
  static log::Level access_log_level(bool routine, int status);

  DbPool& pool() { return pool_; }
  Metrics& metrics() { return metrics_; }
  const Clock& clock() const { return clock_; }

  // The http::Handler given to the server.
  void handle(http::Request req, http::Respond respond);

  // Forget cached principals (after a token is revoked through this replica).
  void invalidate_auth_cache();

  // For routes that authenticate their callers themselves (agent credentials, bootstrap tokens): the per-source
  // budget of failed authentications that API tokens have (auth_failure_limiter.hpp). Before a credential this
  // replica does not know is looked up, a 429 when the caller's source is over its budget; after a lookup that
  // found nothing, the failure counted against the source (and in fleetd_auth_failures_total).
  std::optional<http::Response> throttle_lookup(const Call& call);
  void count_failed_lookup(const Call& call);

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    std::optional<Role> min_role;  // for DB routes: nullopt = no token needed
    DbHandler db_handler;
    PlainHandler plain_handler;
    AsyncHandler async_handler;
    bool answers_head = false;  // a GET that HEAD runs too
  };
  struct CachedPrincipal {
    Principal principal;
    Clock::SteadyTime expires;
  };

  // Fills call.path_only and call.query from the target; an answer when it is malformed.
  static std::optional<http::Response> parse_target(Call& call, std::vector<std::string>& segments);
  // The route for `method` on the path; when the path has routes but none for the method, nullptr and `allowed`
  // holds their methods (for the 405's Allow header).
  const Route* match(const std::vector<std::string>& segments, const std::string& method,
                     std::set<std::string>& allowed, std::map<std::string, std::string>& params) const;
  void run_plain(const Route& route, Call& call, const http::Respond& respond);
  void run_async(const Route& route, const std::shared_ptr<Call>& call, const http::Respond& respond);
  void run_db(const Route& route, const std::shared_ptr<Call>& call, const http::Respond& respond);
  // On a database worker: the principal of the token, from the cache or one SELECT; an answer when refused.
  std::optional<http::Response> authorize(const Route& route, Call& call, const std::string& token_hash,
                                          pqxx::connection_base& conn);
  std::optional<Principal> cached_principal(const std::string& hash);
  void remember_principal(const std::string& hash, const Principal& p);
  http::Response unknown_token(const Call& call);  // the 401 (the caller counts it)
  // The 429 for a source over its failure budget (auth_failure_limiter.hpp), before a token it has not used
  // successfully is looked up.
  std::optional<http::Response> throttle(const Call& call, const std::string& token_hash);

  DbPool& pool_;
  Metrics& metrics_;
  const Clock& clock_;
  ApiServiceOptions options_;
  std::vector<Route> routes_;
  std::set<std::string> routine_routes_;
  std::mutex auth_mutex_;
  std::unordered_map<std::string, CachedPrincipal> auth_cache_;
  // Tokens the database did not know, for auth_cache_ttl (issue #10): a client repeating a random or revoked token
  // is answered 401 without a database worker or a query. Safe because a token is only ever made by fleetd: no one
  // can present a token before it exists. Bounded: a flood of distinct random tokens costs a query each.
  ExpiringSet unknown_tokens_;
  AuthFailureLimiter auth_failures_;
};

// The 500 every handler exception becomes; the exception's text goes to the log with the request id, not to the
// client (it may hold SQL or paths).
http::Response internal_error(const Call& call, const std::exception& e);

}  // namespace fleet
