// Update strategies (issue #12 item 2): reusable stage plans that runs name by strategyRef and freeze at creation,
// so changing or deleting a strategy never changes a run already created.
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "fleetd/store/rollout_store.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet {
namespace {

using nlohmann::json;

json strategy_json(const store::StrategyRecord& s) {
  json j = s.spec;
  j["name"] = s.name;
  j["createdBy"] = s.created_by;
  j["resourceVersion"] = std::to_string(s.resource_version);
  j["createdAt"] = s.created_at;
  j["updatedAt"] = s.updated_at;
  return j;
}

Error strategy_not_found(const std::string& name) {
  return make_error(ErrorCode::kNotFound, "strategy \"" + name + "\" not found", "", "not-found");
}

store::AuditEntry strategy_entry(const Call& call, std::string action, std::string name, std::string outcome,
                                 json detail = json::object()) {
  return audit_entry(call, std::move(action), "strategy", std::move(name), std::move(outcome), std::move(detail));
}

// {"name", "stages", "failurePolicy"?, "maintenanceWindows"?}: the strategy is stored in its canonical form
// (generated gate names written out), so what GET shows is what a run freezes.
struct ParsedStrategy {
  std::string name;
  json spec;
};
Result<ParsedStrategy> parse_strategy(const json& body) {
  if (!body.is_object()) return model::wrong_type("(root)", "an object", body);
  auto name = model::required_string(body, "name", "");
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, "name"); !s) return s.error();
  json rest = body;
  rest.erase("name");
  auto strategy = rollout::strategy_from_json(rest, "");
  if (!strategy) return strategy.error();
  return ParsedStrategy{*name, rollout::to_json(*strategy)};
}

http::Response create_strategy(Call& call, pqxx::connection_base& conn) {
  const std::string action = "strategy.create";
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse_audited(call, conn, strategy_entry(call, action, "", ""), body.error());
  const std::string given = audit_name_of(*body);
  auto parsed = parse_strategy(*body);
  if (!parsed) return refuse_audited(call, conn, strategy_entry(call, action, given, ""), parsed.error());
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, strategy_entry(call, action, parsed->name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, strategy_entry(call, action, parsed->name, "")))
    return std::move(*earlier);
  http::Response resp;
  std::string outcome = "success";
  if (store::count_strategies(txn) >= store::kMaxStrategies) {
    auto err = make_error(ErrorCode::kConflict, "at most " + std::to_string(store::kMaxStrategies) + " strategies", "",
                          "limit-reached");
    resp = problem(call, err);
    outcome = err.type;
  } else if (auto created = store::insert_strategy(txn, parsed->name, parsed->spec, call.principal.actor())) {
    resp = json_response(201, strategy_json(*created).dump());
    resp.headers["location"] = "/v1/strategies/" + created->name;
  } else {
    auto err = make_error(ErrorCode::kConflict, "a strategy named \"" + parsed->name + "\" already exists", "name",
                          "already-exists");
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, strategy_entry(call, action, parsed->name, outcome, {{"strategy", parsed->spec}}));
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response get_strategy(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::nontransaction txn(conn);
  auto s = store::get_strategy(txn, name);
  txn.commit();
  if (!s) return problem(call, strategy_not_found(name));
  return json_response(200, strategy_json(*s).dump());
}

http::Response list_strategies(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{store::kMaxStrategies, store::kMaxStrategies, false, {}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  pqxx::nontransaction txn(conn);
  auto all = store::list_strategies(txn);
  txn.commit();
  json items = json::array();
  for (const auto& s : all) {
    if (static_cast<int>(items.size()) == params->limit) break;
    items.push_back(strategy_json(s));
  }
  return json_response(200, json{{"items", std::move(items)}}.dump());
}

http::Response delete_strategy(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  if (store::delete_strategy(txn, name)) {
    resp.status = 204;
  } else {
    auto err = strategy_not_found(name);
    resp = problem(call, err);
    outcome = err.type;
  }
  store::write_audit(txn, strategy_entry(call, "strategy.delete", name, outcome));
  txn.commit();
  return resp;
}

}  // namespace

void register_strategy_routes(ApiService& api) {
  api.add_db_route("POST", "/v1/strategies", Role::kOperator, create_strategy);
  api.add_db_route("GET", "/v1/strategies", Role::kViewer, list_strategies);
  api.add_db_route("GET", "/v1/strategies/{name}", Role::kViewer, get_strategy);
  api.add_db_route("DELETE", "/v1/strategies/{name}", Role::kOperator, delete_strategy);
}

}  // namespace fleet
