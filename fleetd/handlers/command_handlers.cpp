// The operators' side of the agent command queue (DESIGN §5 step 3): queue a command for a cluster, list a
// cluster's commands, read one. Every command is idempotent by id: a retried create is harmless. Its payload is
// checked when it is queued, with the parser the agent uses (protocol/command_payloads.hpp).
#include <charconv>
#include <pqxx/pqxx>
#include <set>

#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "fleetd/handlers/command_json.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/command_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "model/json_read.hpp"
#include "protocol/command.hpp"

namespace fleet {
namespace {

constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;

Result<std::string> state_filter(const std::string& v) {
  static const std::set<std::string> states = {"queued", "leased", "running", "succeeded", "failed"};
  if (!states.count(v)) {
    return make_error(ErrorCode::kInvalid, "state must be one of queued, leased, running, succeeded, failed", "state",
                      "invalid-query");
  }
  return v;
}

store::AuditEntry create_entry(const Call& call, const std::string& id, const std::string& cluster,
                               std::string outcome) {
  return audit_entry(call, "command.create", "command", id, std::move(outcome), {{"cluster", cluster}});
}

// A create refused before its own transaction (bad body, bad header): still audited.
http::Response refuse(const Call& call, pqxx::connection_base& conn, const std::string& id, const Error& error) {
  auto it = call.path.find("name");
  return refuse_audited(call, conn, create_entry(call, id, it == call.path.end() ? "" : it->second, ""), error);
}

http::Response create_command(Call& call, pqxx::connection_base& conn) {
  const std::string cluster = call.path["name"];
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse(call, conn, "", body.error());
  if (auto st = model::reject_unknown_fields(*body, {"id", "kind", "payload"}, ""); !st) {
    return refuse(call, conn, "", st.error());
  }
  auto id = model::optional_string(*body, "id", "");
  if (!id) return refuse(call, conn, "", id.error());
  if (*id) {
    if (auto st = protocol::validate_command_id(**id); !st) return refuse(call, conn, "", st.error());
  }
  const std::string command_id = id->value_or("");
  auto kind_name = model::required_string(*body, "kind", "");
  if (!kind_name) return refuse(call, conn, command_id, kind_name.error());
  auto kind = protocol::command_kind_from(*kind_name);
  if (!kind) return refuse(call, conn, command_id, kind.error());
  // The payload is checked as the agent will read it: a bad one is refused now, not failed by the agent later.
  auto payload_member = model::optional_object(*body, "payload", "");
  if (!payload_member) return refuse(call, conn, command_id, payload_member.error());
  nlohmann::json payload = *payload_member ? **payload_member : nlohmann::json::object();
  if (auto typed = protocol::parse_command_payload(*kind, payload); !typed) {
    return refuse(call, conn, command_id, typed.error());
  }

  auto key = idempotency_key(call);
  if (!key) return refuse(call, conn, command_id, key.error());
  const std::optional<store::IdempotencyKeyRef>& idem = *key;

  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, idem, create_entry(call, command_id, cluster, "")))
    return std::move(*earlier);

  auto result = store::enqueue_command(txn, cluster, command_id, *kind_name, payload, call.principal.actor());
  http::Response resp;
  std::string outcome = "success";
  std::string audited_id = result.command ? result.command->id : command_id;
  using Outcome = store::EnqueueResult::Outcome;
  switch (result.outcome) {
    case Outcome::kCreated:
      resp = command_response(201, *result.command);
      resp.headers["location"] = "/v1/commands/" + result.command->id;
      break;
    case Outcome::kExisting:
      resp = command_response(200, *result.command);
      outcome = "existing";
      break;
    case Outcome::kConflict: {
      auto err = make_error(ErrorCode::kConflict,
                            "a command with id \"" + command_id +
                                "\" exists already for another cluster, kind or payload (ids are idempotency keys)",
                            "id", "already-exists");
      resp = problem(call, err);
      outcome = err.type;
      break;
    }
    case Outcome::kNoCluster: {
      auto err = make_error(ErrorCode::kNotFound, "cluster \"" + cluster + "\" not found", "", "not-found");
      resp = problem(call, err);
      outcome = err.type;
      break;
    }
  }
  store::write_audit(txn, create_entry(call, audited_id, cluster, outcome));
  if (idem) store::complete_idempotency_key(txn, *idem, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response list_commands(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultListLimit, kMaxListLimit, false, {"state"}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  store::CommandListQuery q;
  q.cluster = call.path["name"];
  q.limit = params->limit;
  if (params->after) {
    std::int64_t seq = 0;
    auto [p, ec] = std::from_chars(params->after->data(), params->after->data() + params->after->size(), seq);
    if (ec != std::errc() || p != params->after->data() + params->after->size() || seq <= 0) {
      return problem(
          call, make_error(ErrorCode::kInvalid, "continue: not a token from this list", "continue", "invalid-query"));
    }
    q.before_seq = seq;
  }
  if (auto it = params->filters.find("state"); it != params->filters.end()) {
    auto state = state_filter(it->second);
    if (!state) return problem(call, state.error());
    q.state = *state;
  }
  pqxx::nontransaction txn(conn);  // one cluster check and one SELECT
  auto page = store::list_commands(txn, q);
  txn.commit();
  if (!page) {
    return problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + q.cluster + "\" not found", "", "not-found"));
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : page->items) items.push_back(command_json(c));
  nlohmann::json out = {{"items", std::move(items)}};
  if (page->more && !page->items.empty())
    out["continue"] = api::encode_continue(std::to_string(page->items.back().seq));
  return json_response(200, out.dump());
}

http::Response get_command(Call& call, pqxx::connection_base& conn) {
  const std::string id = call.path["id"];
  pqxx::nontransaction txn(conn);
  auto c = store::get_command(txn, id);
  txn.commit();
  if (!c) return problem(call, command_not_found(id));
  return command_response(200, *c);
}

}  // namespace

void register_command_routes(ApiService& api) {
  api.add_db_route("POST", "/v1/clusters/{name}/commands", Role::kOperator, create_command);
  api.add_db_route("GET", "/v1/clusters/{name}/commands", Role::kViewer, list_commands);
  api.add_db_route("GET", "/v1/commands/{id}", Role::kViewer, get_command);
}

}  // namespace fleet
