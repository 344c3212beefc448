// POST /v1/agents/{cluster}/heartbeat (DESIGN §5 step 2): the agent's credential must be this cluster's. A full
// inventory replaces the stored one; a delta applies only on top of the stored sequence, otherwise the answer asks
// for a full resync. A delta that changes nothing is answered from the replica's cache without touching the
// database (gateway/heartbeat_cache.hpp), on the HTTP thread when it can be; liveness is recorded in batches
// (gateway/liveness_recorder.hpp). Probe results the heartbeat carries are stored before anything else. Every
// write checks the agent's credential in its own transaction (issue #10): the cache may still know a credential
// that a re-registration, a revocation or a deletion ended a moment ago.
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/auth/credentials.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"
#include "fleetd/handlers/agent_auth.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/database_job.hpp"
#include "fleetd/store/agent_store.hpp"
#include "fleetd/store/inventory_store.hpp"
#include "fleetd/store/probe_store.hpp"
#include "fleetd/store/workload_status_store.hpp"
#include "protocol/heartbeat.hpp"

namespace fleet {
namespace {

using Envelope = std::shared_ptr<const protocol::HeartbeatEnvelope>;

// Unchanged deltas are a few hundred bytes; a body this large is a full inventory or many changes, both of which
// go to the database anyway: it is parsed there, not on an HTTP thread that other agents' heartbeats wait for.
constexpr std::size_t kFrontParseLimit = 64 * 1024;

struct HeartbeatDeps {
  AgentGateway gateway;
  AgentRouteOptions options;
  const Clock& clock;
  DbPool& pool;
  Metrics& metrics;
  ApiService& api;  // the per-source budget of failed authentications
};

nlohmann::json applied_json(std::uint64_t sequence, const protocol::InventoryDelta& changes) {
  return {{"resync", false},
          {"sequence", sequence},
          {"nodesChanged", changes.added.size() + changes.changed.size() + changes.removed.size()}};
}

nlohmann::json unchanged_json(std::uint64_t sequence) {
  return {{"resync", false}, {"sequence", sequence}, {"nodesChanged", 0}};
}

nlohmann::json resync_json(const std::string& reason) {
  return {{"resync", true}, {"reason", reason}};
}

// Every heartbeat answer, from the cache or the database, carries the interval and the command hint.
http::Response heartbeat_reply(nlohmann::json out, const HeartbeatDeps& deps, const std::string& cluster) {
  out["heartbeatIntervalSeconds"] = deps.options.heartbeat_interval_seconds;
  CommandNotifier::Generation ignored = 0;
  out["commandsPending"] = !deps.gateway.notifier.known_empty(cluster, ignored);
  return json_response(200, out.dump());
}

// The GPU model of `node` as this heartbeat reports it (its first GPU's), or "" when it does not carry the node:
// a node's first heartbeat may bring its first probe results too.
std::string gpu_model_in(const protocol::HeartbeatEnvelope& e, const std::string& node) {
  const model::NodeInfo* n = nullptr;
  if (e.inventory) n = e.inventory->find_node(node);
  if (e.delta) {
    for (const auto& added : e.delta->added) {
      if (added.name == node) n = &added;
    }
  }
  return n && !n->gpus.empty() ? n->gpus.front().model : std::string();
}

// RFC 9110's Warning field, as Kubernetes answers unknown fields: `299 - "unknown fields ignored: a, b"`. Only on
// an accepted heartbeat; the paths are quoted-string escaped.
http::Response warn_unknown_fields(http::Response response, const protocol::HeartbeatEnvelope& envelope,
                                   Metrics& metrics) {
  if (envelope.unknown_fields.empty() || response.status / 100 != 2) return response;
  std::string text = "unknown fields ignored: ";
  for (std::size_t i = 0; i < envelope.unknown_fields.size(); ++i) {
    if (i > 0) text += ", ";
    text += envelope.unknown_fields[i];
  }
  std::string quoted = "299 - \"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  response.headers["warning"] = quoted + "\"";
  metrics.observe_heartbeat_unknown_fields();
  return response;
}

// What a heartbeat reports besides the inventory, stored before it in a transaction of its own.
bool carries_reports(const protocol::HeartbeatEnvelope& e) {
  return !e.probe_results.empty() || !e.unguarded_nodes.empty() || !e.workload_statuses.empty();
}

Result<protocol::HeartbeatEnvelope> parse_heartbeat(const Call& call) {
  auto body = api::parse_json_body(call.req, {"application/json"}, protocol::kMaxHeartbeatBytes);
  if (!body) return body.error();
  return protocol::heartbeat_from_json(*body);
}

// One heartbeat on a database worker. It may run again after a serialization failure or deadlock: nothing in
// memory changes before its transaction commits (a resync demand is idempotent).
class DatabaseHeartbeat {
 public:
  DatabaseHeartbeat(Call& call, pqxx::connection_base& conn, const HeartbeatDeps& deps, Envelope parsed)
      : call_(call), conn_(conn), deps_(deps), cluster_(call.path["cluster"]), envelope_(std::move(parsed)) {}

  http::Response run() {
    http::Response response = decide();
    return envelope_ ? warn_unknown_fields(std::move(response), *envelope_, deps_.metrics) : response;
  }

 private:
  http::Response decide() {
    if (auto refused = refuse()) return std::move(*refused);
    if (!envelope_) {
      auto read = parse_heartbeat(call_);
      if (!read) return problem(call_, read.error());
      envelope_ = std::make_shared<const protocol::HeartbeatEnvelope>(std::move(read).value());
    }
    if (carries_reports(*envelope_)) {
      if (auto refused = store_reports()) return std::move(*refused);
    }
    if (!envelope_->full) {
      if (auto answered = from_cache()) return std::move(*answered);
    }
    return from_database();
  }

  // The credential check at the door: from the cache when it knows the credential, else one read. The writes
  // check it again (credential_hash_).
  std::optional<http::Response> refuse() {
    const std::optional<std::string> hash = agent_credential_hash(call_);
    if (hash) {
      credential_hash_ = *hash;
      if (auto owner = deps_.gateway.cache.credential_owner(*hash); owner && *owner == cluster_) return std::nullopt;
    }
    const HeartbeatCache::CredentialEpoch read_at = deps_.gateway.cache.credential_epoch();
    pqxx::nontransaction read(conn_);
    auto refused = refuse_agent(call_, read, cluster_);
    if (!refused && hash) deps_.gateway.cache.remember_credential(*hash, cluster_, read_at);
    remember_if_unknown(call_, refused, deps_.gateway.cache, deps_.api);
    return refused;
  }

  // After a write found the credential no longer valid (or the agent gone): the refusal, if that is why.
  std::optional<http::Response> refuse_stale() {
    pqxx::nontransaction read(conn_);
    return refuse_cached_agent(call_, read, cluster_, deps_.gateway.cache, deps_.api);
  }

  // A delta against this replica's copy; nullopt when it has none (a restart, another replica had the agent).
  std::optional<http::Response> from_cache() {
    auto fast = deps_.gateway.cache.apply_delta(cluster_, *envelope_);
    if (auto* resync = std::get_if<protocol::ResyncNeeded>(&fast)) return answer_resync(resync->reason);
    auto* delta = std::get_if<HeartbeatCache::DeltaApplied>(&fast);
    if (!delta) return std::nullopt;
    if (!delta->needs_write) {
      seen();
      deps_.metrics.observe_heartbeat(Metrics::HeartbeatOutcome::kUnchanged);
      return reply(unchanged_json(delta->sequence));
    }
    const protocol::HeartbeatApplied& applied = *delta->applied;
    pqxx::work txn(conn_);
    if (!save(txn, applied, delta->generation)) {
      txn.abort();
      if (auto refused = refuse_stale()) return std::move(*refused);
      // Another replica wrote this inventory since it was cached here: rebuild from a full one.
      deps_.gateway.cache.demand_full(cluster_);
      return answer_resync("the stored inventory changed since this replica read it");
    }
    txn.commit();
    written(applied, delta->generation + 1);
    deps_.metrics.observe_heartbeat(Metrics::HeartbeatOutcome::kChanged);
    return reply(applied_json(applied.stored.sequence, applied.changes));
  }

  http::Response from_database() {
    pqxx::work txn(conn_);
    auto loaded = store::load_inventory(txn, cluster_, credential_hash_);
    if (!loaded) {
      if (auto refused = refuse_cached_agent(call_, txn, cluster_, deps_.gateway.cache, deps_.api))
        return std::move(*refused);
      return problem(call_,
                     make_error(ErrorCode::kNotFound, "cluster \"" + cluster_ + "\" has no agent", "", "not-found"));
    }
    // The database keeps the sequence of the last heartbeat written, not of the unchanged ones acknowledged since:
    // any later delta builds on it (SequenceCheck::kAfterStored). After a restart of fleetd, that is what lets
    // every agent carry on with its next delta instead of sending its whole inventory again.
    auto outcome = protocol::apply_heartbeat(loaded->stored, *envelope_, protocol::SequenceCheck::kAfterStored);
    if (!outcome) return problem(call_, outcome.error());
    if (auto* resync = std::get_if<protocol::ResyncNeeded>(&*outcome)) {
      txn.abort();  // nothing to write; and seen() may need the connection
      deps_.gateway.cache.demand_full(cluster_);
      return answer_resync(resync->reason);
    }
    auto& applied = std::get<protocol::HeartbeatApplied>(*outcome);
    if (!envelope_->full && applied.changes.empty() && envelope_->agent_version == loaded->agent_version) {
      // A delta that changes nothing is not written here either; the cache starts from the stored generation.
      // (A full heartbeat is always written: it may restart the sequence below the stored one.)
      txn.abort();
      seen();
      deps_.metrics.observe_heartbeat(Metrics::HeartbeatOutcome::kUnchanged);
      deps_.gateway.cache.put(cluster_, {std::move(applied.stored), loaded->generation, envelope_->agent_version});
      return reply(applied_json(envelope_->sequence, applied.changes));
    }
    // The agent row is locked by load_inventory, so the compare-and-set cannot lose here.
    if (!save(txn, applied, loaded->generation)) {
      txn.abort();
      deps_.gateway.cache.demand_full(cluster_);
      return answer_resync("the stored inventory changed while it was read");
    }
    txn.commit();
    written(applied, loaded->generation + 1);
    deps_.metrics.observe_heartbeat(envelope_->full ? Metrics::HeartbeatOutcome::kFull
                                                    : Metrics::HeartbeatOutcome::kChanged);
    return reply(applied_json(applied.stored.sequence, applied.changes));
  }

  // Probe results, unguarded nodes and workload statuses first, in a transaction of their own: they do not depend
  // on the inventory's base, so every 2xx answer (a resync included) means they are kept, and a resent heartbeat
  // stores no probe twice (by probe id) nor an older workload status over a newer one (by generation). An
  // unguarded node is an audited event (actor the agent) and a metric. The credential is checked in the same
  // transaction; a refusal is the answer.
  std::optional<http::Response> store_reports() {
    pqxx::work txn(conn_);
    if (auto refused = refuse_cached_agent(call_, txn, cluster_, deps_.gateway.cache, deps_.api)) return refused;
    const std::vector<std::size_t> stored =
        store::insert_probe_results(txn, cluster_, envelope_->probe_results,
                                    [this](const std::string& node) { return gpu_model_in(*envelope_, node); });
    for (const protocol::UnguardedNode& u : envelope_->unguarded_nodes) {
      store::AuditEntry e =
          audit_entry(call_, "node.unguarded", "node", cluster_ + "/" + u.node, "success", protocol::to_json(u));
      e.actor = "agent:" + cluster_;
      store::write_audit(txn, e);
    }
    store::save_workload_statuses(txn, cluster_, envelope_->workload_statuses, deps_.clock.wall_now());
    txn.commit();
    for (const protocol::UnguardedNode& u : envelope_->unguarded_nodes) {
      deps_.metrics.observe_unguarded_node(u.seconds.value_or(0), u.pods.value_or(0));
    }
    for (std::size_t i : stored) {
      const protocol::ProbeResult& r = envelope_->probe_results[i];
      deps_.metrics.observe_probe_result(r.verdict, r.failed_checks,
                                         std::chrono::duration<double>(r.finished_at - r.started_at).count());
    }
    return std::nullopt;
  }

  bool save(pqxx::transaction_base& txn, const protocol::HeartbeatApplied& applied, std::int64_t generation) {
    return store::save_heartbeat(txn, cluster_, credential_hash_, applied, envelope_->agent_version, generation,
                                 deps_.clock.wall_now());
  }
  void seen() {
    if (deps_.gateway.liveness.seen(cluster_, credential_hash_)) {
      deps_.gateway.liveness.write_now(conn_, cluster_, credential_hash_);
    }
  }
  void written(const protocol::HeartbeatApplied& applied, std::int64_t generation) {
    deps_.gateway.cache.put(cluster_, {applied.stored, generation, envelope_->agent_version});
    deps_.gateway.liveness.written(cluster_);
  }
  http::Response answer_resync(const std::string& reason) {
    seen();
    deps_.metrics.observe_heartbeat(Metrics::HeartbeatOutcome::kResync);
    return reply(resync_json(reason));
  }
  http::Response reply(nlohmann::json out) { return heartbeat_reply(std::move(out), deps_, cluster_); }

  Call& call_;
  pqxx::connection_base& conn_;
  const HeartbeatDeps& deps_;
  std::string cluster_;
  std::string credential_hash_;  // the request's, set by refuse()
  Envelope envelope_;
};

// The heartbeat's front, on the HTTP thread. A delta from a credential this replica knows, for a cluster whose
// inventory it caches, that changes nothing (or asks for a resync) is answered here: no database worker, no
// queue. Anything else (a full inventory, a change to write, an unknown credential, a liveness write due) goes
// to a database worker and DatabaseHeartbeat, before the cache is touched.
void heartbeat_front(const std::shared_ptr<Call>& call, const http::Respond& respond,
                     const std::shared_ptr<const HeartbeatDeps>& deps) {
  auto to_database = [&](const Envelope& parsed) {
    run_on_database(deps->pool, call, respond, [call, respond, deps, parsed](pqxx::connection_base& conn) {
      respond(DatabaseHeartbeat(*call, conn, *deps, parsed).run());
    });
  };
  const std::string cluster = call->path["cluster"];
  const std::optional<std::string> hash = agent_credential_hash(*call);
  auto owner = hash ? deps->gateway.cache.credential_owner(*hash) : std::nullopt;
  if (!owner) {
    if (auto refused = refuse_without_lookup(*call, deps->gateway.cache, deps->api))
      return respond(std::move(*refused));
  }
  if (!owner || *owner != cluster || deps->gateway.liveness.needs_write_now(cluster)) return to_database(nullptr);
  if (call->req.body.size() > kFrontParseLimit) return to_database(nullptr);
  auto parsed = parse_heartbeat(*call);
  if (!parsed) return respond(problem(*call, parsed.error()));
  auto envelope = std::make_shared<const protocol::HeartbeatEnvelope>(std::move(parsed).value());
  if (envelope->full || carries_reports(*envelope)) {
    return to_database(envelope);
  }
  auto fast = deps->gateway.cache.apply_delta(cluster, *envelope);
  nlohmann::json out;
  if (auto* resync = std::get_if<protocol::ResyncNeeded>(&fast)) {
    out = resync_json(resync->reason);
    deps->metrics.observe_heartbeat(Metrics::HeartbeatOutcome::kResync);
  } else if (auto* delta = std::get_if<HeartbeatCache::DeltaApplied>(&fast); delta && !delta->needs_write) {
    out = unchanged_json(delta->sequence);
    deps->metrics.observe_heartbeat(Metrics::HeartbeatOutcome::kUnchanged);
  } else {
    return to_database(envelope);  // the cache was left as it was: the handler applies the same delta again
  }
  deps->gateway.liveness.seen(cluster, *hash);  // not due at once: checked above
  respond(warn_unknown_fields(heartbeat_reply(std::move(out), *deps, cluster), *envelope, deps->metrics));
}

}  // namespace

namespace {

constexpr std::string_view kHeartbeatPrefix = "/v1/agents/";
constexpr std::string_view kHeartbeatSuffix = "/heartbeat";

// The {cluster} of a heartbeat target, as sent (cluster names are DNS labels: an encoded one matches no agent).
std::optional<std::string_view> heartbeat_cluster(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.size() <= kHeartbeatPrefix.size() + kHeartbeatSuffix.size() ||
      path.substr(0, kHeartbeatPrefix.size()) != kHeartbeatPrefix ||
      path.substr(path.size() - kHeartbeatSuffix.size()) != kHeartbeatSuffix) {
    return std::nullopt;
  }
  return path.substr(kHeartbeatPrefix.size(), path.size() - kHeartbeatPrefix.size() - kHeartbeatSuffix.size());
}

}  // namespace

bool allows_large_body(std::string_view method, std::string_view target) {
  return method == "POST" && heartbeat_cluster(target).has_value();
}

std::function<void(std::string_view, std::string_view, std::function<void(bool)>)> heartbeat_body_authorizer(
    HeartbeatCache& cache, DbPool& pool) {
  return [&cache, &pool](std::string_view target, std::string_view authorization,
                         const std::function<void(bool)>& verdict) {
    const auto cluster = heartbeat_cluster(target);
    const auto credential = bearer_token(authorization);
    if (!cluster || !credential) return verdict(false);
    std::string hash = hash_token(*credential);
    if (auto owner = cache.credential_owner(hash)) return verdict(*owner == *cluster);
    if (cache.known_unknown_credential(hash)) return verdict(false);
    const HeartbeatCache::CredentialEpoch read_at = cache.credential_epoch();
    DbJob job;
    job.run = [&cache, hash, cluster = std::string(*cluster), read_at, verdict](pqxx::connection_base& conn) {
      pqxx::nontransaction read(conn);
      const auto owner = store::find_agent_cluster(read, hash);
      if (owner) {
        cache.remember_credential(hash, *owner, read_at);
      } else {
        cache.remember_unknown_credential(hash);
      }
      verdict(owner && *owner == cluster);
    };
    job.fail = [verdict](const DbFailure&) { verdict(false); };
    job.request_id = "large-body-check";
    if (!pool.submit(std::move(job))) verdict(false);
  };
}

void register_heartbeat_routes(ApiService& api, AgentGateway gateway, AgentRouteOptions options) {
  auto deps = std::make_shared<const HeartbeatDeps>(
      HeartbeatDeps{gateway, options, api.clock(), api.pool(), api.metrics(), api});
  api.set_routine("/v1/agents/{cluster}/heartbeat");  // one a cluster every interval: debug unless refused
  api.add_async_route("POST", "/v1/agents/{cluster}/heartbeat",
                      [deps](const std::shared_ptr<Call>& call, const http::Respond& respond) {
                        heartbeat_front(call, respond, deps);
                      });
}

}  // namespace fleet
