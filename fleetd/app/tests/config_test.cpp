#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "fleetd/app/config.hpp"

using namespace fleet;

namespace {
struct EnvGuard {
  std::string name;
  EnvGuard(std::string n, const std::string& v) : name(std::move(n)) { setenv(name.c_str(), v.c_str(), 1); }
  ~EnvGuard() { unsetenv(name.c_str()); }
};
std::string write_file(const std::string& content) {
  std::string path = "/tmp/fleetd-config-test-" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << content;
  return path;
}
}  // namespace

TEST_CASE("config precedence: flag > env > file > default", "[fleetd][config]") {
  ServeConfig c;
  c.config_file = write_file(R"({"listen": "127.0.0.1:9000", "data-dir": "/file/dir", "db-connections": 3})");
  EnvGuard env("FLEETD_DATA_DIR", "/env/dir");
  c.listen = "127.0.0.1:7000";  // as if given by the flag
  REQUIRE(resolve_config(c, {"listen"}));
  REQUIRE(c.listen == "127.0.0.1:7000");
  REQUIRE(c.data_dir == "/env/dir");
  REQUIRE(c.db_connections == 3);
  REQUIRE(c.http_threads == 2);
}

TEST_CASE("config rejects unknown keys, bad numbers and unreadable files", "[fleetd][config]") {
  ServeConfig c;
  c.config_file = write_file(R"({"lisen": "x"})");
  auto st = resolve_config(c, {});
  REQUIRE_FALSE(st);
  REQUIRE(st.error().message.find("unknown setting \"lisen\"") != std::string::npos);

  ServeConfig d;
  EnvGuard env("FLEETD_DB_CONNECTIONS", "lots");
  auto st2 = resolve_config(d, {});
  REQUIRE_FALSE(st2);
  REQUIRE(st2.error().message.find("FLEETD_DB_CONNECTIONS") != std::string::npos);

  ServeConfig e;
  e.config_file = "/nonexistent/fleetd.json";
  REQUIRE_FALSE(resolve_config(e, {}));
  ServeConfig f;
  f.config_file = write_file("[1,2]");
  REQUIRE_FALSE(resolve_config(f, {}));
}

TEST_CASE("tls settings come from flags, env and file like the others", "[fleetd][config]") {
  ServeConfig c;
  c.config_file = write_file(R"({"tls": "auto", "tls-san": "a.example.com,10.0.0.5", "tls-cert": "/file/c.pem"})");
  EnvGuard env("FLEETD_TLS_CERT", "/env/c.pem");
  REQUIRE(resolve_config(c, {}));
  CHECK(c.tls == "auto");
  CHECK(c.tls_cert == "/env/c.pem");
  REQUIRE(c.tls_sans.size() == 1);
  CHECK(c.tls_sans[0] == "a.example.com,10.0.0.5");

  ServeConfig d;
  EnvGuard tls_env("FLEETD_TLS", "off");
  d.tls = "auto";  // as if given by --tls
  REQUIRE(resolve_config(d, {"tls"}));
  CHECK(d.tls == "auto");
}

TEST_CASE("liveness and command queue settings: defaults, env and file", "[fleetd][config]") {
  ServeConfig c;
  REQUIRE(resolve_config(c, {}));
  CHECK(c.heartbeat_interval_seconds == 10);
  CHECK(c.unreachable_after_seconds == 0);  // 3 × interval, resolved by fleetd
  CHECK(c.command_lease_seconds == 60);
  CHECK(c.command_max_attempts == 5);

  ServeConfig d;
  d.config_file = write_file(R"({"heartbeat-interval": 2, "command-lease-seconds": "5"})");
  EnvGuard env("FLEETD_COMMAND_MAX_ATTEMPTS", "3");
  REQUIRE(resolve_config(d, {}));
  CHECK(d.heartbeat_interval_seconds == 2);
  CHECK(d.command_lease_seconds == 5);
  CHECK(d.command_max_attempts == 3);

  ServeConfig e;
  EnvGuard bad("FLEETD_HEARTBEAT_INTERVAL", "0");
  REQUIRE_FALSE(resolve_config(e, {}));
}
