// Agent registration: operators mint one-time bootstrap tokens for a cluster; the cluster's agent trades one for
// its long-lived credential (DESIGN §5 step 1).
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/store/agent_store.hpp"
#include "model/json_read.hpp"

namespace fleet {
namespace {

constexpr std::int64_t kDefaultBootstrapTtl = 3600;
constexpr std::int64_t kMinBootstrapTtl = 60;
constexpr std::int64_t kMaxBootstrapTtl = 7 * 24 * 3600;
constexpr std::size_t kMaxAgentVersion = 64;

http::Response create_bootstrap_token(Call& call, pqxx::connection_base& conn) {
  const std::string cluster = call.path["name"];
  std::int64_t ttl = kDefaultBootstrapTtl;
  if (!call.req.body.empty()) {
    auto body = api::parse_json_body(call.req, {"application/json"});
    if (!body) return problem(call, body.error());
    if (auto st = model::reject_unknown_fields(*body, {"ttlSeconds"}, ""); !st) return problem(call, st.error());
    auto t = model::optional_integer(*body, "ttlSeconds", "", kMinBootstrapTtl, kMaxBootstrapTtl);
    if (!t) return problem(call, t.error());
    if (*t) ttl = **t;
  }
  pqxx::work txn(conn);
  auto created = store::create_bootstrap_token(txn, cluster, std::chrono::seconds(ttl), call.principal.actor());
  store::write_audit(
      txn, audit_entry(call, "cluster.bootstrap-token", "cluster", cluster, created ? "success" : "not-found"));
  txn.commit();
  if (!created) {
    return problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + cluster + "\" not found", "", "not-found"));
  }
  nlohmann::json out = {{"cluster", cluster}, {"token", created->token}, {"expiresAt", created->expires_at}};
  return json_response(201, out.dump());
}

http::Response register_agent(Call& call, pqxx::connection_base& conn, const AgentRouteOptions& options) {
  const std::string* authz = call.req.header("authorization");
  std::optional<std::string> token = authz ? bearer_token(*authz) : std::nullopt;
  auto refused = [&] {
    auto resp = problem(call, make_error(ErrorCode::kUnauthenticated,
                                         "registration needs an unused, unexpired bootstrap token "
                                         "(Authorization: Bearer …); ask an operator for a new one",
                                         "", "unauthenticated"));
    resp.headers["www-authenticate"] = "Bearer";
    return resp;
  };
  if (!token) return refused();
  std::string agent_version;
  if (!call.req.body.empty()) {
    auto body = api::parse_json_body(call.req, {"application/json"});
    if (!body) return problem(call, body.error());
    if (auto st = model::reject_unknown_fields(*body, {"agentVersion"}, ""); !st) return problem(call, st.error());
    auto v = model::optional_string(*body, "agentVersion", "");
    if (!v) return problem(call, v.error());
    if (*v && (*v)->size() > kMaxAgentVersion) {
      return problem(call, make_error(ErrorCode::kInvalid, "agentVersion: at most 64 characters", "agentVersion",
                                      "invalid-field"));
    }
    if (*v) agent_version = **v;
  }
  pqxx::work txn(conn);
  auto reg = store::register_agent(txn, hash_token(*token), agent_version);
  if (!reg) return refused();  // nothing written: the transaction is abandoned
  auto entry = audit_entry(call, "agent.register", "cluster", reg->cluster, "success");
  entry.actor = "agent:" + reg->cluster;
  store::write_audit(txn, entry);
  txn.commit();
  nlohmann::json out = {{"cluster", reg->cluster},
                        {"credential", reg->credential},
                        {"heartbeatIntervalSeconds", options.heartbeat_interval_seconds}};
  return json_response(200, out.dump());
}

}  // namespace

void register_agent_routes(ApiService& api, AgentRouteOptions options) {
  api.add_db_route("POST", "/v1/clusters/{name}/bootstrap-tokens", Role::kOperator, create_bootstrap_token);
  // No API token here: the bootstrap token in the Authorization header is the credential.
  api.add_db_route("POST", "/v1/agents/register", std::nullopt,
                   [options](Call& call, pqxx::connection_base& conn) { return register_agent(call, conn, options); });
}

}  // namespace fleet
