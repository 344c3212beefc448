#pragma once
// fleetd's settings. Each comes from, in order of precedence: its command-line flag, its FLEETD_* environment
// variable, the JSON config file (--config, keys are the flag names: {"listen": "…", "data-dir": "…"}), the
// default.
#include <cstddef>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace fleet {

struct ServeConfig {
  std::string config_file;
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "fleetd-data";
  std::string database_url;  // empty → embedded PostgreSQL in data_dir
  unsigned http_threads = 2;
  unsigned db_connections = 0;  // 0 → 2 per core, at least 4, at most 32 (more only adds context switches)
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // Per source address: unknown API tokens it may present at once, and earns back per minute; past that its
  // requests with a token not already known answer 429 (fleetd/http/auth_failure_limiter.hpp). 0 → no limit.
  // Connections at once (beyond: accepted and closed at once), and per peer address (0: no per-address cap). Half
  // the total per address: one client cannot take every connection, while a NAT gateway in front of thousands of
  // agents still fits.
  unsigned max_connections = 10000;
  unsigned max_connections_per_source = 5000;
  unsigned auth_failure_burst = 100;
  unsigned auth_failures_per_minute = 60;
  std::string log_level = "info";
  std::string log_format = "auto";  // auto | console | json
  std::string port_file;            // written with the bound "host:port" once listening (scripts, tests)
  unsigned shutdown_grace_seconds = 20;
  // Agent liveness and the command queue.
  unsigned heartbeat_interval_seconds = 10;  // told to agents; the liveness loop checks every half interval
  unsigned unreachable_after_seconds = 0;    // 0 → 3 × the heartbeat interval
  unsigned record_sweep_seconds = 300;       // how often spent records are deleted (loops/record_sweeper.hpp)
  unsigned auto_upgrade_seconds = 5;         // how often auto-upgrade profiles look (loops/auto_upgrade_loop.hpp)
  unsigned command_lease_seconds = 60;       // a leased command returns to the queue after this much silence
  unsigned command_max_attempts = 5;         // deliveries before an expired lease fails the command
  // TLS (fleetd/tls_setup.hpp): "" → off on a loopback listen address, auto on any other.
  std::string tls;                    // "auto" | "off"
  std::string tls_cert;               // PEM chain; with tls_key → HTTPS with these files
  std::string tls_key;                // PEM private key
  std::string tls_ca;                 // the CA behind tls_cert, written into the local fleetctl config
  std::vector<std::string> tls_sans;  // extra names for the auto certificate; env/file: a comma-separated list
};

// One setting as the three sources know it: used by --help, the env lookup and the file keys alike.
struct SettingSource {
  std::string flag;  // "listen" → --listen, FLEETD_LISTEN, {"listen": …}
  std::string env;
};

// Fills `config` from env and file for every setting whose flag was not given on the command line.
// `given_flags` lists those that were. Errors name the source and the setting.
Status resolve_config(ServeConfig& config, const std::vector<std::string>& given_flags);

}  // namespace fleet
