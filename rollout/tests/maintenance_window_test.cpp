// Maintenance windows over time zones and DST changes (issue #13, item 2): the instants are worked out by hand from
// the published rules (Europe/Berlin: CET+1/CEST+2, changes on the last Sundays of March and October at 01:00 UTC;
// America/New_York: second Sunday of March, first of November; Australia/Sydney: the other way round).
#include "rollout/maintenance_window.hpp"

#include <catch2/catch.hpp>

#include <date/date.h>

namespace fleet::rollout {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using Instant = std::chrono::system_clock::time_point;

// A UTC instant: utc(2026, 3, 29, 1, 0).
Instant utc(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  return date::sys_days(date::year(y) / date::month(mo) / date::day(d)) + hours(h) + minutes(mi);
}

MaintenanceWindow window(nlohmann::json days, const std::string& start, const std::string& duration,
                         const std::string& zone) {
  auto w = parse_maintenance_window(
      {{"days", std::move(days)}, {"start", start}, {"duration", duration}, {"timeZone", zone}});
  REQUIRE(w.ok());
  return *w;
}

void check_status(const MaintenanceWindow& w, Instant now, bool open, Instant changes_at) {
  const auto s = window_status(w, now);
  INFO(date::format("%F %R UTC", now));
  CHECK(s.open == open);
  CHECK(date::format("%F %R", s.changes_at) == date::format("%F %R", changes_at));
}

}  // namespace

TEST_CASE("maintenance window: open, closed and the next change, in UTC", "[rollout][window]") {
  const auto w = window({"Sat", "Sun"}, "02:00", "4h", "UTC");
  // Saturday 2026-12-05.
  check_status(w, utc(2026, 12, 5, 1, 59), false, utc(2026, 12, 5, 2));
  check_status(w, utc(2026, 12, 5, 2), true, utc(2026, 12, 5, 6));
  check_status(w, utc(2026, 12, 5, 5, 59), true, utc(2026, 12, 5, 6));
  check_status(w, utc(2026, 12, 5, 6), false, utc(2026, 12, 6, 2));
  check_status(w, utc(2026, 12, 6, 7), false, utc(2026, 12, 12, 2));  // Sunday after: next Saturday
  CHECK(to_json(w) ==
        nlohmann::json{{"days", {"Sat", "Sun"}}, {"start", "02:00"}, {"duration", "4h"}, {"timeZone", "UTC"}});
}

TEST_CASE("maintenance window: local time follows the zone's offset, summer and winter", "[rollout][window]") {
  const auto w = window({"Tue"}, "22:00", "1h30m", "Europe/Berlin");
  // Winter (CET, +1): Tuesday 2026-12-01 22:00 local is 21:00 UTC.
  check_status(w, utc(2026, 12, 1, 20, 59), false, utc(2026, 12, 1, 21));
  check_status(w, utc(2026, 12, 1, 21), true, utc(2026, 12, 1, 22, 30));
  // Summer (CEST, +2): Tuesday 2026-07-07 22:00 local is 20:00 UTC.
  check_status(w, utc(2026, 7, 7, 20), true, utc(2026, 7, 7, 21, 30));
  // India (+5:30, no DST): 22:00 local is 16:30 UTC.
  const auto kolkata = window({"Tue"}, "22:00", "1h", "Asia/Kolkata");
  check_status(kolkata, utc(2026, 12, 1, 16, 29), false, utc(2026, 12, 1, 16, 30));
  check_status(kolkata, utc(2026, 12, 1, 16, 30), true, utc(2026, 12, 1, 17, 30));
}

TEST_CASE("maintenance window: a start the spring-forward skips opens when the clocks jump", "[rollout][window]") {
  // Berlin, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:30 does not exist that day.
  const auto w = window({"Sun"}, "02:30", "1h", "Europe/Berlin");
  check_status(w, utc(2026, 3, 29, 0, 59), false, utc(2026, 3, 29, 1));
  check_status(w, utc(2026, 3, 29, 1), true, utc(2026, 3, 29, 2));  // one real hour: until 04:00 CEST
  // The Sunday before (CET) and after (CEST) it opens at 02:30 local: 01:30 and 00:30 UTC.
  check_status(w, utc(2026, 3, 22, 1), false, utc(2026, 3, 22, 1, 30));
  check_status(w, utc(2026, 4, 5, 0), false, utc(2026, 4, 5, 0, 30));
  // New York, Sunday 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
  const auto ny = window({"Sun"}, "02:15", "30m", "America/New_York");
  check_status(ny, utc(2026, 3, 8, 6), false, utc(2026, 3, 8, 7));
  check_status(ny, utc(2026, 3, 8, 7, 10), true, utc(2026, 3, 8, 7, 30));
}

TEST_CASE("maintenance window: a start the fall-back repeats opens at its first, for the duration elapsed",
          "[rollout][window]") {
  // Berlin, Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens at 00:30 and 01:30 UTC.
  const auto w = window({"Sun"}, "02:30", "1h", "Europe/Berlin");
  check_status(w, utc(2026, 10, 25, 0, 29), false, utc(2026, 10, 25, 0, 30));
  check_status(w, utc(2026, 10, 25, 0, 30), true, utc(2026, 10, 25, 1, 30));
  check_status(w, utc(2026, 10, 25, 1, 30), false, utc(2026, 11, 1, 1, 30));  // not again at the second 02:30
  // A 4h window over the change is four real hours: 01:00 CEST (23:00 UTC) to 04:00 CET (03:00 UTC).
  const auto across = window({"Sun"}, "01:00", "4h", "Europe/Berlin");
  check_status(across, utc(2026, 10, 24, 23, 0), true, utc(2026, 10, 25, 3, 0));
  // Sydney goes back on Sunday 2026-04-05 (03:00 AEDT, +11, becomes 02:00 AEST, +10, at 16:00 UTC on the 4th).
  const auto sydney = window({"Sun"}, "02:30", "1h", "Australia/Sydney");
  check_status(sydney, utc(2026, 4, 4, 15, 0), false, utc(2026, 4, 4, 15, 30));
}

TEST_CASE("maintenance window: days that touch are one stretch, every day for 7 days is always open",
          "[rollout][window]") {
  const auto weekend = window({"Sat", "Sun"}, "00:00", "24h", "UTC");
  check_status(weekend, utc(2026, 12, 5, 12), true, utc(2026, 12, 7, 0));  // Saturday noon: until Monday 00:00
  check_status(weekend, utc(2026, 12, 7, 0), false, utc(2026, 12, 12, 0));
  const auto always = window({"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}, "00:00", "7d", "UTC");
  CHECK(window_status(always, utc(2026, 12, 5, 12)).open);
  // A window that runs past midnight into the next day is open then, from the day before.
  const auto late = window({"Fri"}, "23:00", "3h", "UTC");
  check_status(late, utc(2026, 12, 5, 1), true, utc(2026, 12, 5, 2));
}

TEST_CASE("maintenance window: bad input names the member", "[rollout][window]") {
  auto error_of = [](nlohmann::json j) {
    auto w = parse_maintenance_window(j);
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().code == ErrorCode::kInvalid);
    return w.error().message;
  };
  const nlohmann::json good = {{"days", {"Sat"}}, {"start", "02:00"}, {"duration", "4h"}, {"timeZone", "UTC"}};
  auto with = [&](const std::string& key, nlohmann::json value) {
    auto j = good;
    j[key] = std::move(value);
    return j;
  };
  CHECK_THAT(error_of(with("days", nlohmann::json::array())), Catch::Contains("maintenanceWindow.days"));
  CHECK_THAT(error_of(with("days", {"Saturday"})), Catch::Contains("days are Mon … Sun"));
  CHECK_THAT(error_of(with("start", "24:00")), Catch::Contains("maintenanceWindow.start"));
  CHECK_THAT(error_of(with("start", "2:00")), Catch::Contains("HH:MM"));
  CHECK_THAT(error_of(with("duration", "0m")), Catch::Contains("maintenanceWindow.duration"));
  CHECK_THAT(error_of(with("duration", "8d")), Catch::Contains("1m to 7d"));
  CHECK_THAT(error_of(with("duration", "4 hours")), Catch::Contains("maintenanceWindow.duration"));
  CHECK_THAT(error_of(with("timeZone", "Mars/Olympus_Mons")), Catch::Contains("is not a time zone this system knows"));
  CHECK_THAT(error_of(with("timeZone", std::string(100, 'x'))), Catch::Contains("IANA time zone name"));
  CHECK_THAT(error_of(nlohmann::json::array()), Catch::Contains("must be an object"));
  auto d = parse_maintenance_window(with("duration", "1h30m"));
  REQUIRE(d.ok());
  CHECK(d->duration == minutes(90));
  CHECK(to_json(*d)["duration"] == "1h30m");
}

}  // namespace fleet::rollout
