#include "fleetd/http/api_service.hpp"

#include <boost/url/parse.hpp>
#include <pqxx/pqxx>

#include "api/problem.hpp"
#include "common/log.hpp"
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

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

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

ApiService::ApiService(DbPool& pool, Metrics& metrics, ApiServiceOptions options)
    : pool_(pool), metrics_(metrics), options_(std::move(options)) {}

void ApiService::add_db_route(std::string method, std::string route, std::optional<Role> min_role, DbHandler handler) {
  auto segs = split_pattern(route);
  routes_.push_back({std::move(method), std::move(route), std::move(segs), min_role, std::move(handler), {}, {}});
}

void ApiService::add_plain_route(std::string method, std::string route, PlainHandler handler) {
  auto segs = split_pattern(route);
  routes_.push_back({std::move(method), std::move(route), std::move(segs), std::nullopt, {}, std::move(handler), {}});
}

void ApiService::add_async_route(std::string method, std::string route, AsyncHandler handler) {
  auto segs = split_pattern(route);
  routes_.push_back({std::move(method), std::move(route), std::move(segs), std::nullopt, {}, {}, std::move(handler)});
}

const ApiService::Route* ApiService::match(const std::vector<std::string>& segments, const std::string& method,
                                           bool& path_matched, std::map<std::string, std::string>& params) const {
  path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> p;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& s = r.segments[i];
      if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
        if (segments[i].empty())
          ok = false;
        else
          p[s.substr(1, s.size() - 2)] = segments[i];
      } else if (s != segments[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    path_matched = true;
    if (r.method == method) {
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
  if (it->second.expires < std::chrono::steady_clock::now()) {
    auth_cache_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

void ApiService::remember_principal(const std::string& hash, const Principal& p) {
  std::lock_guard lock(auth_mutex_);
  if (auth_cache_.size() >= kMaxAuthCacheEntries) auth_cache_.clear();
  auth_cache_[hash] = {p, std::chrono::steady_clock::now() + options_.auth_cache_ttl};
}

void ApiService::invalidate_auth_cache() {
  std::lock_guard lock(auth_mutex_);
  auth_cache_.clear();
}

void ApiService::handle(http::Request req_in, http::Respond respond_in) {
  // The request lives in a shared block: the handler may run later on a database worker.
  auto req = std::make_shared<http::Request>(std::move(req_in));
  auto call = std::make_shared<Call>(Call{*req, {}, {}, {}, {}, req});
  auto route_name = std::make_shared<std::string>("unmatched");

  // Every response passes here once: metrics and the access log.
  auto respond = [this, req, route_name, respond_in = std::move(respond_in)](http::Response resp) {
    resp.route = *route_name;
    double secs = seconds_since(req->received_at);
    metrics_.observe_request(resp.route, req->method, resp.status, secs);
    if (log::enabled(log::Level::kInfo)) {
      log::info("request", {{"requestId", req->request_id},
                            {"method", req->method},
                            {"route", resp.route},
                            {"status", resp.status},
                            {"durationMs", secs * 1000.0},
                            {"remote", req->remote_address}});
    }
    respond_in(std::move(resp));
  };

  auto parsed = boost::urls::parse_origin_form(req->target);
  if (!parsed) {
    call->path_only = "";
    respond(problem(
        *call, make_error(ErrorCode::kInvalid, "the request target is not a valid URL path", "", "malformed-request")));
    return;
  }
  std::vector<std::string> segments;
  for (auto seg : parsed->segments()) segments.push_back(std::string(seg));
  call->path_only = std::string(parsed->path());
  std::size_t nparams = 0;
  for (auto param : parsed->params()) {
    if (++nparams > kMaxQueryParams) {
      respond(problem(*call, make_error(ErrorCode::kInvalid, "too many query parameters", "", "invalid-query")));
      return;
    }
    call->query[std::string(param.key)] = param.has_value ? std::string(param.value) : std::string();
  }

  bool path_matched = false;
  const Route* route = match(segments, req->method, path_matched, call->path);
  if (!route) {
    if (path_matched) {
      respond(problem(*call, make_error(ErrorCode::kInvalid, "method " + req->method + " is not allowed here", "",
                                        "method-not-allowed")));
    } else {
      respond(
          problem(*call, make_error(ErrorCode::kNotFound, "no such endpoint: " + call->path_only, "", "not-found")));
    }
    return;
  }
  *route_name = route->pattern;

  if (route->plain_handler) {
    respond(route->plain_handler(*call));
    return;
  }
  if (route->async_handler) {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    route->async_handler(call, [respond, answered](http::Response r) {
      if (!answered->exchange(true)) respond(std::move(r));
    });
    return;
  }

  // Token syntax is checked here, before any database work.
  std::string token_hash;
  if (route->min_role) {
    const std::string* authz = req->header("authorization");
    std::optional<std::string> token = authz ? bearer_token(*authz) : std::nullopt;
    if (!token) {
      auto resp = problem(*call, make_error(ErrorCode::kUnauthenticated,
                                            authz ? "the Authorization header is not a valid bearer token"
                                                  : "this endpoint needs a bearer token (Authorization: Bearer …)",
                                            "", "unauthenticated"));
      resp.headers["www-authenticate"] = "Bearer";
      respond(std::move(resp));
      return;
    }
    token_hash = hash_token(*token);
  }

  auto once = std::make_shared<std::atomic<bool>>(false);
  auto respond_once = [respond, once](http::Response r) {
    if (!once->exchange(true)) respond(std::move(r));
  };
  DbJob job;
  job.run = [this, call, route, token_hash, respond_once](pqxx::connection_base& conn) {
    if (route->min_role) {
      auto principal = cached_principal(token_hash);
      if (!principal) {
        pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
        principal = store::find_principal(txn, token_hash);
        txn.commit();
        if (principal) remember_principal(token_hash, *principal);
      }
      if (!principal) {
        auto resp = problem(*call, make_error(ErrorCode::kUnauthenticated, "the bearer token is unknown or revoked", "",
                                              "unauthenticated"));
        resp.headers["www-authenticate"] = "Bearer error=\"invalid_token\"";
        respond_once(std::move(resp));
        return;
      }
      if (static_cast<int>(principal->role) < static_cast<int>(*route->min_role)) {
        respond_once(problem(*call, make_error(ErrorCode::kForbidden,
                                               std::string("this needs the ") + role_name(*route->min_role) +
                                                   " role; the token has " + role_name(principal->role),
                                               "", "forbidden")));
        return;
      }
      call->principal = *principal;
    }
    respond_once(route->db_handler(*call, conn));
  };
  job.fail = [call, respond_once](const std::string& message) {
    respond_once(problem(*call, make_error(ErrorCode::kUnavailable, message, "", "unavailable")));
  };
  auto fail = job.fail;
  if (!pool_.submit(std::move(job))) fail("fleetd is overloaded: too many requests are waiting for the database");
}

}  // namespace fleet
