// The error boundary against a real fleetd and PostgreSQL: faults are planted in the database with triggers, so
// the real handler code meets a real serialization failure, deadlock or SQL error.
//  - a serialization failure or deadlock is retried on the worker and the request succeeds, once;
//  - when the conflicts go on past the retries, the answer is 503 with Retry-After and nothing is written;
//  - any other exception is a 500 `internal` problem+json carrying the request id, logged under the same id,
//    and fleetd goes on serving.
#include <catch2/catch.hpp>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

// A BEFORE trigger on `table` for `event` that raises `errcode` on its first `times` firings (a sequence counts
// them: sequences are not rolled back, so a retried transaction sees the count move on). times < 0: always.
void plant_fault(const FleetdProcess& fleetd, const std::string& table, const std::string& event,
                 const std::string& errcode, int times) {
  pqxx::connection conn(fleetd.database_url());
  pqxx::work txn(conn);
  txn.exec("DROP TRIGGER IF EXISTS itest_fault ON " + table);
  txn.exec("DROP SEQUENCE IF EXISTS itest_fault_count");
  txn.exec("CREATE SEQUENCE itest_fault_count");
  txn.exec(
      "CREATE OR REPLACE FUNCTION itest_fault() RETURNS trigger LANGUAGE plpgsql AS $$ "
      "DECLARE n bigint := nextval('itest_fault_count'); BEGIN "
      "IF " +
      std::to_string(times) + " < 0 OR n <= " + std::to_string(times) +
      " THEN RAISE EXCEPTION 'planted fault' USING ERRCODE = '" + errcode + "'; END IF; RETURN NEW; END $$");
  txn.exec("CREATE TRIGGER itest_fault BEFORE " + event + " ON " + table +
           " FOR EACH ROW EXECUTE FUNCTION itest_fault()");
  txn.commit();
}

void clear_fault(const FleetdProcess& fleetd, const std::string& table) {
  pqxx::connection conn(fleetd.database_url());
  pqxx::work txn(conn);
  txn.exec("DROP TRIGGER IF EXISTS itest_fault ON " + table);
  txn.commit();
}

long long scalar(const FleetdProcess& fleetd, const std::string& sql) {
  pqxx::connection conn(fleetd.database_url());
  pqxx::nontransaction txn(conn);
  return txn.exec(sql)[0][0].as<long long>();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a serialization failure or deadlock is retried and the request succeeds once", "[integration][errors]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};

  plant_fault(fleetd, "clusters", "INSERT", "40001", 1);  // serialization_failure, once
  auto created = fleetd.call("POST", "/v1/clusters", R"({"name": "retry-1", "provider": "aks"})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(scalar(fleetd, "SELECT count(*) FROM clusters WHERE name = 'retry-1'") == 1);
  CHECK(scalar(fleetd, "SELECT count(*) FROM audit_log WHERE action = 'cluster.create' AND object_name = 'retry-1'") ==
        1);  // the failed attempt rolled back with its audit row
  CHECK(scalar(fleetd, "SELECT last_value FROM itest_fault_count") == 2);  // two runs of the insert
  CHECK(metric_value(fleetd, "fleetd_db_retries_total", std::string("")) == 1);

  plant_fault(fleetd, "clusters", "UPDATE", "40P01", 2);  // deadlock_detected, twice
  auto patched = fleetd.call("PATCH", "/v1/clusters/retry-1", R"({"region": "westeurope"})",
                             {{"content-type", "application/merge-patch+json"}});
  INFO(patched.body);
  REQUIRE(patched.status == 200);
  CHECK(json::parse(patched.body)["region"] == "westeurope");
  CHECK(metric_value(fleetd, "fleetd_db_retries_total", std::string("")) == 3);
}

TEST_CASE("conflicts that outlast the retries are a 503 with Retry-After and write nothing", "[integration][errors]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  plant_fault(fleetd, "clusters", "INSERT", "40001", -1);
  auto r = fleetd.call("POST", "/v1/clusters", R"({"name": "busy-1", "provider": "aks"})");
  INFO(r.body);
  REQUIRE(r.status == 503);
  CHECK(r.headers["content-type"] == "application/problem+json");
  CHECK(r.headers["retry-after"] == "1");
  CHECK(json::parse(r.body)["type"] == "urn:fleetd:problem:unavailable");
  CHECK(scalar(fleetd, "SELECT count(*) FROM clusters WHERE name = 'busy-1'") == 0);
  CHECK(scalar(fleetd, "SELECT last_value FROM itest_fault_count") == 4);  // the first run and three retries
}

TEST_CASE("a handler that throws gets a 500 problem+json with the request id, and fleetd goes on",
          "[integration][errors]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  plant_fault(fleetd, "clusters", "INSERT", "P0001", -1);  // raise_exception: a plain SQL error, not retried
  auto r = fleetd.call("POST", "/v1/clusters", R"({"name": "boom-1", "provider": "aks"})");
  INFO(r.body);
  REQUIRE(r.status == 500);
  CHECK(r.headers["content-type"] == "application/problem+json");
  const auto problem = json::parse(r.body);
  CHECK(problem["type"] == "urn:fleetd:problem:internal");
  const std::string request_id = r.headers["x-request-id"];
  REQUIRE_FALSE(request_id.empty());
  CHECK(problem["requestId"] == request_id);
  CHECK(r.body.find("planted fault") == std::string::npos);                // the cause is for the log, not the client
  CHECK(scalar(fleetd, "SELECT last_value FROM itest_fault_count") == 1);  // not retried

  // The log line of the failure carries the request id and the cause.
  bool logged = false;
  std::istringstream log(read_file(fleetd.log_path()));
  for (std::string line; std::getline(log, line) && !logged;) {
    if (line.find("\"level\":\"error\"") == std::string::npos || line[0] != '{') continue;
    auto j = json::parse(line, nullptr, false);
    logged = j.value("requestId", "") == request_id && j.value("error", "").find("planted fault") != std::string::npos;
  }
  CHECK(logged);

  clear_fault(fleetd, "clusters");
  CHECK(fleetd.call("POST", "/v1/clusters", R"({"name": "boom-1", "provider": "aks"})").status == 201);
  CHECK(fleetd.call("GET", "/readyz", "", {}, std::string("")).status == 200);
}
