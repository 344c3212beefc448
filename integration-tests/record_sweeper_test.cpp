// Issue #10: spent records are deleted (Idempotency-Key records past 24 h, bootstrap tokens a day after they were
// used, revoked or expired, and workload events after 14 days: issue #15 item 5), on the database's clock, with an
// audit row; live ones stay.
#include <catch2/catch.hpp>
#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

long long count(const FleetdProcess& fleetd, const std::string& sql) {
  pqxx::connection conn(fleetd.database_url());
  pqxx::nontransaction txn(conn);
  return txn.exec(sql)[0][0].as<long long>();
}

void exec(const FleetdProcess& fleetd, const std::string& sql) {
  pqxx::connection conn(fleetd.database_url());
  pqxx::work txn(conn);
  txn.exec0(sql);
  txn.commit();
}

}  // namespace

TEST_CASE(
    "spent idempotency records, bootstrap tokens and old workload events are swept with an audit row, live ones stay",
    "[integration][agents][security]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data", {}, {"--record-sweep-seconds", "1"}));
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "sweep-1", "provider": "aks"})", 201);
  REQUIRE(
      fleetd.call("POST", "/v1/clusters", R"({"name": "sweep-2", "provider": "aks"})", {{"idempotency-key", "old-key"}})
          .status == 201);
  const std::string tokens = "/v1/clusters/sweep-1/bootstrap-tokens";
  auto used = fleetd.call_json("POST", tokens, "", 201);
  REQUIRE(fleetd.call("POST", "/v1/agents/register", "", {}, used["token"].get<std::string>()).status == 200);
  auto revoked = fleetd.call_json("POST", tokens, "", 201);
  REQUIRE(fleetd.call("POST", tokens + "/" + revoked["id"].get<std::string>() + ":revoke").status == 204);
  auto expired = fleetd.call_json("POST", tokens, "", 201);
  auto live = fleetd.call_json("POST", tokens, "", 201);
  auto used_today = fleetd.call_json("POST", tokens, "", 201);
  REQUIRE(fleetd.call("POST", "/v1/agents/register", "", {}, used_today["token"].get<std::string>()).status == 200);

  // A workload's first decision writes an event; one written 15 days ago (planted) is swept, today's stays.
  fleetd.call_json("POST", "/v1/workloads",
                   R"({"name": "swept", "replicas": 1,
                       "manifests": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}]})",
                   201);
  for (int i = 0; i < 100 && count(fleetd, "SELECT count(*) FROM workload_events") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(count(fleetd, "SELECT count(*) FROM workload_events") == 1);
  exec(fleetd,
       "INSERT INTO workload_events (workload_id, at, generation, type, message) "
       "SELECT id, now() - interval '15 days', 1, 'Decided', 'planted' FROM workloads WHERE name = 'swept'");

  // A day and an hour later, on the database's clock, for all but the live token, today's registration and a new key.
  exec(fleetd, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'");
  exec(fleetd,
       "UPDATE bootstrap_tokens SET used_at = used_at - interval '25 hours', "
       "revoked_at = revoked_at - interval '25 hours' WHERE id <> '" +
           used_today["id"].get<std::string>() + "'");
  exec(fleetd, "UPDATE bootstrap_tokens SET expires_at = now() - interval '25 hours' WHERE id = '" +
                   expired["id"].get<std::string>() + "'");
  REQUIRE(
      fleetd.call("POST", "/v1/clusters", R"({"name": "sweep-3", "provider": "aks"})", {{"idempotency-key", "new-key"}})
          .status == 201);

  for (int i = 0; i < 100 && count(fleetd, "SELECT count(*) FROM bootstrap_tokens") > 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(count(fleetd, "SELECT count(*) FROM bootstrap_tokens") == 2);
  CHECK(count(fleetd, "SELECT count(*) FROM bootstrap_tokens WHERE id IN ('" + live["id"].get<std::string>() + "', '" +
                          used_today["id"].get<std::string>() + "')") == 2);
  CHECK(count(fleetd, "SELECT count(*) FROM idempotency_keys WHERE key = 'old-key'") == 0);
  CHECK(count(fleetd, "SELECT count(*) FROM idempotency_keys WHERE key = 'new-key'") == 1);
  CHECK(count(fleetd, "SELECT count(*) FROM workload_events WHERE message = 'planted'") == 0);
  CHECK(fleetd.call_json("GET", "/v1/workloads/swept/events")["items"].size() == 1);

  // The live token still registers; the audit log says what was deleted, by whom.
  CHECK(fleetd.call("POST", "/v1/agents/register", "", {}, live["token"].get<std::string>()).status == 200);
  const json audit = fleetd.call_json("GET", "/v1/audit?limit=100");
  long long keys = 0;
  long long bootstrap = 0;
  long long events = 0;
  for (const auto& e : audit["items"]) {
    if (e["action"] != "records.sweep") continue;
    CHECK(e["actor"] == "fleetd");
    keys += e["detail"]["idempotencyKeys"].get<long long>();
    bootstrap += e["detail"]["bootstrapTokens"].get<long long>();
    events += e["detail"]["workloadEvents"].get<long long>();
  }
  CHECK(keys == 1);
  CHECK(bootstrap == 3);
  CHECK(events == 1);
}
