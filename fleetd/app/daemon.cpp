#include "fleetd/app/daemon.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <pqxx/pqxx>
#include <thread>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/stop_signals.hpp"
#include "fleetd/app/database.hpp"
#include "fleetd/app/local_access.hpp"
#include "fleetd/app/operator_metrics.hpp"
#include "fleetd/app/tls_setup.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/db/migrations.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/credential_listener.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"
#include "fleetd/gateway/warm_start.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/api_service.hpp"
#include "fleetd/http/metrics.hpp"
#include "fleetd/loops/auto_upgrade_loop.hpp"
#include "fleetd/loops/fleet_gauges.hpp"
#include "fleetd/loops/lease_sweeper.hpp"
#include "fleetd/loops/liveness_monitor.hpp"
#include "fleetd/loops/placement_loop.hpp"
#include "fleetd/loops/record_sweeper.hpp"
#include "fleetd/loops/rollout_executor.hpp"
#include "fleetd/store/cluster_store.hpp"
#include "fleetd/store/token_store.hpp"
#include "fleetd/store/version_store.hpp"
#include "net/http_server.hpp"
#include "net/listen_address.hpp"
#include "protocol/heartbeat.hpp"

namespace fs = std::filesystem;

namespace fleet {
namespace {

std::chrono::seconds unreachable_after(const ServeConfig& cfg) {
  return std::chrono::seconds(cfg.unreachable_after_seconds ? cfg.unreachable_after_seconds
                                                            : 3 * cfg.heartbeat_interval_seconds);
}

DbPoolOptions pool_options(const ServeConfig& cfg, const std::string& url) {
  DbPoolOptions o;
  o.url = url;
  o.connections =
      cfg.db_connections ? cfg.db_connections : std::clamp(2 * std::thread::hardware_concurrency(), 4u, 32u);
  o.max_queue = 4096;
  o.max_queue_wait = std::chrono::milliseconds(10000);
  o.on_connect = [](pqxx::connection_base& conn) {
    store::prepare_cluster_statements(conn);
    store::prepare_token_statements(conn);
  };
  return o;
}

// Everything fleetd runs, built in dependency order and stopped in reverse (members are declared in that order).
class Daemon {
 public:
  Daemon(const ServeConfig& cfg, const BuildInfo& build, const std::string& database_url)
      : cfg_(cfg),
        build_(build),
        database_url_(database_url),
        pool_(pool_options(cfg, database_url), clock_),
        api_(pool_, metrics_, clock_,
             {std::chrono::seconds(5),
              {static_cast<double>(cfg.auth_failure_burst), static_cast<double>(cfg.auth_failures_per_minute)},
              build.version,
              build.commit}),
        notifier_({database_url}, clock_),
        recorder_(pool_, clock_,
                  {liveness_persist_every(std::chrono::seconds(cfg.heartbeat_interval_seconds), unreachable_after(cfg)),
                   std::chrono::duration_cast<std::chrono::milliseconds>(unreachable_after(cfg)),
                   std::chrono::milliseconds(250)}),
        lease_sweeper_({database_url, static_cast<int>(cfg.command_max_attempts)}, clock_),
        record_sweeper_({database_url, std::chrono::seconds(cfg.record_sweep_seconds)}, clock_),
        auto_upgrade_({database_url, std::chrono::seconds(cfg.auto_upgrade_seconds)}, clock_),
        liveness_({database_url, std::chrono::seconds(cfg.heartbeat_interval_seconds), unreachable_after(cfg)}, clock_),
        fleet_gauges_(database_url, std::chrono::seconds(15), clock_),
        rollouts_({database_url}, clock_),
        placement_({database_url}, clock_) {
    metrics_.set_build_info(build.version, build.commit);
    register_routes();
  }

  // Before listening: what every agent's heartbeat and poll needs, read in bulk (gateway/warm_start.hpp). The
  // notifier and the credential listener listen first, so a command queued meanwhile still reaches its agent and
  // a credential ended meanwhile is not primed.
  void warm_up() {
    notifier_.start();
    credential_listener_.start();
    for (int i = 0; i < 50 && !(notifier_.listening() && credential_listener_.listening()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    try {
      pqxx::connection conn(database_url_);
      const WarmStartTotals warm = warm_start(conn, cache_, recorder_, notifier_, clock_);
      log::info("warm start", {{"agents", warm.agents},
                               {"inventories", warm.inventories},
                               {"quietClusters", warm.quiet_clusters},
                               {"ms", warm.took.count()}});
    } catch (const std::exception& e) {
      // Not fatal: heartbeats and polls then find their answers in the database, one by one.
      log::warn("warm start failed; agents are served from the database until cached", {{"error", e.what()}});
    }
  }

  Result<http::Server*> listen(const std::pair<std::string, unsigned short>& address, const ServingTls& tls) {
    http::ServerOptions o;
    o.host = address.first;
    o.port = address.second;
    o.threads = cfg_.http_threads;
    o.limits.max_body_bytes = cfg_.max_body_bytes;
    // A full inventory of a large cluster is several MiB: the heartbeat is the one request allowed more, and only
    // from the cluster's agent, checked before the body is read.
    o.limits.large_body_bytes = std::max(cfg_.max_body_bytes, protocol::kMaxHeartbeatBytes);
    o.limits.allows_large_body = allows_large_body;
    o.limits.authorize_large_body = heartbeat_body_authorizer(cache_, pool_);
    o.limits.max_header_bytes = cfg_.max_header_bytes;
    o.limits.max_connections = cfg_.max_connections;
    o.limits.max_connections_per_source = cfg_.max_connections_per_source;
    o.tls_cert_file = tls.cert_file;
    o.tls_key_file = tls.key_file;
    auto server = http::Server::create(
        o, [this](http::Request req, http::Respond respond) { api_.handle(std::move(req), std::move(respond)); });
    if (!server) return server.error();
    server_ = std::move(*server);
    register_gauges();
    lease_sweeper_.start();
    record_sweeper_.start();
    auto_upgrade_.start();
    liveness_.start();
    fleet_gauges_.start();
    rollouts_.start();
    placement_.start();
    recorder_.start();
    return server_.get();
  }

  // Serves until SIGTERM/SIGINT (taken by one thread with sigwait from `signals`), then stops in order.
  void run(sigset_t signals) {
    std::thread signal_thread([&] {
      int sig = 0;
      sigwait(&signals, &sig);
      log::info("shutting down", {{"signal", sig}});
      notifier_.stop();  // held long polls answer at once (empty), so they do not hold up the grace period
      server_->shutdown(std::chrono::seconds(cfg_.shutdown_grace_seconds));
    });
    server_->run();
    // run() returns after shutdown(); wake the signal thread if run() ended for another reason.
    // SIGTERM is blocked in every thread; this one consumes it in sigwait, nothing is terminated.
    pthread_kill(signal_thread.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
    signal_thread.join();
    liveness_.stop();
    fleet_gauges_.stop();
    rollouts_.stop();
    placement_.stop();
    lease_sweeper_.stop();
    record_sweeper_.stop();
    auto_upgrade_.stop();
    recorder_.stop();  // before the pool: its last batch goes through it
    notifier_.stop();
    credential_listener_.stop();
    pool_.stop();
  }

 private:
  void register_routes() {
    const AgentGateway gateway{cache_, recorder_, notifier_};
    const AgentRouteOptions agent_options{cfg_.heartbeat_interval_seconds};
    register_system_routes(api_, metrics_,
                           {build_.version, build_.commit, build_.date, [](pqxx::connection_base& conn) -> Status {
                              auto v = check_migrations(conn, bundled_migrations());
                              if (!v) return v.error();
                              return Ok{};
                            }});
    register_cluster_routes(api_, cache_);
    register_token_routes(api_);
    register_agent_routes(api_, cache_, agent_options);
    register_heartbeat_routes(api_, gateway, agent_options);
    register_inventory_routes(api_);
    register_probe_routes(api_);
    register_admission_routes(api_);
    register_version_routes(api_);
    register_strategy_routes(api_);
    register_rollout_routes(api_, clock_);
    register_auto_upgrade_routes(api_, clock_);
    register_workload_routes(api_);
    register_override_routes(api_);
    register_placement_routes(api_);
    register_command_routes(api_);
    register_command_poll_routes(
        api_, gateway, {std::chrono::seconds(cfg_.command_lease_seconds), static_cast<int>(cfg_.command_max_attempts)});
  }

  void register_gauges() {
    auto gauge = [this](const char* name, const char* help, auto read) {
      metrics_.add_gauge(name, help, [read] { return static_cast<double>(read()); });
    };
    // Values that only grow are counters (…_total), so rate() and increase() work on them (issue #16).
    auto counter = [this](const char* name, const char* help, auto read) {
      metrics_.add_counter(name, help, [read] { return static_cast<double>(read()); });
    };
    gauge("fleetd_db_pool_connections", "Database connections in the pool.", [this] { return pool_.size(); });
    gauge("fleetd_db_pool_in_use", "Database connections running a job.", [this] { return pool_.in_use(); });
    gauge("fleetd_db_pool_waiting", "Jobs queued for a database connection.", [this] { return pool_.waiting(); });
    counter("fleetd_db_retries_total", "Database jobs run again after a serialization failure or deadlock.",
            [this] { return pool_.retries(); });
    gauge("fleetd_http_open_connections", "Open HTTP connections.", [this] { return server_->open_connections(); });
    gauge("fleetd_http_in_flight_requests", "HTTP requests being handled.",
          [this] { return server_->in_flight_requests(); });
    gauge("fleetd_command_polls_waiting", "Agent command long polls held in memory.",
          [this] { return notifier_.waiters(); });
    counter("fleetd_command_leases_expired_total", "Command leases this replica returned to the queue.",
            [this] { return lease_sweeper_.requeued(); });
    counter("fleetd_command_lease_failures_total", "Commands this replica failed after too many expired leases.",
            [this] { return lease_sweeper_.failed(); });
    counter("fleetd_clusters_marked_unreachable_total", "Clusters this replica marked unreachable.",
            [this] { return liveness_.marked_unreachable(); });
    gauge("fleetd_heartbeat_cache_clusters", "Clusters whose inventory this replica holds in memory.",
          [this] { return cache_.size(); });
    counter("fleetd_liveness_rows_written_total", "Heartbeat times written to clusters.last_heartbeat in batches.",
            [this] { return recorder_.rows_written(); });
    metrics_.add_gauge_family("fleetd_gpu_nodes",
                              "GPU nodes by admission state, fleet-wide (every replica: use max()).", "admission",
                              [this] { return fleet_gauges_.counts().gpu_nodes_by_admission; });
    auto table = [](const std::map<std::pair<std::string, std::string>, std::int64_t>& counts) {
      std::map<Metrics::LabelValues, std::int64_t> out;
      for (const auto& [key, n] : counts) out[{key.first, key.second}] = n;
      return out;
    };
    metrics_.add_gauge_table("fleetd_clusters",
                             "Clusters by state and provider, fleet-wide (every replica: use max()).",
                             {"state", "provider"}, [this, table] { return table(fleet_gauges_.counts().clusters); });
    metrics_.add_gauge_table("fleetd_commands_open",
                             "Agent commands queued, leased or running, by state and kind, fleet-wide (use max()).",
                             {"state", "kind"}, [this, table] { return table(fleet_gauges_.counts().open_commands); });
    register_rollout_gauges();
    register_placement_gauges();
    register_operator_gauges();
  }

  void register_rollout_gauges() {
    auto counter = [this](const char* name, const char* help, auto read) {
      metrics_.add_counter(name, help, [read] { return static_cast<double>(read()); });
    };
    metrics_.add_gauge_family("fleetd_rollouts", "Update runs by state, fleet-wide (from the executing replica).",
                              "state", [this] { return rollouts_.stats().runs_by_state; });
    metrics_.add_counter_family("fleetd_rollout_members_finished_total",
                                "Rollout members this replica's executor saw finish, by result.", "result", [this] {
                                  const auto s = rollouts_.stats();
                                  return std::map<std::string, std::int64_t>{
                                      {"succeeded", static_cast<std::int64_t>(s.members_succeeded)},
                                      {"failed", static_cast<std::int64_t>(s.members_failed)},
                                      {"skipped", static_cast<std::int64_t>(s.members_skipped)}};
                                });
    counter("fleetd_rollout_executor_rounds_total", "Update-run decisions this replica's executor made.",
            [this] { return rollouts_.stats().rounds; });
    counter("fleetd_rollout_executor_errors_total", "Executor rounds that failed and were retried.",
            [this] { return rollouts_.stats().errors; });
    counter("fleetd_auto_upgrade_runs_created_total",
            "Update runs this replica created for auto-upgrade profiles (one per profile and release).",
            [this] { return auto_upgrade_.runs_created(); });
    metrics_.add_gauge("fleetd_rollout_executor_leader", "1 when this replica executes update runs.",
                       [this] { return rollouts_.stats().leader ? 1.0 : 0.0; });
    metrics_.add_histogram_family(
        "fleetd_rollout_decision_seconds", "Executor decisions on one run: read, decide, write and commit.", "",
        [this] {
          return std::map<std::string, DurationHistogram>{{"", rollouts_.stats().decision_seconds}};
        });
    metrics_.add_histogram_family("fleetd_rollout_step_seconds",
                                  "Rollout member steps, their agent command queued to finished, by kind.", "kind",
                                  [this] { return rollouts_.stats().step_seconds; });
    metrics_.add_histogram_family(
        "fleetd_rollout_node_upgrade_seconds",
        "Node upgrades in rollouts (cordon, drain, upgrade, probe): a node pool step's time per node.", "", [this] {
          return std::map<std::string, DurationHistogram>{{"", rollouts_.stats().node_seconds}};
        });
  }

  // The operator's view of fleetd itself (issue #16): loops, database jobs, connected agents.
  void register_operator_gauges() {
    const auto connected_within = std::chrono::duration_cast<std::chrono::milliseconds>(unreachable_after(cfg_));
    register_operator_metrics(metrics_, {[this] {
                                           return std::map<std::string, LoopStats::Snapshot>{
                                               {"liveness", liveness_.loop_stats()},
                                               {"fleet-gauges", fleet_gauges_.loop_stats()},
                                               {"command-leases", lease_sweeper_.loop_stats()},
                                               {"record-sweeper", record_sweeper_.loop_stats()},
                                               {"auto-upgrade", auto_upgrade_.loop_stats()},
                                               {"rollouts", rollouts_.loop_stats()},
                                               {"placement", placement_.loop_stats()}};
                                         },
                                         [this] { return pool_.job_stats(); },
                                         [this, connected_within] { return recorder_.connected(connected_within); }});
  }

  void register_placement_gauges() {
    auto count = [this](const char* name, const char* help, std::uint64_t PlacementLoopStats::*field) {
      metrics_.add_counter(name, help, [this, field] { return static_cast<double>(placement_.stats().*field); });
    };
    count("fleetd_placement_rounds_total", "Placement loop rounds on this replica (each one transaction).",
          &PlacementLoopStats::rounds);
    count("fleetd_placement_errors_total", "Placement loop rounds that failed and were retried.",
          &PlacementLoopStats::errors);
    count("fleetd_placement_decisions_total", "Workload placement decisions this replica wrote.",
          &PlacementLoopStats::decisions);
    count("fleetd_placement_commands_total", "apply_workload and delete_workload commands this replica queued.",
          &PlacementLoopStats::commands);
    metrics_.add_gauge("fleetd_placement_leader", "1 when this replica runs the placement loop.",
                       [this] { return placement_.stats().leader ? 1.0 : 0.0; });
    metrics_.add_histogram_family(
        "fleetd_placement_decision_seconds", "The engine's decision for one workload.", "", [this] {
          return std::map<std::string, DurationHistogram>{{"", placement_.stats().decision_seconds}};
        });
    metrics_.add_histogram_family(
        "fleetd_placement_round_seconds", "Placement rounds: read, decide the batch, write and commit.", "", [this] {
          return std::map<std::string, DurationHistogram>{{"", placement_.stats().round_seconds}};
        });
    metrics_.add_gauge_family("fleetd_workloads", "Workloads by state, fleet-wide (from the placing replica).", "state",
                              [this] { return placement_.stats().workloads_by_state; });
    auto gpus = [this](std::int64_t PlacementLoopStats::Gpus::*field) {
      std::map<std::string, std::int64_t> out;
      for (const auto& [model, g] : placement_.stats().gpus_by_model) out[model] = g.*field;
      return out;
    };
    metrics_.add_gauge_family("fleetd_placement_gpus_bound",
                              "Admitted healthy GPUs in use (bound or reported by agents), by model.", "model",
                              [gpus] { return gpus(&PlacementLoopStats::Gpus::bound); });
    metrics_.add_gauge_family("fleetd_placement_gpus_free",
                              "Admitted healthy GPUs free on schedulable nodes, by model.", "model",
                              [gpus] { return gpus(&PlacementLoopStats::Gpus::free); });
  }

  const ServeConfig& cfg_;
  const BuildInfo& build_;
  std::string database_url_;
  const Clock& clock_ = system_clock();
  Metrics metrics_;
  DbPool pool_;
  ApiService api_;
  CommandNotifier notifier_;
  // Heartbeats that change nothing cost no SQL; their times reach clusters.last_heartbeat in batches.
  HeartbeatCache cache_{clock_};
  CredentialListener credential_listener_{database_url_, cache_};  // ended agent credentials, from every replica
  LivenessRecorder recorder_;
  // The command queue's leases and agent liveness: loops that run on one replica at a time.
  LeaseSweeper lease_sweeper_;
  RecordSweeper record_sweeper_;  // spent idempotency records and bootstrap tokens
  AutoUpgradeLoop auto_upgrade_;  // runs for the releases auto-upgrade profiles select (one replica a round)
  LivenessMonitor liveness_;
  FleetGauges fleet_gauges_;  // fleetd_gpu_nodes{admission}, fleetd_clusters{state,provider}, fleetd_commands_open
  RolloutExecutor rollouts_;  // carries update runs forward (one replica at a time)
  PlacementLoop placement_;   // places workloads and follows their bindings (one replica at a time)
  std::unique_ptr<http::Server> server_;
};

// What a started fleetd prints, and the local access files of the embedded mode.
Status announce(const ServeConfig& cfg, const BuildInfo& build, const ServingTls& tls, const Database& db,
                const http::Server& server) {
  const std::string scheme = tls.mode == TlsMode::kOff ? "http://" : "https://";
  if (!cfg.port_file.empty()) {
    if (auto st = write_private_file(cfg.port_file, server.bound_address() + "\n"); !st) return st;
  }
  log::info("listening", {{"address", server.bound_address()}, {"version", build.version}});
  std::cout << "fleetd " << build.version << " listening on " << scheme << server.bound_address() << "\n";
  if (tls.mode == TlsMode::kAuto) {
    if (tls.created_ca) log::info("created a new CA for --tls auto", {{"caFile", tls.client_ca_file}});
    std::cout << "CA certificate: " << tls.client_ca_file << " — give it to agents and fleetctl with --ca-file\n";
  }
  if (db.embedded) {
    fs::path dir = fs::absolute(cfg.data_dir);
    const std::string local = scheme + local_dial_address(server.bound_address());
    if (auto st = write_local_access(db.url, dir, local, tls.client_ca_file); !st) {
      log::error("cannot write local access files", {{"error", st.error().message}});
    } else {
      std::cout << "admin token and fleetctl config written to " << dir.string() << " (mode 0600)\n"
                << "point fleetctl at it:  export FLEETCTL_CONFIG=" << (dir / "fleetctl.json").string() << "\n";
    }
  }
  std::cout.flush();
  return Ok{};
}

// The shipped version catalog, on the first start against a database (store/version_store.hpp).
Status seed_version_catalog(const std::string& url) {
  try {
    pqxx::connection conn(url);
    pqxx::work txn(conn);
    auto seeded = store::seed_if_empty(txn);
    if (!seeded) return seeded.error();
    txn.commit();
    if (*seeded) log::info("version catalog loaded", {{"entries", *seeded}});
    return Ok{};
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kUnavailable, std::string("cannot load the version catalog: ") + e.what());
  }
}

int fail(const std::string& what, const Error& error, int code = 1) {
  log::error(what, {{"error", error.message}});
  std::cerr << "fleetd: " << error.message << "\n";
  return code;
}

}  // namespace

int serve(const ServeConfig& cfg, const BuildInfo& build) {
  log::set_component("fleetd");
  // The values come from a flag, FLEETD_LOG_* or the config file, so they are checked here, not by the flag parser.
  if (!log::set_format(cfg.log_format)) {
    return fail("bad log format", make_error(ErrorCode::kInvalid, "--log-format must be auto, console or json"), 2);
  }
  if (!log::parse_level(cfg.log_level)) {
    return fail("bad log level", make_error(ErrorCode::kInvalid, "--log-level must be debug, info, warn or error"), 2);
  }
  log::set_min_level(cfg.log_level);
  auto listen = http::parse_listen_address(cfg.listen, "--listen");
  if (!listen) return fail("bad listen address", listen.error(), 2);
  // Before the database starts: a refused plain-HTTP address is a usage error and costs nothing.
  auto tls = prepare_tls({cfg.tls, cfg.tls_cert, cfg.tls_key, cfg.tls_ca, cfg.tls_sans}, listen->first, cfg.data_dir);
  if (!tls) return fail("bad TLS settings", tls.error(), tls.error().code == ErrorCode::kInvalid ? 2 : 1);

  // Signals are taken by one thread with sigwait; every other thread inherits the blocked mask.
  sigset_t signals = block_stop_signals();
  auto db = open_database(cfg.database_url, cfg.data_dir);
  if (!db) return fail("cannot start the database", db.error());
  if (db->embedded) {
    log::info("embedded PostgreSQL ready",
              {{"socketDir", db->embedded->socket_dir().string()}, {"adopted", db->embedded->adopted()}});
  }
  if (auto st = migrate(db->url); !st) return fail("migrations failed", st.error());
  if (auto st = seed_version_catalog(db->url); !st) return fail("version catalog failed", st.error());

  {
    Daemon daemon(cfg, build, db->url);
    daemon.warm_up();
    auto server = daemon.listen(*listen, *tls);
    if (!server) return fail("cannot listen", server.error());
    if (auto st = announce(cfg, build, *tls, *db, **server); !st) return fail("cannot write the port file", st.error());
    daemon.run(signals);
  }
  if (db->embedded) db->embedded->stop();
  log::info("stopped");
  return 0;
}

}  // namespace fleet
