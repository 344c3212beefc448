#include "fleetd/http/api_service.hpp"

#include <atomic>
#include <boost/url/parse.hpp>
#include <cmath>
#include <pqxx/pqxx>
#include <variant>

#include "common/log.hpp"
#include "common/utf8.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/database_job.hpp"
#include "fleetd/store/token_store.hpp"

namespace fleet {
namespace {

constexpr std::size_t kMaxAuthCacheEntries = 10000;
constexpr std::size_t kMaxQueryParams = 32;

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    auto end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    out.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The token's syntax, checked before any database work: its hash, or the 401 to answer.
std::variant<std::string, http::Response> token_hash_of(const Call& call) {
  const std::string* authz = call.req.header("authorization");
  std::optional<std::string> token = authz ? bearer_token(*authz) : std::nullopt;
  if (token) return hash_token(*token);
  auto resp = problem(call, make_error(ErrorCode::kUnauthenticated,
                                       authz ? "the Authorization header is not a valid bearer token"
                                             : "this endpoint needs a bearer token (Authorization: Bearer …)",
                                       "", "unauthenticated"));
  resp.headers["www-authenticate"] = "Bearer";
  return resp;
}

}  // namespace

http::Response internal_error(const Call& call, const std::exception& e) {
  log::error("handler failed", {{"requestId", call.req.request_id}, {"path", call.path_only}, {"error", e.what()}});
  return problem(call, make_error(ErrorCode::kInternal, "internal error", "", "internal"));
}

ApiService::ApiService(DbPool& pool, Metrics& metrics, const Clock& clock, ApiServiceOptions options)
    : pool_(pool),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)),
      unknown_tokens_(options_.auth_cache_ttl, kMaxAuthCacheEntries),
      auth_failures_(options_.auth_failures) {}

void ApiService::add_db_route(std::string method, std::string route, std::optional<Role> min_role, DbHandler handler) {
  auto segs = split_pattern(route);
  const bool head = method == "GET";
  routes_.push_back({std::move(method), std::move(route), std::move(segs), min_role, std::move(handler), {}, {}, head});
}

void ApiService::add_plain_route(std::string method, std::string route, PlainHandler handler) {
  auto segs = split_pattern(route);
  const bool head = method == "GET";
  routes_.push_back(
      {std::move(method), std::move(route), std::move(segs), std::nullopt, {}, std::move(handler), {}, head});
}

void ApiService::add_async_route(std::string method, std::string route, AsyncHandler handler, Safety safety) {
  auto segs = split_pattern(route);
  const bool head = method == "GET" && safety == Safety::kSafe;
  routes_.push_back(
      {std::move(method), std::move(route), std::move(segs), std::nullopt, {}, {}, std::move(handler), head});
}

const ApiService::Route* ApiService::match(const std::vector<std::string>& segments, const std::string& method,
                                           std::set<std::string>& allowed,
                                           std::map<std::string, std::string>& params) const {
  allowed.clear();
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> p;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& s = r.segments[i];
      // `{name}` or, for custom methods (Google AIP-136, as in `/nodes/{node}:probe`), `{name}:verb`.
      const std::size_t close = s.find("}:");
      const std::string_view verb =
          close == std::string::npos ? std::string_view() : std::string_view(s).substr(close + 1);
      if (!verb.empty() && s.front() == '{') {
        const std::string& given = segments[i];
        if (given.size() <= verb.size() || given.compare(given.size() - verb.size(), verb.size(), verb) != 0) {
          ok = false;
        } else {
          p[s.substr(1, close - 1)] = given.substr(0, given.size() - verb.size());
        }
      } else if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
        if (segments[i].empty())
          ok = false;
        else
          p[s.substr(1, s.size() - 2)] = segments[i];
      } else if (s != segments[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    allowed.insert(r.method);
    if (r.answers_head) allowed.insert("HEAD");
    // HEAD runs the GET; the server sends the head of its answer (Content-Length included) without the body.
    if (r.method == method || (method == "HEAD" && r.answers_head)) {
      params = std::move(p);
      return &r;
    }
  }
  return nullptr;
}

std::optional<Principal> ApiService::cached_principal(const std::string& hash) {
  std::lock_guard lock(auth_mutex_);
  auto it = auth_cache_.find(hash);
  if (it == auth_cache_.end()) return std::nullopt;
  if (it->second.expires < clock_.steady_now()) {
    auth_cache_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

void ApiService::remember_principal(const std::string& hash, const Principal& p) {
  std::lock_guard lock(auth_mutex_);
  if (auth_cache_.size() >= kMaxAuthCacheEntries) auth_cache_.clear();
  auth_cache_[hash] = {p, clock_.steady_now() + options_.auth_cache_ttl};
}

void ApiService::invalidate_auth_cache() {
  std::lock_guard lock(auth_mutex_);
  auth_cache_.clear();
}

http::Response ApiService::unknown_token(const Call& call) {
  auto resp = problem(
      call, make_error(ErrorCode::kUnauthenticated, "the bearer token is unknown or revoked", "", "unauthenticated"));
  resp.headers["www-authenticate"] = "Bearer error=\"invalid_token\"";
  return resp;
}

std::optional<http::Response> ApiService::throttle(const Call& call, const std::string& token_hash) {
  if (cached_principal(token_hash)) return std::nullopt;  // known here: costs no lookup, whoever sends it
  return throttle_lookup(call);
}

void ApiService::count_failed_lookup(const Call& call) {
  auth_failures_.failed(AuthFailureLimiter::source_of(call.req.remote_address), clock_.steady_now());
  metrics_.observe_auth_failure(Metrics::AuthFailure::kUnknownToken);
}

std::optional<http::Response> ApiService::throttle_lookup(const Call& call) {
  auto wait = auth_failures_.refused(AuthFailureLimiter::source_of(call.req.remote_address), clock_.steady_now());
  if (!wait) return std::nullopt;
  metrics_.observe_auth_failure(Metrics::AuthFailure::kThrottled);
  auto resp =
      problem(call, make_error(ErrorCode::kUnavailable,
                               "too many requests from this address with credentials fleetd does not know; retry in " +
                                   std::to_string(wait->count()) + " s",
                               "", "too-many-requests"));
  resp.headers["retry-after"] = std::to_string(wait->count());
  return resp;
}

std::optional<http::Response> ApiService::parse_target(Call& call, std::vector<std::string>& segments) {
  // Until the target is known to be well formed, a problem's instance is the path as sent (percent-encoded).
  const std::string sent_path = call.req.target.substr(0, call.req.target.find('?'));
  if (is_valid_utf8(sent_path)) call.path_only = sent_path;
  auto parsed = boost::urls::parse_origin_form(call.req.target);
  if (!parsed) {
    return problem(
        call, make_error(ErrorCode::kInvalid, "the request target is not a valid URL path", "", "malformed-request"));
  }
  // Decoded text goes to PostgreSQL (names, filters, audit rows), which refuses invalid UTF-8: `%FF` is refused
  // here, as the client's error, rather than failing a query as a 503.
  for (auto seg : parsed->segments()) {
    segments.push_back(std::string(seg));
    if (!is_valid_utf8(segments.back())) {
      return problem(call, make_error(ErrorCode::kInvalid, "the request path is not valid UTF-8 once decoded", "path",
                                      "malformed-request"));
    }
  }
  call.path_only = std::string(parsed->path());
  std::size_t nparams = 0;
  for (auto param : parsed->params()) {
    if (++nparams > kMaxQueryParams) {
      return problem(call, make_error(ErrorCode::kInvalid, "too many query parameters", "", "invalid-query"));
    }
    const std::string key(param.key);
    const std::string value = param.has_value ? std::string(param.value) : std::string();
    if (!is_valid_utf8(key) || !is_valid_utf8(value)) {
      const std::string field = is_valid_utf8(key) ? truncate_utf8(key, 64) : "query";
      return problem(call,
                     make_error(ErrorCode::kInvalid, field + ": not valid UTF-8 once decoded", field, "invalid-query"));
    }
    call.query[key] = value;
  }
  return std::nullopt;
}

void ApiService::set_routine(std::string route) {
  routine_routes_.insert(std::move(route));
}

log::Level ApiService::access_log_level(bool routine, int status) {
  return routine && status < 400 ? log::Level::kDebug : log::Level::kInfo;
}

void ApiService::handle(http::Request req_in, http::Respond respond_in) {
  // The request lives in a shared block: the handler may run later on a database worker.
  auto req = std::make_shared<http::Request>(std::move(req_in));
  auto call = std::make_shared<Call>(Call{*req, {}, {}, {}, {}, req});
  auto route_name = std::make_shared<std::string>("unmatched");

  // Every response passes here exactly once: metrics and the access log.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  http::Respond respond = [this, req, route_name, answered, respond_in = std::move(respond_in)](http::Response resp) {
    if (answered->exchange(true)) return;
    resp.route = *route_name;
    const double secs = std::chrono::duration<double>(clock_.steady_now() - req->received_at).count();
    metrics_.observe_request(resp.route, req->method, resp.status, secs);
    const log::Level level = access_log_level(routine_routes_.count(resp.route) > 0, resp.status);
    if (log::enabled(level)) {
      log::write(level, "request",
                 {{"requestId", req->request_id},
                  {"serverRequestId", req->server_request_id},
                  {"method", req->method},
                  {"route", resp.route},
                  {"status", resp.status},
                  {"durationMs", std::round(secs * 100'000.0) / 100.0},  // to 10 µs: the clock's noise is more
                  {"remote", req->remote_address}});
    }
    respond_in(std::move(resp));
  };

  std::vector<std::string> segments;
  if (auto refused = parse_target(*call, segments)) return respond(std::move(*refused));
  std::set<std::string> allowed;
  const Route* route = match(segments, req->method, allowed, call->path);
  if (!route) {
    if (!allowed.empty()) {
      // RFC 9110 §15.5.6: a 405 says which methods the resource has. (The client's method is not echoed.)
      std::string allow;
      for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
      auto resp = problem(
          *call, make_error(ErrorCode::kInvalid, "this endpoint answers " + allow + " only", "", "method-not-allowed"));
      resp.headers["allow"] = allow;
      return respond(std::move(resp));
    }
    return respond(
        problem(*call, make_error(ErrorCode::kNotFound, "no such endpoint: " + call->path_only, "", "not-found")));
  }
  *route_name = route->pattern;
  if (route->plain_handler) return run_plain(*route, *call, respond);
  if (route->async_handler) return run_async(*route, call, respond);
  run_db(*route, call, respond);
}

void ApiService::run_plain(const Route& route, Call& call, const http::Respond& respond) {
  try {
    respond(route.plain_handler(call));
  } catch (const std::exception& e) {
    respond(internal_error(call, e));
  }
}

void ApiService::run_async(const Route& route, const std::shared_ptr<Call>& call, const http::Respond& respond) {
  try {
    route.async_handler(call, respond);
  } catch (const std::exception& e) {
    respond(internal_error(*call, e));  // ignored if the handler answered before it threw
  }
}

void ApiService::run_db(const Route& route, const std::shared_ptr<Call>& call, const http::Respond& respond) {
  std::string token_hash;
  if (route.min_role) {
    auto hash = token_hash_of(*call);
    if (auto* refused = std::get_if<http::Response>(&hash)) {
      metrics_.observe_auth_failure(call->req.header("authorization") != nullptr ? Metrics::AuthFailure::kMalformed
                                                                                 : Metrics::AuthFailure::kMissing);
      return respond(std::move(*refused));
    }
    token_hash = std::get<std::string>(std::move(hash));
    if (unknown_tokens_.contains(token_hash, clock_.steady_now())) {
      metrics_.observe_auth_failure(Metrics::AuthFailure::kUnknownTokenCached);
      return respond(unknown_token(*call));
    }
    if (auto refused = throttle(*call, token_hash)) return respond(std::move(*refused));
  }
  // What the handler throws reaches the pool: a serialization failure or deadlock runs this again, a lost database
  // is a 503 and anything else a 500 (failure_response), each logged with the request id.
  run_on_database(pool_, call, respond, [this, call, &route, token_hash, respond](pqxx::connection_base& conn) {
    if (route.min_role) {
      if (auto refused = authorize(route, *call, token_hash, conn)) return respond(std::move(*refused));
    }
    respond(route.db_handler(*call, conn));
  });
}

std::optional<http::Response> ApiService::authorize(const Route& route, Call& call, const std::string& token_hash,
                                                    pqxx::connection_base& conn) {
  auto principal = cached_principal(token_hash);
  if (!principal) {
    pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
    principal = store::find_principal(txn, token_hash);
    txn.commit();
    if (principal) remember_principal(token_hash, *principal);
  }
  if (!principal) {
    unknown_tokens_.insert(token_hash, clock_.steady_now());
    count_failed_lookup(call);
    return unknown_token(call);
  }
  call.principal = *principal;
  if (static_cast<int>(principal->role) < static_cast<int>(*route.min_role)) {
    // On record (issue #10): a token tried beyond its role, which is a mistake or a probe worth seeing.
    pqxx::work txn(conn);
    store::write_audit(txn, audit_entry(call, "request.forbidden", "route", route.pattern, "forbidden",
                                        {{"method", route.method}, {"path", truncate_utf8(call.path_only, 256)}}));
    txn.commit();
    return problem(call, make_error(ErrorCode::kForbidden,
                                    std::string("this needs the ") + role_name(*route.min_role) +
                                        " role; the token has " + role_name(principal->role),
                                    "", "forbidden"));
  }
  return std::nullopt;
}

}  // namespace fleet
