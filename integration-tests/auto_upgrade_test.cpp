// Auto-upgrade profiles (issue #13 item 3 acceptance): two fleetd replicas on one database, each running the
// auto-upgrade loop every second. A catalog version added while one replica is down (and restarted after) creates
// exactly one run per profile whose channel selects it; more rounds on both replicas and another restart create no
// second one. Also: a profile's baseline starts nothing, a started profile's run is started, a disabled profile
// catches up once when enabled, and what the API refuses.
#include <catch2/catch.hpp>
#include <chrono>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>

#include "fleetd/testing/temp_postgres.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

std::set<std::string> run_names(FleetdProcess& fleetd) {
  std::set<std::string> out;
  for (const auto& r : fleetd.list_all("/v1/rollouts?limit=200")) out.insert(r["name"].get<std::string>());
  return out;
}

// Waits until the replicas have created `want` runs (false after 20 s), then lets both loops run a few more rounds.
bool settle_at(FleetdProcess& fleetd, std::size_t want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (run_names(fleetd).size() < want) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  return true;
}

json kube_version(const std::string& version, const std::string& released) {
  return {{"kind", "kubernetes"},
          {"provider", "aks"},
          {"version", version},
          {"released", released},
          {"endOfSupport", "2099-01-01"}};
}

json profile(const std::string& name, const std::string& channel) {
  return {{"name", name}, {"channel", channel}, {"strategyRef", "all-at-once"}};
}

}  // namespace

TEST_CASE("auto-upgrade: a new catalog version creates exactly one run per matching profile, across replicas",
          "[integration][rollout][auto-upgrade]") {
  auto pg = fleet::testing::TempPostgres::start();
  REQUIRE(pg);
  const std::string url = (*pg)->connection_url();
  TempDir dir;
  const std::string token = create_admin_token(url);
  const std::vector<std::string> flags = {"--auto-upgrade-seconds", "1"};
  FleetdProcess fa(FleetdOptions(dir.path() / "a", url, flags, token));
  FleetdProcess fb(FleetdOptions(dir.path() / "b", url, flags, token));

  // Versions far ahead of the shipped catalog, so that the channels' choices are the test's own.
  fa.call_json("POST", "/v1/versions", kube_version("1.90.1", "2026-01-01").dump(), 201);
  fa.call_json("POST", "/v1/versions", kube_version("1.89.4", "2026-01-01").dump(), 201);
  fa.call_json("POST", "/v1/strategies",
               R"({"name": "all-at-once", "stages": [{"name": "all", "labelSelector": "env"}]})", 201);
  json rapid = profile("rapid", "Rapid");
  rapid["startRuns"] = true;
  rapid["nodeUpgrade"] = {{"maxSurge", "50%"}, {"blueGreen", {{"pools", {"gpu"}}, {"soak", "20m"}}}};
  json pinned = profile("pinned", "TargetKubernetesVersion");
  pinned["targetKubernetesVersion"] = "1.89";
  json off = profile("off", "Rapid");
  off["enabled"] = false;
  const json created = fa.call_json("POST", "/v1/auto-upgrade-profiles", rapid.dump(), 201);
  CHECK(created["status"]["selectedRelease"]["key"] == "1.90.1");
  CHECK(created["status"]["lastRelease"] == "1.90.1");  // the baseline
  CHECK_FALSE(created["status"].contains("lastRollout"));
  fb.call_json("POST", "/v1/auto-upgrade-profiles", pinned.dump(), 201);
  fb.call_json("POST", "/v1/auto-upgrade-profiles", profile("stable", "Stable").dump(), 201);
  fb.call_json("POST", "/v1/auto-upgrade-profiles", off.dump(), 201);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(run_names(fa).empty());  // baselines start nothing

  // Refused: an unknown strategy, a taken name, a bad channel.
  json lost = profile("lost", "Rapid");
  lost["strategyRef"] = "no-such-strategy";
  CHECK(fa.call("POST", "/v1/auto-upgrade-profiles", lost.dump()).status == 422);
  CHECK(fa.call("POST", "/v1/auto-upgrade-profiles", rapid.dump()).status == 409);
  CHECK(fa.call("POST", "/v1/auto-upgrade-profiles", profile("weekly", "Weekly").dump()).status == 422);

  // A new patch of the newest minor while replica a is down: Rapid selects it, the others do not.
  fa.kill9();
  fb.call_json("POST", "/v1/versions", kube_version("1.90.2", "2026-01-02").dump(), 201);
  fa.restart();
  REQUIRE(settle_at(fa, 1));
  CHECK(run_names(fa) == std::set<std::string>{"rapid-1-90-2"});
  const json started = fa.call_json("GET", "/v1/rollouts/rapid-1-90-2");
  CHECK(started["state"] != "Pending");  // the profile starts its runs
  CHECK(started["target"]["kubernetesVersion"] == "1.90.2");
  CHECK(started["nodeUpgrade"]["maxSurge"] == "50%");  // the profile's node upgrade settings, blue-green pools too
  CHECK(started["nodeUpgrade"]["blueGreen"] == json{{"pools", {"gpu"}}, {"soak", "20m"}});

  // A new patch of N-1: the pinned minor's profile and Stable each get one run; replica b restarts meanwhile.
  fa.call_json("POST", "/v1/versions", kube_version("1.89.5", "2026-01-02").dump(), 201);
  REQUIRE(fb.terminate() == 0);
  fb.restart();
  REQUIRE(settle_at(fb, 3));
  CHECK(run_names(fb) == std::set<std::string>{"rapid-1-90-2", "pinned-1-89-5", "stable-1-89-5"});
  CHECK(fb.call_json("GET", "/v1/rollouts/pinned-1-89-5")["state"] == "Pending");  // startRuns false
  const json status = fb.call_json("GET", "/v1/auto-upgrade-profiles/pinned")["status"];
  CHECK(status["lastRelease"] == "1.89.5");
  CHECK(status["lastRollout"] == "pinned-1-89-5");

  // Enabled again, the disabled profile catches up once, with the release its channel selects now.
  off["enabled"] = true;
  fa.call_json("PUT", "/v1/auto-upgrade-profiles/off", off.dump());
  REQUIRE(settle_at(fa, 4));
  CHECK(run_names(fa).count("off-1-90-2") == 1);
  CHECK(run_names(fa).size() == 4);

  // From the database: one release row with a run per run, and one audit row each, by fleetd.
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  CHECK(txn.exec1("SELECT count(*) FROM auto_upgrade_releases WHERE rollout IS NOT NULL")[0].as<int>() == 4);
  CHECK(txn.exec1("SELECT count(*) FROM audit_log WHERE action = 'rollout.create' AND actor = 'fleetd'")[0].as<int>() ==
        4);

  CHECK(fa.call_json("GET", "/v1/auto-upgrade-profiles")["items"].size() == 4);
  // Per replica since its start: a has run since its restart, before the last two runs were created.
  CHECK(metric_value(fa, "fleetd_auto_upgrade_runs_created_total") >= 0);
  CHECK(metric_value(fa, "fleetd_auto_upgrade_runs_created_total") +
            metric_value(fb, "fleetd_auto_upgrade_runs_created_total") >=
        3);
  // Deleting a profile keeps its runs.
  CHECK(fa.call("DELETE", "/v1/auto-upgrade-profiles/off").status == 204);
  CHECK(fa.call("GET", "/v1/auto-upgrade-profiles/off").status == 404);
  CHECK(run_names(fa).count("off-1-90-2") == 1);
}
