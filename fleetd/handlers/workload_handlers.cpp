// Workloads (issue #14 item 1, DESIGN §7): create, list, read, replace and delete what the placement loop
// (fleetd/loops/placement_loop) places. Every write commits with its audit row; creates honour Idempotency-Key,
// replaces and deletes If-Match. The audit detail carries the spec and the manifests' kinds and names, never the
// manifests themselves (a Secret's data must not reach the audit log).
#include <pqxx/pqxx>

#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "fleetd/store/workload_store.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"
#include "placement/workload_json.hpp"

namespace fleet {
namespace {

using nlohmann::json;

constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;
// The manifests (placement::kMaxManifestBytes) and a policy naming a thousand clusters, with weights, fit.
constexpr std::size_t kMaxWorkloadBodyBytes = 256 * 1024;
// What fleetd writes on the object: a body may carry them back (a `get -o json` applied again); they are ignored.
constexpr const char* kServerMembers[] = {"generation",          "resourceVersion", "state",
                                          "deletionRequestedAt", "createdAt",       "updatedAt"};

json workload_json(const store::StoredWorkload& w) {
  json j = placement::to_json(w.document);
  j["generation"] = w.generation;
  j["resourceVersion"] = std::to_string(w.resource_version);
  j["state"] = w.state;
  if (w.deletion_requested_at) j["deletionRequestedAt"] = *w.deletion_requested_at;
  j["createdAt"] = w.created_at;
  j["updatedAt"] = w.updated_at;
  return j;
}

http::Response workload_response(int status, const store::StoredWorkload& w, const std::string& state = "") {
  json body = workload_json(w);
  if (!state.empty()) body["state"] = state;
  auto r = json_response(status, body.dump());
  r.headers["etag"] = "\"" + std::to_string(w.resource_version) + "\"";
  return r;
}

Error workload_not_found(const std::string& name) {
  return make_error(ErrorCode::kNotFound, "workload \"" + name + "\" not found", "", "not-found");
}

store::AuditEntry workload_entry(const Call& call, std::string action, std::string name, std::string outcome,
                                 json detail = json::object()) {
  return audit_entry(call, std::move(action), "workload", std::move(name), std::move(outcome), std::move(detail));
}

// {"spec", "manifests": [{"kind", "name"}]} for the audit row.
json audit_detail(const placement::WorkloadDocument& doc) {
  json manifests = json::array();
  for (const auto& m : doc.manifests) {
    manifests.push_back(
        {{"kind", m.value("kind", "")}, {"name", m.value("metadata", json::object()).value("name", "")}});
  }
  return {{"spec", placement::to_json(doc.workload)}, {"manifests", std::move(manifests)}};
}

Result<placement::WorkloadDocument> parse_workload(const json& body) {
  if (!body.is_object()) return model::wrong_type("(root)", "an object", body);
  json spec = body;
  for (const char* key : kServerMembers) spec.erase(key);
  return placement::workload_from_json(spec);
}

Result<json> read_body(const Call& call) {
  return api::parse_json_body(call.req, {"application/json"}, kMaxWorkloadBodyBytes);
}

http::Response create_workload(Call& call, pqxx::connection_base& conn) {
  const std::string action = "workload.create";
  auto body = read_body(call);
  if (!body) return refuse_audited(call, conn, workload_entry(call, action, "", ""), body.error());
  auto doc = parse_workload(*body);
  if (!doc) return refuse_audited(call, conn, workload_entry(call, action, audit_name_of(*body), ""), doc.error());
  const std::string& name = doc->workload.name;
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, workload_entry(call, action, name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, workload_entry(call, action, name, "")))
    return std::move(*earlier);
  http::Response resp;
  std::string outcome = "success";
  if (auto created = store::insert_workload(txn, *doc)) {
    resp = workload_response(201, *created);
    resp.headers["location"] = "/v1/workloads/" + name;
  } else {
    auto err =
        make_error(ErrorCode::kConflict, "a workload named \"" + name + "\" already exists", "name", "already-exists");
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, workload_entry(call, action, name, outcome, audit_detail(*doc)));
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response get_workload(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
  auto w = store::get_workload(txn, name);
  txn.commit();
  if (!w) return problem(call, workload_not_found(name));
  return workload_response(200, *w);
}

http::Response list_workloads(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultListLimit, kMaxListLimit, false, {}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  pqxx::nontransaction txn(conn);
  auto page = store::list_workloads(txn, params->after.value_or(""), params->limit);
  txn.commit();
  json items = json::array();
  for (const auto& w : page.items) items.push_back(workload_json(w));
  json out = {{"items", std::move(items)}};
  if (page.more && !page.items.empty())
    out["continue"] = api::encode_continue(page.items.back().document.workload.name);
  return json_response(200, out.dump());
}

// The locked workload a replace or delete acts on, or why it may not: there is none, or If-Match is stale.
Result<store::StoredWorkload> lock_for_write(pqxx::transaction_base& txn, const std::string& name,
                                             std::optional<std::int64_t> if_match) {
  auto current = store::lock_workload(txn, name);
  if (!current) return workload_not_found(name);
  if (if_match && *if_match != current->resource_version) {
    return make_error(ErrorCode::kPreconditionFailed,
                      "If-Match " + std::to_string(*if_match) + " is stale: the workload is at version " +
                          std::to_string(current->resource_version),
                      "If-Match", "precondition-failed");
  }
  return std::move(*current);
}

http::Response replace_workload(Call& call, pqxx::connection_base& conn) {
  const std::string action = "workload.replace";
  const std::string name = call.path["name"];
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse_audited(call, conn, workload_entry(call, action, name, ""), if_match.error());
  auto body = read_body(call);
  if (!body) return refuse_audited(call, conn, workload_entry(call, action, name, ""), body.error());
  auto doc = parse_workload(*body);
  if (doc && doc->workload.name != name) {
    doc = model::invalid_field("name", "must be the name in the path, \"" + name + "\"");
  }
  if (!doc) return refuse_audited(call, conn, workload_entry(call, action, name, ""), doc.error());
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  json detail = json::object();
  auto current = lock_for_write(txn, name, *if_match);
  if (!current) {
    resp = problem(call, current.error());
    outcome = current.error().type;
  } else if (current->state == "Deleting") {
    auto err = make_error(ErrorCode::kConflict, "workload \"" + name + "\" is being deleted", "", "invalid-state");
    resp = problem(call, err);
    outcome = err.type;
  } else {
    auto updated = store::replace_workload(txn, *current, *doc);
    resp = workload_response(200, updated);
    detail = audit_detail(*doc);
    detail["changed"] = updated.generation != current->generation;
  }
  store::write_audit(txn, workload_entry(call, action, name, outcome, std::move(detail)));
  txn.commit();
  return resp;
}

// 200 and the object as it was, state "Deleted", when nothing runs it; else 202 and the object, now Deleting: the
// placement loop removes it from its clusters and then deletes it.
http::Response delete_workload(Call& call, pqxx::connection_base& conn) {
  const std::string action = "workload.delete";
  const std::string name = call.path["name"];
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse_audited(call, conn, workload_entry(call, action, name, ""), if_match.error());
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  json detail = json::object();
  auto current = lock_for_write(txn, name, *if_match);
  if (!current) {
    resp = problem(call, current.error());
    outcome = current.error().type;
  } else {
    auto deletion = store::request_workload_deletion(txn, *current);
    if (deletion.outcome == store::WorkloadDeletionOutcome::kDeleted) {
      resp = workload_response(200, deletion.record, "Deleted");
      detail["result"] = "deleted";
    } else {
      resp = workload_response(202, deletion.record);
      detail["result"] = "deleting";
    }
  }
  store::write_audit(txn, workload_entry(call, action, name, outcome, std::move(detail)));
  txn.commit();
  return resp;
}

}  // namespace

void register_workload_routes(ApiService& api) {
  api.add_db_route("POST", "/v1/workloads", Role::kOperator, create_workload);
  api.add_db_route("GET", "/v1/workloads", Role::kViewer, list_workloads);
  api.add_db_route("GET", "/v1/workloads/{name}", Role::kViewer, get_workload);
  api.add_db_route("PUT", "/v1/workloads/{name}", Role::kOperator, replace_workload);
  api.add_db_route("DELETE", "/v1/workloads/{name}", Role::kOperator, delete_workload);
}

}  // namespace fleet
