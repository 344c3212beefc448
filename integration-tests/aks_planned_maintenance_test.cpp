// AKS planned maintenance end to end (issue #13 item 2, "for AKS also read the cluster's planned-maintenance
// configuration"): real PostgreSQL and fleetd, and fleet-agent --backend kubernetes with the aks upgrade driver,
// against the Kubernetes API TEST DOUBLE and the Azure Resource Manager TEST DOUBLE (agents/kube/testing; in-memory
// stand-ins over HTTPS, not an API server or Azure). The cluster's aksManagedAutoUpgradeSchedule is closed for days;
// a run's member for it is sent its first step, the agent reads the configuration, sends nothing to ARM and stops the
// command with notBefore, and fleetd holds the member (WaitingForWindow) until then, the member's providerWindow
// saying why. What happens when the window opens (the step goes again as a new command) is the run machine's, tested
// in rollout/tests/run_machine_test.cpp without waiting days.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "common/time_format.hpp"
#include "integration-tests/cluster_doubles.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

TEST_CASE("AKS planned maintenance: a closed window holds the member with nothing sent to ARM, and says until when",
          "[integration][rollout][window][kube]") {
  using namespace std::chrono;
  TempDir dir;
  AksClusterDoubles doubles(dir.path(), "1.31.4");
  doubles.add_pool("system", 1, "1.31.4");
  auto& arm = *doubles.arm;

  // The cluster's upgrade window: weekly, on the day three days from now, at 02:00 UTC.
  static const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  const sys_days opens_day = floor<days>(system_clock::now()) + days(3);
  const auto opens = system_clock::time_point(opens_day) + hours(2);
  arm.set_maintenance_configuration(
      "aksManagedAutoUpgradeSchedule",
      {{"schedule", {{"weekly", {{"intervalWeeks", 1}, {"dayOfWeek", kDays[weekday(opens_day).c_encoding()]}}}}},
       {"durationHours", 4},
       {"utcOffset", "+00:00"},
       {"startTime", "02:00"}});

  FleetdOptions options(dir.path() / "data", {}, {"--heartbeat-interval", "1"});
  FleetdProcess fleetd(options);
  fleetd.call_json("POST", "/v1/clusters",
                   R"({"name": "aks-westeurope-1", "provider": "aks", "labels": {"ring": "one"}})", 201);
  const auto agent = doubles.start_agent(fleetd, "aks-westeurope-1", dir.path());
  REQUIRE(wait_for_ready_clusters(fleetd, 1, "1.31.4"));

  const json body = {
      {"name", "held"},
      {"target", {{"type", "ControlPlaneOnly"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
      {"strategy", {{"stages", {{{"name", "all"}, {"labelSelector", "ring=one"}}}}}}};
  fleetd.call_json("POST", "/v1/rollouts", body.dump(), 201);
  fleetd.call_json("POST", "/v1/rollouts/held:start", "");

  json member;
  const auto deadline = steady_clock::now() + seconds(60);
  for (;;) {
    const json run = fleetd.call_json("GET", "/v1/rollouts/held");
    member = run["stages"][0]["members"][0];
    if (member["state"] == "WaitingForWindow") break;
    INFO(run.dump());
    REQUIRE(member["state"] != "Failed");
    REQUIRE(steady_clock::now() < deadline);
    std::this_thread::sleep_for(milliseconds(200));
  }
  INFO(member.dump());
  REQUIRE(member.contains("providerWindow"));
  CHECK(member["providerWindow"]["closedUntil"] == fleet::format_rfc3339(opens));
  const std::string said = member["providerWindow"]["message"];
  CHECK(said.find("AKS planned maintenance aksManagedAutoUpgradeSchedule (weekly on") == 0);
  CHECK(said.find("is closed until " + fleet::format_rfc3339(opens) + "; nothing was sent") != std::string::npos);
  CHECK(member["message"].get<std::string>().find("the cluster's own maintenance window is closed") !=
        std::string::npos);
  CHECK(arm.count("GET", "/maintenanceConfigurations/aksManagedAutoUpgradeSchedule") >= 1);
  CHECK(arm.count("PUT", "/") == 0);  // nothing was sent to ARM
  CHECK(arm.managed_cluster()["properties"]["kubernetesVersion"] == "1.31.4");

  // The run's events say it too.
  bool event = false;
  for (const json& e : fleetd.list_all("/v1/rollouts/held/events")) {
    event = event || (e.value("to", "") == "WaitingForWindow" &&
                      e.value("message", "").find("AKS planned maintenance") != std::string::npos);
  }
  CHECK(event);
}
