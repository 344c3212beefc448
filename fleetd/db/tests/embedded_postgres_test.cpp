// Real PostgreSQL, no mocks: each case starts its own server in a throwaway directory under /tmp.
#include "fleetd/db/embedded_postgres.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <pqxx/pqxx>
#include <string>
#include <thread>

namespace fleet {
namespace {

namespace fs = std::filesystem;

// A directory the postgres user can reach (tests run as root in CI), removed at the end.
struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/fleet-test-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    REQUIRE(chmod(pattern, 0755) == 0);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// Durable (the production settings) where the case is about settings or surviving a kill; otherwise without
// fsync, which only makes initdb and commits faster.
EmbeddedPostgresOptions options_for(const fs::path& dir, bool durable = true) {
  EmbeddedPostgresOptions o;
  o.data_dir = dir;
  o.durable = durable;
  return o;
}

std::unique_ptr<EmbeddedPostgres> must_start(const fs::path& dir, bool durable = true) {
  auto r = EmbeddedPostgres::start(options_for(dir, durable));
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string query1(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec1(sql)[0].as<std::string>();
}

pid_t postmaster_pid(const fs::path& pgdata) {
  std::ifstream in(pgdata / "postmaster.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

bool alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

void wait_until_dead(pid_t pid) {
  for (int i = 0; i < 200 && alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE_FALSE(alive(pid));
}

}  // namespace

TEST_CASE("embedded postgres: first start initialises, restart keeps data", "[embedded-postgres]") {
  TempDir dir;
  auto pg = must_start(dir.path);
  CHECK_FALSE(pg->adopted());
  CHECK(fs::exists(dir.path / "pg" / "PG_VERSION"));
  CHECK(pg->socket_dir() == fs::canonical(dir.path) / "pg");
  CHECK(pg->connection_url().rfind("postgresql:///fleet?host=%2F", 0) == 0);

  CHECK(query1(pg->connection_url(), "SELECT current_database()") == "fleet");
  CHECK(query1(pg->connection_url(), "SHOW listen_addresses").empty());
  CHECK(query1(pg->connection_url(), "SHOW fsync") == "on");
  CHECK(query1(pg->connection_url(), "SHOW synchronous_commit") == "on");
  CHECK(query1(pg->connection_url(), "SHOW shared_buffers") == "256MB");
  CHECK(query1(pg->connection_url(), "SHOW max_connections") == "100");
  CHECK(query1(pg->connection_url(), "SHOW server_encoding") == "UTF8");
  {
    pqxx::connection conn(pg->connection_url());
    pqxx::work tx(conn);
    tx.exec0("CREATE TABLE kept (v text)");
    tx.exec0("INSERT INTO kept VALUES ('hello')");
    tx.commit();
  }

  SECTION("a second owner of the same data dir is refused while the first runs") {
    auto second = EmbeddedPostgres::start(options_for(dir.path));
    REQUIRE_FALSE(second.ok());
    CHECK_THAT(second.error().message, Catch::Contains("in use by another fleetd"));
  }

  const pid_t pid = postmaster_pid(pg->pgdata());
  pg->stop();
  pg->stop();  // idempotent
  CHECK_FALSE(fs::exists(dir.path / "pg" / "postmaster.pid"));
  wait_until_dead(pid);

  auto again = must_start(dir.path);
  CHECK_FALSE(again->adopted());
  CHECK(query1(again->connection_url(), "SELECT v FROM kept") == "hello");
}

// The URL of `role` on the same socket and database.
std::string url_as(const EmbeddedPostgres& pg, const std::string& role) {
  std::string url = pg.connection_url();
  const auto at = url.find("user=fleet");
  REQUIRE(at != std::string::npos);
  return url.replace(at, 10, "user=" + role);
}

const char* const kAuthMethods = "SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules";

TEST_CASE("embedded postgres: peer authentication as fleet only, also for a cluster initialised with trust",
          "[embedded-postgres][security]") {
  TempDir dir;
  auto pg = must_start(dir.path, false);
  CHECK(query1(pg->connection_url(), kAuthMethods) == "peer");
  {
    pqxx::connection conn(pg->connection_url());
    pqxx::nontransaction tx(conn);
    tx.exec0("CREATE ROLE intruder LOGIN SUPERUSER");
  }
  // With trust this login would succeed; the ident map lets this process's user in as fleet only.
  CHECK_THROWS_WITH(pqxx::connection(url_as(*pg, "intruder")), Catch::Contains("Peer authentication failed"));
  pg->stop();

  // A data directory from before fleetd wrote the rules: initdb's `trust`.
  std::ofstream(dir.path / "pg" / "pg_hba.conf", std::ios::trunc) << "local all all trust\n";
  auto again = must_start(dir.path, false);
  CHECK(query1(again->connection_url(), kAuthMethods) == "peer");
  CHECK_THROWS_WITH(pqxx::connection(url_as(*again, "intruder")), Catch::Contains("Peer authentication failed"));
  CHECK(query1(again->connection_url(), "SELECT current_user") == "fleet");
}

TEST_CASE("embedded postgres: adopts the server of an owner killed with SIGKILL", "[embedded-postgres]") {
  TempDir dir;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The owner: starts the server, reports, then waits to be killed without stopping it.
    close(fds[0]);
    auto r = EmbeddedPostgres::start(options_for(dir.path, false));
    char c = r.ok() ? 'y' : 'n';
    if (write(fds[1], &c, 1) != 1) _exit(2);
    if (!r.ok()) _exit(1);
    for (;;) pause();
  }
  close(fds[1]);
  char c = 0;
  REQUIRE(read(fds[0], &c, 1) == 1);
  close(fds[0]);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(c == 'y');

  const pid_t pid = postmaster_pid(dir.path / "pg");
  REQUIRE(alive(pid));
  auto pg = must_start(dir.path, false);
  CHECK(pg->adopted());
  CHECK(postmaster_pid(pg->pgdata()) == pid);
  CHECK(query1(pg->connection_url(), "SELECT 1") == "1");
  pg->stop();  // the adopted server is ours now
  wait_until_dead(pid);
}

TEST_CASE("embedded postgres: restarts over a killed server and keeps committed data", "[embedded-postgres]") {
  TempDir dir;
  auto pg = must_start(dir.path);
  {
    pqxx::connection conn(pg->connection_url());
    pqxx::work tx(conn);
    tx.exec0("CREATE TABLE durable (v int)");
    tx.exec0("INSERT INTO durable VALUES (42)");
    tx.commit();
  }
  const pid_t pid = postmaster_pid(pg->pgdata());
  REQUIRE(kill(pid, SIGKILL) == 0);
  wait_until_dead(pid);
  // Its stop() finds no server to stop; harmless.
  pg.reset();
  REQUIRE(fs::exists(dir.path / "pg" / "postmaster.pid"));  // stale

  auto again = must_start(dir.path);
  CHECK_FALSE(again->adopted());
  CHECK(query1(again->connection_url(), "SELECT v FROM durable") == "42");
}

TEST_CASE("embedded postgres: a long data dir gets a short socket dir", "[embedded-postgres]") {
  TempDir dir;
  const fs::path data = dir.path / std::string(100, 'd');
  auto pg = must_start(data, false);
  const fs::path socket_dir = pg->socket_dir();
  CHECK(socket_dir.string().rfind("/tmp/fleetd-pg-", 0) == 0);
  struct stat st {};
  REQUIRE(stat(socket_dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(query1(pg->connection_url(), "SELECT current_database()") == "fleet");
  pg->stop();
  CHECK_FALSE(fs::exists(socket_dir));
}

TEST_CASE("embedded postgres: a data dir the server user cannot reach is refused clearly", "[embedded-postgres]") {
  if (geteuid() != 0) {
    WARN("skipped: only meaningful as root (the server then runs as 'postgres')");
    return;
  }
  TempDir dir;
  const fs::path closed = dir.path / "closed";
  REQUIRE(mkdir(closed.c_str(), 0700) == 0);
  auto r = EmbeddedPostgres::start(options_for(closed / "data"));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("cannot reach the data dir"));
  CHECK_THAT(r.error().message, Catch::Contains(closed.string() + " is not traversable"));
  CHECK_THAT(r.error().message, Catch::Contains("--data-dir"));
}

TEST_CASE("embedded postgres: missing binaries name the fix", "[embedded-postgres]") {
  TempDir dir;
  auto o = options_for(dir.path);
  o.bin_dir = dir.path / "no-such-bin";
  auto r = EmbeddedPostgres::start(o);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("scripts/setup"));
  CHECK_THAT(r.error().message, Catch::Contains("postgresql-15"));
}

}  // namespace fleet
