// Agent registration: operators mint one-time bootstrap tokens for a cluster; the cluster's agent trades one for
// its long-lived credential (DESIGN §5 step 1). Admins revoke an unused bootstrap token or an agent's credential
// (issue #10). A credential that ends (replaced by a registration, or revoked) is forgotten by this replica's
// cache as soon as the change commits; the other replicas hear of it from the database (credential_listener.hpp).
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "common/utf8.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/database_job.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/store/agent_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
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
  nlohmann::json out = {
      {"id", created->id}, {"cluster", cluster}, {"token", created->token}, {"expiresAt", created->expires_at}};
  return json_response(201, out.dump());
}

http::Response registration_refused(const Call& call) {
  auto resp = problem(call, make_error(ErrorCode::kUnauthenticated,
                                       "registration needs an unused, unexpired bootstrap token "
                                       "(Authorization: Bearer …); ask an operator for a new one",
                                       "", "unauthenticated"));
  resp.headers["www-authenticate"] = "Bearer";
  return resp;
}

std::optional<std::string> bootstrap_token(const Call& call) {
  const std::string* authz = call.req.header("authorization");
  return authz ? bearer_token(*authz) : std::nullopt;
}

// Where a bootstrap token the database refused is remembered: in the credential cache's unknown table, under a
// key of its own, so an agent credential presented here (or a bootstrap token on an agent path) never makes the
// other kind look unknown.
std::string unknown_bootstrap_key(const std::string& token) {
  return "bootstrap:" + hash_token(token);
}

http::Response register_agent(Call& call, pqxx::connection_base& conn, const AgentRouteOptions& options,
                              HeartbeatCache& credentials, ApiService& api) {
  const std::optional<std::string> token = bootstrap_token(call);
  auto refused = [&] { return registration_refused(call); };
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
  if (!reg) {  // unknown, used or expired, for good: nothing written, the transaction is abandoned
    credentials.remember_unknown_credential(unknown_bootstrap_key(*token));
    api.count_failed_lookup(call);
    return refused();
  }
  auto entry = audit_entry(call, "agent.register", "cluster", reg->cluster, "success");
  entry.actor = "agent:" + reg->cluster;
  store::write_audit(txn, entry);
  txn.commit();
  if (reg->replaced_credential_hash) credentials.forget_credential(*reg->replaced_credential_hash);
  nlohmann::json out = {{"cluster", reg->cluster},
                        {"credential", reg->credential},
                        {"heartbeatIntervalSeconds", options.heartbeat_interval_seconds}};
  return json_response(200, out.dump());
}

// A revocation, shared by both kinds: honours Idempotency-Key, audits every outcome, answers 204 or 404.
// `revoke` runs in the transaction and says whether something was revoked.
template <typename Revoke>
http::Response revoke(Call& call, pqxx::connection_base& conn, const store::AuditEntry& entry,
                      const std::string& not_found, Revoke&& revoke) {
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, entry, key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, entry)) return std::move(*earlier);
  http::Response resp;
  store::AuditEntry done = entry;
  if (revoke(txn)) {
    resp.status = 204;
    done.outcome = "success";
  } else {
    resp = problem(call, make_error(ErrorCode::kNotFound, not_found, "", "not-found"));
    done.outcome = "not-found";
  }
  store::write_audit(txn, done);
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

// POST /v1/clusters/{name}/agent:revoke: the agent's credential stops working at once, on every replica; the
// cluster keeps its inventory, and its agent needs a new bootstrap token to register again.
http::Response revoke_agent(Call& call, pqxx::connection_base& conn, HeartbeatCache& credentials) {
  const std::string cluster = call.path["name"];
  std::optional<std::string> revoked;
  auto resp =
      revoke(call, conn, audit_entry(call, "agent.revoke", "cluster", truncate_utf8(cluster, 253), ""),
             "cluster \"" + cluster + "\" not found or has no agent credential", [&](pqxx::transaction_base& txn) {
               revoked = store::revoke_agent_credential(txn, cluster);
               return revoked.has_value();
             });
  if (revoked && resp.status == 204) credentials.forget_credential(*revoked);  // committed
  return resp;
}

// POST /v1/clusters/{name}/bootstrap-tokens/{id}:revoke: a token not used yet can never register.
http::Response revoke_bootstrap_token(Call& call, pqxx::connection_base& conn) {
  const std::string cluster = call.path["name"];
  const std::string id = truncate_utf8(call.path["id"], 64);
  return revoke(call, conn,
                audit_entry(call, "bootstrap-token.revoke", "bootstrap-token", id, "", {{"cluster", cluster}}),
                "bootstrap token \"" + id + "\" of cluster \"" + cluster + "\" not found, used, expired or revoked",
                [&](pqxx::transaction_base& txn) { return store::revoke_bootstrap_token(txn, cluster, id); });
}

}  // namespace

void register_agent_routes(ApiService& api, HeartbeatCache& credentials, AgentRouteOptions options) {
  api.add_db_route("POST", "/v1/clusters/{name}/bootstrap-tokens", Role::kOperator, create_bootstrap_token);
  api.add_db_route("POST", "/v1/clusters/{name}/bootstrap-tokens/{id}:revoke", Role::kAdmin, revoke_bootstrap_token);
  api.add_db_route(
      "POST", "/v1/clusters/{name}/agent:revoke", Role::kAdmin,
      [&credentials](Call& call, pqxx::connection_base& conn) { return revoke_agent(call, conn, credentials); });
  // No API token here: the bootstrap token in the Authorization header is the credential.
  // A token refused a moment ago is refused again before a database worker is taken, and a source over its budget
  // of failed authentications is answered 429 (issue #10).
  api.add_async_route("POST", "/v1/agents/register",
                      [options, &credentials, &api](const std::shared_ptr<Call>& call, const http::Respond& respond) {
                        const std::optional<std::string> token = bootstrap_token(*call);
                        if (!token || credentials.known_unknown_credential(unknown_bootstrap_key(*token))) {
                          return respond(registration_refused(*call));
                        }
                        // Every registration looks its token up (a bootstrap token is used once), so every source has
                        // the budget.
                        if (auto throttled = api.throttle_lookup(*call)) return respond(std::move(*throttled));
                        run_on_database(api.pool(), call, respond,
                                        [call, respond, options, &credentials, &api](pqxx::connection_base& conn) {
                                          respond(register_agent(*call, conn, options, credentials, api));
                                        });
                      });
}

}  // namespace fleet
