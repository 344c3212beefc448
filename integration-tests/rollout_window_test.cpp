// Maintenance windows in update runs (issue #13 item 2 acceptance): six fleet-sim clusters, half labelled
// window=now (a window open from a minute ago), half window=soon (a window that opens on one of the next two whole
// minutes). fleetd's executor reads the real clock, so the windows are built in UTC from the current time: days and
// start on the minute, the smallest granularity a window has; the test therefore waits 25 to 85 s for the opening.
// Checked: the plan names each cluster's window; the window=soon members wait (WaitingForWindow, with an event
// saying when their window opens) while the others run; the run completes; from the events, no member started
// outside its window. A second case closes a window while a pool is being upgraded (issue #13 item 2's "lets the
// node in hand finish and stops before the next").
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "common/time_format.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;
using WallClock = std::chrono::system_clock;

namespace {

constexpr int kWindowClusters = 6;

// A window of `length` opening at `opens` (on the minute), in UTC: its weekday and HH:MM.
json utc_window(WallClock::time_point opens, std::chrono::minutes length) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  const std::time_t t = WallClock::to_time_t(opens);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char start[8];
  std::snprintf(start, sizeof start, "%02d:%02d", tm.tm_hour, tm.tm_min);
  return {{"days", {kDays[tm.tm_wday]}},
          {"start", start},
          {"duration", std::to_string(length.count()) + "m"},
          {"timeZone", "UTC"}};
}

}  // namespace

TEST_CASE("fleet-sim: members outside their maintenance window wait for it, none starts outside it",
          "[integration][rollout][window][fleet-sim]") {
  using namespace std::chrono;
  TempDir dir;
  FleetdProcess fleetd{
      FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1", "--unreachable-after", "30"})};
  auto spec = agent::generate_fleet_spec(kWindowClusters, "h100:8x50%", 13);
  REQUIRE(spec);
  spec->time_scale = 2000;
  std::map<std::string, std::string> window_of;  // cluster → now | soon
  for (std::size_t i = 0; i < spec->clusters.size(); ++i) {
    const std::string w = i % 2 == 0 ? "now" : "soon";
    spec->clusters[i].labels["window"] = w;
    window_of[spec->clusters[i].name] = w;
  }
  const auto sim = start_fleet_sim(fleetd, dir.path(), *spec);
  // Every cluster ready with its inventory (pools and versions) stored.
  REQUIRE(wait_for_ready_clusters(fleetd, kWindowClusters, "1.31.4"));

  // The windows, on whole minutes: "now" opened a minute ago for 20 minutes; "soon" opens on the next whole minute
  // at least 25 s away (time to create and start the run first), for 10 minutes.
  const auto wall = WallClock::now();
  const auto minute = floor<minutes>(wall);
  const WallClock::time_point now_opens = minute - minutes(1);
  const WallClock::time_point now_closes = now_opens + minutes(20);
  const WallClock::time_point soon_opens =
      minute + minutes(1) - wall >= seconds(25) ? minute + minutes(1) : minute + minutes(2);
  const WallClock::time_point soon_closes = soon_opens + minutes(10);
  const json strategy = {{"stages", {{{"name", "all"}, {"labelSelector", "window"}, {"maxConcurrency", "2"}}}},
                         {"maintenanceWindows",
                          {{{"clusterSelector", "window=now"}, {"window", utc_window(now_opens, minutes(20))}},
                           {{"clusterSelector", "window=soon"}, {"window", utc_window(soon_opens, minutes(10))}}}}};
  const json body = {{"name", "windows"},
                     {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
                     {"strategy", strategy}};
  const std::string soon_text = fleet::format_rfc3339(soon_opens);

  // The plan names each cluster's window and where it stands.
  auto plan = fleetd.call_json("POST", "/v1/rollouts:plan", body.dump());
  REQUIRE(plan["members"].size() == kWindowClusters);
  for (const auto& m : plan["members"]) {
    INFO(m.dump());
    REQUIRE(m.contains("maintenanceWindow"));
    const bool soon = window_of[m["cluster"]] == "soon";
    CHECK(m["maintenanceWindow"]["index"] == (soon ? 1 : 0));
    CHECK(m["maintenanceWindow"]["openNow"] == !soon);
    if (soon) CHECK(m["maintenanceWindow"]["opensAt"] == soon_text);
  }

  auto created = fleetd.call_json("POST", "/v1/rollouts", body.dump(), 201);
  CHECK(created["strategy"]["maintenanceWindows"].size() == 2);
  fleetd.call_json("POST", "/v1/rollouts/windows:start", "");

  bool seen_waiting = false;
  json run;
  const auto run_deadline = steady_clock::now() + seconds(200);
  for (;;) {
    run = fleetd.call_json("GET", "/v1/rollouts/windows");
    if (run["state"] == "Completed") break;
    INFO(run.dump());
    REQUIRE(run["state"] == "Running");
    REQUIRE(steady_clock::now() < run_deadline);
    for (const auto& m : run["stages"][0]["members"]) {
      if (m["state"] != "WaitingForWindow") continue;
      seen_waiting = true;
      CHECK(window_of[m["cluster"]] == "soon");
      CHECK_THAT(m["message"].get<std::string>(), Catch::Contains(soon_text));
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  CHECK(seen_waiting);
  CHECK(run["counts"]["succeeded"] == kWindowClusters);
  // A named list: a range-for over a member of call_json's temporary would read a destroyed object.
  const json clusters = fleetd.call_json("GET", "/v1/clusters?limit=1000");
  REQUIRE(clusters["items"].size() == kWindowClusters);
  for (const auto& c : clusters["items"]) {
    CHECK(c["kubernetesVersion"] == "1.32.7");
  }

  // From the events: every window=soon member waited with the opening time; every start inside the window.
  std::set<std::string> waited;
  std::map<std::string, int> starts;
  for (const auto& e : fleetd.list_all("/v1/rollouts/windows/events?limit=5000")) {
    if (e["scope"] != "member") continue;
    const std::string cluster = e["name"];
    INFO(e.dump());
    if (e["to"] == "WaitingForWindow") {
      CHECK(window_of[cluster] == "soon");
      CHECK_THAT(e["message"].get<std::string>(), Catch::Contains(soon_text));
      waited.insert(cluster);
    }
    if (e["to"] != "Upgrading" || (e["from"] != "Pending" && e["from"] != "WaitingForWindow")) continue;
    ++starts[cluster];
    const auto at = fleet::parse_timestamp(e["at"].get<std::string>());
    REQUIRE(at);
    const bool soon = window_of[cluster] == "soon";
    CHECK(*at >= (soon ? soon_opens : now_opens));
    CHECK(*at < (soon ? soon_closes : now_closes));
  }
  CHECK(waited.size() == kWindowClusters / 2);
  CHECK(starts.size() == kWindowClusters);
  for (const auto& [cluster, n] : starts) CHECK(n == 1);
}

// A window that closes while a node pool is being upgraded: the agent (fleet-sim on a real-time clock) starts no
// node from the window's end, finishes the one in hand and reports the step stopped; the member waits for the next
// window, with the pool partly upgraded. The run is started 16 s before the window closes, with a 2 s control
// plane and 13-15 s nodes, so that the first pool step is in flight when it does (the test waits up to a minute
// for that moment).
TEST_CASE("fleet-sim: a window that closes mid-pool stops the upgrade between nodes, and the member waits",
          "[integration][rollout][window][fleet-sim]") {
  using namespace std::chrono;
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  auto spec = agent::generate_fleet_spec(1, "h100:8x100%", 17);
  REQUIRE(spec);
  spec->time_scale = 1;
  spec->durations = agent::Durations{2, 12, 1, 2};
  const std::string cluster = spec->clusters[0].name;
  const auto sim = start_fleet_sim(fleetd, dir.path(), *spec);
  REQUIRE(wait_for_ready_clusters(fleetd, 1, "1.31.4"));

  // The window closes on the next whole minute at least 20 s away.
  const auto wall = WallClock::now();
  const auto minute = floor<minutes>(wall);
  const WallClock::time_point closes =
      minute + minutes(1) - wall >= seconds(20) ? minute + minutes(1) : minute + minutes(2);
  const json body = {{"name", "closing"},
                     {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"allowUnsupported", true}}},
                     {"strategy",
                      {{"stages", {{{"name", "all"}, {"labelSelector", "env"}}}},
                       {"maintenanceWindows", {{{"window", utc_window(closes - minutes(5), minutes(5))}}}}}}};
  fleetd.call_json("POST", "/v1/rollouts", body.dump(), 201);
  std::this_thread::sleep_until(closes - seconds(16));
  fleetd.call_json("POST", "/v1/rollouts/closing:start", "");

  json member;
  const auto deadline = steady_clock::now() + seconds(90);
  for (;;) {
    member = fleetd.call_json("GET", "/v1/rollouts/closing")["stages"][0]["members"][0];
    if (member["state"] == "WaitingForWindow") break;
    INFO(member.dump());
    REQUIRE((member["state"] == "Upgrading" || member["state"] == "Probing" || member["state"] == "Pending"));
    REQUIRE(steady_clock::now() < deadline);
    std::this_thread::sleep_for(milliseconds(200));
  }
  INFO(member.dump());
  CHECK(member["step"] == 2);  // the first pool step, not done
  CHECK_THAT(member["message"].get<std::string>(),
             Catch::Contains("stopped between nodes at its maintenance window's end"));
  // The agent's report: succeeded, stopped, with nodes left; the pool is part upgraded.
  const json commands = fleetd.call_json("GET", "/v1/clusters/" + cluster + "/commands?limit=10");
  json pool_command;
  for (const auto& c : commands["items"]) {
    if (c["kind"] == "upgrade_node_pool") pool_command = c;
  }
  REQUIRE(pool_command.is_object());
  CHECK(pool_command["state"] == "succeeded");
  CHECK(pool_command["payload"]["notAfter"] == fleet::format_rfc3339(closes));
  CHECK(pool_command["progress"]["stopped"] == true);
  const int total = pool_command["progress"]["nodesTotal"];
  const int done = pool_command["progress"]["nodesDone"];
  CHECK(done >= 1);
  CHECK(done < total);
  const auto finished = fleet::parse_timestamp(pool_command["finishedAt"].get<std::string>());
  REQUIRE(finished);
  CHECK(*finished >= closes);  // the node in hand finished after the window's end; none started after it
  const std::string pool = pool_command["payload"]["pool"];
  // The nodes as the next heartbeat reports them.
  int upgraded = 0;
  int in_pool = 0;
  for (int i = 0; i < 25 && !(in_pool == total && upgraded == done); ++i) {
    if (i > 0) std::this_thread::sleep_for(milliseconds(200));
    const json nodes = fleetd.call_json("GET", "/v1/clusters/" + cluster + "/nodes");
    upgraded = in_pool = 0;
    for (const auto& n : nodes["items"]) {
      if (n["pool"] != pool) continue;
      ++in_pool;
      upgraded += n["kubernetesVersion"] == "1.32.7" ? 1 : 0;
    }
  }
  CHECK(in_pool == total);
  CHECK(upgraded == done);
  fleetd.call_json("POST", "/v1/rollouts/closing:abort", "");
}
