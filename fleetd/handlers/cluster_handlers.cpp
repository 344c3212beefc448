// /v1/clusters: create, get, list, patch, delete. Every mutation commits with its audit row; creates honour
// Idempotency-Key; writes honour If-Match. Deleting a cluster ends its agent's credential: this replica's cache
// forgets it at the commit (the others by notification), so a cluster created again under the name is never
// reachable with it.
#include <charconv>
#include <pqxx/pqxx>

#include "api/cluster_json.hpp"
#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "api/problem.hpp"
#include "common/utf8.hpp"
#include "fleetd/auth/credentials.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/agent_store.hpp"
#include "fleetd/store/cluster_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "model/label_selector.hpp"

namespace fleet {
namespace {

constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;

http::Response cluster_response(int status, const model::Cluster& c) {
  auto r = json_response(status, api::to_json(c).dump());
  r.headers["etag"] = "\"" + std::to_string(c.resource_version) + "\"";
  return r;
}

store::AuditEntry cluster_entry(const Call& call, std::string action, std::string name, std::string outcome) {
  return audit_entry(call, std::move(action), "cluster", std::move(name), std::move(outcome));
}

// A mutation refused before it reached its own transaction (bad body, bad header): still audited.
http::Response refuse(const Call& call, pqxx::connection_base& conn, const std::string& action, const std::string& name,
                      const Error& error) {
  return refuse_audited(call, conn, cluster_entry(call, action, name, ""), error);
}

std::string path_name(const Call& call) {
  auto it = call.path.find("name");
  return it == call.path.end() ? std::string() : it->second;
}

http::Response create_cluster(Call& call, pqxx::connection_base& conn) {
  const std::string action = "cluster.create";
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse(call, conn, action, "", body.error());
  auto create = api::parse_cluster_create(*body);
  if (!create) {
    std::string name = body->is_object() && body->contains("name") && (*body)["name"].is_string()
                           ? truncate_utf8((*body)["name"].get<std::string>(), 253)
                           : "";
    return refuse(call, conn, action, name, create.error());
  }

  auto key = idempotency_key(call);
  if (!key) return refuse(call, conn, action, create->name, key.error());
  const std::optional<store::IdempotencyKeyRef>& idem = *key;

  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, idem, cluster_entry(call, action, create->name, "")))
    return std::move(*earlier);

  http::Response resp;
  std::string outcome = "success";
  if (auto created = store::insert_cluster(txn, *create)) {
    resp = cluster_response(201, *created);
    resp.headers["location"] = "/v1/clusters/" + created->name;
  } else {
    auto err = make_error(ErrorCode::kConflict, "a cluster named \"" + create->name + "\" already exists", "name",
                          "already-exists");
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, cluster_entry(call, action, create->name, outcome));
  if (idem) store::complete_idempotency_key(txn, *idem, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response get_cluster(Call& call, pqxx::connection_base& conn) {
  pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
  auto c = store::get_cluster(txn, path_name(call));
  txn.commit();
  if (!c) {
    return problem(call,
                   make_error(ErrorCode::kNotFound, "cluster \"" + path_name(call) + "\" not found", "", "not-found"));
  }
  return cluster_response(200, *c);
}

http::Response list_clusters(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultListLimit, kMaxListLimit, true, {}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  store::ClusterListQuery q;
  q.limit = params->limit;
  q.after_name = params->after.value_or("");
  if (params->selector && !params->selector->empty()) {
    nlohmann::json sql = model::to_sql_json(*params->selector);
    // Equalities also go to the index as a jsonb containment prefilter.
    nlohmann::json contains = nlohmann::json::object();
    for (const auto& r : sql) {
      const auto& op = r["op"];
      if ((op == "=" || op == "in") && r["values"].size() == 1) contains[r["key"].get<std::string>()] = r["values"][0];
    }
    q.selector_json = sql.dump();
    if (!contains.empty()) q.containment_json = contains.dump();
  }
  pqxx::nontransaction txn(conn);  // one SELECT: no BEGIN/COMMIT round trips
  auto page = store::list_clusters(txn, q);
  txn.commit();
  std::optional<std::string> next;
  if (page.more && !page.items.empty()) next = api::encode_continue(page.items.back().name);
  auto out = api::to_list_json(page.items, next);
  return json_response(200, out.dump());
}

http::Response precondition_failed(const Call& call, std::int64_t expected, std::int64_t actual) {
  return problem(call, make_error(ErrorCode::kPreconditionFailed,
                                  "If-Match " + std::to_string(expected) + " is stale: the cluster is at version " +
                                      std::to_string(actual),
                                  "If-Match", "precondition-failed"));
}

http::Response patch_cluster(Call& call, pqxx::connection_base& conn) {
  const std::string action = "cluster.patch";
  const std::string name = path_name(call);
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse(call, conn, action, name, if_match.error());
  auto body = api::parse_json_body(call.req, {"application/merge-patch+json", "application/json"});
  if (!body) return refuse(call, conn, action, name, body.error());
  auto patch = api::parse_cluster_patch(*body);
  if (!patch) return refuse(call, conn, action, name, patch.error());

  pqxx::work txn(conn);
  auto finish = [&](http::Response resp, const std::string& outcome, nlohmann::json detail) {
    store::write_audit(txn, audit_entry(call, action, "cluster", name, outcome, std::move(detail)));
    txn.commit();
    return resp;
  };
  auto current = store::lock_cluster(txn, name);
  if (!current) {
    return finish(
        problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + name + "\" not found", "", "not-found")),
        "not-found", nlohmann::json::object());
  }
  if (*if_match && **if_match != current->resource_version) {
    return finish(precondition_failed(call, **if_match, current->resource_version), "precondition-failed",
                  nlohmann::json::object());
  }
  auto merged = api::apply_cluster_patch(*current, *patch);
  if (!merged) return finish(problem(call, merged.error()), merged.error().type, nlohmann::json::object());
  auto updated = store::update_cluster_spec(txn, *merged);
  return finish(cluster_response(200, updated), "success", {{"patch", *body}});
}

http::Response delete_cluster(Call& call, pqxx::connection_base& conn, HeartbeatCache& credentials) {
  const std::string action = "cluster.delete";
  const std::string name = path_name(call);
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse(call, conn, action, name, if_match.error());
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  auto current = store::lock_cluster(txn, name);
  std::optional<std::string> agent_credential;
  if (!current) {
    resp = problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + name + "\" not found", "", "not-found"));
    outcome = "not-found";
  } else if (*if_match && **if_match != current->resource_version) {
    resp = precondition_failed(call, **if_match, current->resource_version);
    outcome = "precondition-failed";
  } else {
    agent_credential = store::find_agent_credential(txn, name);
    store::delete_cluster(txn, name);
    resp.status = 204;
  }
  store::write_audit(txn, cluster_entry(call, action, name, outcome));
  txn.commit();
  if (agent_credential) credentials.forget_credential(*agent_credential);
  return resp;
}

}  // namespace

void register_cluster_routes(ApiService& api, HeartbeatCache& credentials) {
  api.add_db_route("POST", "/v1/clusters", Role::kOperator, create_cluster);
  api.add_db_route("GET", "/v1/clusters", Role::kViewer, list_clusters);
  api.add_db_route("GET", "/v1/clusters/{name}", Role::kViewer, get_cluster);
  api.add_db_route("PATCH", "/v1/clusters/{name}", Role::kOperator, patch_cluster);
  api.add_db_route(
      "DELETE", "/v1/clusters/{name}", Role::kOperator,
      [&credentials](Call& call, pqxx::connection_base& conn) { return delete_cluster(call, conn, credentials); });
}

}  // namespace fleet
