// The agents' side of the command queue (DESIGN §5 step 3): a long poll held in memory by CommandNotifier (never on
// a database worker) that leases a cluster's queued commands, and the agent's reports of progress and results.
// Every claim checks the credential in its own transaction, however long the poll waited and whatever the cache
// says (issue #10): a credential replaced or revoked during the wait, or a cluster deleted and created again under
// the same name, leases nothing.
#include <charconv>
#include <deque>
#include <mutex>
#include <pqxx/pqxx>
#include <set>

#include "api/json_body.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/handlers/agent_auth.hpp"
#include "fleetd/handlers/command_json.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
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

// Polls woken together are claimed together. A decision that queues a step for each of 300 clusters wakes 300
// polls at once; a database job each (a credential check, a claim and a commit) queued them behind one another on
// the pool's few workers, up to 0.6 s for the last (issue #12, 1,000 clusters upgrading). The queue drains in
// batches of up to kClaimBatch polls, one job and one transaction each: one credential lookup and one claim
// statement for the batch. At most kClaimJobs batch jobs are out at once (as many as the pool has workers by
// default); a poll woken meanwhile goes with the next job to start.
constexpr std::size_t kClaimBatch = 64;
constexpr int kClaimJobs = 4;
struct ClaimQueue {
  std::mutex mutex;
  std::deque<std::shared_ptr<Poll>> waiting;
  int jobs = 0;  // batch jobs queued or running
};

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
  std::shared_ptr<ClaimQueue> claims;     // shared with the route and the batch jobs
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

// The next batch from the queue: one poll per cluster (a second poll of a cluster waits for the next batch).
std::vector<std::shared_ptr<Poll>> take_batch(ClaimQueue& queue) {
  std::vector<std::shared_ptr<Poll>> batch;
  std::lock_guard lock(queue.mutex);
  std::set<std::string, std::less<>> clusters;
  for (auto it = queue.waiting.begin(); it != queue.waiting.end() && batch.size() < kClaimBatch;) {
    if (!clusters.insert((*it)->cluster).second) {
      ++it;
      continue;
    }
    batch.push_back(std::move(*it));
    it = queue.waiting.erase(it);
  }
  return batch;
}

void submit_claim_job(const std::shared_ptr<ClaimQueue>& queue, DbPool& pool);

// After a batch job: another for the polls that queued meanwhile, or one job fewer in flight.
void claim_job_done(const std::shared_ptr<ClaimQueue>& queue, DbPool& pool) {
  {
    std::lock_guard lock(queue->mutex);
    if (queue->waiting.empty()) {
      --queue->jobs;
      return;
    }
  }
  submit_claim_job(queue, pool);
}

// A batch job takes its polls when it starts running, not when it is queued: the polls woken while it waited for a
// worker go with it.
void submit_claim_job(const std::shared_ptr<ClaimQueue>& queue, DbPool& pool) {
  struct Taken {
    bool done = false;  // the pool may run the job again after a serialization failure: the same batch then
    std::vector<std::shared_ptr<Poll>> polls;
  };
  auto taken = std::make_shared<Taken>();
  auto take = [queue, taken]() -> const std::vector<std::shared_ptr<Poll>>& {
    if (!taken->done) {
      taken->polls = take_batch(*queue);
      taken->done = true;
    }
    return taken->polls;
  };
  DbJob job;
  job.run = [queue, &pool, take](pqxx::connection_base& conn) {
    const auto& batch = take();
    if (!batch.empty()) claim_batch(conn, batch);
    claim_job_done(queue, pool);
  };
  job.fail = [queue, &pool, take](const DbFailure& failure) {
    for (const auto& poll : take()) poll->respond(failure_response(*poll->call, failure));
    claim_job_done(queue, pool);
  };
  job.request_id = "command-claims";
  if (pool.submit(std::move(job))) return;
  // The pool's queue is full: the polls waiting are answered 503 (the agents retry).
  std::deque<std::shared_ptr<Poll>> refused;
  {
    std::lock_guard lock(queue->mutex);
    refused.swap(queue->waiting);
    --queue->jobs;
  }
  const DbFailure overloaded{DbFailure::Kind::kOverloaded,
                             "fleetd is overloaded: too many requests are waiting for the database"};
  for (const auto& poll : refused) poll->respond(failure_response(*poll->call, overloaded));
}

// Queues the poll's claim: the next batch job to start takes it; a new job when fewer than kClaimJobs are out.
void claim(const std::shared_ptr<Poll>& poll) {
  {
    std::lock_guard lock(poll->claims->mutex);
    poll->claims->waiting.push_back(poll);
    if (poll->claims->jobs >= kClaimJobs) return;
    ++poll->claims->jobs;
  }
  submit_claim_job(poll->claims, *poll->pool);
}

void poll_commands(std::shared_ptr<Call> call, http::Respond respond, ApiService& api, AgentGateway gateway,
                   std::shared_ptr<ClaimQueue> claims, const CommandQueueOptions& options) {
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
  auto claims = std::make_shared<ClaimQueue>();  // lives as long as the route
  api.add_async_route("GET", "/v1/agents/{cluster}/commands",
                      [&api, gateway, options, claims](std::shared_ptr<Call> call, http::Respond respond) {
                        poll_commands(std::move(call), std::move(respond), api, gateway, claims, options);
                      });
  api.add_db_route("POST", "/v1/agents/{cluster}/commands/{id}", std::nullopt,
                   [&api, gateway, options](Call& call, pqxx::connection_base& conn) mutable {
                     return report(call, conn, options, gateway, api);
                   });
}

}  // namespace fleet
