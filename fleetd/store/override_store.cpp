#include "fleetd/store/override_store.hpp"

#include <pqxx/pqxx>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "placement/override_json.hpp"

namespace fleet::store {
namespace {

#define FLEET_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
constexpr const char* kColumns = "o.id::text, o.name, o.spec::text, o.generation, o.resource_version, " FLEET_RFC3339(
    "o.created_at") ", " FLEET_RFC3339("o.updated_at");
#undef FLEET_RFC3339

const std::string kSelect = std::string("SELECT ") + kColumns + " FROM overrides o ";
const std::string kGet = kSelect + "WHERE o.name = $1";
const std::string kLock = kGet + " FOR UPDATE";
// Fetches limit+1 rows: the extra one only says whether another page exists. $3: a workload name or ''.
const std::string kList = kSelect + "WHERE o.name > $1 AND ($3 = '' OR $3 = ANY(o.workloads)) ORDER BY o.name LIMIT $2";
const std::string kForWorkloads = kSelect + "WHERE o.workloads && $1::text[] ORDER BY o.name";
const std::string kInsert = std::string(
                                "INSERT INTO overrides AS o (name, spec, workloads) VALUES ($1, $2::jsonb, $3::text[]) "
                                "ON CONFLICT (name) DO NOTHING RETURNING ") +
                            kColumns;
const std::string kReplace = std::string(
                                 "UPDATE overrides AS o SET spec = $2::jsonb, workloads = $3::text[], "
                                 "generation = o.generation + 1, resource_version = nextval('resource_version_seq'), "
                                 "updated_at = now() WHERE o.id = $1::uuid RETURNING ") +
                             kColumns;
constexpr const char* kDelete = "DELETE FROM overrides WHERE id = $1::uuid";
// The workloads an override write concerns are decided again (their generation moves, which wakes the placement
// loop through migrations/0011's trigger); a workload being deleted is left alone.
constexpr const char* kTouchWorkloads =
    "UPDATE workloads SET generation = generation + 1, resource_version = nextval('resource_version_seq'), "
    "updated_at = now() WHERE name = ANY($1::text[]) AND deletion_requested_at IS NULL";

// Workload names are DNS labels (checked by placement::override_from_json): no quoting is needed in the literal.
std::string text_array(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const std::string& n : names) out += (out.size() > 1 ? "," : "") + n;
  return out + "}";
}

// fleetd wrote every row from a validated document, so one that does not read back is corruption: an exception,
// and the request a 500.
StoredOverride from_row(const pqxx::row& r) {
  StoredOverride rec;
  rec.id = r[0].c_str();
  auto value = placement::override_from_json(nlohmann::json::parse(r[2].c_str()));
  if (!value) {
    throw std::runtime_error("stored override \"" + std::string(r[1].c_str()) +
                             "\" does not read back: " + value.error().message);
  }
  rec.value = std::move(value).value();
  rec.generation = r[3].as<std::int64_t>();
  rec.resource_version = r[4].as<std::int64_t>();
  rec.created_at = r[5].c_str();
  rec.updated_at = r[6].c_str();
  return rec;
}

std::optional<StoredOverride> first(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return from_row(rows[0]);
}

void touch_workloads(pqxx::transaction_base& txn, const std::vector<std::string>& a,
                     const std::vector<std::string>& b = {}) {
  std::set<std::string> names(a.begin(), a.end());
  names.insert(b.begin(), b.end());
  txn.exec_params(kTouchWorkloads, text_array({names.begin(), names.end()}));
}

}  // namespace

std::optional<StoredOverride> insert_override(pqxx::transaction_base& txn, const placement::Override& o) {
  auto created = first(txn.exec_params(kInsert, o.name, placement::to_json(o).dump(), text_array(o.workloads)));
  if (created) touch_workloads(txn, o.workloads);
  return created;
}

std::optional<StoredOverride> get_override(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_params(kGet, std::string(name)));
}

std::optional<StoredOverride> lock_override(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_params(kLock, std::string(name)));
}

OverridePage list_overrides(pqxx::transaction_base& txn, const std::string& after_name, int limit,
                            const std::string& workload) {
  OverridePage page;
  for (const auto& row : txn.exec_params(kList, after_name, limit + 1, workload)) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.more = true;
      break;
    }
    page.items.push_back(from_row(row));
  }
  return page;
}

StoredOverride replace_override(pqxx::transaction_base& txn, const StoredOverride& current,
                                const placement::Override& o) {
  if (o == current.value) return current;
  auto rows = txn.exec_params(kReplace, current.id, placement::to_json(o).dump(), text_array(o.workloads));
  if (rows.empty()) throw std::runtime_error("override \"" + o.name + "\" vanished while locked");
  touch_workloads(txn, current.value.workloads, o.workloads);
  return from_row(rows[0]);
}

void delete_override(pqxx::transaction_base& txn, const StoredOverride& current) {
  txn.exec_params(kDelete, current.id);
  touch_workloads(txn, current.value.workloads);
}

std::vector<StoredOverride> overrides_for_workloads(pqxx::transaction_base& txn,
                                                    const std::vector<std::string>& workloads) {
  std::vector<StoredOverride> out;
  if (workloads.empty()) return out;
  for (const auto& row : txn.exec_params(kForWorkloads, text_array(workloads))) out.push_back(from_row(row));
  return out;
}

}  // namespace fleet::store
