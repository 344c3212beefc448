// fleetd: wires configuration, the database (embedded or external), migrations, the API and the HTTP server.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "api/json_body.hpp"
#include "common/log.hpp"
#include "common/stop_signals.hpp"
#include "fleetd/app/config.hpp"
#include "fleetd/app/tls_setup.hpp"
#include "fleetd/db/db_pool.hpp"
#include "fleetd/db/embedded_postgres.hpp"
#include "fleetd/db/migrations.hpp"
#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"
#include "fleetd/gateway/warm_start.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/api_service.hpp"
#include "fleetd/http/metrics.hpp"
#include "fleetd/loops/lease_sweeper.hpp"
#include "fleetd/loops/liveness_monitor.hpp"
#include "fleetd/store/cluster_store.hpp"
#include "fleetd/store/token_store.hpp"
#include "net/http_server.hpp"

#ifndef FLEET_VERSION
#define FLEET_VERSION "0.0.0"
#endif
#ifndef FLEET_GIT_COMMIT
#define FLEET_GIT_COMMIT "unknown"
#endif
#ifndef FLEET_BUILD_DATE
#define FLEET_BUILD_DATE "unknown"
#endif

namespace fs = std::filesystem;
using namespace fleet;

namespace {

struct Database {
  std::string url;
  std::unique_ptr<EmbeddedPostgres> embedded;  // null with --database-url
};

// The embedded server of a fleetd that runs now: postmaster.pid names its socket directory and port
// (PostgreSQL's documented layout: pid, data dir, start time, port, socket dir, …).
std::optional<std::string> running_embedded_url(const std::string& data_dir) {
  std::ifstream in(fs::path(data_dir) / "pg" / "postmaster.pid");
  std::vector<std::string> lines;
  for (std::string line; lines.size() < 5 && std::getline(in, line);) lines.push_back(line);
  if (lines.size() < 5) return std::nullopt;
  pid_t pid = static_cast<pid_t>(std::atol(lines[0].c_str()));
  if (pid <= 0 || ::kill(pid, 0) != 0) return std::nullopt;
  std::string url = "host=" + lines[4] + " port=" + lines[3] + " dbname=fleet user=fleet";
  try {
    pqxx::connection probe(url);
    return url;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Result<Database> open_database(const std::string& database_url, const std::string& data_dir) {
  Database db;
  if (!database_url.empty()) {
    db.url = database_url;
    return db;
  }
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return make_error(ErrorCode::kInvalid, "cannot create data directory " + data_dir + ": " + ec.message());
  EmbeddedPostgresOptions opts;
  opts.data_dir = fs::absolute(data_dir);
  auto pg = EmbeddedPostgres::start(opts);
  if (!pg) return pg.error();
  db.url = (*pg)->connection_url();
  db.embedded = std::move(*pg);
  return db;
}

// For the offline token commands: the running fleetd's embedded server when there is one (left running),
// else a server started for this command alone (stopped when it ends), else --database-url.
Result<Database> open_offline_database(const std::string& database_url, const std::string& data_dir) {
  if (database_url.empty()) {
    if (auto url = running_embedded_url(data_dir)) return Database{*url, nullptr};
  }
  return open_database(database_url, data_dir);
}

Status migrate(const std::string& url) {
  try {
    pqxx::connection conn(url);
    auto report = apply_migrations(conn, bundled_migrations());
    if (!report) return report.error();
    log::info("schema ready", {{"version", report->current_version}, {"appliedNow", report->applied_now}});
    return Ok{};
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kUnavailable, std::string("cannot connect to the database: ") + e.what());
  }
}

Status write_private_file(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(ErrorCode::kInternal, "cannot write " + tmp.string());
    ::chmod(tmp.c_str(), 0600);
    out << content;
    if (!out.flush()) return make_error(ErrorCode::kInternal, "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot write " + path.string() + ": " + ec.message());
  return Ok{};
}

// In the embedded mode the data directory holds a first admin token and a fleetctl config pointing at this
// fleetd, so that a fresh install is usable without any bootstrap ceremony.
Status write_local_access(const std::string& url, const fs::path& data_dir, const std::string& server_url,
                          const std::string& ca_file) {
  fs::path token_file = data_dir / "admin-token";
  std::string token;
  if (std::ifstream in(token_file); in) std::getline(in, token);
  if (token.empty()) {
    try {
      pqxx::connection conn(url);
      pqxx::work txn(conn);
      auto created =
          store::create_token(txn, Role::kAdmin, "embedded-mode admin (written to the data directory)", "fleetd");
      txn.commit();
      token = created.token;
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kUnavailable, std::string("cannot create the admin token: ") + e.what());
    }
    if (auto st = write_private_file(token_file, token + "\n"); !st) return st;
  }
  nlohmann::json cfg = {
      {"currentContext", "local"},
      {"contexts", {{{"name", "local"}, {"server", server_url}, {"token", token}, {"caFile", ca_file}}}}};
  return write_private_file(data_dir / "fleetctl.json", cfg.dump(2) + "\n");
}

int run_token_create(const std::string& role_text, const std::string& description, const std::string& database_url,
                     const std::string& data_dir) {
  auto role = parse_role(role_text);
  if (!role) {
    std::cerr << "fleetd token create: --role must be viewer, operator or admin\n";
    return 2;
  }
  auto db = open_offline_database(database_url, data_dir);
  if (!db) {
    std::cerr << "fleetd token create: " << db.error().message << "\n";
    return 1;
  }
  int rc = 0;
  if (auto st = migrate(db->url); !st) {
    std::cerr << "fleetd token create: " << st.error().message << "\n";
    rc = 1;
  } else {
    try {
      pqxx::connection conn(db->url);
      pqxx::work txn(conn);
      auto created = store::create_token(txn, *role, description, "cli:fleetd-token-create");
      txn.commit();
      std::cerr << "created " << role_name(*role) << " token " << created.record.id << "\n";
      std::cout << created.token << std::endl;  // last word on stdout: scripts take it with $(…)
    } catch (const std::exception& e) {
      std::cerr << "fleetd token create: " << e.what() << "\n";
      rc = 1;
    }
  }
  return rc;  // a server this command started stops with `db`
}

int run_token_revoke(const std::string& id, const std::string& database_url, const std::string& data_dir) {
  auto db = open_offline_database(database_url, data_dir);
  if (!db) {
    std::cerr << "fleetd token revoke: " << db.error().message << "\n";
    return 1;
  }
  int rc = 0;
  try {
    pqxx::connection conn(db->url);
    pqxx::work txn(conn);
    bool ok = store::revoke_token(txn, id);
    txn.commit();
    if (!ok) {
      std::cerr << "fleetd token revoke: no valid token with id " << id << "\n";
      rc = 3;
    } else {
      std::cerr << "revoked token " << id << " (replicas forget cached tokens within 5 s)\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "fleetd token revoke: " << e.what() << "\n";
    rc = 1;
  }
  return rc;
}

int serve(ServeConfig cfg) {
  log::set_component("fleetd");
  log::set_min_level(cfg.log_level);

  auto listen = parse_listen(cfg.listen);
  if (!listen) {
    std::cerr << "fleetd: " << listen.error().message << "\n";
    return 2;
  }
  // Before the database starts: a refused plain-HTTP address is a usage error and costs nothing.
  auto tls = prepare_tls({cfg.tls, cfg.tls_cert, cfg.tls_key, cfg.tls_ca, cfg.tls_sans}, listen->first, cfg.data_dir);
  if (!tls) {
    std::cerr << "fleetd: " << tls.error().message << "\n";
    return tls.error().code == ErrorCode::kInvalid ? 2 : 1;
  }

  // Signals are taken by one thread with sigwait; every other thread inherits the blocked mask.
  sigset_t signals = block_stop_signals();

  auto db = open_database(cfg.database_url, cfg.data_dir);
  if (!db) {
    log::error("cannot start the database", {{"error", db.error().message}});
    std::cerr << "fleetd: " << db.error().message << "\n";
    return 1;
  }
  if (db->embedded) {
    log::info("embedded PostgreSQL ready",
              {{"socketDir", db->embedded->socket_dir().string()}, {"adopted", db->embedded->adopted()}});
  }
  if (auto st = migrate(db->url); !st) {
    log::error("migrations failed", {{"error", st.error().message}});
    std::cerr << "fleetd: " << st.error().message << "\n";
    return 1;
  }

  if (cfg.db_connections == 0) cfg.db_connections = std::clamp(2 * std::thread::hardware_concurrency(), 4u, 32u);
  Metrics metrics;
  metrics.set_build_info(FLEET_VERSION, FLEET_GIT_COMMIT);
  DbPool pool({db->url, cfg.db_connections, 4096, std::chrono::milliseconds(10000), [](pqxx::connection_base& conn) {
                 store::prepare_cluster_statements(conn);
                 store::prepare_token_statements(conn);
               }});
  ApiService api(pool, metrics, {std::chrono::seconds(5), FLEET_VERSION, FLEET_GIT_COMMIT});
  register_system_routes(api, metrics,
                         {FLEET_VERSION, FLEET_GIT_COMMIT, FLEET_BUILD_DATE, [](pqxx::connection_base& conn) -> Status {
                            auto v = check_migrations(conn, bundled_migrations());
                            if (!v) return v.error();
                            return Ok{};
                          }});
  register_cluster_routes(api);
  register_token_routes(api);
  const auto heartbeat_interval = std::chrono::seconds(cfg.heartbeat_interval_seconds);
  const auto unreachable_after = std::chrono::seconds(
      cfg.unreachable_after_seconds ? cfg.unreachable_after_seconds : 3 * cfg.heartbeat_interval_seconds);
  CommandNotifier notifier({db->url});
  // Heartbeats that change nothing cost no SQL; their times reach clusters.last_heartbeat in batches.
  HeartbeatCache heartbeat_cache;
  LivenessRecorder liveness_recorder(
      pool, {liveness_persist_every(heartbeat_interval, unreachable_after),
             std::chrono::duration_cast<std::chrono::milliseconds>(unreachable_after), std::chrono::milliseconds(250)});
  register_agent_routes(api, {cfg.heartbeat_interval_seconds, &heartbeat_cache, &liveness_recorder, &notifier, &pool});
  register_inventory_routes(api);
  // The command queue: long polls wait in the notifier (LISTEN fleet_commands), leases expire in the sweeper;
  // the liveness monitor marks silent clusters unreachable. Both loops run on one replica at a time.
  const int max_attempts = static_cast<int>(cfg.command_max_attempts);
  register_command_routes(api, notifier,
                          {std::chrono::seconds(cfg.command_lease_seconds), max_attempts, &heartbeat_cache});
  LeaseSweeper lease_sweeper({db->url, max_attempts});
  LivenessMonitor liveness({db->url, heartbeat_interval, unreachable_after});

  // Before listening: what every agent's heartbeat and poll needs, read in bulk (fleetd/warm_start.hpp). The
  // notifier listens first, so a command queued meanwhile still reaches its agent.
  notifier.start();
  for (int i = 0; i < 50 && !notifier.listening(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  try {
    pqxx::connection conn(db->url);
    const WarmStartTotals warm = warm_start(conn, heartbeat_cache, liveness_recorder, notifier);
    log::info("warm start", {{"agents", warm.agents},
                             {"inventories", warm.inventories},
                             {"quietClusters", warm.quiet_clusters},
                             {"ms", warm.took.count()}});
  } catch (const std::exception& e) {
    // Not fatal: heartbeats and polls then find their answers in the database, one by one.
    log::warn("warm start failed; agents are served from the database until cached", {{"error", e.what()}});
  }

  http::ServerOptions sopts;
  sopts.host = listen->first;
  sopts.port = listen->second;
  sopts.threads = cfg.http_threads;
  sopts.limits.max_body_bytes = cfg.max_body_bytes;
  // A full inventory of a large cluster (up to 5,000 nodes, agents/inventory.hpp) is several MiB; it is the one
  // request allowed more, and only with credentials (the handler checks they are the cluster's agent's).
  sopts.limits.large_body_bytes = std::max(cfg.max_body_bytes, protocol::kMaxHeartbeatBytes);
  sopts.limits.allows_large_body = [](std::string_view method, std::string_view target) {
    constexpr std::string_view kPrefix = "/v1/agents/";
    constexpr std::string_view kSuffix = "/heartbeat";
    const std::string_view path = target.substr(0, target.find('?'));
    return method == "POST" && path.size() > kPrefix.size() + kSuffix.size() &&
           path.substr(0, kPrefix.size()) == kPrefix && path.substr(path.size() - kSuffix.size()) == kSuffix;
  };
  sopts.limits.max_header_bytes = cfg.max_header_bytes;
  sopts.tls_cert_file = tls->cert_file;
  sopts.tls_key_file = tls->key_file;
  auto server = http::Server::create(
      sopts, [&api](http::Request req, http::Respond respond) { api.handle(std::move(req), std::move(respond)); });
  if (!server) {
    log::error("cannot listen", {{"error", server.error().message}});
    std::cerr << "fleetd: " << server.error().message << "\n";
    return 1;
  }
  auto& srv = **server;
  metrics.add_gauge("fleetd_db_pool_connections", "Database connections in the pool.",
                    [&pool] { return static_cast<double>(pool.size()); });
  metrics.add_gauge("fleetd_db_pool_in_use", "Database connections running a job.",
                    [&pool] { return static_cast<double>(pool.in_use()); });
  metrics.add_gauge("fleetd_db_pool_waiting", "Jobs queued for a database connection.",
                    [&pool] { return static_cast<double>(pool.waiting()); });
  metrics.add_gauge("fleetd_http_open_connections", "Open HTTP connections.",
                    [&srv] { return static_cast<double>(srv.open_connections()); });
  metrics.add_gauge("fleetd_http_in_flight_requests", "HTTP requests being handled.",
                    [&srv] { return static_cast<double>(srv.in_flight_requests()); });
  metrics.add_gauge("fleetd_command_polls_waiting", "Agent command long polls held in memory.",
                    [&notifier] { return static_cast<double>(notifier.waiters()); });
  metrics.add_gauge("fleetd_command_leases_expired", "Command leases this replica returned to the queue.",
                    [&lease_sweeper] { return static_cast<double>(lease_sweeper.requeued()); });
  metrics.add_gauge("fleetd_command_lease_failures", "Commands this replica failed after too many expired leases.",
                    [&lease_sweeper] { return static_cast<double>(lease_sweeper.failed()); });
  metrics.add_gauge("fleetd_clusters_marked_unreachable", "Clusters this replica marked unreachable.",
                    [&liveness] { return static_cast<double>(liveness.marked_unreachable()); });
  metrics.add_gauge("fleetd_heartbeat_cache_clusters", "Clusters whose inventory this replica holds in memory.",
                    [&heartbeat_cache] { return static_cast<double>(heartbeat_cache.size()); });
  metrics.add_gauge("fleetd_liveness_rows_written", "Heartbeat times written to clusters.last_heartbeat in batches.",
                    [&liveness_recorder] { return static_cast<double>(liveness_recorder.rows_written()); });
  lease_sweeper.start();
  liveness.start();
  liveness_recorder.start();

  const std::string scheme = tls->mode == TlsMode::kOff ? "http://" : "https://";
  std::string server_url = scheme + srv.bound_address();
  if (!cfg.port_file.empty()) {
    if (auto st = write_private_file(cfg.port_file, srv.bound_address() + "\n"); !st) {
      std::cerr << "fleetd: " << st.error().message << "\n";
      return 1;
    }
  }
  log::info("listening", {{"address", srv.bound_address()}, {"version", FLEET_VERSION}});
  std::cout << "fleetd " << FLEET_VERSION << " listening on " << server_url << "\n";
  if (tls->mode == TlsMode::kAuto) {
    if (tls->created_ca) log::info("created a new CA for --tls auto", {{"caFile", tls->client_ca_file}});
    std::cout << "CA certificate: " << tls->client_ca_file << " — give it to agents and fleetctl with --ca-file\n";
  }
  if (db->embedded) {
    fs::path dir = fs::absolute(cfg.data_dir);
    if (auto st =
            write_local_access(db->url, dir, scheme + local_dial_address(srv.bound_address()), tls->client_ca_file);
        !st) {
      log::error("cannot write local access files", {{"error", st.error().message}});
    } else {
      std::cout << "admin token and fleetctl config written to " << dir.string() << " (mode 0600)\n"
                << "point fleetctl at it:  export FLEETCTL_CONFIG=" << (dir / "fleetctl.json").string() << "\n";
    }
  }
  std::cout.flush();

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::info("shutting down", {{"signal", sig}});
    notifier.stop();  // held long polls answer at once (empty), so they do not hold up the grace period
    srv.shutdown(std::chrono::seconds(cfg.shutdown_grace_seconds));
  });
  srv.run();
  // run() returns after shutdown(); wake the signal thread if run() ended for another reason.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  liveness.stop();
  lease_sweeper.stop();
  liveness_recorder.stop();  // before the pool: its last batch goes through it
  notifier.stop();
  pool.stop();
  if (db->embedded) db->embedded->stop();
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fleetd: the fleet manager control plane (REST API on PostgreSQL)"};
  app.set_version_flag("--version", std::string("fleetd ") + FLEET_VERSION + " (" + FLEET_GIT_COMMIT + ")");
  ServeConfig cfg;
  app.add_option("--config", cfg.config_file, "JSON config file (keys are the flag names); env FLEETD_CONFIG");
  std::map<std::string, CLI::Option*> serve_flags;
  serve_flags["listen"] =
      app.add_option("--listen", cfg.listen, "HOST:PORT to serve on; env FLEETD_LISTEN")->capture_default_str();
  serve_flags["data-dir"] = app.add_option("--data-dir", cfg.data_dir,
                                           "data directory (embedded PostgreSQL, admin token); env FLEETD_DATA_DIR")
                                ->capture_default_str();
  serve_flags["database-url"] = app.add_option("--database-url", cfg.database_url,
                                               "use this PostgreSQL (postgresql://…) instead of the embedded one");
  serve_flags["http-threads"] =
      app.add_option("--http-threads", cfg.http_threads, "HTTP I/O threads")->capture_default_str();
  serve_flags["db-connections"] =
      app.add_option("--db-connections", cfg.db_connections, "database connections (workers); 0 = 2 per core, 4 to 32")
          ->capture_default_str();
  serve_flags["max-body-bytes"] =
      app.add_option("--max-body-bytes", cfg.max_body_bytes, "request body limit (413 above)")->capture_default_str();
  serve_flags["max-header-bytes"] =
      app.add_option("--max-header-bytes", cfg.max_header_bytes, "request header limit (431 above)")
          ->capture_default_str();
  serve_flags["log-level"] =
      app.add_option("--log-level", cfg.log_level, "debug|info|warn|error")->capture_default_str();
  serve_flags["port-file"] = app.add_option("--port-file", cfg.port_file, "write the bound HOST:PORT here");
  serve_flags["shutdown-grace-seconds"] = app.add_option("--shutdown-grace-seconds", cfg.shutdown_grace_seconds,
                                                         "on SIGTERM, how long in-flight requests may take")
                                              ->capture_default_str();
  serve_flags["heartbeat-interval"] =
      app.add_option("--heartbeat-interval", cfg.heartbeat_interval_seconds, "seconds between agent heartbeats")
          ->capture_default_str();
  serve_flags["unreachable-after"] = app.add_option("--unreachable-after", cfg.unreachable_after_seconds,
                                                    "seconds without a heartbeat before a cluster is unreachable; "
                                                    "0 = 3 x --heartbeat-interval")
                                         ->capture_default_str();
  serve_flags["command-lease-seconds"] =
      app.add_option("--command-lease-seconds", cfg.command_lease_seconds,
                     "a leased agent command returns to the queue after this many seconds without a report")
          ->capture_default_str();
  serve_flags["command-max-attempts"] = app.add_option("--command-max-attempts", cfg.command_max_attempts,
                                                       "deliveries of a command before an expired lease fails it")
                                            ->capture_default_str();
  serve_flags["tls"] = app.add_option("--tls", cfg.tls,
                                      "auto|off; default: off on a loopback address, auto (fleetd's own CA in "
                                      "DATA-DIR/tls) on any other. Plain HTTP is refused off loopback; env FLEETD_TLS")
                           ->check(CLI::IsMember({"auto", "off"}));
  serve_flags["tls-cert"] = app.add_option("--tls-cert", cfg.tls_cert, "serve HTTPS with this PEM certificate chain");
  serve_flags["tls-key"] = app.add_option("--tls-key", cfg.tls_key, "the PEM private key of --tls-cert");
  serve_flags["tls-ca"] = app.add_option(
      "--tls-ca", cfg.tls_ca, "the CA that signed --tls-cert (only written into DATA-DIR/fleetctl.json as caFile)");
  serve_flags["tls-san"] = app.add_option("--tls-san", cfg.tls_sans,
                                          "extra DNS name or IP for the auto server certificate (repeatable, or a "
                                          "comma-separated list)");

  auto* token = app.add_subcommand("token", "manage API tokens directly in the database (works offline)");
  token->require_subcommand(1);
  std::string role, description, token_db_url, token_data_dir = "fleetd-data", revoke_id;
  auto* create = token->add_subcommand("create", "create a token; prints it as the last word on stdout");
  create->add_option("--role", role, "viewer|operator|admin")->required();
  create->add_option("--description", description, "what the token is for");
  create->add_option("--database-url", token_db_url, "external PostgreSQL");
  create->add_option("--data-dir", token_data_dir, "fleetd's data directory (embedded mode)")->capture_default_str();
  auto* revoke = token->add_subcommand("revoke", "revoke a token by id");
  revoke->add_option("id", revoke_id, "token id (uuid)")->required();
  revoke->add_option("--database-url", token_db_url, "external PostgreSQL");
  revoke->add_option("--data-dir", token_data_dir, "fleetd's data directory (embedded mode)")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (create->parsed()) return run_token_create(role, description, token_db_url, token_data_dir);
  if (revoke->parsed()) return run_token_revoke(revoke_id, token_db_url, token_data_dir);

  std::vector<std::string> given;
  for (auto& [name, opt] : serve_flags) {
    if (opt->count() > 0) given.push_back(name);
  }
  if (auto st = resolve_config(cfg, given); !st) {
    std::cerr << "fleetd: " << st.error().message << "\n";
    return 2;
  }
  return serve(std::move(cfg));
}
