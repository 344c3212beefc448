#include "fleetd/store/version_store.hpp"

#include <algorithm>
#include <cstdio>
#include <pqxx/pqxx>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/time_format.hpp"
#include "rollout/shipped_catalog.hpp"

namespace fleet::store {
namespace {

#define FLEET_RFC3339_US(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define FLEET_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
constexpr const char* kColumns =
    "v.kind, v.provider, v.version, v.os_family, " FLEET_RFC3339_US("v.released") ", " FLEET_RFC3339_US(
        "v.end_of_support") ", v.regions::text, v.gpu_driver_min, v.gpu_driver_max, v.retired, v.notes, "
                            "v.created_by, v.resource_version, " FLEET_RFC3339("v.created_at") ", " FLEET_RFC3339(
                                "v.updated_at");
#undef FLEET_RFC3339
#undef FLEET_RFC3339_US

const std::string kSelect = std::string("SELECT ") + kColumns + " FROM versions v ";
// $1 kind, $2 provider, $3 os family ('' = any), $4 include retired.
const std::string kList = kSelect +
                          "WHERE ($1 = '' OR v.kind = $1) AND ($2 = '' OR v.provider = $2) "
                          "AND ($3 = '' OR v.os_family = $3) AND ($4 OR NOT v.retired) LIMIT " +
                          std::to_string(rollout::kMaxCatalogEntries);
const std::string kGet = kSelect + "WHERE v.provider = $1 AND v.version = $2";
const std::string kLock = kGet + " FOR UPDATE";
const std::string kInsert =
    std::string(
        "INSERT INTO versions AS v (kind, provider, version, os_family, released, end_of_support, regions, "
        "gpu_driver_min, gpu_driver_max, retired, notes, created_by) "
        "VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7::jsonb, $8, $9, $10, $11, $12) "
        "ON CONFLICT (provider, version) DO NOTHING RETURNING ") +
    kColumns;
const std::string kRetire =
    std::string(
        "UPDATE versions AS v SET retired = true, resource_version = nextval('resource_version_seq'), "
        "updated_at = now() WHERE v.provider = $1 AND v.version = $2 RETURNING ") +
    kColumns;
constexpr const char* kCount = "SELECT count(*) FROM versions";
constexpr const char* kAny = "SELECT EXISTS (SELECT 1 FROM versions)";
// Serializes replicas seeding at once: the second waits, then finds the rows.
constexpr const char* kLockTable = "LOCK TABLE versions IN SHARE ROW EXCLUSIVE MODE";

const char* kind_text(rollout::EntryKind kind) {
  return kind == rollout::EntryKind::kKubernetes ? "kubernetes" : "nodeImage";
}

// RFC 3339 with microseconds: what timestamptz keeps, so a stored time reads back equal.
std::string micros_text(rollout::TimePoint t) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  auto secs = us / 1000000;
  auto frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  const std::string whole = format_rfc3339(system_clock::time_point(seconds(secs)));
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%06lldZ", static_cast<long long>(frac));
  return whole.substr(0, 19) + buf;
}

std::optional<std::string> driver_text(const std::optional<rollout::DriverVersion>& v) {
  if (!v) return std::nullopt;
  return rollout::to_string(*v);
}

// Rows were written from validated entries; a field that no longer reads stays at its default rather than
// failing every list.
VersionRecord from_row(const pqxx::row& r) {
  VersionRecord rec;
  rollout::CatalogEntry& e = rec.entry;
  e.kind =
      std::string_view(r[0].c_str()) == "nodeImage" ? rollout::EntryKind::kNodeImage : rollout::EntryKind::kKubernetes;
  e.provider = r[1].c_str();
  e.version = r[2].c_str();
  if (e.kind == rollout::EntryKind::kKubernetes) {
    if (auto v = model::parse_kubernetes_version(e.version)) e.kubernetes = *v;
  }
  e.os_family = r[3].c_str();
  if (auto t = parse_timestamp(r[4].c_str())) e.released = *t;
  if (!r[5].is_null()) e.end_of_support = parse_timestamp(r[5].c_str());
  const auto regions = nlohmann::json::parse(r[6].c_str(), nullptr, false);
  if (regions.is_array()) {
    for (const auto& region : regions) {
      if (region.is_string()) e.regions.push_back(region.get<std::string>());
    }
  }
  if (!r[7].is_null()) e.gpu_driver.min = rollout::parse_driver_version(r[7].c_str());
  if (!r[8].is_null()) e.gpu_driver.max = rollout::parse_driver_version(r[8].c_str());
  e.retired = r[9].as<bool>();
  e.notes = r[10].c_str();
  rec.created_by = r[11].c_str();
  rec.resource_version = r[12].as<std::int64_t>();
  rec.created_at = r[13].c_str();
  rec.updated_at = r[14].c_str();
  return rec;
}

std::optional<VersionRecord> first(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return from_row(rows[0]);
}

// By provider; Kubernetes versions first, newest first as numbers; node images by OS family, newest first.
bool catalog_order(const VersionRecord& a, const VersionRecord& b) {
  const auto& x = a.entry;
  const auto& y = b.entry;
  if (x.provider != y.provider) return x.provider < y.provider;
  if (x.kind != y.kind) return x.kind == rollout::EntryKind::kKubernetes;
  if (x.kind == rollout::EntryKind::kKubernetes) {
    const auto vx = x.kubernetes.value_or(model::KubernetesVersion{});
    const auto vy = y.kubernetes.value_or(model::KubernetesVersion{});
    if (vx != vy) return vx > vy;
    return x.version < y.version;
  }
  if (x.os_family != y.os_family) return x.os_family < y.os_family;
  return std::tie(y.released, y.version) < std::tie(x.released, x.version);
}

}  // namespace

std::vector<VersionRecord> list_versions(pqxx::transaction_base& txn, const VersionFilter& filter) {
  std::vector<VersionRecord> out;
  const std::string kind = filter.kind ? kind_text(*filter.kind) : "";
  for (const auto& row : txn.exec_params(kList, kind, filter.provider, filter.os_family, filter.include_retired)) {
    out.push_back(from_row(row));
  }
  std::sort(out.begin(), out.end(), catalog_order);
  return out;
}

std::optional<VersionRecord> get_version(pqxx::transaction_base& txn, std::string_view provider,
                                         std::string_view version) {
  return first(txn.exec_params(kGet, std::string(provider), std::string(version)));
}

std::optional<VersionRecord> lock_version(pqxx::transaction_base& txn, std::string_view provider,
                                          std::string_view version) {
  return first(txn.exec_params(kLock, std::string(provider), std::string(version)));
}

std::optional<VersionRecord> insert_version(pqxx::transaction_base& txn, const rollout::CatalogEntry& e,
                                            std::string_view created_by) {
  std::optional<std::string> end;
  if (e.end_of_support) end = micros_text(*e.end_of_support);
  return first(txn.exec_params(kInsert, kind_text(e.kind), e.provider, e.version, e.os_family, micros_text(e.released),
                               end, nlohmann::json(e.regions).dump(), driver_text(e.gpu_driver.min),
                               driver_text(e.gpu_driver.max), e.retired, e.notes, std::string(created_by)));
}

std::optional<VersionRecord> retire_version(pqxx::transaction_base& txn, std::string_view provider,
                                            std::string_view version) {
  return first(txn.exec_params(kRetire, std::string(provider), std::string(version)));
}

std::int64_t count_versions(pqxx::transaction_base& txn) {
  return txn.exec(kCount).at(0).at(0).as<std::int64_t>();
}

rollout::VersionCatalog load_catalog(pqxx::transaction_base& txn) {
  VersionFilter all;
  all.include_retired = true;
  rollout::VersionCatalog catalog;
  for (auto& rec : list_versions(txn, all)) catalog.entries.push_back(std::move(rec.entry));
  return catalog;
}

Result<std::size_t> seed_if_empty(pqxx::transaction_base& txn) {
  if (txn.exec(kAny).at(0).at(0).as<bool>()) return std::size_t{0};
  txn.exec(kLockTable);
  if (txn.exec(kAny).at(0).at(0).as<bool>()) return std::size_t{0};
  const auto text = rollout::shipped_catalog_json();
  auto catalog = rollout::catalog_from_json(nlohmann::json::parse(text.begin(), text.end(), nullptr, false));
  if (!catalog) {
    return make_error(ErrorCode::kInternal, "the shipped version catalog does not parse: " + catalog.error().message);
  }
  std::size_t written = 0;
  for (const auto& e : catalog->entries) {
    if (insert_version(txn, e, kShippedCatalogActor)) ++written;
  }
  return written;
}

}  // namespace fleet::store
