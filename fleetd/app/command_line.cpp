#include "fleetd/app/command_line.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <vector>

namespace fleet {
namespace {

using Flags = std::map<std::string, CLI::Option*>;

void add_server_flags(CLI::App& app, ServeConfig& cfg, Flags& flags) {
  flags["listen"] =
      app.add_option("--listen", cfg.listen, "HOST:PORT to serve on; env FLEETD_LISTEN")->capture_default_str();
  flags["data-dir"] = app.add_option("--data-dir", cfg.data_dir,
                                     "data directory (embedded PostgreSQL, admin token); env FLEETD_DATA_DIR")
                          ->capture_default_str();
  flags["database-url"] = app.add_option("--database-url", cfg.database_url,
                                         "use this PostgreSQL (postgresql://…) instead of the embedded one");
  flags["http-threads"] = app.add_option("--http-threads", cfg.http_threads, "HTTP I/O threads")->capture_default_str();
  flags["db-connections"] =
      app.add_option("--db-connections", cfg.db_connections, "database connections (workers); 0 = 2 per core, 4 to 32")
          ->capture_default_str();
  flags["max-body-bytes"] =
      app.add_option("--max-body-bytes", cfg.max_body_bytes, "request body limit (413 above)")->capture_default_str();
  flags["max-header-bytes"] =
      app.add_option("--max-header-bytes", cfg.max_header_bytes, "request header limit (431 above)")
          ->capture_default_str();
  flags["max-connections"] =
      app.add_option("--max-connections", cfg.max_connections, "open connections at once (more are closed at accept)")
          ->capture_default_str();
  flags["max-connections-per-source"] =
      app.add_option("--max-connections-per-source", cfg.max_connections_per_source,
                     "open connections from one peer address (0 = no per-address limit)")
          ->capture_default_str();
  flags["auth-failure-burst"] =
      app.add_option("--auth-failure-burst", cfg.auth_failure_burst,
                     "unknown API tokens one address may present before it gets 429 (0 = no limit)")
          ->capture_default_str();
  flags["auth-failures-per-minute"] = app.add_option("--auth-failures-per-minute", cfg.auth_failures_per_minute,
                                                     "how many of those an address earns back each minute")
                                          ->capture_default_str();
  flags["log-level"] = app.add_option("--log-level", cfg.log_level, "debug|info|warn|error")->capture_default_str();
  flags["log-format"] =
      app.add_option("--log-format", cfg.log_format, "auto|console|json: auto is console on a terminal, JSON otherwise")
          ->capture_default_str();
  flags["port-file"] = app.add_option("--port-file", cfg.port_file, "write the bound HOST:PORT here");
  flags["shutdown-grace-seconds"] = app.add_option("--shutdown-grace-seconds", cfg.shutdown_grace_seconds,
                                                   "on SIGTERM, how long in-flight requests may take")
                                        ->capture_default_str();
  flags["tls"] = app.add_option("--tls", cfg.tls,
                                "auto|off; default: off on a loopback address, auto (fleetd's own CA in "
                                "DATA-DIR/tls) on any other. Plain HTTP is refused off loopback; env FLEETD_TLS")
                     ->check(CLI::IsMember({"auto", "off"}));
  flags["tls-cert"] = app.add_option("--tls-cert", cfg.tls_cert, "serve HTTPS with this PEM certificate chain");
  flags["tls-key"] = app.add_option("--tls-key", cfg.tls_key, "the PEM private key of --tls-cert");
  flags["tls-ca"] = app.add_option(
      "--tls-ca", cfg.tls_ca, "the CA that signed --tls-cert (only written into DATA-DIR/fleetctl.json as caFile)");
  flags["tls-san"] = app.add_option("--tls-san", cfg.tls_sans,
                                    "extra DNS name or IP for the auto server certificate (repeatable, or a "
                                    "comma-separated list)");
}

void add_agent_flags(CLI::App& app, ServeConfig& cfg, Flags& flags) {
  flags["heartbeat-interval"] =
      app.add_option("--heartbeat-interval", cfg.heartbeat_interval_seconds, "seconds between agent heartbeats")
          ->capture_default_str();
  flags["unreachable-after"] = app.add_option("--unreachable-after", cfg.unreachable_after_seconds,
                                              "seconds without a heartbeat before a cluster is unreachable; "
                                              "0 = 3 x --heartbeat-interval")
                                   ->capture_default_str();
  flags["record-sweep-seconds"] =
      app.add_option("--record-sweep-seconds", cfg.record_sweep_seconds,
                     "seconds between sweeps of spent records (Idempotency-Key records past 24 h, bootstrap tokens a "
                     "day after use, revocation or expiry)")
          ->capture_default_str();
  flags["auto-upgrade-seconds"] =
      app.add_option("--auto-upgrade-seconds", cfg.auto_upgrade_seconds,
                     "seconds between looks for releases that auto-upgrade profiles act on (a new catalog entry "
                     "starts its run within this)")
          ->capture_default_str();
  flags["command-lease-seconds"] =
      app.add_option("--command-lease-seconds", cfg.command_lease_seconds,
                     "a leased agent command returns to the queue after this many seconds without a report")
          ->capture_default_str();
  flags["command-max-attempts"] = app.add_option("--command-max-attempts", cfg.command_max_attempts,
                                                 "deliveries of a command before an expired lease fails it")
                                      ->capture_default_str();
}

struct TokenCommands {
  CLI::App* create = nullptr;
  CLI::App* revoke = nullptr;
};

TokenCommands add_token_commands(CLI::App& app, CommandLine& out) {
  auto* token = app.add_subcommand("token", "manage API tokens directly in the database (works offline)");
  token->require_subcommand(1);
  TokenCommands t;
  t.create = token->add_subcommand("create", "create a token; prints it as the last word on stdout");
  t.create->add_option("--role", out.role, "viewer|operator|admin")->required();
  t.create->add_option("--description", out.description, "what the token is for");
  t.revoke = token->add_subcommand("revoke", "revoke a token by id");
  t.revoke->add_option("id", out.revoke_id, "token id (uuid)")->required();
  for (CLI::App* sub : {t.create, t.revoke}) {
    sub->add_option("--database-url", out.token.database_url, "external PostgreSQL");
    sub->add_option("--data-dir", out.token.data_dir, "fleetd's data directory (embedded mode)")->capture_default_str();
  }
  return t;
}

}  // namespace

CommandLine parse_command_line(int argc, char** argv, const BuildInfo& build) {
  CommandLine out;
  CLI::App app{"fleetd: the fleet manager control plane (REST API on PostgreSQL)"};
  app.set_version_flag("--version", "fleetd " + build.version + " (" + build.commit + ")");
  app.add_option("--config", out.serve.config_file, "JSON config file (keys are the flag names); env FLEETD_CONFIG");
  Flags flags;
  add_server_flags(app, out.serve, flags);
  add_agent_flags(app, out.serve, flags);
  const TokenCommands token = add_token_commands(app, out);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.action = CommandLine::Action::kExit;
    out.exit_code = app.exit(e) == 0 ? 0 : 2;
    return out;
  }
  if (token.create->parsed()) out.action = CommandLine::Action::kTokenCreate;
  if (token.revoke->parsed()) out.action = CommandLine::Action::kTokenRevoke;
  if (out.action != CommandLine::Action::kServe) return out;
  std::vector<std::string> given;
  for (auto& [name, opt] : flags) {
    if (opt->count() > 0) given.push_back(name);
  }
  if (auto st = resolve_config(out.serve, given); !st) {
    std::cerr << "fleetd: " << st.error().message << "\n";
    out.action = CommandLine::Action::kExit;
    out.exit_code = 2;
  }
  return out;
}

}  // namespace fleet
