// AKS planned maintenance (upgrade/aks_maintenance.hpp): reading a maintenance configuration and where a time stands
// against it, over each schedule kind, intervals, utcOffset and notAllowedDates; then the aks driver, which does
// not begin an upgrade while the cluster's window for it is closed (against the ARM test double; not Azure).
#include <catch2/catch.hpp>

#include "agents/kube/tests/aks_fixture.hpp"
#include "agents/kube/upgrade/aks_maintenance.hpp"
#include "common/time_format.hpp"

namespace fleet::agent::kube {

using namespace aks_testing;

namespace aks_maintenance_test {

std::chrono::system_clock::time_point at(const char* s) {
  auto t = parse_timestamp(s);
  REQUIRE(t);
  return *t;
}

AksMaintenanceWindow window_of(const json& maintenance_window) {
  auto w = parse_aks_maintenance_window(json{{"properties", {{"maintenanceWindow", maintenance_window}}}});
  INFO(maintenance_window.dump());
  REQUIRE(w.ok());
  return *w;
}

// "open until T" or "closed until T".
std::string where(const AksMaintenanceWindow& w, const char* now) {
  auto s = aks_window_status(w, at(now));
  REQUIRE(s.ok());
  return std::string(s->open ? "open" : "closed") + " until " + format_rfc3339(s->changes_at);
}

const json kSaturday = {{"schedule", {{"weekly", {{"intervalWeeks", 1}, {"dayOfWeek", "Saturday"}}}}},
                        {"durationHours", 4},
                        {"utcOffset", "+00:00"},
                        {"startDate", "2026-01-01"},
                        {"startTime", "02:00"}};

}  // namespace aks_maintenance_test

using aks_maintenance_test::at;
using aks_maintenance_test::kSaturday;
using aks_maintenance_test::where;
using aks_maintenance_test::window_of;

TEST_CASE("aks maintenance: a weekly window opens on its day, closes after its hours, and opens again a week on",
          "[aks][maintenance]") {
  const AksMaintenanceWindow w = window_of(kSaturday);
  CHECK(w.text == "weekly on Saturday at 02:00 +00:00 for 4h");
  CHECK(where(w, "2026-01-15T00:00:00Z") == "closed until 2026-01-17T02:00:00.000Z");  // a Thursday
  CHECK(where(w, "2026-01-17T02:00:00Z") == "open until 2026-01-17T06:00:00.000Z");
  CHECK(where(w, "2026-01-17T05:59:59Z") == "open until 2026-01-17T06:00:00.000Z");
  CHECK(where(w, "2026-01-17T06:00:00Z") == "closed until 2026-01-24T02:00:00.000Z");
}

TEST_CASE("aks maintenance: days and times are the utcOffset's, across midnight both ways", "[aks][maintenance]") {
  json india = kSaturday;
  india["schedule"]["weekly"]["dayOfWeek"] = "Sunday";
  india["startTime"] = "01:00";
  india["utcOffset"] = "+05:30";
  const AksMaintenanceWindow east = window_of(india);
  CHECK(east.text == "weekly on Sunday at 01:00 +05:30 for 4h");
  // Sunday 01:00 in +05:30 is Saturday 19:30 UTC.
  CHECK(where(east, "2026-01-15T00:00:00Z") == "closed until 2026-01-17T19:30:00.000Z");

  json pacific = kSaturday;
  pacific["startTime"] = "22:00";
  pacific["durationHours"] = 6;
  pacific["utcOffset"] = "-08:00";
  const AksMaintenanceWindow west = window_of(pacific);
  // Saturday 22:00 in -08:00 is Sunday 06:00 UTC; a time inside it, on the local Sunday, is inside.
  CHECK(where(west, "2026-01-18T05:00:00Z") == "closed until 2026-01-18T06:00:00.000Z");
  CHECK(where(west, "2026-01-18T09:00:00Z") == "open until 2026-01-18T12:00:00.000Z");
}

TEST_CASE("aks maintenance: intervals count from startDate, and nothing opens before it", "[aks][maintenance]") {
  json fortnight = kSaturday;
  fortnight["schedule"] = {{"weekly", {{"intervalWeeks", 2}, {"dayOfWeek", "Wednesday"}}}};
  fortnight["startDate"] = "2026-01-05";  // a Monday: the first Wednesday is 01-07, then 01-21
  const AksMaintenanceWindow w = window_of(fortnight);
  CHECK(w.text == "every 2 weeks on Wednesday at 02:00 +00:00 for 4h");
  CHECK(where(w, "2026-01-01T00:00:00Z") == "closed until 2026-01-07T02:00:00.000Z");
  CHECK(where(w, "2026-01-08T00:00:00Z") == "closed until 2026-01-21T02:00:00.000Z");

  json daily = kSaturday;
  daily["schedule"] = {{"daily", {{"intervalDays", 3}}}};
  daily["startDate"] = "2026-02-10";
  const AksMaintenanceWindow d = window_of(daily);
  CHECK(d.text == "every 3 days at 02:00 +00:00 for 4h");
  CHECK(where(d, "2026-02-10T03:00:00Z") == "open until 2026-02-10T06:00:00.000Z");
  CHECK(where(d, "2026-02-10T07:00:00Z") == "closed until 2026-02-13T02:00:00.000Z");
}

TEST_CASE("aks maintenance: monthly windows on a day of the month and on the nth weekday", "[aks][maintenance]") {
  json absolute = kSaturday;
  absolute["schedule"] = {{"absoluteMonthly", {{"intervalMonths", 1}, {"dayOfMonth", 31}}}};
  const AksMaintenanceWindow a = window_of(absolute);
  CHECK(a.text == "monthly on day 31 at 02:00 +00:00 for 4h");
  // February has no 31st: that month has no occurrence.
  CHECK(where(a, "2026-02-01T00:00:00Z") == "closed until 2026-03-31T02:00:00.000Z");

  json last = kSaturday;
  last["schedule"] = {{"relativeMonthly", {{"intervalMonths", 1}, {"weekIndex", "Last"}, {"dayOfWeek", "Friday"}}}};
  CHECK(window_of(last).text == "monthly on the Last Friday at 02:00 +00:00 for 4h");
  CHECK(where(window_of(last), "2026-01-02T00:00:00Z") == "closed until 2026-01-30T02:00:00.000Z");
  json first = last;
  first["schedule"]["relativeMonthly"]["weekIndex"] = "First";
  first["schedule"]["relativeMonthly"]["dayOfWeek"] = "Monday";
  CHECK(where(window_of(first), "2026-01-06T00:00:00Z") == "closed until 2026-02-02T02:00:00.000Z");
}

TEST_CASE("aks maintenance: notAllowedDates close whole days, cutting an occurrence that runs into them",
          "[aks][maintenance]") {
  json holiday = kSaturday;
  holiday["notAllowedDates"] = json::array({{{"start", "2026-01-17"}, {"end", "2026-01-17"}}});
  CHECK(where(window_of(holiday), "2026-01-15T00:00:00Z") == "closed until 2026-01-24T02:00:00.000Z");

  json late = kSaturday;
  late["schedule"] = {{"daily", {{"intervalDays", 1}}}};
  late["startTime"] = "22:00";
  late["durationHours"] = 6;
  late["notAllowedDates"] = json::array({{{"start", "2026-01-18"}, {"end", "2026-01-19"}}});
  const AksMaintenanceWindow w = window_of(late);
  CHECK(where(w, "2026-01-17T23:00:00Z") == "open until 2026-01-18T00:00:00.000Z");    // cut at the holiday
  CHECK(where(w, "2026-01-18T00:00:00Z") == "closed until 2026-01-20T00:00:00.000Z");  // the 19th's runs on
  CHECK(where(w, "2026-01-20T01:00:00Z") == "open until 2026-01-20T04:00:00.000Z");

  json never = kSaturday;
  never["notAllowedDates"] = json::array({{{"start", "2026-01-01"}, {"end", "2028-12-31"}}});
  auto none = aks_window_status(window_of(never), at("2026-01-15T00:00:00Z"));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().type == "planned-maintenance-never");
  CHECK(none.error().message ==
        "AKS maintenance window weekly on Saturday at 02:00 +00:00 for 4h does not open in the next 400 days");
}

TEST_CASE("aks maintenance: a configuration that cannot be read is refused, naming the member", "[aks][maintenance]") {
  const auto error_of = [](const json& mw) {
    auto w = parse_aks_maintenance_window(json{{"properties", {{"maintenanceWindow", mw}}}});
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().type == "planned-maintenance-unreadable");
    return w.error().message;
  };
  auto legacy = parse_aks_maintenance_window(json{{"properties", {{"timeInWeek", json::array()}}}});
  REQUIRE_FALSE(legacy.ok());
  CHECK(legacy.error().message ==
        "AKS maintenance configuration: properties.maintenanceWindow is missing (a configuration of the legacy "
        "timeInWeek kind is not read)");
  json w = kSaturday;
  w["schedule"] = {{"yearly", json::object()}};
  CHECK(error_of(w) ==
        "AKS maintenance configuration: properties.maintenanceWindow.schedule has an unknown kind "
        "\"yearly\"");
  w = kSaturday;
  w["schedule"]["weekly"]["dayOfWeek"] = "Caturday";
  CHECK(error_of(w) ==
        "AKS maintenance configuration: properties.maintenanceWindow.schedule.weekly.dayOfWeek must "
        "be a day name (Monday … Sunday)");
  w = kSaturday;
  w["durationHours"] = 0;
  CHECK(error_of(w) ==
        "AKS maintenance configuration: properties.maintenanceWindow.durationHours must be a whole "
        "number from 1 to 24");
  w = kSaturday;
  w["startTime"] = "25:00";
  CHECK(error_of(w) == "AKS maintenance configuration: properties.maintenanceWindow.startTime must be HH:MM");
  w = kSaturday;
  w["utcOffset"] = "5:30";
  CHECK(error_of(w) ==
        "AKS maintenance configuration: properties.maintenanceWindow.utcOffset must be +HH:MM or -HH:MM");
  w = kSaturday;
  w["notAllowedDates"] = json::array({{{"start", "2026-02-01"}, {"end", "2026-01-01"}}});
  CHECK(error_of(w) ==
        "AKS maintenance configuration: properties.maintenanceWindow.notAllowedDates[0] must be "
        "{\"start\", \"end\"} dates, end not before start");
}

TEST_CASE("aks driver: a closed planned-maintenance window holds the upgrade with nothing sent, saying when it opens",
          "[aks][maintenance]") {
  AksFixture f;
  f.arm->set_maintenance_configuration(kAksUpgradeSchedule, kSaturday);
  auto driver = make_aks_driver(f.options());
  auto ctx = f.context();
  ctx.wall_now = [] { return at("2026-01-15T00:00:00Z"); };
  protocol::UpgradeNodePool up;
  up.pool = "gpu";
  up.kubernetes_version = *model::parse_kubernetes_version("1.32.7");

  auto held = driver->upgrade_node_pool(ctx, up);
  REQUIRE(held.ok());
  CHECK(*held ==
        "AKS planned maintenance aksManagedAutoUpgradeSchedule (weekly on Saturday at 02:00 +00:00 for 4h) is closed "
        "until 2026-01-17T02:00:00.000Z; nothing was sent");
  CHECK(f.writes().empty());
  CHECK(f.count_events("maintenance_window_closed") == 1);
  {
    std::lock_guard lock(f.mutex);
    CHECK(f.status.stopped);
    REQUIRE(f.status.not_before);
    CHECK(format_rfc3339(*f.status.not_before) == "2026-01-17T02:00:00.000Z");
    CHECK(protocol::to_json(f.status)["notBefore"] == "2026-01-17T02:00:00.000Z");
  }

  SECTION("inside the window it is sent") {
    ctx.wall_now = [] { return at("2026-01-17T03:00:00Z"); };
    REQUIRE(driver->upgrade_node_pool(ctx, up).ok());
    CHECK(f.writes().size() == 1);
    CHECK(f.arm->pool("gpu").value()["properties"]["currentOrchestratorVersion"] == "1.32.7");
  }
  SECTION("a node image follows the node-OS schedule, which this cluster does not have") {
    up.kubernetes_version.reset();
    REQUIRE(driver->upgrade_node_pool(ctx, up).ok());
    CHECK(f.writes().size() == 1);
    CHECK(f.arm->count("GET", "/maintenanceConfigurations/aksManagedNodeOSUpgradeSchedule") == 1);
  }
  SECTION("an upgrade already in flight toward the target is followed whatever the hour") {
    f.arm->start_operation("gpu", "1.32.7");
    auto followed = driver->upgrade_node_pool(ctx, up);
    REQUIRE(followed.ok());
    CHECK(*followed == "AKS pool gpu upgraded to 1.32.7 (an operation already in flight was followed)");
  }
  SECTION("--aks-ignore-planned-maintenance sends it") {
    AksDriverOptions o = f.options();
    o.honor_planned_maintenance = false;
    REQUIRE(make_aks_driver(o)->upgrade_node_pool(ctx, up).ok());
    CHECK(f.writes().size() == 1);
  }
  SECTION("a configuration the agent cannot read sends nothing and says how to go on") {
    json odd = kSaturday;
    odd["schedule"] = {{"yearly", json::object()}};
    f.arm->set_maintenance_configuration(kAksUpgradeSchedule, odd);
    auto refused = driver->upgrade_node_pool(ctx, up);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().type == "planned-maintenance-unreadable");
    CHECK(refused.error().message.find("--aks-ignore-planned-maintenance") != std::string::npos);
    CHECK(f.writes().empty());
  }
  SECTION("a blue-green pool is not created while it is closed") {
    protocol::BlueGreenNodePool bg;
    bg.pool = "gpu";
    bg.new_pool = "gpu2";
    bg.kubernetes_version = up.kubernetes_version;
    std::vector<std::string> touched;
    ctx.cordon = [&](const std::string& n, bool) -> Result<std::string> {
      touched.push_back(n);
      return std::string();
    };
    ctx.drain = [&](const std::string& n) -> Result<std::string> {
      touched.push_back(n);
      return std::string();
    };
    ctx.pool_nodes = [](const std::string&) { return std::vector<PoolNode>(); };
    auto replaced = driver->blue_green_node_pool(ctx, bg);
    REQUIRE(replaced.ok());
    CHECK(replaced->find("is closed until 2026-01-17T02:00:00.000Z") != std::string::npos);
    CHECK(f.writes().empty());
    CHECK(touched.empty());
    CHECK_FALSE(f.arm->pool("gpu2").has_value());
    CHECK(f.count_events("pool_creating") == 0);
  }
}

}  // namespace fleet::agent::kube
