#include "fleetctl/catalog_view.hpp"

#include "common/time_format.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {
namespace {

std::string or_none(const std::string& s) {
  return s.empty() ? kNone : s;
}

// The day of an RFC 3339 time: the catalog's dates are days.
std::string date_text(const std::string& timestamp) {
  return timestamp.size() >= 10 ? timestamp.substr(0, 10) : or_none(timestamp);
}

std::string regions_text(const nlohmann::json& entry) {
  const auto& regions = member_or_null(entry, "regions");
  if (!regions.is_array() || regions.empty()) return "all";
  std::string out;
  for (const auto& r : regions) {
    if (r.is_string()) out += (out.empty() ? "" : ",") + r.get<std::string>();
  }
  return or_none(out);
}

}  // namespace

std::string version_status(const nlohmann::json& entry, std::chrono::system_clock::time_point now) {
  if (member_or_null(entry, "retired") == true) return "retired";
  const auto released = parse_timestamp(string_field(entry, "released"));
  if (released && now < *released) return "upcoming";
  const auto end = parse_timestamp(string_field(entry, "endOfSupport"));
  if (end && now >= *end) return "out-of-support";
  return "supported";
}

std::string driver_range_text(const nlohmann::json& gpu_driver) {
  const std::string min = string_field(gpu_driver, "min");
  const std::string max = string_field(gpu_driver, "max");
  if (!min.empty() && !max.empty()) return ">= " + min + ", <= " + max;
  if (!min.empty()) return ">= " + min;
  if (!max.empty()) return "<= " + max;
  return "any";
}

std::string versions_table(const std::vector<nlohmann::json>& entries, bool wide,
                           std::chrono::system_clock::time_point now) {
  TableRow header = {"KIND", "PROVIDER", "VERSION", "OS-FAMILY", "RELEASED", "END-OF-SUPPORT", "GPU-DRIVER", "STATUS"};
  if (wide) header.insert(header.end(), {"REGIONS", "NOTES"});
  std::vector<TableRow> rows;
  for (const auto& e : entries) {
    TableRow row = {or_none(string_field(e, "kind")),
                    or_none(string_field(e, "provider")),
                    or_none(string_field(e, "version")),
                    or_none(string_field(e, "osFamily")),
                    date_text(string_field(e, "released")),
                    date_text(string_field(e, "endOfSupport")),
                    driver_range_text(member_or_null(e, "gpuDriver")),
                    version_status(e, now)};
    if (wide) row.insert(row.end(), {regions_text(e), string_field(e, "notes")});
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

}  // namespace fleet::ctl
