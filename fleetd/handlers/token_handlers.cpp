// /v1/tokens (admin): create, list, revoke; and /v1/audit (admin).
#include <charconv>
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/token_store.hpp"
#include "model/json_read.hpp"

namespace fleet {
namespace {

constexpr std::size_t kMaxDescription = 256;

nlohmann::json token_json(const store::TokenRecord& t) {
  nlohmann::json j = {{"id", t.id},
                      {"role", role_name(t.role)},
                      {"description", t.description},
                      {"createdBy", t.created_by},
                      {"createdAt", t.created_at}};
  j["revokedAt"] = t.revoked_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.revoked_at);
  return j;
}

bool looks_like_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

void audit(pqxx::transaction_base& txn, const Call& call, std::string action, std::string object, std::string outcome) {
  store::write_audit(txn, audit_entry(call, std::move(action), "token", std::move(object), std::move(outcome)));
}

struct TokenRequest {
  Role role = Role::kViewer;
  std::string description;
};

Result<TokenRequest> parse_token_request(const Call& call) {
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return body.error();
  if (auto st = model::reject_unknown_fields(*body, {"role", "description"}, ""); !st) return st.error();
  if (!body->contains("role") || !(*body)["role"].is_string()) {
    return make_error(ErrorCode::kInvalid, "role is required: viewer, operator or admin", "role", "missing-field");
  }
  auto role = parse_role((*body)["role"].get<std::string>());
  if (!role) return make_error(ErrorCode::kInvalid, "role must be viewer, operator or admin", "role", "invalid-field");
  TokenRequest request{*role, ""};
  if (body->contains("description")) {
    const auto& d = (*body)["description"];
    if (!d.is_string() || d.get<std::string>().size() > kMaxDescription) {
      return make_error(ErrorCode::kInvalid, "description must be a string of at most 256 bytes", "description",
                        "invalid-field");
    }
    request.description = d.get<std::string>();
  }
  return request;
}

http::Response create_token(Call& call, pqxx::connection_base& conn) {
  auto request = parse_token_request(call);
  // A refused create is on record too (issue #10): who tried to mint what, and why it was refused.
  if (!request) return refuse_audited(call, conn, audit_entry(call, "token.create", "token", "", ""), request.error());
  const Role role = request->role;
  const std::string description = request->description;
  pqxx::work txn(conn);
  auto created = store::create_token(txn, role, description, call.principal.actor());
  audit(txn, call, "token.create", created.record.id, "success");
  txn.commit();
  auto j = token_json(created.record);
  j["token"] = created.token;
  return json_response(201, j.dump());
}

http::Response list_tokens(Call& call, pqxx::connection_base& conn) {
  pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
  auto tokens = store::list_tokens(txn);
  txn.commit();
  nlohmann::json out = {{"items", nlohmann::json::array()}};
  for (const auto& t : tokens) out["items"].push_back(token_json(t));
  (void)call;
  return json_response(200, out.dump());
}

http::Response revoke_token(Call& call, pqxx::connection_base& conn, ApiService& api) {
  const std::string id = call.path["id"];
  if (!looks_like_uuid(id)) {
    return problem(call,
                   make_error(ErrorCode::kNotFound, "token \"" + id.substr(0, 64) + "\" not found", "", "not-found"));
  }
  pqxx::work txn(conn);
  bool revoked = store::revoke_token(txn, id);
  audit(txn, call, "token.revoke", id, revoked ? "success" : "not-found");
  txn.commit();
  if (!revoked) {
    return problem(
        call, make_error(ErrorCode::kNotFound, "token \"" + id + "\" not found or already revoked", "", "not-found"));
  }
  api.invalidate_auth_cache();
  http::Response r;
  r.status = 204;
  return r;
}

http::Response list_audit(Call& call, pqxx::connection_base& conn) {
  int limit = 100;
  std::int64_t before = 0;
  for (const auto& [key, value] : call.query) {
    if (key == "limit") {
      auto parsed = parse_limit(value, 1000);
      if (!parsed) return problem(call, parsed.error());
      limit = *parsed;
      continue;
    }
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    bool numeric = !value.empty() && ec == std::errc() && p == value.data() + value.size();
    if (key == "continue" && numeric && n > 0) {
      before = n;
    } else {
      return problem(call, make_error(ErrorCode::kInvalid,
                                      "bad query parameter \"" + key.substr(0, 64) +
                                          "\" (allowed: limit 1-1000, continue from a previous page)",
                                      key.substr(0, 64), "invalid-query"));
    }
  }
  pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
  auto entries = store::list_audit(txn, before, limit + 1);
  txn.commit();
  nlohmann::json out = {{"items", nlohmann::json::array()}};
  for (std::size_t i = 0; i < entries.size() && static_cast<int>(i) < limit; ++i) {
    const auto& e = entries[i];
    out["items"].push_back({{"id", e.id},
                            {"at", e.at},
                            {"actor", e.actor},
                            {"action", e.action},
                            {"objectKind", e.object_kind},
                            {"objectName", e.object_name},
                            {"requestId", e.request_id},
                            {"serverRequestId", e.server_request_id},
                            {"outcome", e.outcome},
                            {"detail", e.detail}});
  }
  if (static_cast<int>(entries.size()) > limit) out["continue"] = std::to_string(entries[limit - 1].id);
  return json_response(200, out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

void register_token_routes(ApiService& api) {
  api.add_db_route("POST", "/v1/tokens", Role::kAdmin, create_token);
  api.add_db_route("GET", "/v1/tokens", Role::kAdmin, list_tokens);
  api.add_db_route("DELETE", "/v1/tokens/{id}", Role::kAdmin,
                   [&api](Call& call, pqxx::connection_base& conn) { return revoke_token(call, conn, api); });
  api.add_db_route("GET", "/v1/audit", Role::kAdmin, list_audit);
}

}  // namespace fleet
