// /v1/clusters: create, get, list, patch, delete. Every mutation commits with its audit row; creates honour
// Idempotency-Key; writes honour If-Match.
#include <charconv>
#include <pqxx/pqxx>

#include "api/cluster_json.hpp"
#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "api/problem.hpp"
#include "fleetd/auth/credentials.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/store/audit_store.hpp"
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

store::AuditEntry audit_entry(const Call& call, std::string action, std::string name, std::string outcome) {
  store::AuditEntry e;
  e.actor = call.principal.actor();
  e.action = std::move(action);
  e.object_kind = "cluster";
  e.object_name = std::move(name);
  e.request_id = call.req.request_id;
  e.outcome = std::move(outcome);
  return e;
}

std::string outcome_of(const http::Response& r, const Error& e) {
  if (!e.type.empty()) return e.type;
  return "status-" + std::to_string(r.status);
}

// A mutation refused before it reached its own transaction (bad body, bad header): still audited.
http::Response refuse(const Call& call, pqxx::connection_base& conn, const std::string& action, const std::string& name,
                      const Error& error) {
  auto resp = problem(call, error);
  pqxx::work txn(conn);
  store::write_audit(txn, audit_entry(call, action, name, outcome_of(resp, error)));
  txn.commit();
  return resp;
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
                           ? (*body)["name"].get<std::string>().substr(0, 253)
                           : "";
    return refuse(call, conn, action, name, create.error());
  }

  auto key = idempotency_key(call);
  if (!key) return refuse(call, conn, action, create->name, key.error());
  const std::optional<store::IdempotencyKeyRef>& idem = *key;

  pqxx::work txn(conn);
  if (idem) {
    if (auto earlier = claim_or_replay(call, txn, *idem)) {
      if (earlier->refused) store::write_audit(txn, audit_entry(call, action, create->name, earlier->refused->type));
      txn.commit();
      return std::move(earlier->response);
    }
  }

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
  store::write_audit(txn, audit_entry(call, action, create->name, outcome));
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
  store::ClusterListQuery q;
  q.limit = kDefaultListLimit;
  for (const auto& [key, value] : call.query) {
    if (key == "limit") {
      auto limit = parse_limit(value, kMaxListLimit);
      if (!limit) return problem(call, limit.error());
      q.limit = *limit;
    } else if (key == "continue") {
      auto after = api::decode_continue(value);
      if (!after) return problem(call, after.error());
      q.after_name = *after;
    } else if (key == "labelSelector") {
      auto sel = model::parse_label_selector(value);
      if (!sel) return problem(call, sel.error());
      if (!sel->requirements.empty()) {
        nlohmann::json sql = model::to_sql_json(*sel);
        nlohmann::json contains = nlohmann::json::object();
        for (const auto& r : sql) {
          const auto& op = r["op"];
          if ((op == "=" || op == "in") && r["values"].size() == 1)
            contains[r["key"].get<std::string>()] = r["values"][0];
        }
        q.selector_json = sql.dump();
        if (!contains.empty()) q.containment_json = contains.dump();
      }
    } else {
      return problem(call, make_error(ErrorCode::kInvalid,
                                      "unknown query parameter \"" + key.substr(0, 64) +
                                          "\" (allowed: labelSelector, limit, continue)",
                                      key.substr(0, 64), "invalid-query"));
    }
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
    auto entry = audit_entry(call, action, name, outcome);
    entry.detail = std::move(detail);
    store::write_audit(txn, entry);
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

http::Response delete_cluster(Call& call, pqxx::connection_base& conn) {
  const std::string action = "cluster.delete";
  const std::string name = path_name(call);
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse(call, conn, action, name, if_match.error());
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  auto current = store::lock_cluster(txn, name);
  if (!current) {
    resp = problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + name + "\" not found", "", "not-found"));
    outcome = "not-found";
  } else if (*if_match && **if_match != current->resource_version) {
    resp = precondition_failed(call, **if_match, current->resource_version);
    outcome = "precondition-failed";
  } else {
    store::delete_cluster(txn, name);
    resp.status = 204;
  }
  store::write_audit(txn, audit_entry(call, action, name, outcome));
  txn.commit();
  return resp;
}

}  // namespace

Result<int> parse_limit(const std::string& value, int max) {
  int n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size() || n < 1 || n > max) {
    return make_error(ErrorCode::kInvalid, "limit must be a whole number from 1 to " + std::to_string(max), "limit",
                      "invalid-query");
  }
  return n;
}

Result<std::optional<std::int64_t>> parse_if_match(const Call& call) {
  const std::string* h = call.req.header("if-match");
  if (!h) return std::optional<std::int64_t>{};
  std::string_view v = *h;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v == "*") return std::optional<std::int64_t>{};
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 0) {
    return make_error(ErrorCode::kInvalid, "If-Match must be a resourceVersion such as \"42\"", "If-Match",
                      "malformed-request");
  }
  return std::optional<std::int64_t>{n};
}

void register_cluster_routes(ApiService& api) {
  api.add_db_route("POST", "/v1/clusters", Role::kOperator, create_cluster);
  api.add_db_route("GET", "/v1/clusters", Role::kViewer, list_clusters);
  api.add_db_route("GET", "/v1/clusters/{name}", Role::kViewer, get_cluster);
  api.add_db_route("PATCH", "/v1/clusters/{name}", Role::kOperator, patch_cluster);
  api.add_db_route("DELETE", "/v1/clusters/{name}", Role::kOperator, delete_cluster);
}

}  // namespace fleet
