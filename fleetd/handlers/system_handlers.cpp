// Unauthenticated operational endpoints: /healthz, /readyz, /metrics, /openapi.json, /version.
#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include "api/openapi.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/database_job.hpp"
#include "fleetd/http/readiness_cache.hpp"

namespace fleet {
namespace {

http::Response readiness_response(const Call& call, const ReadinessCache::Answer& answer) {
  if (answer.ready) return json_response(200, R"({"status":"ready"})");
  return problem(call, make_error(ErrorCode::kUnavailable, answer.reason, "", "unavailable"));
}

// Back from a response: a 503 of the pool (database down, queue full) is a "not ready" like a failed check.
ReadinessCache::Answer answer_of(const http::Response& r) {
  if (r.status == 200) return {true, ""};
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  std::string reason = body.is_object() ? body.value("detail", std::string()) : std::string();
  return {false, reason.empty() ? "not ready (HTTP " + std::to_string(r.status) + ")" : reason};
}

}  // namespace

void register_system_routes(ApiService& api, Metrics& metrics, const SystemInfo& info) {
  // Probes and scrapes come every few seconds: logged at debug when answered (ApiService::set_routine).
  for (const char* route : {"/healthz", "/readyz", "/metrics"}) api.set_routine(route);
  api.add_plain_route("GET", "/healthz", [](Call&) { return json_response(200, R"({"status":"ok"})"); });
  // At most one database check a second however often it is probed (http/readiness_cache.hpp).
  auto cache = std::make_shared<ReadinessCache>(ReadinessCache::Options{});
  api.add_async_route(
      "GET", "/readyz",
      [cache, readiness = info.readiness, &pool = api.pool(), &clock = api.clock(), &metrics](
          const std::shared_ptr<Call>& call, const http::Respond& respond) {
        if (auto known = cache->answer_or_claim(clock.steady_now())) return respond(readiness_response(*call, *known));
        // Whatever answers this check (it, or the pool's 503 when it cannot run) is the answer the cache keeps.
        auto remember = [cache, respond, &clock](http::Response r) {
          cache->store(answer_of(r), clock.steady_now());
          respond(std::move(r));
        };
        metrics.observe_readiness_check();
        run_on_database(pool, call, remember, [call, remember, readiness](pqxx::connection_base& conn) {
          auto st = readiness(conn);
          remember(st ? readiness_response(*call, {true, ""}) : readiness_response(*call, {false, st.error().message}));
        });
      },
      ApiService::Safety::kSafe);  // load balancers probe with HEAD
  api.add_plain_route("GET", "/metrics", [&metrics](Call&) {
    http::Response r;
    r.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.render();
    return r;
  });
  api.add_plain_route("GET", "/openapi.json", [](Call&) { return json_response(200, api::openapi_json()); });
  nlohmann::json version = {{"version", info.version}, {"gitCommit", info.commit}, {"buildDate", info.build_date}};
  api.add_plain_route("GET", "/version", [body = version.dump()](Call&) { return json_response(200, body); });
}

}  // namespace fleet
