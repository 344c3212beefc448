// Agent registration: operators mint one-time bootstrap tokens for a cluster; the cluster's agent trades one for
// its long-lived credential (DESIGN §5 step 1).
#include <pqxx/pqxx>

#include "agents/inventory_delta.hpp"
#include "api/json_body.hpp"
#include "fleetd/agent_store.hpp"
#include "fleetd/audit_store.hpp"
#include "fleetd/handlers.hpp"
#include "fleetd/inventory_store.hpp"

namespace fleet {
namespace {

constexpr std::int64_t kDefaultBootstrapTtl = 3600;
constexpr std::int64_t kMinBootstrapTtl = 60;
constexpr std::int64_t kMaxBootstrapTtl = 7 * 24 * 3600;
constexpr std::size_t kMaxAgentVersion = 64;

void audit(pqxx::transaction_base& txn, const Call& call, const std::string& actor, const std::string& action,
           const std::string& cluster, const std::string& outcome) {
  store::AuditEntry e;
  e.actor = actor;
  e.action = action;
  e.object_kind = "cluster";
  e.object_name = cluster;
  e.request_id = call.req.request_id;
  e.outcome = outcome;
  store::write_audit(txn, e);
}

http::Response create_bootstrap_token(Call& call, pqxx::connection_base& conn) {
  const std::string cluster = call.path["name"];
  std::int64_t ttl = kDefaultBootstrapTtl;
  if (!call.req.body.empty()) {
    auto body = api::parse_json_body(call.req, {"application/json"});
    if (!body) return problem(call, body.error());
    if (auto st = api::reject_unknown_fields(*body, {"ttlSeconds"}, ""); !st) return problem(call, st.error());
    auto t = api::optional_integer(*body, "ttlSeconds", "", kMinBootstrapTtl, kMaxBootstrapTtl);
    if (!t) return problem(call, t.error());
    if (*t) ttl = **t;
  }
  pqxx::work txn(conn);
  auto created = store::create_bootstrap_token(txn, cluster, std::chrono::seconds(ttl), call.principal.actor());
  audit(txn, call, call.principal.actor(), "cluster.bootstrap-token", cluster, created ? "success" : "not-found");
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
    if (auto st = api::reject_unknown_fields(*body, {"agentVersion"}, ""); !st) return problem(call, st.error());
    auto v = api::optional_string(*body, "agentVersion", "");
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
  audit(txn, call, "agent:" + reg->cluster, "agent.register", reg->cluster, "success");
  txn.commit();
  nlohmann::json out = {{"cluster", reg->cluster},
                        {"credential", reg->credential},
                        {"heartbeatIntervalSeconds", options.heartbeat_interval_seconds}};
  return json_response(200, out.dump());
}

// POST /v1/agents/{cluster}/heartbeat: the agent's credential must be this cluster's. A full inventory replaces
// the stored one; a delta applies only on top of sequence-1, otherwise the answer asks for a full resync.
http::Response heartbeat(Call& call, pqxx::connection_base& conn, const AgentRouteOptions& options) {
  const std::string cluster = call.path["cluster"];
  pqxx::work txn(conn);
  if (auto refused = refuse_agent(call, txn, cluster)) return std::move(*refused);
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return problem(call, body.error());
  auto envelope = agent::heartbeat_from_json(*body);
  if (!envelope) return problem(call, envelope.error());
  auto stored = store::load_inventory(txn, cluster);
  auto outcome = agent::apply_heartbeat(stored, *envelope);
  if (!outcome) return problem(call, outcome.error());
  nlohmann::json out;
  if (auto* resync = std::get_if<agent::ResyncNeeded>(&*outcome)) {
    store::touch_agent(txn, cluster);
    out = {{"resync", true}, {"reason", resync->reason}};
  } else {
    const auto& applied = std::get<agent::HeartbeatApplied>(*outcome);
    store::save_heartbeat(txn, cluster, applied, envelope->agent_version);
    out = {{"resync", false},
           {"sequence", applied.stored.sequence},
           {"nodesChanged",
            applied.changes.added.size() + applied.changes.changed.size() + applied.changes.removed.size()}};
  }
  out["heartbeatIntervalSeconds"] = options.heartbeat_interval_seconds;
  txn.commit();
  return json_response(200, out.dump());
}

}  // namespace

std::optional<http::Response> refuse_agent(const Call& call, pqxx::transaction_base& txn, const std::string& cluster) {
  const std::string* authz = call.req.header("authorization");
  std::optional<std::string> credential = authz ? bearer_token(*authz) : std::nullopt;
  if (!credential) {
    auto resp = problem(call, make_error(ErrorCode::kUnauthenticated, "agent endpoints need the agent's credential", "",
                                         "unauthenticated"));
    resp.headers["www-authenticate"] = "Bearer";
    return resp;
  }
  auto owner = store::find_agent_cluster(txn, hash_token(*credential));
  if (!owner) {
    return problem(call, make_error(ErrorCode::kUnauthenticated, "unknown agent credential (register again)", "",
                                    "unauthenticated"));
  }
  if (*owner != cluster) {
    return problem(call, make_error(ErrorCode::kForbidden,
                                    "this credential belongs to cluster \"" + *owner + "\", not \"" + cluster + "\"",
                                    "", "forbidden"));
  }
  return std::nullopt;
}

void register_agent_routes(ApiService& api, AgentRouteOptions options) {
  api.add_db_route("POST", "/v1/agents/{cluster}/heartbeat", std::nullopt,
                   [options](Call& call, pqxx::connection_base& conn) { return heartbeat(call, conn, options); });
  api.add_db_route("POST", "/v1/clusters/{name}/bootstrap-tokens", Role::kOperator, create_bootstrap_token);
  // No API token here: the bootstrap token in the Authorization header is the credential.
  api.add_db_route("POST", "/v1/agents/register", std::nullopt,
                   [options](Call& call, pqxx::connection_base& conn) { return register_agent(call, conn, options); });
}

}  // namespace fleet
