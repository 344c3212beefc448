// The version catalog (issue #12 item 1): Kubernetes versions and node images per provider, their support windows
// and qualified GPU driver ranges (rollout/version_catalog.hpp). Anyone may read it; admins add entries and retire
// them (never delete: a rollout that targeted one must still be explainable), audited in the same transaction.
#include <pqxx/pqxx>

#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "common/utf8.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "fleetd/store/version_store.hpp"
#include "model/cluster.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet {
namespace {

using nlohmann::json;

constexpr int kDefaultLimit = 1000;
constexpr int kMaxLimit = static_cast<int>(rollout::kMaxCatalogEntries);
constexpr std::size_t kMaxRetireReason = 1024;

json version_json(const store::VersionRecord& v) {
  json j = rollout::to_json(v.entry);
  j["createdBy"] = v.created_by;
  j["resourceVersion"] = std::to_string(v.resource_version);
  j["createdAt"] = v.created_at;
  j["updatedAt"] = v.updated_at;
  return j;
}

http::Response version_response(int status, const store::VersionRecord& v) {
  auto r = json_response(status, version_json(v).dump());
  r.headers["etag"] = "\"" + std::to_string(v.resource_version) + "\"";
  return r;
}

std::string entry_name(const std::string& provider, const std::string& version) {
  return provider + "/" + version;
}

Error version_not_found(const std::string& provider, const std::string& version) {
  return make_error(ErrorCode::kNotFound, "version " + entry_name(provider, version) + " is not in the catalog", "",
                    "not-found");
}

Error invalid_query(const std::string& param, const std::string& message) {
  return make_error(ErrorCode::kInvalid, param + ": " + message, param, "invalid-query");
}

Result<store::VersionFilter> version_filter(const ListParams& params) {
  store::VersionFilter f;
  auto given = [&](const char* key) {
    auto it = params.filters.find(key);
    return it == params.filters.end() ? std::string() : it->second;
  };
  if (const std::string kind = given("kind"); kind == "kubernetes") {
    f.kind = rollout::EntryKind::kKubernetes;
  } else if (kind == "nodeImage") {
    f.kind = rollout::EntryKind::kNodeImage;
  } else if (!kind.empty()) {
    return invalid_query("kind", "must be kubernetes or nodeImage");
  }
  f.provider = given("provider");
  if (!f.provider.empty() && !model::validate_provider(f.provider, "provider")) {
    return invalid_query("provider", "must be aks or arc");
  }
  f.os_family = given("osFamily");
  if (const std::string retired = given("includeRetired"); retired == "true") {
    f.include_retired = true;
  } else if (!retired.empty() && retired != "false") {
    return invalid_query("includeRetired", "must be true or false");
  }
  return f;
}

http::Response list_versions(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultLimit, kMaxLimit, false, {"kind", "provider", "osFamily", "includeRetired"}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  auto filter = version_filter(*params);
  if (!filter) return problem(call, filter.error());
  pqxx::nontransaction txn(conn);
  const auto all = store::list_versions(txn, *filter);
  txn.commit();
  // The catalog is small and bounded: the page is cut from the whole ordered list, and the token names the last
  // entry (provider/version) so that an entry added meanwhile does not shift the next page.
  std::size_t start = 0;
  if (params->after) {
    std::size_t i = 0;
    while (i < all.size() && entry_name(all[i].entry.provider, all[i].entry.version) != *params->after) ++i;
    if (i == all.size()) return problem(call, invalid_query("continue", "names no entry of this list"));
    start = i + 1;
  }
  json items = json::array();
  std::size_t i = start;
  for (; i < all.size() && static_cast<int>(items.size()) < params->limit; ++i) items.push_back(version_json(all[i]));
  json out = {{"items", std::move(items)}};
  if (i < all.size())
    out["continue"] = api::encode_continue(entry_name(all[i - 1].entry.provider, all[i - 1].entry.version));
  return json_response(200, out.dump());
}

http::Response get_version(Call& call, pqxx::connection_base& conn) {
  const std::string provider = call.path["provider"];
  const std::string version = call.path["version"];
  pqxx::nontransaction txn(conn);
  auto v = store::get_version(txn, provider, version);
  txn.commit();
  if (!v) return problem(call, version_not_found(provider, version));
  return version_response(200, *v);
}

store::AuditEntry version_entry(const Call& call, std::string action, std::string name, std::string outcome,
                                json detail = json::object()) {
  return audit_entry(call, std::move(action), "version", std::move(name), std::move(outcome), std::move(detail));
}

// "provider/version" from a body that may not parse, for the audit row of a refusal.
std::string body_name(const json& body) {
  auto text = [&](const char* key) {
    return body.is_object() && body.contains(key) && body[key].is_string()
               ? truncate_utf8(body[key].get<std::string>(), 128)
               : std::string();
  };
  const std::string provider = text("provider");
  const std::string version = text("version");
  return provider.empty() && version.empty() ? "" : entry_name(provider, version);
}

http::Response create_version(Call& call, pqxx::connection_base& conn) {
  const std::string action = "version.create";
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse_audited(call, conn, version_entry(call, action, "", ""), body.error());
  // What GET answers may come back as it was: the server's members are ignored, not refused.
  json fields = *body;
  if (fields.is_object()) {
    for (const char* key : {"createdBy", "resourceVersion", "createdAt", "updatedAt"}) fields.erase(key);
  }
  auto entry = rollout::catalog_entry_from_json(fields, "");
  if (!entry) return refuse_audited(call, conn, version_entry(call, action, body_name(*body), ""), entry.error());
  const std::string name = entry_name(entry->provider, entry->version);
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, version_entry(call, action, name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, version_entry(call, action, name, ""))) return std::move(*earlier);
  http::Response resp;
  std::string outcome = "success";
  if (store::count_versions(txn) >= static_cast<std::int64_t>(rollout::kMaxCatalogEntries)) {
    auto err = make_error(ErrorCode::kConflict,
                          "the catalog holds at most " + std::to_string(rollout::kMaxCatalogEntries) + " entries", "",
                          "limit-reached");
    resp = problem(call, err);
    outcome = err.type;
  } else if (auto created = store::insert_version(txn, *entry, call.principal.actor())) {
    resp = version_response(201, *created);
    resp.headers["location"] = "/v1/versions/" + name;
  } else {
    auto err =
        make_error(ErrorCode::kConflict, "version " + name + " is already in the catalog", "version", "already-exists");
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, version_entry(call, action, name, outcome, {{"entry", fields}}));
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

// {"reason"?}: why the entry is withdrawn, kept in the audit row.
Result<std::string> retire_reason(const Call& call) {
  if (call.req.body.empty()) return std::string();
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return body.error();
  if (!body->is_object()) return model::wrong_type("(root)", "an object", *body);
  if (auto s = model::reject_unknown_fields(*body, {"reason"}, ""); !s) return s.error();
  auto reason = model::optional_string(*body, "reason", "");
  if (!reason) return reason.error();
  if (reason->value_or("").size() > kMaxRetireReason) {
    return model::invalid_field("reason", "at most " + std::to_string(kMaxRetireReason) + " bytes");
  }
  return reason->value_or("");
}

http::Response retire_version(Call& call, pqxx::connection_base& conn) {
  const std::string action = "version.retire";
  const std::string provider = call.path["provider"];
  const std::string version = call.path["version"];
  const std::string name = truncate_utf8(entry_name(provider, version), 200);
  auto reason = retire_reason(call);
  if (!reason) return refuse_audited(call, conn, version_entry(call, action, name, ""), reason.error());
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, version_entry(call, action, name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, version_entry(call, action, name, ""))) return std::move(*earlier);
  http::Response resp;
  std::string outcome = "success";
  json detail = {{"reason", *reason}};
  auto current = store::lock_version(txn, provider, version);
  if (!current) {
    auto err = version_not_found(provider, version);
    resp = problem(call, err);
    outcome = err.type;
  } else if (current->entry.retired) {
    detail["alreadyRetired"] = true;  // retiring twice changes nothing
    resp = version_response(200, *current);
  } else {
    resp = version_response(200, *store::retire_version(txn, provider, version));
  }
  store::write_audit(txn, version_entry(call, action, name, outcome, std::move(detail)));
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

}  // namespace

void register_version_routes(ApiService& api) {
  api.add_db_route("GET", "/v1/versions", Role::kViewer, list_versions);
  api.add_db_route("POST", "/v1/versions", Role::kAdmin, create_version);
  api.add_db_route("GET", "/v1/versions/{provider}/{version}", Role::kViewer, get_version);
  api.add_db_route("POST", "/v1/versions/{provider}/{version}:retire", Role::kAdmin, retire_version);
}

}  // namespace fleet
