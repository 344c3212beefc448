// Agent registration: operators mint one-time bootstrap tokens for a cluster; the cluster's agent trades one for
// its long-lived credential (DESIGN §5 step 1).
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/store/agent_store.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/inventory_store.hpp"
#include "model/json_read.hpp"
#include "protocol/heartbeat.hpp"

namespace fleet {
namespace {

constexpr std::int64_t kDefaultBootstrapTtl = 3600;
constexpr std::int64_t kMinBootstrapTtl = 60;
constexpr std::int64_t kMaxBootstrapTtl = 7 * 24 * 3600;
constexpr std::size_t kMaxAgentVersion = 64;

void audit(pqxx::transaction_base& txn, const Call& call, const std::string& actor, const std::string& action,
           const std::string& cluster, const std::string& outcome) {
  store::AuditEntry e;
  e.actor = actor;
  e.action = action;
  e.object_kind = "cluster";
  e.object_name = cluster;
  e.request_id = call.req.request_id;
  e.outcome = outcome;
  store::write_audit(txn, e);
}

http::Response create_bootstrap_token(Call& call, pqxx::connection_base& conn) {
  const std::string cluster = call.path["name"];
  std::int64_t ttl = kDefaultBootstrapTtl;
  if (!call.req.body.empty()) {
    auto body = api::parse_json_body(call.req, {"application/json"});
    if (!body) return problem(call, body.error());
    if (auto st = model::reject_unknown_fields(*body, {"ttlSeconds"}, ""); !st) return problem(call, st.error());
    auto t = model::optional_integer(*body, "ttlSeconds", "", kMinBootstrapTtl, kMaxBootstrapTtl);
    if (!t) return problem(call, t.error());
    if (*t) ttl = **t;
  }
  pqxx::work txn(conn);
  auto created = store::create_bootstrap_token(txn, cluster, std::chrono::seconds(ttl), call.principal.actor());
  audit(txn, call, call.principal.actor(), "cluster.bootstrap-token", cluster, created ? "success" : "not-found");
  txn.commit();
  if (!created) {
    return problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + cluster + "\" not found", "", "not-found"));
  }
  nlohmann::json out = {{"cluster", cluster}, {"token", created->token}, {"expiresAt", created->expires_at}};
  return json_response(201, out.dump());
}

http::Response register_agent(Call& call, pqxx::connection_base& conn, const AgentRouteOptions& options) {
  const std::string* authz = call.req.header("authorization");
  std::optional<std::string> token = authz ? bearer_token(*authz) : std::nullopt;
  auto refused = [&] {
    auto resp = problem(call, make_error(ErrorCode::kUnauthenticated,
                                         "registration needs an unused, unexpired bootstrap token "
                                         "(Authorization: Bearer …); ask an operator for a new one",
                                         "", "unauthenticated"));
    resp.headers["www-authenticate"] = "Bearer";
    return resp;
  };
  if (!token) return refused();
  std::string agent_version;
  if (!call.req.body.empty()) {
    auto body = api::parse_json_body(call.req, {"application/json"});
    if (!body) return problem(call, body.error());
    if (auto st = model::reject_unknown_fields(*body, {"agentVersion"}, ""); !st) return problem(call, st.error());
    auto v = model::optional_string(*body, "agentVersion", "");
    if (!v) return problem(call, v.error());
    if (*v && (*v)->size() > kMaxAgentVersion) {
      return problem(call, make_error(ErrorCode::kInvalid, "agentVersion: at most 64 characters", "agentVersion",
                                      "invalid-field"));
    }
    if (*v) agent_version = **v;
  }
  pqxx::work txn(conn);
  auto reg = store::register_agent(txn, hash_token(*token), agent_version);
  if (!reg) return refused();  // nothing written: the transaction is abandoned
  audit(txn, call, "agent:" + reg->cluster, "agent.register", reg->cluster, "success");
  txn.commit();
  nlohmann::json out = {{"cluster", reg->cluster},
                        {"credential", reg->credential},
                        {"heartbeatIntervalSeconds", options.heartbeat_interval_seconds}};
  return json_response(200, out.dump());
}

nlohmann::json applied_json(std::uint64_t sequence, const protocol::InventoryDelta& changes) {
  return {{"resync", false},
          {"sequence", sequence},
          {"nodesChanged", changes.added.size() + changes.changed.size() + changes.removed.size()}};
}

nlohmann::json unchanged_json(std::uint64_t sequence) {
  return {{"resync", false}, {"sequence", sequence}, {"nodesChanged", 0}};
}

// Every heartbeat answer, from the cache or the database, carries the interval and the command hint.
http::Response heartbeat_reply(nlohmann::json out, const AgentRouteOptions& options, const std::string& cluster) {
  out["heartbeatIntervalSeconds"] = options.heartbeat_interval_seconds;
  CommandNotifier::Generation ignored = 0;
  out["commandsPending"] = !(options.notifier && options.notifier->known_empty(cluster, ignored));
  return json_response(200, out.dump());
}
Result<protocol::HeartbeatEnvelope> parse_heartbeat(const Call& call) {
  auto body = api::parse_json_body(call.req, {"application/json"}, protocol::kMaxHeartbeatBytes);
  if (!body) return body.error();
  return protocol::heartbeat_from_json(*body);
}

// The agent credential check of the heartbeat: from the cache when it knows the credential, else one read.
std::optional<http::Response> refuse_heartbeat(const Call& call, pqxx::connection_base& conn,
                                               const std::string& cluster, HeartbeatCache* cache) {
  const std::optional<std::string> hash = agent_credential_hash(call);
  if (cache && hash) {
    if (auto owner = cache->credential_owner(*hash); owner && *owner == cluster) return std::nullopt;
    pqxx::nontransaction read(conn);
    auto refused = refuse_agent(call, read, cluster);
    if (!refused) cache->remember_credential(*hash, cluster);
    return refused;
  }
  pqxx::nontransaction read(conn);
  return refuse_agent(call, read, cluster);
}

// POST /v1/agents/{cluster}/heartbeat: the agent's credential must be this cluster's. A full inventory replaces
// the stored one; a delta applies only on top of sequence-1, otherwise the answer asks for a full resync. A delta
// that changes nothing is answered from the replica's cache without touching the database (heartbeat_cache.hpp);
// liveness is recorded in batches (liveness_recorder.hpp).
// `parsed`: the envelope when heartbeat_front read it already (a full inventory may be megabytes of JSON).
http::Response heartbeat(Call& call, pqxx::connection_base& conn, const AgentRouteOptions& options,
                         std::shared_ptr<const protocol::HeartbeatEnvelope> parsed = nullptr) {
  const std::string cluster = call.path["cluster"];
  if (auto refused = refuse_heartbeat(call, conn, cluster, options.cache)) return std::move(*refused);
  if (!parsed) {
    auto read = parse_heartbeat(call);
    if (!read) return problem(call, read.error());
    parsed = std::make_shared<const protocol::HeartbeatEnvelope>(std::move(read).value());
  }
  const auto& envelope = parsed;
  auto reply = [&](nlohmann::json out) { return heartbeat_reply(std::move(out), options, cluster); };
  auto seen = [&] {
    if (options.liveness && options.liveness->seen(cluster)) options.liveness->write_now(conn, cluster);
  };
  auto written = [&](const protocol::HeartbeatApplied& applied, std::int64_t generation) {
    if (options.cache) options.cache->put(cluster, {applied.stored, generation, envelope->agent_version});
    if (options.liveness) options.liveness->written(cluster);
  };

  if (options.cache && !envelope->full) {
    auto fast = options.cache->apply_delta(cluster, *envelope);
    if (auto* resync = std::get_if<protocol::ResyncNeeded>(&fast)) {
      seen();
      return reply({{"resync", true}, {"reason", resync->reason}});
    }
    if (auto* delta = std::get_if<HeartbeatCache::DeltaApplied>(&fast)) {
      if (!delta->needs_write) {
        seen();
        return reply(unchanged_json(delta->sequence));
      }
      const protocol::HeartbeatApplied& applied = *delta->applied;
      pqxx::work txn(conn);
      if (!store::save_heartbeat(txn, cluster, applied, envelope->agent_version, delta->generation)) {
        // Another replica wrote this inventory since it was cached here: rebuild from a full one.
        txn.abort();
        options.cache->demand_full(cluster);
        seen();
        return reply({{"resync", true}, {"reason", "the stored inventory changed since this replica read it"}});
      }
      txn.commit();
      written(applied, delta->generation + 1);
      return reply(applied_json(applied.stored.sequence, applied.changes));
    }
    // No cached inventory (a restart, another replica had the agent): the database decides below.
  }

  pqxx::work txn(conn);
  auto loaded = store::load_inventory(txn, cluster);
  if (!loaded) {
    return problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + cluster + "\" has no agent", "", "not-found"));
  }
  // The database keeps the sequence of the last heartbeat written, not of the unchanged ones acknowledged since:
  // any later delta builds on it (protocol::SequenceCheck::kAfterStored). After a restart of fleetd, that is what lets
  // every agent carry on with its next delta instead of sending its whole inventory again.
  auto outcome = protocol::apply_heartbeat(loaded->stored, *envelope, protocol::SequenceCheck::kAfterStored);
  if (!outcome) return problem(call, outcome.error());
  if (auto* resync = std::get_if<protocol::ResyncNeeded>(&*outcome)) {
    txn.abort();  // nothing to write; and seen() may need the connection
    if (options.cache) options.cache->demand_full(cluster);
    seen();
    return reply({{"resync", true}, {"reason", resync->reason}});
  }
  auto& applied = std::get<protocol::HeartbeatApplied>(*outcome);
  if (!envelope->full && applied.changes.empty() && envelope->agent_version == loaded->agent_version) {
    // A delta that changes nothing is not written here either; the cache starts from the stored generation.
    // (A full heartbeat is always written: it may restart the sequence below the stored one.)
    txn.abort();
    seen();
    if (options.cache)
      options.cache->put(cluster, {std::move(applied.stored), loaded->generation, envelope->agent_version});
    return reply(applied_json(envelope->sequence, applied.changes));
  }
  // The agent row is locked by load_inventory, so the compare-and-set cannot lose here.
  if (!store::save_heartbeat(txn, cluster, applied, envelope->agent_version, loaded->generation)) {
    txn.abort();
    if (options.cache) options.cache->demand_full(cluster);
    seen();
    return reply({{"resync", true}, {"reason", "the stored inventory changed while it was read"}});
  }
  txn.commit();
  written(applied, loaded->generation + 1);
  return reply(applied_json(applied.stored.sequence, applied.changes));
}

// The heartbeat's front, on the HTTP thread. A delta from a credential this replica knows, for a cluster whose
// inventory it caches, that changes nothing (or asks for a resync) is answered here: no database worker, no
// queue. Anything else (a full inventory, a change to write, an unknown credential, a liveness write due) goes
// to a database worker and the full handler above, before the cache is touched.
void heartbeat_front(const std::shared_ptr<Call>& call, const http::Respond& respond,
                     const AgentRouteOptions& options) {
  auto to_database = [&](std::shared_ptr<const protocol::HeartbeatEnvelope> parsed) {
    DbJob job;
    job.run = [call, respond, options, parsed](pqxx::connection_base& conn) {
      respond(heartbeat(*call, conn, options, parsed));
    };
    job.fail = [call, respond](const std::string& message) {
      respond(problem(*call, make_error(ErrorCode::kUnavailable, message, "", "unavailable")));
    };
    auto fail = job.fail;
    if (!options.pool->submit(std::move(job)))
      fail("fleetd is overloaded: too many requests are waiting for the database");
  };
  const std::string cluster = call->path["cluster"];
  const std::optional<std::string> hash = agent_credential_hash(*call);
  auto owner = hash ? options.cache->credential_owner(*hash) : std::nullopt;
  if (!owner || *owner != cluster || options.liveness->needs_write_now(cluster)) return to_database(nullptr);
  // Unchanged deltas are a few hundred bytes; a body this large is a full inventory or many changes, both of which
  // go to the database anyway: parse it there, not on an HTTP thread that other agents' heartbeats wait for.
  constexpr std::size_t kFrontParseLimit = 64 * 1024;
  if (call->req.body.size() > kFrontParseLimit) return to_database(nullptr);
  auto parsed = parse_heartbeat(*call);
  if (!parsed) return respond(problem(*call, parsed.error()));
  auto envelope = std::make_shared<const protocol::HeartbeatEnvelope>(std::move(parsed).value());
  if (envelope->full) return to_database(envelope);
  auto fast = options.cache->apply_delta(cluster, *envelope);
  nlohmann::json out;
  if (auto* resync = std::get_if<protocol::ResyncNeeded>(&fast)) {
    out = {{"resync", true}, {"reason", resync->reason}};
  } else if (auto* delta = std::get_if<HeartbeatCache::DeltaApplied>(&fast); delta && !delta->needs_write) {
    out = unchanged_json(delta->sequence);
  } else {
    return to_database(envelope);  // the cache was left as it was: the handler applies the same delta again
  }
  options.liveness->seen(cluster);  // not due at once: checked above
  respond(heartbeat_reply(std::move(out), options, cluster));
}

}  // namespace

std::optional<std::string> agent_credential_hash(const Call& call) {
  const std::string* authz = call.req.header("authorization");
  std::optional<std::string> credential = authz ? bearer_token(*authz) : std::nullopt;
  if (!credential) return std::nullopt;
  return hash_token(*credential);
}

std::optional<http::Response> refuse_agent(const Call& call, pqxx::transaction_base& txn, const std::string& cluster) {
  const std::optional<std::string> hash = agent_credential_hash(call);
  if (!hash) {
    auto resp = problem(call, make_error(ErrorCode::kUnauthenticated, "agent endpoints need the agent's credential", "",
                                         "unauthenticated"));
    resp.headers["www-authenticate"] = "Bearer";
    return resp;
  }
  auto owner = store::find_agent_cluster(txn, *hash);
  if (!owner) {
    return problem(call, make_error(ErrorCode::kUnauthenticated, "unknown agent credential (register again)", "",
                                    "unauthenticated"));
  }
  if (*owner != cluster) {
    return problem(call, make_error(ErrorCode::kForbidden,
                                    "this credential belongs to cluster \"" + *owner + "\", not \"" + cluster + "\"",
                                    "", "forbidden"));
  }
  return std::nullopt;
}

void register_agent_routes(ApiService& api, AgentRouteOptions options) {
  if (options.cache && options.liveness && options.pool) {
    api.add_async_route(
        "POST", "/v1/agents/{cluster}/heartbeat",
        [options](std::shared_ptr<Call> call, http::Respond respond) { heartbeat_front(call, respond, options); });
  } else {
    api.add_db_route("POST", "/v1/agents/{cluster}/heartbeat", std::nullopt,
                     [options](Call& call, pqxx::connection_base& conn) { return heartbeat(call, conn, options); });
  }
  api.add_db_route("POST", "/v1/clusters/{name}/bootstrap-tokens", Role::kOperator, create_bootstrap_token);
  // No API token here: the bootstrap token in the Authorization header is the credential.
  api.add_db_route("POST", "/v1/agents/register", std::nullopt,
                   [options](Call& call, pqxx::connection_base& conn) { return register_agent(call, conn, options); });
}

}  // namespace fleet
