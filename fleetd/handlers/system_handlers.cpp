// Unauthenticated operational endpoints: /healthz, /readyz, /metrics, /openapi.json, /version.
#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include "api/openapi.hpp"
#include "fleetd/handlers/routes.hpp"

namespace fleet {

void register_system_routes(ApiService& api, Metrics& metrics, const SystemInfo& info) {
  api.add_plain_route("GET", "/healthz", [](Call&) { return json_response(200, R"({"status":"ok"})"); });
  api.add_db_route("GET", "/readyz", std::nullopt,
                   [readiness = info.readiness](Call& call, pqxx::connection_base& conn) {
                     auto st = readiness(conn);
                     if (!st)
                       return problem(call, make_error(ErrorCode::kUnavailable, st.error().message, "", "unavailable"));
                     return json_response(200, R"({"status":"ready"})");
                   });
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
