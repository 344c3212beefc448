// Update runs (issue #12 items 3-4, DESIGN §6): plans (dry runs), creation (which freezes the strategy, the member
// set and each member's targets), reads, events, and operators' actions. An action is the run machine's
// (rollout/run_machine.hpp apply_action) applied to the locked run and written with its events and an audit row in
// one transaction; the NOTIFY that commits with it wakes the executor, which carries the run on from there.
#include <charconv>
#include <pqxx/pqxx>

#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "common/time_format.hpp"
#include "fleetd/handlers/rollout_view.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "fleetd/store/rollout_creation.hpp"
#include "fleetd/store/rollout_store.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"
#include "rollout/plan.hpp"
#include "rollout/run_machine.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxReasonBytes = 1024;

Error rollout_not_found(const std::string& name) {
  return make_error(ErrorCode::kNotFound, "rollout \"" + name + "\" not found", "", "not-found");
}

store::AuditEntry rollout_entry(const Call& call, std::string action, std::string name, std::string outcome,
                                json detail = json::object()) {
  return audit_entry(call, std::move(action), "rollout", std::move(name), std::move(outcome), std::move(detail));
}

// The run spec of a body, with a strategyRef resolved to the stored strategy (frozen from here on).
Result<rollout::RunSpec> resolve_spec(pqxx::transaction_base& txn, const json& body) {
  if (!body.is_object()) return model::wrong_type("(root)", "an object", body);
  auto spec = rollout::run_spec_from_json(body);
  if (!spec) return spec.error();
  if (auto resolved = store::resolve_strategy_ref(txn, *spec); !resolved) return resolved.error();
  return spec;
}

http::Response plan_new(Call& call, pqxx::connection_base& conn, const Clock& clock) {
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return problem(call, body.error());
  pqxx::read_transaction txn(conn);
  auto spec = resolve_spec(txn, *body);
  if (!spec) return problem(call, spec.error());
  auto plan = store::plan_run(txn, *spec, clock.wall_now());
  if (!plan) return problem(call, plan.error());
  return json_response(200, rollout::to_json(*plan, *spec).dump());
}

http::Response plan_existing(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::read_transaction txn(conn);
  auto run = store::load_rollout(txn, name, false, store::PlanRead::kWhole);
  if (!run) return problem(call, rollout_not_found(name));
  return json_response(200, run->meta.plan.dump());
}

http::Response create_rollout(Call& call, pqxx::connection_base& conn, const Clock& clock) {
  const std::string action = "rollout.create";
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse_audited(call, conn, rollout_entry(call, action, "", ""), body.error());
  const std::string given = audit_name_of(*body);
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, rollout_entry(call, action, given, ""), key.error());

  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, rollout_entry(call, action, given, "")))
    return std::move(*earlier);
  auto finish = [&](http::Response resp, const std::string& outcome, json detail = json::object()) {
    store::write_audit(txn, rollout_entry(call, action, given, outcome, std::move(detail)));
    if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
    txn.commit();
    return resp;
  };
  auto fail = [&](const Error& err) { return finish(problem(call, err), err.type); };
  auto spec = resolve_spec(txn, *body);
  if (!spec) return fail(spec.error());
  auto created = store::create_run(txn, *spec, call.principal.actor(), clock.wall_now());
  if (!created) return fail(created.error());
  auto resp = json_response(201, rollout_view(created->run).dump());
  resp.headers["location"] = "/v1/rollouts/" + spec->name;
  return finish(std::move(resp), "success",
                {{"members", created->to_upgrade}, {"target", rollout::to_json(spec->target)}});
}

http::Response get_rollout(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::read_transaction txn(conn);
  auto run = store::load_rollout(txn, name, false);
  if (!run) return problem(call, rollout_not_found(name));
  auto resp = json_response(200, rollout_view(*run).dump());
  resp.headers["etag"] = "\"" + std::to_string(run->meta.resource_version) + "\"";
  return resp;
}

http::Response list_rollouts(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{50, 200, false, {}};
  auto params = parse_seq_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  pqxx::read_transaction txn(conn);
  auto page = store::list_rollouts(txn, params->seq, params->limit);
  json items = json::array();
  for (const auto& r : page.items) items.push_back(rollout_view(r));
  json out = {{"items", std::move(items)}};
  if (page.next_before_seq) out["continue"] = api::encode_continue(std::to_string(*page.next_before_seq));
  return json_response(200, out.dump());
}

http::Response list_events(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  auto params = parse_seq_list_params(call, kEventListSpec);
  if (!params) return problem(call, params.error());
  pqxx::read_transaction txn(conn);
  if (!store::rollout_exists(txn, name)) {
    return problem(call, rollout_not_found(name));
  }
  const auto rows = store::list_rollout_events(txn, name, params->seq, params->limit + 1);
  const json out = seq_page(rows, params->limit, [](const store::EventRow& e) {
    return json{{"seq", e.seq},
                {"at", format_rfc3339(e.event.at)},
                {"scope", e.event.scope},
                {"name", e.event.name},
                {"from", e.event.from},
                {"to", e.event.to},
                {"message", e.event.message}};
  });
  return json_response(200, out.dump());
}

http::Response delete_rollout(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::work txn(conn);
  auto run = store::load_rollout(txn, name, true);
  http::Response resp;
  std::string outcome = "success";
  if (!run) {
    auto err = rollout_not_found(name);
    resp = problem(call, err);
    outcome = err.type;
  } else if (!rollout::is_final(run->state.phase) ||
             rollout::count_members(run->state).upgrading + rollout::count_members(run->state).probing > 0) {
    auto err = make_error(ErrorCode::kConflict,
                          "rollout \"" + name + "\" is " + std::string(rollout::to_string(run->state.phase)) +
                              " or has members in flight; abort it and wait for them first",
                          "", "invalid-state");
    resp = problem(call, err);
    outcome = err.type;
  } else {
    store::delete_rollout(txn, name);
    resp.status = 204;
  }
  store::write_audit(txn, rollout_entry(call, "rollout.delete", name, outcome));
  txn.commit();
  return resp;
}

// The body of an action: {"reason"?} for all; :skip takes exactly one target, :approve a gate.
Result<rollout::Action> parse_action(const Call& call, rollout::ActionKind kind) {
  json body = json::object();
  if (!call.req.body.empty()) {
    auto parsed = api::parse_json_body(call.req, {"application/json"});
    if (!parsed) return parsed.error();
    body = std::move(parsed).value();
  }
  if (!body.is_object()) return model::wrong_type("(root)", "an object", body);
  rollout::Action a;
  a.kind = kind;
  a.actor = call.principal.actor();
  Status known = Ok{};
  if (kind == rollout::ActionKind::kSkip) {
    known = model::reject_unknown_fields(body, {"member", "group", "stage", "gate", "wait", "reason"}, "");
  } else if (kind == rollout::ActionKind::kApprove) {
    known = model::reject_unknown_fields(body, {"gate", "reason"}, "");
  } else if (kind == rollout::ActionKind::kRollback) {
    known = model::reject_unknown_fields(body, {"cluster", "reason"}, "");
  } else {
    known = model::reject_unknown_fields(body, {"reason"}, "");
  }
  if (!known) return known.error();
  auto reason = model::optional_string(body, "reason", "");
  if (!reason) return reason.error();
  a.reason = reason->value_or("");
  if (a.reason.size() > kMaxReasonBytes) {
    return model::invalid_field("reason", "at most " + std::to_string(kMaxReasonBytes) + " bytes");
  }
  if (kind == rollout::ActionKind::kApprove) {
    auto gate = model::required_string(body, "gate", "");
    if (!gate) return gate.error();
    a.target = *gate;
  }
  if (kind == rollout::ActionKind::kRollback) {  // absent: every member whose blue-green pool is in its soak
    auto cluster = model::optional_string(body, "cluster", "");
    if (!cluster) return cluster.error();
    a.target = cluster->value_or("");
  }
  if (kind == rollout::ActionKind::kSkip) {
    const std::pair<const char*, rollout::SkipTarget> targets[] = {{"member", rollout::SkipTarget::kMember},
                                                                   {"group", rollout::SkipTarget::kGroup},
                                                                   {"stage", rollout::SkipTarget::kStage},
                                                                   {"gate", rollout::SkipTarget::kGate},
                                                                   {"wait", rollout::SkipTarget::kWait}};
    int given = 0;
    for (const auto& [key, target] : targets) {
      auto v = model::optional_string(body, key, "");
      if (!v) return v.error();
      if (!*v) continue;
      ++given;
      a.skip = target;
      a.target = **v;
    }
    if (given != 1) {
      return make_error(ErrorCode::kInvalid, "give exactly one of member, group, stage, gate or wait", "(root)",
                        "invalid-field");
    }
  }
  return a;
}

http::Response act(Call& call, pqxx::connection_base& conn, const Clock& clock, rollout::ActionKind kind) {
  const std::string name = call.path["name"];
  const std::string action = "rollout." + std::string(rollout::to_string(kind));
  auto parsed = parse_action(call, kind);
  if (!parsed) return refuse_audited(call, conn, rollout_entry(call, action, name, ""), parsed.error());
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, rollout_entry(call, action, name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, rollout_entry(call, action, name, ""))) return std::move(*earlier);
  auto finish = [&](http::Response resp, const std::string& outcome) {
    json detail = {{"reason", parsed->reason}};
    if (!parsed->target.empty()) detail["target"] = parsed->target;
    store::write_audit(txn, rollout_entry(call, action, name, outcome, std::move(detail)));
    if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
    txn.commit();
    return resp;
  };
  auto run = store::load_rollout(txn, name, true);
  if (!run) {
    auto err = rollout_not_found(name);
    return finish(problem(call, err), err.type);
  }
  auto decision = rollout::apply_action(run->state, *parsed, clock.wall_now());
  if (!decision) return finish(problem(call, decision.error()), decision.error().type);
  store::save_decision(txn, run->state, *decision);
  store::notify_rollout(txn, run->state.seq);
  auto stored = store::load_rollout(txn, name, false);
  return finish(json_response(200, rollout_view(*stored).dump()), "success");
}

}  // namespace

void register_rollout_routes(ApiService& api, const Clock& clock) {
  using rollout::ActionKind;
  const Clock* c = &clock;
  api.add_db_route("POST", "/v1/rollouts:plan", Role::kViewer,
                   [c](Call& call, pqxx::connection_base& conn) { return plan_new(call, conn, *c); });
  api.add_db_route("POST", "/v1/rollouts", Role::kOperator,
                   [c](Call& call, pqxx::connection_base& conn) { return create_rollout(call, conn, *c); });
  api.add_db_route("GET", "/v1/rollouts", Role::kViewer, list_rollouts);
  api.add_db_route("GET", "/v1/rollouts/{name}", Role::kViewer, get_rollout);
  api.add_db_route("DELETE", "/v1/rollouts/{name}", Role::kOperator, delete_rollout);
  api.add_db_route("GET", "/v1/rollouts/{name}/events", Role::kViewer, list_events);
  api.add_db_route("POST", "/v1/rollouts/{name}:plan", Role::kViewer, plan_existing);
  const std::pair<const char*, ActionKind> actions[] = {
      {":start", ActionKind::kStart}, {":pause", ActionKind::kPause},      {":resume", ActionKind::kResume},
      {":abort", ActionKind::kAbort}, {":skip", ActionKind::kSkip},        {":approve", ActionKind::kApprove},
      {":retry", ActionKind::kRetry}, {":rollback", ActionKind::kRollback}};
  for (const auto& [verb, kind] : actions) {
    const ActionKind k = kind;
    api.add_db_route("POST", std::string("/v1/rollouts/{name}") + verb, Role::kOperator,
                     [c, k](Call& call, pqxx::connection_base& conn) { return act(call, conn, *c, k); });
  }
}

}  // namespace fleet
