// The agent command queue over HTTP (DESIGN §5 step 3). Operators enqueue commands for a cluster; its agent
// long-polls for them (held in memory by CommandNotifier, never on a database worker), leases them and reports
// progress and the result. Every command is idempotent by id: a retried create or a retried final report is
// harmless.
#include <algorithm>
#include <array>
#include <charconv>
#include <pqxx/pqxx>
#include <set>

#include "api/continue_token.hpp"
#include "api/json_body.hpp"
#include "fleetd/auth/credentials.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/command_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "model/json_read.hpp"
#include "protocol/command.hpp"
#include "protocol/command_report.hpp"

namespace fleet {
namespace {

constexpr std::chrono::milliseconds kDefaultWait{30000};
constexpr std::chrono::milliseconds kMaxWait{55000};  // under the server's 60 s handler timeout
constexpr int kDefaultPollLimit = 10;
constexpr int kMaxPollLimit = 100;
constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;

nlohmann::json or_null(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

nlohmann::json command_json(const store::Command& c) {
  return {{"id", c.id},
          {"cluster", c.cluster},
          {"kind", c.kind},
          {"payload", c.payload},
          {"state", c.state},
          {"attempts", c.attempts},
          {"leaseExpiresAt", or_null(c.lease_until)},
          {"message", c.message},
          {"progress", c.progress},
          {"createdBy", c.created_by},
          {"createdAt", c.created_at},
          {"updatedAt", c.updated_at},
          {"finishedAt", or_null(c.finished_at)},
          {"resourceVersion", std::to_string(c.resource_version)}};
}

http::Response command_response(int status, const store::Command& c) {
  auto r = json_response(status, command_json(c).dump());
  r.headers["etag"] = "\"" + std::to_string(c.resource_version) + "\"";
  return r;
}

Error not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "command \"" + id + "\" not found", "", "not-found");
}

// "30s", "30" (seconds) or "500ms"; 0 to 55 s.
Result<std::chrono::milliseconds> parse_wait(const std::string& text) {
  auto bad = [&] {
    return make_error(ErrorCode::kInvalid, "wait must be a duration from 0 to 55 seconds, such as 30s, 30 or 500ms",
                      "wait", "invalid-query");
  };
  std::string_view v = text;
  long long scale = 1000;
  if (v.size() > 2 && v.substr(v.size() - 2) == "ms") {
    v.remove_suffix(2);
    scale = 1;
  } else if (v.size() > 1 && v.back() == 's') {
    v.remove_suffix(1);
  }
  long long n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 0 || n > kMaxWait.count()) return bad();
  std::chrono::milliseconds wait{n * scale};
  if (wait > kMaxWait) return bad();
  return wait;
}

Result<std::string> state_filter(const std::string& v) {
  static const std::set<std::string> states = {"queued", "leased", "running", "succeeded", "failed"};
  if (!states.count(v)) {
    return make_error(ErrorCode::kInvalid, "state must be one of queued, leased, running, succeeded, failed", "state",
                      "invalid-query");
  }
  return v;
}

// ---- the long poll ----------------------------------------------------------------------------------------

struct Poll {
  std::shared_ptr<Call> call;
  http::Respond respond;
  std::string cluster;
  int limit = kDefaultPollLimit;
  CommandNotifier::Clock::time_point deadline;
  DbPool* pool = nullptr;
  CommandNotifier* notifier = nullptr;
  CommandQueueOptions options;
};

http::Response delivery(const std::vector<store::Command>& commands, std::chrono::seconds lease) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : commands) {
    items.push_back({{"id", c.id},
                     {"kind", c.kind},
                     {"payload", c.payload},
                     {"attempt", c.attempts},
                     {"leaseExpiresAt", or_null(c.lease_until)}});
  }
  nlohmann::json out = {{"commands", std::move(items)}, {"leaseSeconds", lease.count()}};
  return json_response(200, out.dump());
}

void claim(const std::shared_ptr<Poll>& poll, bool authenticate);

void park(const std::shared_ptr<Poll>& poll, CommandNotifier::Generation seen) {
  bool parked = poll->notifier->park(poll->cluster, seen, poll->deadline, [poll](CommandNotifier::Wake wake) {
    if (wake == CommandNotifier::Wake::kNotified) {
      claim(poll, false);
    } else {
      poll->respond(delivery({}, poll->options.lease));  // the wait ended, or fleetd is stopping
    }
  });
  if (parked) return;
  if (poll->notifier->stopping()) {
    poll->respond(delivery({}, poll->options.lease));
    return;
  }
  auto resp =
      problem(*poll->call, make_error(ErrorCode::kUnavailable,
                                      "fleetd holds too many waiting command polls; retry shortly", "", "unavailable"));
  resp.headers["retry-after"] = "1";
  poll->respond(std::move(resp));
}

// Runs the claim on a database worker; answers when it leased something or the wait is over, else parks.
void claim(const std::shared_ptr<Poll>& poll, bool authenticate) {
  DbJob job;
  job.run = [poll, authenticate](pqxx::connection_base& conn) {
    // Read before the claim: a notification after this point re-runs the claim (see CommandNotifier).
    auto seen = poll->notifier->generation(poll->cluster);
    pqxx::work txn(conn);
    if (authenticate) {
      if (auto refused = refuse_agent(*poll->call, txn, poll->cluster)) {
        poll->respond(std::move(*refused));
        return;
      }
    }
    auto commands =
        store::claim_commands(txn, poll->cluster, poll->limit, poll->options.lease, poll->options.max_attempts);
    txn.commit();
    if (commands.empty()) poll->notifier->mark_empty(poll->cluster, seen);
    if (!commands.empty() || CommandNotifier::Clock::now() >= poll->deadline) {
      poll->respond(delivery(commands, poll->options.lease));
      return;
    }
    park(poll, seen);
  };
  job.fail = [poll](const std::string& message) {
    poll->respond(problem(*poll->call, make_error(ErrorCode::kUnavailable, message, "", "unavailable")));
  };
  auto fail = job.fail;
  if (!poll->pool->submit(std::move(job))) fail("fleetd is overloaded: too many requests are waiting for the database");
}

void poll_commands(std::shared_ptr<Call> call, http::Respond respond, DbPool& pool, CommandNotifier& notifier,
                   const CommandQueueOptions& options) {
  auto wait = kDefaultWait;
  int limit = kDefaultPollLimit;
  for (const auto& [key, value] : call->query) {
    if (key == "wait") {
      auto w = parse_wait(value);
      if (!w) return respond(problem(*call, w.error()));
      wait = *w;
    } else if (key == "limit") {
      auto l = parse_limit(value, kMaxPollLimit);
      if (!l) return respond(problem(*call, l.error()));
      limit = *l;
    } else {
      return respond(
          problem(*call, make_error(ErrorCode::kInvalid,
                                    "unknown query parameter \"" + key.substr(0, 64) + "\" (allowed: wait, limit)",
                                    key.substr(0, 64), "invalid-query")));
    }
  }
  auto poll = std::make_shared<Poll>();
  poll->cluster = call->path["cluster"];
  poll->call = std::move(call);
  poll->respond = std::move(respond);
  poll->limit = limit;
  poll->deadline = CommandNotifier::Clock::now() + wait;
  poll->pool = &pool;
  poll->notifier = &notifier;
  poll->options = options;
  // The common case at scale: an agent whose credential this replica checked lately polls a cluster with nothing
  // queued since its last empty claim. It parks (or answers empty) without a database round trip.
  bool authenticated = false;
  if (options.credentials) {
    const std::optional<std::string> hash = agent_credential_hash(*poll->call);
    auto owner = hash ? options.credentials->credential_owner(*hash) : std::nullopt;
    authenticated = owner && *owner == poll->cluster;
  }
  CommandNotifier::Generation seen = 0;
  if (authenticated && notifier.known_empty(poll->cluster, seen)) {
    if (CommandNotifier::Clock::now() >= poll->deadline) {
      poll->respond(delivery({}, options.lease));
    } else {
      park(poll, seen);
    }
    return;
  }
  claim(poll, !authenticated);
}

// ---- the agent's report -------------------------------------------------------------------------------------

http::Response report(Call& call, pqxx::connection_base& conn, const CommandQueueOptions& options) {
  const std::string cluster = call.path["cluster"];
  const std::string id = call.path["id"];
  pqxx::work txn(conn);
  if (auto refused = refuse_agent(call, txn, cluster)) return std::move(*refused);
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return problem(call, body.error());
  auto parsed = protocol::report_from_json(*body);
  if (!parsed) return problem(call, parsed.error());
  store::Report r;
  r.state = std::string(protocol::to_string(parsed->state));
  r.message = std::move(parsed->message);
  r.progress = std::move(parsed->progress);

  auto result = store::report_command(txn, cluster, id, r, options.lease);
  // Another cluster's command is "not found" too: its existence is not this agent's business.
  if (!result.command) return problem(call, not_found(id));
  if (!result.duplicate && store::is_final_state(r.state)) {
    // Progress reports are frequent and change nothing an operator acts on; the outcome is audited.
    store::AuditEntry e;
    e.actor = "agent:" + cluster;
    e.action = "command." + r.state;
    e.object_kind = "command";
    e.object_name = id;
    e.request_id = call.req.request_id;
    e.outcome = "success";
    e.detail = {{"cluster", cluster}, {"kind", result.command->kind}, {"attempts", result.command->attempts}};
    store::write_audit(txn, e);
  }
  txn.commit();
  auto out = command_json(*result.command);
  out["duplicate"] = result.duplicate;
  return json_response(200, out.dump());
}

// ---- operator endpoints -------------------------------------------------------------------------------------

store::AuditEntry audit_entry(const Call& call, const std::string& id, const std::string& cluster,
                              std::string outcome) {
  store::AuditEntry e;
  e.actor = call.principal.actor();
  e.action = "command.create";
  e.object_kind = "command";
  e.object_name = id;
  e.request_id = call.req.request_id;
  e.outcome = std::move(outcome);
  e.detail = {{"cluster", cluster}};
  return e;
}

// A create refused before its own transaction (bad body, bad header): still audited.
http::Response refuse(const Call& call, pqxx::connection_base& conn, const std::string& id, const Error& error) {
  auto resp = problem(call, error);
  pqxx::work txn(conn);
  auto it = call.path.find("name");
  store::write_audit(txn, audit_entry(call, id, it == call.path.end() ? "" : it->second,
                                      error.type.empty() ? "status-" + std::to_string(resp.status) : error.type));
  txn.commit();
  return resp;
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
  if (idem) {
    if (auto earlier = claim_or_replay(call, txn, *idem)) {
      if (earlier->refused) store::write_audit(txn, audit_entry(call, command_id, cluster, earlier->refused->type));
      txn.commit();
      return std::move(earlier->response);
    }
  }

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
  store::write_audit(txn, audit_entry(call, audited_id, cluster, outcome));
  if (idem) store::complete_idempotency_key(txn, *idem, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response list_commands(Call& call, pqxx::connection_base& conn) {
  store::CommandListQuery q;
  q.cluster = call.path["name"];
  q.limit = kDefaultListLimit;
  for (const auto& [key, value] : call.query) {
    if (key == "limit") {
      auto limit = parse_limit(value, kMaxListLimit);
      if (!limit) return problem(call, limit.error());
      q.limit = *limit;
    } else if (key == "continue") {
      auto after = api::decode_continue(value);
      if (!after) return problem(call, after.error());
      std::int64_t seq = 0;
      auto [p, ec] = std::from_chars(after->data(), after->data() + after->size(), seq);
      if (ec != std::errc() || p != after->data() + after->size() || seq <= 0) {
        return problem(
            call, make_error(ErrorCode::kInvalid, "continue: not a token from this list", "continue", "invalid-query"));
      }
      q.before_seq = seq;
    } else if (key == "state") {
      auto state = state_filter(value);
      if (!state) return problem(call, state.error());
      q.state = *state;
    } else {
      return problem(
          call, make_error(ErrorCode::kInvalid,
                           "unknown query parameter \"" + key.substr(0, 64) + "\" (allowed: state, limit, continue)",
                           key.substr(0, 64), "invalid-query"));
    }
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
  if (!c) return problem(call, not_found(id));
  return command_response(200, *c);
}

}  // namespace

void register_command_routes(ApiService& api, CommandNotifier& notifier, CommandQueueOptions options) {
  DbPool& pool = api.pool();
  api.add_async_route("GET", "/v1/agents/{cluster}/commands",
                      [&pool, &notifier, options](std::shared_ptr<Call> call, http::Respond respond) {
                        poll_commands(std::move(call), std::move(respond), pool, notifier, options);
                      });
  api.add_db_route("POST", "/v1/agents/{cluster}/commands/{id}", std::nullopt,
                   [options](Call& call, pqxx::connection_base& conn) { return report(call, conn, options); });
  api.add_db_route("POST", "/v1/clusters/{name}/commands", Role::kOperator, create_command);
  api.add_db_route("GET", "/v1/clusters/{name}/commands", Role::kViewer, list_commands);
  api.add_db_route("GET", "/v1/commands/{id}", Role::kViewer, get_command);
}

}  // namespace fleet
