// Migrations against a real server: one shared server, a fresh database per case.
#include "fleetd/db/migrations.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "fleetd/testing/temp_postgres.hpp"

namespace fleet {
namespace {

std::string fresh_database() {
  auto server = testing::TempPostgres::shared();
  INFO((server.ok() ? std::string() : server.error().message));
  REQUIRE(server.ok());
  auto url = (*server)->create_database("migrations");
  INFO((url.ok() ? std::string() : url.error().message));
  REQUIRE(url.ok());
  return *url;
}

bool table_exists(pqxx::connection_base& conn, const std::string& table) {
  pqxx::nontransaction tx(conn);
  return tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", table)[0].as<bool>();
}

}  // namespace

TEST_CASE("migrations: bundled ones are compiled in and contiguous", "[migrations]") {
  const auto& ms = bundled_migrations();
  REQUIRE_FALSE(ms.empty());
  CHECK(ms[0].name == "0001_init");
  CHECK_THAT(ms[0].sql, Catch::Contains("CREATE TABLE clusters"));
  for (std::size_t i = 0; i < ms.size(); ++i) CHECK(ms[i].version == static_cast<int>(i) + 1);
  CHECK(migration_checksum(ms[0]).size() == 64);
}

TEST_CASE("migrations: apply once, then nothing to do", "[migrations]") {
  pqxx::connection conn(fresh_database());
  const auto& ms = bundled_migrations();
  const int n = static_cast<int>(ms.size());

  auto before = check_migrations(conn, ms);
  REQUIRE_FALSE(before.ok());
  CHECK_THAT(before.error().message, Catch::Contains("version 0 is older"));

  auto first = apply_migrations(conn, ms);
  INFO((first.ok() ? std::string() : first.error().message));
  REQUIRE(first.ok());
  CHECK(static_cast<int>(first->applied_now.size()) == n);
  CHECK(first->current_version == n);
  CHECK(table_exists(conn, "clusters"));

  auto second = apply_migrations(conn, ms);
  REQUIRE(second.ok());
  CHECK(second->applied_now.empty());
  CHECK(second->current_version == n);

  auto ready = check_migrations(conn, ms);
  REQUIRE(ready.ok());
  CHECK(*ready == n);
}

TEST_CASE("migrations: two concurrent appliers both succeed and exactly one applies", "[migrations]") {
  const std::string url = fresh_database();
  // Slow enough that the second caller arrives while the first holds the lock.
  const std::vector<Migration> ms = {
      {1, "0001_a", "CREATE TABLE a (x int); SELECT pg_sleep(0.3);"},
      {2, "0002_b", "CREATE TABLE b (x int);"},
  };
  std::optional<Result<MigrationReport>> results[2];
  std::thread threads[2];
  for (int i = 0; i < 2; ++i) {
    threads[i] = std::thread([&, i] {
      pqxx::connection conn(url);
      results[i] = apply_migrations(conn, ms);
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(results[0]->ok());
  REQUIRE(results[1]->ok());
  const auto& r0 = results[0]->value();
  const auto& r1 = results[1]->value();
  CHECK(r0.applied_now.size() + r1.applied_now.size() == 2);
  CHECK((r0.applied_now.empty() || r1.applied_now.empty()));
  CHECK(r0.current_version == 2);
  CHECK(r1.current_version == 2);
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>() == 2);
}

TEST_CASE("migrations: a database newer than this binary is refused", "[migrations]") {
  pqxx::connection conn(fresh_database());
  const auto& ms = bundled_migrations();
  const int n = static_cast<int>(ms.size());
  REQUIRE(apply_migrations(conn, ms).ok());
  {
    pqxx::work tx(conn);
    tx.exec_params0("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, 'future', 'x')", n + 1);
    tx.commit();
  }
  const std::string expected = "database schema version " + std::to_string(n + 1) +
                               " is newer than this fleetd (knows up to " + std::to_string(n) + "); upgrade fleetd";
  auto r = apply_migrations(conn, ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message == expected);
  auto check = check_migrations(conn, ms);
  REQUIRE_FALSE(check.ok());
  CHECK(check.error().message == expected);
}

TEST_CASE("migrations: an edited migration is refused by its checksum", "[migrations]") {
  pqxx::connection conn(fresh_database());
  std::vector<Migration> ms = {{1, "0001_a", "CREATE TABLE a (x int);"}};
  REQUIRE(apply_migrations(conn, ms).ok());
  ms[0].sql = "CREATE TABLE a (x bigint);";
  auto r = apply_migrations(conn, ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(r.error().message, Catch::Contains("migration 0001_a was applied with checksum"));
  CHECK_FALSE(check_migrations(conn, ms).ok());
}

TEST_CASE("migrations: a failing migration is rolled back and named", "[migrations]") {
  pqxx::connection conn(fresh_database());
  const std::vector<Migration> ms = {
      {1, "0001_a", "CREATE TABLE a (x int);"},
      {2, "0002_broken", "CREATE TABLE half (x int); SELEC 1;"},
  };
  auto r = apply_migrations(conn, ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInternal);
  CHECK_THAT(r.error().message, Catch::Contains("0002_broken failed and was rolled back"));
  CHECK(table_exists(conn, "a"));
  CHECK_FALSE(table_exists(conn, "half"));
  // The lock was released: the fixed list applies.
  const std::vector<Migration> fixed = {ms[0], {2, "0002_broken", "CREATE TABLE half (x int);"}};
  auto again = apply_migrations(conn, fixed);
  REQUIRE(again.ok());
  CHECK(again->applied_now == std::vector<int>{2});
}

TEST_CASE("migrations: a list with a gap is a programming error", "[migrations]") {
  pqxx::connection conn(fresh_database());
  auto r = apply_migrations(conn, {{1, "0001_a", "SELECT 1"}, {3, "0003_c", "SELECT 1"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInternal);
}

}  // namespace fleet
