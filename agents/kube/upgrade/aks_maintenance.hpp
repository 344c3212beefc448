#pragma once
// AKS planned maintenance, read as data (pure; no I/O): a managed cluster's maintenance configuration
// (…/managedClusters/{name}/maintenanceConfigurations/{config},
// https://learn.microsoft.com/rest/api/aks/maintenance-configurations) says when AKS itself may upgrade the cluster:
// aksManagedAutoUpgradeSchedule for Kubernetes versions, aksManagedNodeOSUpgradeSchedule for node images. The cluster's
// owner set it; the fleet honours it too, so the aks driver does not begin an upgrade while it is closed
// (docs/kubernetes-backend.md, "Planned maintenance").
//
// properties.maintenanceWindow = {
//   "schedule": {"daily": {"intervalDays"}} | {"weekly": {"intervalWeeks", "dayOfWeek"}}
//             | {"absoluteMonthly": {"intervalMonths", "dayOfMonth"}}
//             | {"relativeMonthly": {"intervalMonths", "weekIndex": "First"|…|"Fourth"|"Last", "dayOfWeek"}},
//   "durationHours", "utcOffset"? ("+05:30"; default "+00:00"), "startDate"? ("2026-01-31"), "startTime" ("02:00"),
//   "notAllowedDates"?: [{"start", "end"}] (dates, both days included) }
// Choices, each tested (agents/kube/tests/aks_maintenance_test.cpp):
// - Days, times and notAllowedDates are in the configuration's utcOffset (a fixed offset: AKS has no time zones here).
// - An interval counts from the first matching day on or after startDate (weekly), from startDate (daily), or from
//   startDate's month (monthly); without a startDate, from 1970-01-01. No occurrence starts before startDate.
// - A month without dayOfMonth (31 in April) has no occurrence that month.
// - notAllowedDates close those whole days, cutting an occurrence that runs into them.
// - Occurrences that overlap or touch are one open stretch.
// The legacy "default" configuration (timeInWeek / notAllowedTime, for AKS's own platform releases) is not read.
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::agent::kube {

inline constexpr const char* kAksUpgradeSchedule = "aksManagedAutoUpgradeSchedule";
inline constexpr const char* kAksNodeOsSchedule = "aksManagedNodeOSUpgradeSchedule";

struct AksMaintenanceWindow {
  enum class Kind { kDaily, kWeekly, kAbsoluteMonthly, kRelativeMonthly } kind = Kind::kWeekly;
  int interval = 1;                     // days, weeks or months
  std::chrono::weekday day_of_week{6};  // weekly, relativeMonthly (Saturday by default)
  int day_of_month = 1;                 // absoluteMonthly
  int week_index = 1;                   // relativeMonthly: 1 … 4, or 5 for Last
  std::chrono::minutes utc_offset{0};   // local = UTC + offset
  std::chrono::sys_days start_date{};   // local date; 1970-01-01 when absent
  std::chrono::minutes start_time{0};   // local time of day
  std::chrono::hours duration{4};
  std::vector<std::pair<std::chrono::sys_days, std::chrono::sys_days>> not_allowed;  // local dates, inclusive
  std::string text;  // "weekly on Saturday at 02:00 +00:00 for 4h", for messages
};

// The maintenance configuration resource as GET returned it; kInvalid naming the member for anything else.
Result<AksMaintenanceWindow> parse_aks_maintenance_window(const nlohmann::json& configuration);

struct AksWindowStatus {
  bool open = false;
  std::chrono::system_clock::time_point changes_at;  // open: when it closes; closed: when it next opens
};
// Where `now` stands; kInvalid when no occurrence opens within the next 400 days (every day not allowed, say).
Result<AksWindowStatus> aks_window_status(const AksMaintenanceWindow& window,
                                          std::chrono::system_clock::time_point now);

}  // namespace fleet::agent::kube
