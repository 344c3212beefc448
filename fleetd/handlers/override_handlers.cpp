// Overrides (issue #15 item 2): create, list, read, replace and delete the per-cluster JSON patches that the
// placement loop (fleetd/loops/placement_loop) applies to workloads' manifests when it binds them. Every write
// commits with its audit row, and moves the generation of the workloads it names so that the loop re-applies them
// where the applied set changes; creates honour Idempotency-Key, replaces and deletes If-Match. The audit detail
// carries the workloads and each operation's op and path, never its value (an override may patch a Secret).
#include <pqxx/pqxx>

#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "fleetd/store/override_store.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"
#include "placement/override_json.hpp"

namespace fleet {
namespace {

using nlohmann::json;

constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;
// placement::kMaxOverrideBytes of compact JSON, indented as people write it.
constexpr std::size_t kMaxOverrideBodyBytes = 256 * 1024;
// What fleetd writes on the object: a body may carry them back (a `get -o json` applied again); they are ignored.
constexpr const char* kServerMembers[] = {"generation", "resourceVersion", "createdAt", "updatedAt"};

json override_json(const store::StoredOverride& o) {
  json j = placement::to_json(o.value);
  j["generation"] = o.generation;
  j["resourceVersion"] = std::to_string(o.resource_version);
  j["createdAt"] = o.created_at;
  j["updatedAt"] = o.updated_at;
  return j;
}

http::Response override_response(int status, const store::StoredOverride& o, const std::string& state = "") {
  json body = override_json(o);
  if (!state.empty()) body["state"] = state;
  auto r = json_response(status, body.dump());
  r.headers["etag"] = "\"" + std::to_string(o.resource_version) + "\"";
  return r;
}

Error override_not_found(const std::string& name) {
  return make_error(ErrorCode::kNotFound, "override \"" + name + "\" not found", "", "not-found");
}

store::AuditEntry override_entry(const Call& call, std::string action, std::string name, std::string outcome,
                                 json detail = json::object()) {
  return audit_entry(call, std::move(action), "override", std::move(name), std::move(outcome), std::move(detail));
}

// {"workloads", "rules": [{"clusterSelector", "jsonPatches": [{"op", "path"}]}]} for the audit row.
json audit_detail(const placement::Override& o) {
  json rules = json::array();
  for (const placement::OverrideRule& rule : o.rules) {
    json ops = json::array();
    for (const placement::PatchOp& p : rule.patches) ops.push_back({{"op", to_string(p.op)}, {"path", p.path}});
    rules.push_back({{"clusterSelector", model::to_string(rule.cluster_selector)}, {"jsonPatches", std::move(ops)}});
  }
  return {{"workloads", o.workloads}, {"rules", std::move(rules)}};
}

Result<placement::Override> parse_override(const json& body) {
  if (!body.is_object()) return model::wrong_type("(root)", "an object", body);
  json spec = body;
  for (const char* key : kServerMembers) spec.erase(key);
  return placement::override_from_json(spec);
}

Result<json> read_body(const Call& call) {
  return api::parse_json_body(call.req, {"application/json"}, kMaxOverrideBodyBytes);
}

http::Response create_override(Call& call, pqxx::connection_base& conn) {
  const std::string action = "override.create";
  auto body = read_body(call);
  if (!body) return refuse_audited(call, conn, override_entry(call, action, "", ""), body.error());
  auto o = parse_override(*body);
  if (!o) return refuse_audited(call, conn, override_entry(call, action, audit_name_of(*body), ""), o.error());
  const std::string& name = o->name;
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, override_entry(call, action, name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, override_entry(call, action, name, "")))
    return std::move(*earlier);
  http::Response resp;
  std::string outcome = "success";
  if (auto created = store::insert_override(txn, *o)) {
    resp = override_response(201, *created);
    resp.headers["location"] = "/v1/overrides/" + name;
  } else {
    auto err =
        make_error(ErrorCode::kConflict, "an override named \"" + name + "\" already exists", "name", "already-exists");
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, override_entry(call, action, name, outcome, audit_detail(*o)));
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response get_override(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
  auto o = store::get_override(txn, name);
  txn.commit();
  if (!o) return problem(call, override_not_found(name));
  return override_response(200, *o);
}

http::Response list_overrides(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultListLimit, kMaxListLimit, false, {"workload"}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  const auto workload = params->filters.find("workload");
  pqxx::nontransaction txn(conn);
  auto page = store::list_overrides(txn, params->after.value_or(""), params->limit,
                                    workload == params->filters.end() ? "" : workload->second);
  txn.commit();
  json items = json::array();
  for (const auto& o : page.items) items.push_back(override_json(o));
  json out = {{"items", std::move(items)}};
  if (page.more && !page.items.empty()) out["continue"] = api::encode_continue(page.items.back().value.name);
  return json_response(200, out.dump());
}

// The locked override a replace or delete acts on, or why it may not: there is none, or If-Match is stale.
Result<store::StoredOverride> lock_for_write(pqxx::transaction_base& txn, const std::string& name,
                                             std::optional<std::int64_t> if_match) {
  auto current = store::lock_override(txn, name);
  if (!current) return override_not_found(name);
  if (if_match && *if_match != current->resource_version) {
    return make_error(ErrorCode::kPreconditionFailed,
                      "If-Match " + std::to_string(*if_match) + " is stale: the override is at version " +
                          std::to_string(current->resource_version),
                      "If-Match", "precondition-failed");
  }
  return std::move(*current);
}

http::Response replace_override(Call& call, pqxx::connection_base& conn) {
  const std::string action = "override.replace";
  const std::string name = call.path["name"];
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse_audited(call, conn, override_entry(call, action, name, ""), if_match.error());
  auto body = read_body(call);
  if (!body) return refuse_audited(call, conn, override_entry(call, action, name, ""), body.error());
  auto o = parse_override(*body);
  if (o && o->name != name) o = model::invalid_field("name", "must be the name in the path, \"" + name + "\"");
  if (!o) return refuse_audited(call, conn, override_entry(call, action, name, ""), o.error());
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  json detail = json::object();
  auto current = lock_for_write(txn, name, *if_match);
  if (!current) {
    resp = problem(call, current.error());
    outcome = current.error().type;
  } else {
    auto updated = store::replace_override(txn, *current, *o);
    resp = override_response(200, updated);
    detail = audit_detail(*o);
    detail["changed"] = updated.generation != current->generation;
  }
  store::write_audit(txn, override_entry(call, action, name, outcome, std::move(detail)));
  txn.commit();
  return resp;
}

// 200 and the object as it was, state "Deleted". The workloads it named are decided again without it.
http::Response delete_override(Call& call, pqxx::connection_base& conn) {
  const std::string action = "override.delete";
  const std::string name = call.path["name"];
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse_audited(call, conn, override_entry(call, action, name, ""), if_match.error());
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  auto current = lock_for_write(txn, name, *if_match);
  if (!current) {
    resp = problem(call, current.error());
    outcome = current.error().type;
  } else {
    store::delete_override(txn, *current);
    resp = override_response(200, *current, "Deleted");
  }
  store::write_audit(txn, override_entry(call, action, name, outcome));
  txn.commit();
  return resp;
}

}  // namespace

void register_override_routes(ApiService& api) {
  api.add_db_route("POST", "/v1/overrides", Role::kOperator, create_override);
  api.add_db_route("GET", "/v1/overrides", Role::kViewer, list_overrides);
  api.add_db_route("GET", "/v1/overrides/{name}", Role::kViewer, get_override);
  api.add_db_route("PUT", "/v1/overrides/{name}", Role::kOperator, replace_override);
  api.add_db_route("DELETE", "/v1/overrides/{name}", Role::kOperator, delete_override);
}

}  // namespace fleet
