// The agents' side of the command queue (DESIGN §5 step 3): a long poll held in memory by CommandNotifier (never on
// a database worker) that leases a cluster's queued commands, and the agent's reports of progress and results.
// Claims and reports go to the database in batches (batched_db_jobs.hpp), one transaction for many agents.
// Every claim checks the credential in its own transaction, however long the poll waited and whatever the cache
// says (issue #10): a credential replaced or revoked during the wait, or a cluster deleted and created again under
// the same name, leases nothing.
#include <charconv>
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/handlers/agent_auth.hpp"
#include "fleetd/handlers/command_json.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/batched_db_jobs.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/http/responses.hpp"
#include "fleetd/store/agent_store.hpp"
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

struct Poll;
using PollPtr = std::shared_ptr<Poll>;
// Polls woken together are claimed together (batched_db_jobs.hpp): one credential lookup and one claim statement
// for a batch, one poll per cluster in it.
using ClaimJobs = BatchedDbJobs<PollPtr>;

struct Poll {
  std::shared_ptr<Call> call;
  http::Respond respond;
  std::string cluster;
  int limit = kDefaultPollLimit;
  CommandNotifier::Deadline deadline;
  CommandNotifier* notifier = nullptr;
  HeartbeatCache* credentials = nullptr;  // agent credentials checked lately (shared with the heartbeat route)
  ApiService* api = nullptr;              // the per-source budget of failed authentications
  std::shared_ptr<ClaimJobs> claims;      // the route's
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

// After the claim committed: answers when it leased something or the wait is over, else parks.
void claimed(const std::shared_ptr<Poll>& poll, const std::vector<store::Command>& commands,
             CommandNotifier::Generation seen, HeartbeatCache::CredentialEpoch read_at) {
  // The credential passed the check: the next poll (or heartbeat) is let through from memory, and is not counted
  // against a noisy source's budget (remember_credential drops it if the credential ended meanwhile).
  if (auto hash = agent_credential_hash(*poll->call))
    poll->credentials->remember_credential(*hash, poll->cluster, read_at);
  // Fewer than asked for: the claim took everything claimable, so the cluster's queue is empty as of `seen` too,
  // and the agent's next poll parks without a claim of its own (one database job less per command: issue #12,
  // 1,000 clusters upgrading).
  if (static_cast<int>(commands.size()) < poll->limit) poll->notifier->mark_empty(poll->cluster, seen);
  if (!commands.empty() || poll->notifier->now() >= poll->deadline) {
    poll->respond(delivery(commands, poll->options.lease));
    return;
  }
  park(poll, seen);
}

// One batch: the credentials looked up together, the confirmed ones' clusters claimed in one statement. A
// credential the lookup does not confirm for its poll's cluster gets the full check in the same transaction, which
// says why (401 or 403) and updates the caches; should it pass after all (a race with a new credential), its
// cluster is claimed with the rest. Nothing is answered before the commit (the pool may run this again after a
// serialization failure).
void claim_batch(pqxx::connection_base& conn, const std::vector<std::shared_ptr<Poll>>& batch) {
  std::vector<CommandNotifier::Generation> seen;  // read before the claim: a later notification claims again
  std::vector<std::string> hashes;
  for (const auto& poll : batch) {
    seen.push_back(poll->notifier->generation(poll->cluster));
    hashes.push_back(agent_credential_hash(*poll->call).value_or(""));
  }
  const HeartbeatCache::CredentialEpoch read_at = batch.front()->credentials->credential_epoch();
  pqxx::work txn(conn);
  // The agent rows stay key-share locked until the commit.
  const auto owners = store::find_agent_clusters(txn, hashes);
  std::vector<std::optional<http::Response>> refused(batch.size());
  std::vector<std::pair<std::string, int>> clusters;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Poll& poll = *batch[i];
    const auto owner = owners.find(hashes[i]);
    if (hashes[i].empty() || owner == owners.end() || owner->second != poll.cluster) {
      refused[i] = refuse_cached_agent(*poll.call, txn, poll.cluster, *poll.credentials, *poll.api);
    }
    if (!refused[i]) clusters.emplace_back(poll.cluster, poll.limit);
  }
  const CommandQueueOptions& options = batch.front()->options;
  auto leased = store::claim_commands(txn, clusters, options.lease, options.max_attempts);
  txn.commit();
  static const std::vector<store::Command> kNone;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (refused[i]) {
      batch[i]->respond(std::move(*refused[i]));
      continue;
    }
    const auto it = leased.find(batch[i]->cluster);
    claimed(batch[i], it == leased.end() ? kNone : it->second, seen[i], read_at);
  }
}

void claim(const std::shared_ptr<Poll>& poll) {
  poll->claims->add(poll);
}

void poll_commands(std::shared_ptr<Call> call, http::Respond respond, ApiService& api, AgentGateway gateway,
                   std::shared_ptr<ClaimJobs> claims, const CommandQueueOptions& options) {
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
  poll->notifier = &notifier;
  poll->credentials = &gateway.cache;
  poll->api = &api;
  poll->claims = std::move(claims);
  poll->options = options;
  // The common case at scale: an agent whose credential this replica checked lately polls a cluster with nothing
  // queued since a claim last left its queue empty. It parks (or answers empty) without a database round trip.
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

// An agent's report of a command's progress or outcome, parsed, waiting for its batch.
struct PendingReport {
  std::shared_ptr<Call> call;
  http::Respond respond;
  std::string cluster;
  std::string id;
  store::Report report;
  HeartbeatCache* credentials = nullptr;
  ApiService* api = nullptr;
  CommandQueueOptions options;
};
using ReportPtr = std::shared_ptr<PendingReport>;
// Reports arriving together are written together: 300 members finishing a step at once report at once (issue #12).
using ReportJobs = BatchedDbJobs<ReportPtr>;

// The answer to one report of a batch, and the audit entry of an outcome (progress reports are frequent and change
// nothing an operator acts on; the outcome is audited).
http::Response report_answer(const PendingReport& p, const store::ReportResult& result,
                             std::vector<store::AuditEntry>& audits) {
  // Another cluster's command is "not found" too: its existence is not this agent's business.
  if (!result.command) return problem(*p.call, command_not_found(p.id));
  if (!result.duplicate && store::is_final_state(p.report.state)) {
    auto e =
        audit_entry(*p.call, "command." + p.report.state, "command", p.id, "success",
                    {{"cluster", p.cluster}, {"kind", result.command->kind}, {"attempts", result.command->attempts}});
    e.actor = "agent:" + p.cluster;
    audits.push_back(std::move(e));
  }
  auto out = command_json(*result.command);
  out["duplicate"] = result.duplicate;
  return json_response(200, out.dump());
}

// One batch of reports, in one transaction of three statements: the credentials looked up together (a credential
// the lookup does not confirm gets the full check, as a claim's does), the reports applied together, the outcomes
// audited together. Nothing is answered before the commit.
void report_batch(pqxx::connection_base& conn, const std::vector<ReportPtr>& batch) {
  std::vector<std::string> hashes;
  hashes.reserve(batch.size());
  for (const auto& p : batch) hashes.push_back(agent_credential_hash(*p->call).value_or(""));
  const HeartbeatCache::CredentialEpoch read_at = batch.front()->credentials->credential_epoch();
  pqxx::work txn(conn);
  const auto owners = store::find_agent_clusters(txn, hashes);  // key-share locked until the commit
  std::vector<std::optional<http::Response>> answers(batch.size());
  std::vector<std::size_t> accepted;
  std::vector<store::ReportOf> reports;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const PendingReport& p = *batch[i];
    const auto owner = owners.find(hashes[i]);
    if (hashes[i].empty() || owner == owners.end() || owner->second != p.cluster) {
      answers[i] = refuse_cached_agent(*p.call, txn, p.cluster, *p.credentials, *p.api);
    }
    if (answers[i]) continue;
    accepted.push_back(i);
    reports.push_back({p.cluster, p.id, p.report});
  }
  const auto results = store::report_commands(txn, reports, batch.front()->options.lease);
  std::vector<store::AuditEntry> audits;
  for (std::size_t k = 0; k < accepted.size(); ++k) {
    answers[accepted[k]] = report_answer(*batch[accepted[k]], results[k], audits);
  }
  store::write_audits(txn, audits);
  txn.commit();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const PendingReport& p = *batch[i];
    if (answers[i]->status < 400) {
      if (auto hash = agent_credential_hash(*p.call)) p.credentials->remember_credential(*hash, p.cluster, read_at);
    }
    p.respond(std::move(*answers[i]));
  }
}

void report(std::shared_ptr<Call> call, http::Respond respond, ApiService& api, AgentGateway gateway,
            const std::shared_ptr<ReportJobs>& reports, const CommandQueueOptions& options) {
  auto p = std::make_shared<PendingReport>();
  p->cluster = call->path["cluster"];
  p->id = call->path["id"];
  const std::optional<std::string> hash = agent_credential_hash(*call);
  if (!hash || gateway.cache.credential_owner(*hash) != p->cluster) {
    if (auto refused = refuse_without_lookup(*call, gateway.cache, api)) return respond(std::move(*refused));
  }
  // What needs no database is checked before the report waits for one. An unauthenticated caller learns only that
  // its body is malformed, which it knew.
  auto body = api::parse_json_body(call->req, {"application/json"});
  if (!body) return respond(problem(*call, body.error()));
  auto parsed = protocol::report_from_json(*body);
  if (!parsed) return respond(problem(*call, parsed.error()));
  p->report.state = std::string(protocol::to_string(parsed->state));
  p->report.message = std::move(parsed->message);
  p->report.progress = std::move(parsed->progress);
  p->call = std::move(call);
  p->respond = std::move(respond);
  p->credentials = &gateway.cache;
  p->api = &api;
  p->options = options;
  reports->add(std::move(p));
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
  // The batch queues live as long as the routes. At most as many batch jobs out as the pool has workers (by
  // default): the first version, one job at a time, made delivery slower.
  const ClaimJobs::Options claim_options{64, 4, "command-claims"};
  auto claims = ClaimJobs::create(
      api.pool(), claim_options, [](const PollPtr& p) { return p->cluster; }, claim_batch,
      [](const PollPtr& p, const DbFailure& failure) { p->respond(failure_response(*p->call, failure)); });
  const ReportJobs::Options report_options{64, 4, "command-reports"};
  auto reports = ReportJobs::create(
      api.pool(), report_options, [](const ReportPtr& p) { return p->id; }, report_batch,
      [](const ReportPtr& p, const DbFailure& failure) { p->respond(failure_response(*p->call, failure)); });
  api.add_async_route("GET", "/v1/agents/{cluster}/commands",
                      [&api, gateway, options, claims](std::shared_ptr<Call> call, http::Respond respond) {
                        poll_commands(std::move(call), std::move(respond), api, gateway, claims, options);
                      });
  api.add_async_route("POST", "/v1/agents/{cluster}/commands/{id}",
                      [&api, gateway, options, reports](std::shared_ptr<Call> call, http::Respond respond) {
                        report(std::move(call), std::move(respond), api, gateway, reports, options);
                      });
}

}  // namespace fleet
