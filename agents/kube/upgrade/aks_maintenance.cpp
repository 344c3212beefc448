#include "agents/kube/upgrade/aks_maintenance.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

#include "agents/kube/json_fields.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;
using std::chrono::days;
using std::chrono::sys_days;
using TimePoint = std::chrono::system_clock::time_point;

constexpr std::array<const char*, 7> kDayNames = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                  "Thursday", "Friday", "Saturday"};  // weekday::c_encoding order
constexpr std::array<const char*, 5> kWeekIndexes = {"First", "Second", "Third", "Fourth", "Last"};
constexpr int kHorizonDays = 400;

Error bad(const std::string& field, const std::string& why) {
  return make_error(ErrorCode::kInvalid, "AKS maintenance configuration: " + field + " " + why, field,
                    "planned-maintenance-unreadable");
}

// An integer member in [lo, hi]; `fallback` when absent.
Result<int> int_in(const json& object, const char* key, const std::string& path, int lo, int hi, int fallback) {
  const json& v = member(object, key);
  if (v.is_null()) return fallback;
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi) {
    return bad(path + "." + key, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<int>(v.get<long long>());
}

Result<std::chrono::weekday> weekday_of(const json& object, const std::string& path) {
  const std::string name = str(object, "dayOfWeek");
  for (unsigned d = 0; d < kDayNames.size(); ++d) {
    if (name == kDayNames[d]) return std::chrono::weekday{d};
  }
  return bad(path + ".dayOfWeek", "must be a day name (Monday … Sunday)");
}

// "2026-01-31" → the date.
std::optional<sys_days> parse_date(const std::string& s) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  char tail = 0;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok() || y < 1970 || y > 2200) return std::nullopt;
  return sys_days{ymd};
}

// "HH:MM" → minutes; "+05:30" / "-08:00" → signed minutes.
std::optional<std::chrono::minutes> parse_clock(const std::string& s, bool signed_offset) {
  const std::size_t at = signed_offset ? 1 : 0;
  if (s.size() != at + 5 || s[at + 2] != ':') return std::nullopt;
  if (signed_offset && s[0] != '+' && s[0] != '-') return std::nullopt;
  for (std::size_t i : {at, at + 1, at + 3, at + 4}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int h = (s[at] - '0') * 10 + (s[at + 1] - '0');
  const int m = (s[at + 3] - '0') * 10 + (s[at + 4] - '0');
  if (m > 59 || h > (signed_offset ? 14 : 23)) return std::nullopt;
  const std::chrono::minutes v{h * 60 + m};
  return signed_offset && s[0] == '-' ? -v : v;
}

int months_between(sys_days from, sys_days to) {
  const std::chrono::year_month_day a{from};
  const std::chrono::year_month_day b{to};
  return (static_cast<int>(b.year()) - static_cast<int>(a.year())) * 12 +
         (static_cast<int>(static_cast<unsigned>(b.month())) - static_cast<int>(static_cast<unsigned>(a.month())));
}

// Whether an occurrence starts on local date `d`.
bool occurs_on(const AksMaintenanceWindow& w, sys_days d) {
  using Kind = AksMaintenanceWindow::Kind;
  if (d < w.start_date) return false;
  const std::chrono::year_month_day ymd{d};
  switch (w.kind) {
    case Kind::kDaily:
      return (d - w.start_date).count() % w.interval == 0;
    case Kind::kWeekly: {
      if (std::chrono::weekday{d} != w.day_of_week) return false;
      const sys_days first = w.start_date + (w.day_of_week - std::chrono::weekday{w.start_date});
      return ((d - first).count() / 7) % w.interval == 0;
    }
    case Kind::kAbsoluteMonthly:
      return static_cast<int>(static_cast<unsigned>(ymd.day())) == w.day_of_month &&
             months_between(w.start_date, d) % w.interval == 0;
    case Kind::kRelativeMonthly: {
      if (std::chrono::weekday{d} != w.day_of_week || months_between(w.start_date, d) % w.interval != 0) return false;
      const int nth = static_cast<int>((static_cast<unsigned>(ymd.day()) - 1) / 7) + 1;
      if (w.week_index == 5) return std::chrono::year_month_day{d + days{7}}.month() != ymd.month();
      return nth == w.week_index;
    }
  }
  return false;
}

std::string two(int v) {
  return (v < 10 ? "0" : "") + std::to_string(v);
}

std::string describe(const AksMaintenanceWindow& w) {
  using Kind = AksMaintenanceWindow::Kind;
  std::string when;
  switch (w.kind) {
    case Kind::kDaily:
      when = w.interval == 1 ? "daily" : "every " + std::to_string(w.interval) + " days";
      break;
    case Kind::kWeekly:
      when = std::string(w.interval == 1 ? "weekly" : "every " + std::to_string(w.interval) + " weeks") + " on " +
             kDayNames[w.day_of_week.c_encoding()];
      break;
    case Kind::kAbsoluteMonthly:
      when = std::string(w.interval == 1 ? "monthly" : "every " + std::to_string(w.interval) + " months") + " on day " +
             std::to_string(w.day_of_month);
      break;
    case Kind::kRelativeMonthly:
      when = std::string(w.interval == 1 ? "monthly" : "every " + std::to_string(w.interval) + " months") + " on the " +
             kWeekIndexes[static_cast<std::size_t>(w.week_index - 1)] + " " + kDayNames[w.day_of_week.c_encoding()];
      break;
  }
  const auto off = w.utc_offset.count();
  const std::string offset = std::string(off < 0 ? "-" : "+") + two(static_cast<int>(std::abs(off) / 60)) + ":" +
                             two(static_cast<int>(std::abs(off) % 60));
  return when + " at " + two(static_cast<int>(w.start_time.count() / 60)) + ":" +
         two(static_cast<int>(w.start_time.count() % 60)) + " " + offset + " for " +
         std::to_string(w.duration.count()) + "h";
}

}  // namespace

Result<AksMaintenanceWindow> parse_aks_maintenance_window(const json& configuration) {
  const json& mw = member(member(configuration, "properties"), "maintenanceWindow");
  const std::string path = "properties.maintenanceWindow";
  if (!mw.is_object()) return bad(path, "is missing (a configuration of the legacy timeInWeek kind is not read)");
  AksMaintenanceWindow w;
  const json& schedule = member(mw, "schedule");
  if (!schedule.is_object() || schedule.size() != 1) {
    return bad(path + ".schedule", "must hold exactly one of daily, weekly, absoluteMonthly, relativeMonthly");
  }
  const std::string kind = schedule.begin().key();
  const json& body = schedule.begin().value();
  const std::string at = path + ".schedule." + kind;
  using Kind = AksMaintenanceWindow::Kind;
  Result<int> interval = 1;
  if (kind == "daily") {
    w.kind = Kind::kDaily;
    interval = int_in(body, "intervalDays", at, 1, 7, 1);
  } else if (kind == "weekly") {
    w.kind = Kind::kWeekly;
    interval = int_in(body, "intervalWeeks", at, 1, 4, 1);
  } else if (kind == "absoluteMonthly" || kind == "relativeMonthly") {
    w.kind = kind == "absoluteMonthly" ? Kind::kAbsoluteMonthly : Kind::kRelativeMonthly;
    interval = int_in(body, "intervalMonths", at, 1, 6, 1);
  } else {
    return bad(path + ".schedule", "has an unknown kind \"" + kind + "\"");
  }
  if (!interval) return interval.error();
  w.interval = *interval;
  if (w.kind == Kind::kWeekly || w.kind == Kind::kRelativeMonthly) {
    auto day = weekday_of(body, at);
    if (!day) return day.error();
    w.day_of_week = *day;
  }
  if (w.kind == Kind::kAbsoluteMonthly) {
    auto dom = int_in(body, "dayOfMonth", at, 1, 31, 0);
    if (!dom) return dom.error();
    if (*dom == 0) return bad(at + ".dayOfMonth", "is required");
    w.day_of_month = *dom;
  }
  if (w.kind == Kind::kRelativeMonthly) {
    const std::string index = str(body, "weekIndex");
    const auto* it = std::find(kWeekIndexes.begin(), kWeekIndexes.end(), index);
    if (it == kWeekIndexes.end()) return bad(at + ".weekIndex", "must be First, Second, Third, Fourth or Last");
    w.week_index = static_cast<int>(it - kWeekIndexes.begin()) + 1;
  }
  auto duration = int_in(mw, "durationHours", path, 1, 24, 0);
  if (!duration) return duration.error();
  if (*duration == 0) return bad(path + ".durationHours", "is required");
  w.duration = std::chrono::hours(*duration);
  const std::string offset = str(mw, "utcOffset");
  if (!offset.empty()) {
    auto o = parse_clock(offset, true);
    if (!o) return bad(path + ".utcOffset", "must be +HH:MM or -HH:MM");
    w.utc_offset = *o;
  }
  const std::string start_time = str(mw, "startTime");
  auto t = parse_clock(start_time, false);
  if (!t) return bad(path + ".startTime", "must be HH:MM");
  w.start_time = *t;
  const std::string start_date = str(mw, "startDate");
  if (!start_date.empty()) {
    auto d = parse_date(start_date);
    if (!d) return bad(path + ".startDate", "must be a date, YYYY-MM-DD");
    w.start_date = *d;
  }
  const json& not_allowed = member(mw, "notAllowedDates");
  if (!not_allowed.is_null()) {
    if (!not_allowed.is_array() || not_allowed.size() > 64) {
      return bad(path + ".notAllowedDates", "must be a list of at most 64 date spans");
    }
    for (std::size_t i = 0; i < not_allowed.size(); ++i) {
      const std::string span = path + ".notAllowedDates[" + std::to_string(i) + "]";
      auto from = parse_date(str(not_allowed[i], "start"));
      auto to = parse_date(str(not_allowed[i], "end"));
      if (!from || !to || *to < *from) return bad(span, "must be {\"start\", \"end\"} dates, end not before start");
      w.not_allowed.emplace_back(*from, *to);
    }
  }
  w.text = describe(w);
  return w;
}

Result<AksWindowStatus> aks_window_status(const AksMaintenanceWindow& w, TimePoint now) {
  // Local days from two before today (an occurrence may run into today) to the horizon; each occurrence an interval
  // on the UTC clock, cut by the days not allowed, merged where they touch.
  const sys_days today = std::chrono::floor<days>(now + w.utc_offset);
  std::vector<std::pair<TimePoint, TimePoint>> open;
  for (sys_days d = today - days{2}; d <= today + days{kHorizonDays}; d += days{1}) {
    if (!occurs_on(w, d)) continue;
    const TimePoint start = TimePoint(d) + w.start_time - w.utc_offset;
    const TimePoint end = start + w.duration;
    std::vector<std::pair<TimePoint, TimePoint>> pieces{{start, end}};
    for (const auto& [from, to] : w.not_allowed) {
      const TimePoint cut_from = TimePoint(from) - w.utc_offset;
      const TimePoint cut_to = TimePoint(to + days{1}) - w.utc_offset;
      std::vector<std::pair<TimePoint, TimePoint>> kept;
      for (const auto& [a, b] : pieces) {
        if (b <= cut_from || a >= cut_to) {
          kept.emplace_back(a, b);
          continue;
        }
        if (a < cut_from) kept.emplace_back(a, cut_from);
        if (b > cut_to) kept.emplace_back(cut_to, b);
      }
      pieces = std::move(kept);
    }
    for (const auto& p : pieces) {
      if (!open.empty() && p.first <= open.back().second) {
        open.back().second = std::max(open.back().second, p.second);
      } else {
        open.push_back(p);
      }
    }
  }
  for (const auto& [a, b] : open) {
    if (now < a) return AksWindowStatus{false, a};
    if (now < b) return AksWindowStatus{true, b};
  }
  return make_error(
      ErrorCode::kInvalid,
      "AKS maintenance window " + w.text + " does not open in the next " + std::to_string(kHorizonDays) + " days", {},
      "planned-maintenance-never");
}

}  // namespace fleet::agent::kube
