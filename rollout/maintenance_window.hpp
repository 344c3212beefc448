#pragma once
// Maintenance windows (issue #13, item 2): when a cluster may be upgraded. A window recurs weekly on some days, at a
// local time of day in an IANA time zone, for a duration: {"days": ["Sat", "Sun"], "start": "02:00",
// "duration": "4h", "timeZone": "Europe/Berlin"}. A member whose cluster is outside its window waits
// (WaitingForWindow), it does not fail.
//
// Invariants and choices, each tested over DST changes (rollout/tests/maintenance_window_test.cpp):
// - The duration is elapsed time: "4h" is four real hours even across a DST change.
// - A start that does not exist on a spring-forward day (02:30 in Berlin on the last Sunday of March) opens at the
//   instant the clocks jump (03:00 local), as cron does; one that exists twice on a fall-back day opens at the first.
// - Occurrences that overlap or touch are one open stretch ("Sat" and "Sun" from 00:00 for 24h: the weekend).
// - Pure: the time zone rules are the OS tz database's (Debian's tzdata, through Howard Hinnant's date library),
//   looked up once when the window is parsed.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace date {
class time_zone;
}

namespace fleet::rollout {

inline constexpr std::chrono::minutes kMaxWindowDuration{7 * 24 * 60};  // every day, whole: always open

struct MaintenanceWindow {
  std::vector<int> days;            // ISO weekdays 1 (Mon) … 7 (Sun), sorted, unique
  std::chrono::minutes start{0};    // local time of day, 0 … 23:59
  std::chrono::minutes duration{};  // 1 minute … 7 days
  std::string time_zone;            // IANA name, e.g. "Europe/Berlin"
  const date::time_zone* zone = nullptr;
};

// {"days": [...], "start": "HH:MM", "duration": "90m" | "4h" | "1h30m", "timeZone": "..."}; days as "Mon" … "Sun".
// kInvalid naming the member for anything else, an unknown time zone included.
Result<MaintenanceWindow> parse_maintenance_window(const nlohmann::json& j);
nlohmann::json to_json(const MaintenanceWindow& window);

struct WindowStatus {
  bool open = false;
  std::chrono::system_clock::time_point changes_at;  // open: when it closes; closed: when it next opens
};

// Where `now` stands against the window.
WindowStatus window_status(const MaintenanceWindow& window, std::chrono::system_clock::time_point now);

}  // namespace fleet::rollout
