#include "rollout/maintenance_window.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace fleet::rollout {
namespace {

using std::chrono::minutes;
using Instant = std::chrono::system_clock::time_point;

constexpr std::array<std::string_view, 7> kDayNames = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::size_t kMaxZoneName = 64;

Error invalid(const std::string& member, const std::string& why) {
  return make_error(ErrorCode::kInvalid, "maintenanceWindow." + member + " " + why);
}

std::optional<int> two_digits(std::string_view s) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return std::nullopt;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// "HH:MM", 00:00 … 23:59.
std::optional<minutes> parse_time_of_day(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  const auto h = two_digits(s.substr(0, 2));
  const auto m = two_digits(s.substr(3, 2));
  if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
  return minutes(*h * 60 + *m);
}

// "90m", "4h", "1h30m", "2d": whole minutes.
std::optional<minutes> parse_duration(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  minutes total{0};
  while (!s.empty()) {
    std::size_t digits = 0;
    long long n = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9' && digits < 6) n = n * 10 + (s[digits++] - '0');
    if (digits == 0 || digits == s.size()) return std::nullopt;
    const char unit = s[digits];
    if (unit == 'm') {
      total += minutes(n);
    } else if (unit == 'h') {
      total += minutes(n * 60);
    } else if (unit == 'd') {
      total += minutes(n * 24 * 60);
    } else {
      return std::nullopt;
    }
    s.remove_prefix(digits + 1);
  }
  return total;
}

std::string format_window_length(minutes d) {
  std::string out;
  if (d.count() >= 60) out += std::to_string(d.count() / 60) + "h";
  if (d.count() % 60 != 0 || out.empty()) out += std::to_string(d.count() % 60) + "m";
  return out;
}

Result<std::vector<int>> parse_days(const nlohmann::json& j) {
  if (!j.is_array() || j.empty() || j.size() > kDayNames.size()) {
    return invalid("days", "must list 1 to 7 days: Mon, Tue, Wed, Thu, Fri, Sat, Sun");
  }
  std::vector<int> days;
  for (const auto& d : j) {
    const auto* name = d.get_ptr<const std::string*>();
    const auto it = name ? std::find(kDayNames.begin(), kDayNames.end(), *name) : kDayNames.end();
    if (it == kDayNames.end()) return invalid("days", "has " + d.dump(-1, ' ', true) + ": days are Mon … Sun");
    days.push_back(static_cast<int>(it - kDayNames.begin()) + 1);
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

// The instant a local time names: the first of two on a fall-back day; on a spring-forward day a time the clocks
// skip names the instant they jump (date::choose applies to both cases).
Instant instant_of(const date::time_zone& zone, date::local_time<minutes> local) {
  return zone.to_sys(local, date::choose::earliest);
}

}  // namespace

Result<MaintenanceWindow> parse_maintenance_window(const nlohmann::json& j) {
  if (!j.is_object()) return invalid("", "must be an object with days, start, duration and timeZone");
  MaintenanceWindow w;
  auto days = parse_days(j.contains("days") ? j.at("days") : nlohmann::json());
  if (!days) return days.error();
  w.days = std::move(*days);
  const auto* start = j.contains("start") ? j.at("start").get_ptr<const std::string*>() : nullptr;
  const auto start_time = start ? parse_time_of_day(*start) : std::nullopt;
  if (!start_time) return invalid("start", "must be a local time of day, HH:MM (00:00 to 23:59)");
  w.start = *start_time;
  const auto* duration = j.contains("duration") ? j.at("duration").get_ptr<const std::string*>() : nullptr;
  const auto length = duration ? parse_duration(*duration) : std::nullopt;
  if (!length || *length < minutes(1) || *length > kMaxWindowDuration) {
    return invalid("duration", "must be 1m to 7d, written like 90m, 4h or 1h30m");
  }
  w.duration = *length;
  const auto* zone = j.contains("timeZone") ? j.at("timeZone").get_ptr<const std::string*>() : nullptr;
  if (zone == nullptr || zone->empty() || zone->size() > kMaxZoneName) {
    return invalid("timeZone", "must be an IANA time zone name, e.g. Europe/Berlin or UTC");
  }
  try {
    w.zone = date::locate_zone(*zone);
  } catch (const std::exception&) {
    return invalid("timeZone", "\"" + *zone + "\" is not a time zone this system knows (IANA names: Europe/Berlin)");
  }
  w.time_zone = *zone;
  return w;
}

nlohmann::json to_json(const MaintenanceWindow& window) {
  nlohmann::json days = nlohmann::json::array();
  for (int d : window.days) days.push_back(kDayNames.at(static_cast<std::size_t>(d - 1)));
  const auto h = window.start.count() / 60;
  const auto m = window.start.count() % 60;
  const std::string start = (h < 10 ? "0" : "") + std::to_string(h) + (m < 10 ? ":0" : ":") + std::to_string(m);
  return {{"days", days},
          {"start", start},
          {"duration", format_window_length(window.duration)},
          {"timeZone", window.time_zone}};
}

WindowStatus window_status(const MaintenanceWindow& window, Instant now) {
  if (window.duration >= kMaxWindowDuration && window.days.size() == kDayNames.size()) {
    return {true, Instant::max()};
  }
  // Occurrences from as far back as one can still be open (8 days covers a 7-day duration) to the next week's.
  const date::time_zone& zone = *window.zone;
  const auto today = date::floor<date::days>(zone.to_local(now));
  std::vector<std::pair<Instant, Instant>> stretches;
  for (auto day = today - date::days(8); day <= today + date::days(8); day += date::days(1)) {
    const auto weekday = date::weekday(day).iso_encoding();
    if (std::find(window.days.begin(), window.days.end(), static_cast<int>(weekday)) == window.days.end()) continue;
    const Instant opens = instant_of(zone, day + window.start);
    const Instant closes = opens + window.duration;
    if (!stretches.empty() && opens <= stretches.back().second) {
      stretches.back().second = std::max(stretches.back().second, closes);  // overlapping or touching: one
    } else {
      stretches.emplace_back(opens, closes);
    }
  }
  for (const auto& [opens, closes] : stretches) {
    if (now < opens) return {false, opens};
    if (now < closes) return {true, closes};
  }
  return {false, Instant::max()};  // unreachable with at least one day a week
}

}  // namespace fleet::rollout
