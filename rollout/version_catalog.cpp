#include "rollout/version_catalog.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <set>
#include <tuple>
#include <utility>

#include "common/time_format.hpp"
#include "model/cluster.hpp"
#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::rollout {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxVersionLength = 128;
constexpr std::size_t kMaxOsFamilyLength = 64;
constexpr std::size_t kMaxNotesLength = 1024;
constexpr std::size_t kMaxRegions = 64;
constexpr int kMaxDriverComponent = 999999;

const char* kind_text(EntryKind kind) {
  return kind == EntryKind::kKubernetes ? "kubernetes" : "nodeImage";
}

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

bool digits(std::string_view s, std::size_t from, std::size_t count, int& out) {
  if (from + count > s.size()) return false;
  out = 0;
  for (std::size_t i = from; i < from + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD" (midnight UTC) or an RFC 3339 UTC time; the calendar date is checked either way, since timegm
// would quietly turn 2025-02-30 into March.
std::optional<TimePoint> parse_date(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() < 10 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, m) || text[7] != '-' ||
      !digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  if (y < kEarliestYear || y > kLatestYear || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  if (text.size() == 10) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
  }
  int hh = 0, mm = 0, ss = 0;
  if (text.size() < 19 || !digits(text, 11, 2, hh) || !digits(text, 14, 2, mm) || !digits(text, 17, 2, ss) || hh > 23 ||
      mm > 59 || ss > 60) {
    return std::nullopt;
  }
  return parse_timestamp(text);
}

Result<std::optional<TimePoint>> optional_date(const json& object, std::string_view key, const std::string& path) {
  auto text = model::optional_string(object, key, path);
  if (!text) return text.error();
  if (!*text) return std::optional<TimePoint>();
  auto t = parse_date(**text);
  if (!t) {
    return model::invalid_field(model::member_path(path, key),
                                "must be a date (YYYY-MM-DD) or an RFC 3339 UTC time, got \"" + **text + "\"");
  }
  return std::optional<TimePoint>(*t);
}

Result<std::optional<DriverVersion>> optional_driver(const json& object, std::string_view key,
                                                     const std::string& path) {
  auto text = model::optional_string(object, key, path);
  if (!text) return text.error();
  if (!*text) return std::optional<DriverVersion>();
  auto v = parse_driver_version(**text);
  if (!v) {
    return model::invalid_field(
        model::member_path(path, key),
        "must be a driver version of up to three numbers, e.g. 550.90.07, got \"" + (*text)->substr(0, 64) + "\"");
  }
  return std::optional<DriverVersion>(*v);
}

Result<DriverRange> parse_driver_range(const json& object, const std::string& path) {
  DriverRange range;
  auto member = model::optional_object(object, "gpuDriver", path);
  if (!member) return member.error();
  if (!*member) return range;
  const std::string field = model::member_path(path, "gpuDriver");
  if (auto s = model::reject_unknown_fields(**member, {"min", "max"}, field); !s) return s.error();
  auto min = optional_driver(**member, "min", field);
  if (!min) return min.error();
  auto max = optional_driver(**member, "max", field);
  if (!max) return max.error();
  range.min = *min;
  range.max = *max;
  if (range.min && range.max && *range.max < *range.min) {
    return model::invalid_field(model::member_path(field, "max"),
                                "must not be below min (" + to_string(*range.min) + ")");
  }
  return range;
}

Result<std::vector<std::string>> parse_regions(const json& object, const std::string& path) {
  std::vector<std::string> regions;
  auto member = model::optional_array(object, "regions", path);
  if (!member) return member.error();
  if (!*member) return regions;
  const std::string field = model::member_path(path, "regions");
  if ((*member)->size() > kMaxRegions) {
    return model::invalid_field(field, "at most " + std::to_string(kMaxRegions) + " regions");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < (*member)->size(); ++i) {
    const json& r = (**member)[i];
    const std::string at = model::index_path(field, i);
    if (!r.is_string()) return model::wrong_type(at, "a string", r);
    const std::string region = r.get<std::string>();
    if (region.empty()) return model::invalid_field(at, "must not be empty");
    if (auto s = model::validate_region(region, at); !s) return s.error();
    if (!seen.insert(region).second) return model::invalid_field(at, "\"" + region + "\" is listed twice");
    regions.push_back(region);
  }
  return regions;
}

}  // namespace

std::optional<DriverVersion> parse_driver_version(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  int parts[3] = {0, 0, 0};
  std::size_t n = 0;
  std::size_t pos = 0;
  while (true) {
    if (n == 3) return std::nullopt;
    const std::size_t dot = text.find('.', pos);
    const std::string_view part = text.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (part.empty() || part.size() > 6) return std::nullopt;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    int v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    if (v > kMaxDriverComponent) return std::nullopt;
    parts[n++] = v;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return DriverVersion{parts[0], parts[1], parts[2]};
}

std::string to_string(const DriverVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

bool DriverRange::contains(const DriverVersion& v) const {
  return (!min || *min <= v) && (!max || v <= *max);
}

std::string to_string(const DriverRange& r) {
  if (r.min && r.max) return ">= " + to_string(*r.min) + ", <= " + to_string(*r.max);
  if (r.min) return ">= " + to_string(*r.min);
  if (r.max) return "<= " + to_string(*r.max);
  return "any";
}

bool CatalogEntry::available_in(std::string_view region) const {
  return regions.empty() || std::find(regions.begin(), regions.end(), region) != regions.end();
}

const CatalogEntry* VersionCatalog::kubernetes(std::string_view provider,
                                               const model::KubernetesVersion& version) const {
  for (const auto& e : entries) {
    if (e.kind == EntryKind::kKubernetes && e.provider == provider && e.kubernetes && *e.kubernetes == version) {
      return &e;
    }
  }
  return nullptr;
}

const CatalogEntry* VersionCatalog::node_image(std::string_view provider, std::string_view version) const {
  for (const auto& e : entries) {
    if (e.kind == EntryKind::kNodeImage && e.provider == provider && e.version == version) return &e;
  }
  return nullptr;
}

const CatalogEntry* VersionCatalog::newest_node_image(std::string_view provider, std::string_view os_family,
                                                      const std::vector<std::string>& regions, TimePoint now,
                                                      std::string_view line) const {
  const CatalogEntry* best = nullptr;
  for (const auto& e : entries) {
    if (e.kind != EntryKind::kNodeImage || e.provider != provider || e.os_family != os_family || e.retired ||
        e.released > now) {
      continue;
    }
    if (!line.empty() && image_line(e.version) != line) continue;
    const bool everywhere =
        std::all_of(regions.begin(), regions.end(), [&](const std::string& r) { return e.available_in(r); });
    if (!everywhere) continue;
    if (!best || std::tie(e.released, e.version) > std::tie(best->released, best->version)) best = &e;
  }
  return best;
}

std::string image_line(std::string_view image) {
  const auto dash = image.rfind('-');
  return dash == std::string_view::npos ? std::string() : std::string(image.substr(0, dash));
}

std::string os_family_of_image(std::string_view image) {
  auto starts = [&](std::string_view prefix) { return image.substr(0, prefix.size()) == prefix; };
  if (starts("AKSUbuntu-")) return "Ubuntu";
  if (starts("AKSAzureLinux-") || starts("AKSCBLMariner-")) return "AzureLinux";
  if (starts("AKSWindows-")) return "Windows";
  const auto dash = image.find('-');
  return dash == std::string_view::npos ? std::string() : std::string(image.substr(0, dash));
}

Result<CatalogEntry> catalog_entry_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path.empty() ? "(root)" : path, "an object", j);
  if (auto s = model::reject_unknown_fields(j,
                                            {"kind", "provider", "version", "osFamily", "released", "endOfSupport",
                                             "regions", "gpuDriver", "retired", "notes"},
                                            path);
      !s) {
    return s.error();
  }
  CatalogEntry e;
  auto kind = model::required_string(j, "kind", path);
  if (!kind) return kind.error();
  if (*kind == "kubernetes") {
    e.kind = EntryKind::kKubernetes;
  } else if (*kind == "nodeImage") {
    e.kind = EntryKind::kNodeImage;
  } else {
    return model::invalid_field(model::member_path(path, "kind"), "must be kubernetes or nodeImage");
  }

  auto provider = model::required_string(j, "provider", path);
  if (!provider) return provider.error();
  if (auto s = model::validate_provider(*provider, model::member_path(path, "provider")); !s) return s.error();
  e.provider = *provider;

  const std::string version_field = model::member_path(path, "version");
  auto version = model::required_string(j, "version", path);
  if (!version) return version.error();
  if (auto problem = model::token_problem(*version, kMaxVersionLength); !problem.empty()) {
    return model::invalid_field(version_field, problem);
  }
  if (e.kind == EntryKind::kKubernetes) {
    auto parsed = model::parse_kubernetes_version(*version);
    if (!parsed) {
      return model::invalid_field(
          version_field, "must be a Kubernetes version MAJOR.MINOR.PATCH, e.g. 1.32.7, got \"" + *version + "\"");
    }
    e.kubernetes = *parsed;
    e.version = model::to_string(*parsed);  // "v1.32.7" is stored as "1.32.7"
  } else {
    e.version = *version;
  }

  const std::string os_field = model::member_path(path, "osFamily");
  auto os = model::optional_string(j, "osFamily", path);
  if (!os) return os.error();
  if (e.kind == EntryKind::kKubernetes) {
    if (*os && !(*os)->empty()) return model::invalid_field(os_field, "only node images have an OS family");
  } else {
    e.os_family = os->value_or(os_family_of_image(e.version));
    if (e.os_family.empty()) return model::missing_field(os_field);
    if (auto problem = model::token_problem(e.os_family, kMaxOsFamilyLength); !problem.empty()) {
      return model::invalid_field(os_field, problem);
    }
  }

  auto released = optional_date(j, "released", path);
  if (!released) return released.error();
  if (!*released) return model::missing_field(model::member_path(path, "released"));
  e.released = **released;
  auto end = optional_date(j, "endOfSupport", path);
  if (!end) return end.error();
  e.end_of_support = *end;
  if (e.end_of_support && *e.end_of_support <= e.released) {
    return model::invalid_field(model::member_path(path, "endOfSupport"), "must be after released");
  }

  auto regions = parse_regions(j, path);
  if (!regions) return regions.error();
  e.regions = std::move(regions).value();
  auto driver = parse_driver_range(j, path);
  if (!driver) return driver.error();
  e.gpu_driver = *driver;

  auto retired = model::optional_bool(j, "retired", path);
  if (!retired) return retired.error();
  e.retired = retired->value_or(false);
  auto notes = model::optional_string(j, "notes", path);
  if (!notes) return notes.error();
  e.notes = notes->value_or("");
  if (e.notes.size() > kMaxNotesLength) {
    return model::invalid_field(model::member_path(path, "notes"),
                                "at most " + std::to_string(kMaxNotesLength) + " bytes");
  }
  return e;
}

json to_json(const CatalogEntry& entry) {
  json j = {{"kind", kind_text(entry.kind)}, {"provider", entry.provider}, {"version", entry.version}};
  if (entry.kind == EntryKind::kNodeImage) j["osFamily"] = entry.os_family;
  j["released"] = format_rfc3339(entry.released);
  if (entry.end_of_support) j["endOfSupport"] = format_rfc3339(*entry.end_of_support);
  j["regions"] = entry.regions;
  json driver = json::object();
  if (entry.gpu_driver.min) driver["min"] = to_string(*entry.gpu_driver.min);
  if (entry.gpu_driver.max) driver["max"] = to_string(*entry.gpu_driver.max);
  j["gpuDriver"] = std::move(driver);
  j["retired"] = entry.retired;
  j["notes"] = entry.notes;
  return j;
}

Result<VersionCatalog> catalog_from_json(const json& j) {
  if (!j.is_object()) return model::wrong_type("(root)", "an object", j);
  // "notes" documents the file (where its dates come from); it is not part of the catalog.
  if (auto s = model::reject_unknown_fields(j, {"entries", "notes"}, ""); !s) return s.error();
  auto notes = model::optional_string(j, "notes", "");
  if (!notes) return notes.error();
  auto entries = model::optional_array(j, "entries", "");
  if (!entries) return entries.error();
  if (!*entries) return model::missing_field("entries");
  if ((*entries)->size() > kMaxCatalogEntries) {
    return model::invalid_field("entries", "at most " + std::to_string(kMaxCatalogEntries) + " entries");
  }
  VersionCatalog catalog;
  catalog.entries.reserve((*entries)->size());
  // One row per (provider, version) in the versions table, whatever the kind.
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < (*entries)->size(); ++i) {
    const std::string path = model::index_path("entries", i);
    auto entry = catalog_entry_from_json((**entries)[i], path);
    if (!entry) return entry.error();
    if (!seen.emplace(entry->provider, entry->version).second) {
      return make_error(ErrorCode::kInvalid,
                        path + ".version: " + entry->provider + " " + entry->version + " is listed twice",
                        model::member_path(path, "version"), "invalid-field");
    }
    catalog.entries.push_back(std::move(entry).value());
  }
  return catalog;
}

json to_json(const VersionCatalog& catalog) {
  json entries = json::array();
  for (const auto& e : catalog.entries) entries.push_back(to_json(e));
  return json{{"entries", std::move(entries)}};
}

}  // namespace fleet::rollout
