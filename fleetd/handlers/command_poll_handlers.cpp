// The agents' side of the command queue (DESIGN §5 step 3): a long poll held in memory by CommandNotifier (never on
// a database worker) that leases a cluster's queued commands, and the agent's reports of progress and results.
// Every claim checks the credential in its own transaction, however long the poll waited and whatever the cache
// says (issue #10): a credential replaced or revoked during the wait, or a cluster deleted and created again under
// the same name, leases nothing.
#include <charconv>
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/handlers/agent_auth.hpp"
#include "fleetd/handlers/command_json.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/database_job.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/command_store.hpp"
#include "protocol/command_report.hpp"

namespace fleet {
namespace {

constexpr std::chrono::milliseconds kDefaultWait{30000};
constexpr std::chrono::milliseconds kMaxWait{55000};  // under the server's 60 s handler timeout
constexpr int kDefaultPollLimit = 10;
constexpr int kMaxPollLimit = 100;

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

struct Poll {
  std::shared_ptr<Call> call;
  http::Respond respond;
  std::string cluster;
  int limit = kDefaultPollLimit;
  CommandNotifier::Deadline deadline;
  DbPool* pool = nullptr;
  CommandNotifier* notifier = nullptr;
  HeartbeatCache* credentials = nullptr;  // agent credentials checked lately (shared with the heartbeat route)
  ApiService* api = nullptr;              // the per-source budget of failed authentications
  CommandQueueOptions options;
};

http::Response delivery(const std::vector<store::Command>& commands, std::chrono::seconds lease) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : commands) {
    items.push_back({{"id", c.id},
                     {"kind", c.kind},
                     {"payload", c.payload},
                     {"attempt", c.attempts},
                     {"leaseExpiresAt", c.lease_until ? nlohmann::json(*c.lease_until) : nlohmann::json()}});
  }
  nlohmann::json out = {{"commands", std::move(items)}, {"leaseSeconds", lease.count()}};
  return json_response(200, out.dump());
}

void claim(const std::shared_ptr<Poll>& poll);

void park(const std::shared_ptr<Poll>& poll, CommandNotifier::Generation seen) {
  bool parked = poll->notifier->park(poll->cluster, seen, poll->deadline, [poll](CommandNotifier::Wake wake) {
    if (wake == CommandNotifier::Wake::kNotified) {
      claim(poll);
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
void claim(const std::shared_ptr<Poll>& poll) {
  run_on_database(*poll->pool, poll->call, poll->respond, [poll](pqxx::connection_base& conn) {
    // Read before the claim: a notification after this point re-runs the claim (see CommandNotifier).
    auto seen = poll->notifier->generation(poll->cluster);
    const HeartbeatCache::CredentialEpoch read_at = poll->credentials->credential_epoch();
    pqxx::work txn(conn);
    // In the claim's transaction, with the agent row key-share locked until it commits.
    if (auto refused = refuse_cached_agent(*poll->call, txn, poll->cluster, *poll->credentials, *poll->api)) {
      poll->respond(std::move(*refused));
      return;
    }
    auto commands =
        store::claim_commands(txn, poll->cluster, poll->limit, poll->options.lease, poll->options.max_attempts);
    txn.commit();
    // The credential passed the check: the next poll (or heartbeat) is let through from memory, and is not counted
    // against a noisy source's budget (remember_credential drops it if the credential ended meanwhile).
    if (auto hash = agent_credential_hash(*poll->call)) {
      poll->credentials->remember_credential(*hash, poll->cluster, read_at);
    }
    // Fewer than asked for: the claim took everything claimable, so the cluster's queue is empty as of `seen` too,
    // and the agent's next poll parks without a claim of its own (one database job less per command: issue #12,
    // 1,000 clusters upgrading).
    if (static_cast<int>(commands.size()) < poll->limit) poll->notifier->mark_empty(poll->cluster, seen);
    if (!commands.empty() || poll->notifier->now() >= poll->deadline) {
      poll->respond(delivery(commands, poll->options.lease));
      return;
    }
    park(poll, seen);
  });
}

void poll_commands(std::shared_ptr<Call> call, http::Respond respond, ApiService& api, AgentGateway gateway,
                   const CommandQueueOptions& options) {
  CommandNotifier& notifier = gateway.notifier;
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
  poll->deadline = notifier.now() + wait;
  poll->pool = &api.pool();
  poll->notifier = &notifier;
  poll->credentials = &gateway.cache;
  poll->api = &api;
  poll->options = options;
  // The common case at scale: an agent whose credential this replica checked lately polls a cluster with nothing
  // queued since its last empty claim. It parks (or answers empty) without a database round trip.
  const std::optional<std::string> hash = agent_credential_hash(*poll->call);
  auto owner = hash ? gateway.cache.credential_owner(*hash) : std::nullopt;
  if (!owner) {
    if (auto refused = refuse_without_lookup(*poll->call, gateway.cache, api))
      return poll->respond(std::move(*refused));
  }
  const bool authenticated = owner && *owner == poll->cluster;
  CommandNotifier::Generation seen = 0;
  if (authenticated && notifier.known_empty(poll->cluster, seen)) {
    if (notifier.now() >= poll->deadline) {
      poll->respond(delivery({}, options.lease));
    } else {
      park(poll, seen);
    }
    return;
  }
  claim(poll);
}

http::Response report(Call& call, pqxx::connection_base& conn, const CommandQueueOptions& options,
                      AgentGateway& gateway, ApiService& api) {
  const std::string cluster = call.path["cluster"];
  const std::string id = call.path["id"];
  const std::optional<std::string> hash = agent_credential_hash(call);
  if (!hash || gateway.cache.credential_owner(*hash) != cluster) {
    if (auto refused = refuse_without_lookup(call, gateway.cache, api)) return std::move(*refused);
  }
  pqxx::work txn(conn);
  auto refused = refuse_agent(call, txn, cluster);
  remember_if_unknown(call, refused, gateway.cache, api);
  if (refused) return std::move(*refused);
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
  if (!result.command) return problem(call, command_not_found(id));
  if (!result.duplicate && store::is_final_state(r.state)) {
    // Progress reports are frequent and change nothing an operator acts on; the outcome is audited.
    auto e =
        audit_entry(call, "command." + r.state, "command", id, "success",
                    {{"cluster", cluster}, {"kind", result.command->kind}, {"attempts", result.command->attempts}});
    e.actor = "agent:" + cluster;
    store::write_audit(txn, e);
  }
  txn.commit();
  auto out = command_json(*result.command);
  out["duplicate"] = result.duplicate;
  return json_response(200, out.dump());
}

}  // namespace

void register_command_poll_routes(ApiService& api, AgentGateway gateway, CommandQueueOptions options) {
  // A poll's latency is mostly its wait (up to kMaxWait): buckets up to it, so an answered poll and a poll that
  // timed out empty land in different buckets instead of together in +Inf (issue #16).
  std::vector<double> poll_buckets(Metrics::kLatencyBuckets.begin(), Metrics::kLatencyBuckets.end());
  poll_buckets.insert(poll_buckets.end(), {20.0, 30.0, 45.0, 55.0, 60.0});
  api.metrics().set_route_buckets("/v1/agents/{cluster}/commands", std::move(poll_buckets));
  // Every agent holds a poll open all the time: its answers are logged at debug unless refused. A command's
  // report is not routine (it says what a cluster did) and stays at info.
  api.set_routine("/v1/agents/{cluster}/commands");
  api.add_async_route("GET", "/v1/agents/{cluster}/commands",
                      [&api, gateway, options](std::shared_ptr<Call> call, http::Respond respond) {
                        poll_commands(std::move(call), std::move(respond), api, gateway, options);
                      });
  api.add_db_route("POST", "/v1/agents/{cluster}/commands/{id}", std::nullopt,
                   [&api, gateway, options](Call& call, pqxx::connection_base& conn) mutable {
                     return report(call, conn, options, gateway, api);
                   });
}

}  // namespace fleet
