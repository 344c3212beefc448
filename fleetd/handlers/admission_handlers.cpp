// GPU node admission (issue #11): admission policies (/v1/admission-policies), the policy an agent reads for its
// cluster, and operators' actions on a node: probe it again now, admit it, quarantine it. Actions are commands to
// the cluster's agent (run_probe, set_node_admission), queued and audited in one transaction, with the reason.
#include <pqxx/pqxx>

#include "admission/admission_policy_json.hpp"
#include "api/json_body.hpp"
#include "fleetd/handlers/agent_auth.hpp"
#include "fleetd/handlers/command_json.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/admission_policy_store.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/command_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "fleetd/store/inventory_store.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"
#include "protocol/command_payloads.hpp"

namespace fleet {
namespace {

using nlohmann::json;

// ---- policies ----

json policy_json(const store::AdmissionPolicyRecord& p) {
  json j = admission::to_json(p.settings);
  j["name"] = p.name;
  j["clusterSelector"] = model::to_string(p.cluster_selector);
  j["priority"] = p.priority;
  j["resourceVersion"] = std::to_string(p.resource_version);  // a decimal string, as on every object
  j["createdAt"] = p.created_at;
  j["updatedAt"] = p.updated_at;
  return j;
}

http::Response policy_response(int status, const store::AdmissionPolicyRecord& p) {
  auto r = json_response(status, policy_json(p).dump());
  r.headers["etag"] = "\"" + std::to_string(p.resource_version) + "\"";
  return r;
}

Error policy_not_found(const std::string& name) {
  return make_error(ErrorCode::kNotFound, "admission policy \"" + name + "\" not found", "", "not-found");
}

// {"name", "clusterSelector"?, "priority"?, and the settings of admission/admission_policy_json.hpp}. For PUT the
// name comes from the path (a body's name must agree).
Result<store::AdmissionPolicyRecord> parse_policy(const json& body, const std::string& path_name) {
  if (!body.is_object()) return model::wrong_type("(root)", "an object", body);
  store::AdmissionPolicyRecord p;
  json settings = body;
  for (const char* key : {"name", "clusterSelector", "priority", "resourceVersion", "createdAt", "updatedAt"}) {
    settings.erase(key);
  }
  auto name = model::optional_string(body, "name", "");
  if (!name) return name.error();
  if (!path_name.empty() && *name && **name != path_name) {
    return model::invalid_field("name", "must be the name in the path, \"" + path_name + "\"");
  }
  p.name = path_name.empty() ? name->value_or("") : path_name;
  if (p.name.empty()) return model::missing_field("name");
  if (auto s = model::validate_dns1123_label(p.name, "name"); !s) return s.error();
  auto selector = model::optional_string(body, "clusterSelector", "");
  if (!selector) return selector.error();
  if (*selector) {
    auto parsed = model::parse_label_selector(**selector);
    if (!parsed) return make_error(ErrorCode::kInvalid, parsed.error().message, "clusterSelector", "invalid-field");
    p.cluster_selector = std::move(parsed).value();
  }
  auto priority = model::optional_integer(body, "priority", "", -1000, 1000);
  if (!priority) return priority.error();
  p.priority = static_cast<int>(priority->value_or(0));
  auto parsed = admission::admission_policy_from_json(settings, "");
  if (!parsed) return parsed.error();
  p.settings = std::move(parsed).value();
  return p;
}

store::AuditEntry policy_entry(const Call& call, std::string action, std::string name, std::string outcome,
                               json detail = json::object()) {
  return audit_entry(call, std::move(action), "admission-policy", std::move(name), std::move(outcome),
                     std::move(detail));
}

http::Response create_policy(Call& call, pqxx::connection_base& conn) {
  const std::string action = "admission-policy.create";
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse_audited(call, conn, policy_entry(call, action, "", ""), body.error());
  auto policy = parse_policy(*body, "");
  if (!policy) return refuse_audited(call, conn, policy_entry(call, action, audit_name_of(*body), ""), policy.error());
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, policy_entry(call, action, policy->name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, policy_entry(call, action, policy->name, "")))
    return std::move(*earlier);
  http::Response resp;
  std::string outcome = "success";
  if (store::count_admission_policies(txn) >= store::kMaxAdmissionPolicies) {
    auto err = make_error(ErrorCode::kConflict,
                          "at most " + std::to_string(store::kMaxAdmissionPolicies) + " admission policies", "",
                          "limit-reached");
    resp = problem(call, err);
    outcome = err.type;
  } else if (auto created = store::insert_admission_policy(txn, *policy)) {
    resp = policy_response(201, *created);
    resp.headers["location"] = "/v1/admission-policies/" + created->name;
  } else {
    auto err = make_error(ErrorCode::kConflict, "an admission policy named \"" + policy->name + "\" already exists",
                          "name", "already-exists");
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, policy_entry(call, action, policy->name, outcome, {{"policy", *body}}));
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response replace_policy(Call& call, pqxx::connection_base& conn) {
  const std::string action = "admission-policy.replace";
  const std::string name = call.path["name"];
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse_audited(call, conn, policy_entry(call, action, name, ""), if_match.error());
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse_audited(call, conn, policy_entry(call, action, name, ""), body.error());
  auto policy = parse_policy(*body, name);
  if (!policy) return refuse_audited(call, conn, policy_entry(call, action, name, ""), policy.error());
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  auto current = store::lock_admission_policy(txn, name);
  if (!current) {
    auto err = policy_not_found(name);
    resp = problem(call, err);
    outcome = err.type;
  } else if (*if_match && **if_match != current->resource_version) {
    auto err = make_error(ErrorCode::kPreconditionFailed,
                          "If-Match " + std::to_string(**if_match) + " is stale: the policy is at version " +
                              std::to_string(current->resource_version),
                          "If-Match", "precondition-failed");
    resp = problem(call, err);
    outcome = err.type;
  } else {
    resp = policy_response(200, store::replace_admission_policy(txn, *policy));
  }
  store::write_audit(txn, policy_entry(call, action, name, outcome, {{"policy", *body}}));
  txn.commit();
  return resp;
}

http::Response get_policy(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::nontransaction txn(conn);
  auto p = store::get_admission_policy(txn, name);
  txn.commit();
  if (!p) return problem(call, policy_not_found(name));
  return policy_response(200, *p);
}

http::Response list_policies(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{store::kMaxAdmissionPolicies, store::kMaxAdmissionPolicies, false, {}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  pqxx::nontransaction txn(conn);
  auto all = store::list_admission_policies(txn);
  txn.commit();
  json items = json::array();
  for (const auto& p : all) {
    if (static_cast<int>(items.size()) == params->limit) break;
    items.push_back(policy_json(p));
  }
  return json_response(200, json{{"items", std::move(items)}}.dump());
}

http::Response delete_policy(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  if (store::delete_admission_policy(txn, name)) {
    resp.status = 204;
  } else {
    auto err = policy_not_found(name);
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, policy_entry(call, "admission-policy.delete", name, outcome));
  txn.commit();
  return resp;
}

// The agent's read: its cluster's policy, or the defaults ("policy": null).
http::Response agent_policy(Call& call, pqxx::connection_base& conn) {
  const std::string cluster = call.path["cluster"];
  pqxx::nontransaction txn(conn);
  if (auto refused = refuse_agent(call, txn, cluster)) return std::move(*refused);
  auto p = store::admission_policy_for_cluster(txn, cluster);
  txn.commit();
  json out = admission::to_json(p ? p->settings : admission::AdmissionPolicy{});
  out["policy"] = p ? json(p->name) : json(nullptr);
  return json_response(200, out.dump());
}

// ---- operators' actions on a node ----

enum class NodeAction { kProbe, kAdmit, kQuarantine };

std::string action_name(NodeAction a) {
  switch (a) {
    case NodeAction::kProbe:
      return "node.probe";
    case NodeAction::kAdmit:
      return "node.admit";
    case NodeAction::kQuarantine:
      return "node.quarantine";
  }
  return "node.unknown";
}

// {"reason"}: required to admit or quarantine (an operator overriding the probe says why), optional to probe.
Result<std::string> action_reason(const Call& call, NodeAction action) {
  json body = json::object();
  if (!call.req.body.empty()) {
    auto parsed = api::parse_json_body(call.req, {"application/json"});
    if (!parsed) return parsed.error();
    body = std::move(parsed).value();
  }
  if (!body.is_object()) return model::wrong_type("(root)", "an object", body);
  if (auto s = model::reject_unknown_fields(body, {"reason"}, ""); !s) return s.error();
  auto reason = model::optional_string(body, "reason", "");
  if (!reason) return reason.error();
  const std::string text = reason->value_or("");
  if (text.size() > protocol::kMaxAdmissionReasonLength) {
    return model::invalid_field("reason", "at most " + std::to_string(protocol::kMaxAdmissionReasonLength) + " bytes");
  }
  if (text.empty() && action != NodeAction::kProbe) return model::missing_field("reason");
  return text;
}

http::Response node_action(Call& call, pqxx::connection_base& conn, NodeAction action) {
  const std::string cluster = call.path["name"];
  const std::string node = call.path["node"];
  const std::string object = cluster + "/" + node;
  auto entry = [&](std::string outcome, json detail = json::object()) {
    return audit_entry(call, action_name(action), "node", object, std::move(outcome), std::move(detail));
  };
  auto reason = action_reason(call, action);
  if (!reason) return refuse_audited(call, conn, entry(""), reason.error());
  // A retried action with the same key answers as the first did instead of queueing a second command.
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, entry(""), key.error());

  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, entry(""))) return std::move(*earlier);
  auto finish = [&](http::Response resp, const std::string& outcome, json detail = json::object()) {
    detail["reason"] = *reason;
    store::write_audit(txn, entry(outcome, std::move(detail)));
    if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
    txn.commit();
    return resp;
  };
  auto fail = [&](const Error& err) { return finish(problem(call, err), err.type); };
  auto gpus = store::node_gpu_count(txn, cluster, node);
  if (!gpus) {
    return fail(make_error(ErrorCode::kNotFound,
                           "cluster \"" + cluster + "\" has no node \"" + node + "\" (as its agent last reported)", "",
                           "not-found"));
  }
  if (*gpus == 0) {
    return fail(make_error(ErrorCode::kInvalid, "node \"" + node + "\" has no GPUs: it is admitted without a probe",
                           "node", "invalid-field"));
  }
  std::string kind = "run_probe";
  json payload = {{"nodes", {node}}};
  if (action != NodeAction::kProbe) {
    kind = "set_node_admission";
    payload = {
        {"node", node}, {"admission", action == NodeAction::kAdmit ? "admitted" : "quarantined"}, {"reason", *reason}};
  }
  auto queued = store::enqueue_command(txn, cluster, "", kind, payload, call.principal.actor());
  if (queued.outcome != store::EnqueueResult::Outcome::kCreated || !queued.command) {
    return fail(make_error(ErrorCode::kInternal, "the command could not be queued", "", "internal"));
  }
  auto resp = command_response(202, *queued.command);
  resp.headers["location"] = "/v1/commands/" + queued.command->id;
  return finish(std::move(resp), "success", {{"command", queued.command->id}});
}

}  // namespace

void register_admission_routes(ApiService& api) {
  api.add_db_route("POST", "/v1/admission-policies", Role::kOperator, create_policy);
  api.add_db_route("GET", "/v1/admission-policies", Role::kViewer, list_policies);
  api.add_db_route("GET", "/v1/admission-policies/{name}", Role::kViewer, get_policy);
  api.add_db_route("PUT", "/v1/admission-policies/{name}", Role::kOperator, replace_policy);
  api.add_db_route("DELETE", "/v1/admission-policies/{name}", Role::kOperator, delete_policy);
  api.add_db_route("GET", "/v1/agents/{cluster}/admission-policy", std::nullopt, agent_policy);
  // Every agent reads it every minute: debug unless refused, so a console is not a wall of these.
  api.set_routine("/v1/agents/{cluster}/admission-policy");
  api.add_db_route("POST", "/v1/clusters/{name}/nodes/{node}:probe", Role::kOperator,
                   [](Call& call, pqxx::connection_base& conn) { return node_action(call, conn, NodeAction::kProbe); });
  api.add_db_route("POST", "/v1/clusters/{name}/nodes/{node}:admit", Role::kOperator,
                   [](Call& call, pqxx::connection_base& conn) { return node_action(call, conn, NodeAction::kAdmit); });
  api.add_db_route(
      "POST", "/v1/clusters/{name}/nodes/{node}:quarantine", Role::kOperator,
      [](Call& call, pqxx::connection_base& conn) { return node_action(call, conn, NodeAction::kQuarantine); });
}

}  // namespace fleet
