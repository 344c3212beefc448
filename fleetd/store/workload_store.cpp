#include "fleetd/store/workload_store.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace fleet::store {
namespace {

#define FLEET_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
constexpr const char* kColumns =
    "w.id::text, w.name, w.spec::text, w.manifests::text, w.generation, w.resource_version, w.state, " FLEET_RFC3339(
        "w.deletion_requested_at") ", " FLEET_RFC3339("w.created_at") ", " FLEET_RFC3339("w.updated_at");
#undef FLEET_RFC3339

const std::string kSelect = std::string("SELECT ") + kColumns + " FROM workloads w ";
const std::string kGet = kSelect + "WHERE w.name = $1";
const std::string kLock = kGet + " FOR UPDATE";
constexpr const char* kWorkloadExists = "SELECT 1 FROM workloads WHERE name = $1";
// Fetches limit+1 rows: the extra one only says whether another page exists.
const std::string kList = kSelect + "WHERE w.name > $1 ORDER BY w.name LIMIT $2";
const std::string kInsert = std::string(
                                "INSERT INTO workloads AS w (name, spec, manifests) VALUES ($1, $2::jsonb, $3::jsonb) "
                                "ON CONFLICT (name) DO NOTHING RETURNING ") +
                            kColumns;
const std::string kReplace = std::string(
                                 "UPDATE workloads AS w SET spec = $2::jsonb, manifests = $3::jsonb, "
                                 "generation = w.generation + 1, resource_version = nextval('resource_version_seq'), "
                                 "updated_at = now() WHERE w.id = $1::uuid RETURNING ") +
                             kColumns;
const std::string kMarkDeleting = std::string(
                                      "UPDATE workloads AS w SET state = 'Deleting', deletion_requested_at = now(), "
                                      "resource_version = nextval('resource_version_seq'), updated_at = now() "
                                      "WHERE w.id = $1::uuid RETURNING ") +
                                  kColumns;
constexpr const char* kHasBindings = "SELECT EXISTS (SELECT 1 FROM workload_bindings WHERE workload_id = $1::uuid)";
constexpr const char* kDelete = "DELETE FROM workloads WHERE id = $1::uuid";

// fleetd wrote every row from a validated document, so one that does not read back is corruption: an exception,
// and the request a 500.
StoredWorkload from_row(const pqxx::row& r) {
  StoredWorkload rec;
  rec.id = r[0].c_str();
  auto spec = placement::workload_spec_from_json(nlohmann::json::parse(r[2].c_str()));
  if (!spec) {
    throw std::runtime_error("stored workload \"" + std::string(r[1].c_str()) +
                             "\" does not read back: " + spec.error().message);
  }
  rec.document.workload = std::move(spec).value();
  rec.document.manifests = nlohmann::json::parse(r[3].c_str());
  rec.generation = r[4].as<std::int64_t>();
  rec.resource_version = r[5].as<std::int64_t>();
  rec.state = r[6].c_str();
  if (!r[7].is_null()) rec.deletion_requested_at = r[7].c_str();
  rec.created_at = r[8].c_str();
  rec.updated_at = r[9].c_str();
  return rec;
}

std::optional<StoredWorkload> first(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return from_row(rows[0]);
}

}  // namespace

std::optional<StoredWorkload> insert_workload(pqxx::transaction_base& txn, const placement::WorkloadDocument& doc) {
  return first(
      txn.exec_params(kInsert, doc.workload.name, placement::to_json(doc.workload).dump(), doc.manifests.dump()));
}

std::optional<StoredWorkload> get_workload(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_params(kGet, std::string(name)));
}

bool workload_exists(pqxx::transaction_base& txn, std::string_view name) {
  return !txn.exec_params(kWorkloadExists, std::string(name)).empty();
}

std::optional<StoredWorkload> lock_workload(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_params(kLock, std::string(name)));
}

WorkloadPage list_workloads(pqxx::transaction_base& txn, const std::string& after_name, int limit) {
  WorkloadPage page;
  for (const auto& row : txn.exec_params(kList, after_name, limit + 1)) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.more = true;
      break;
    }
    page.items.push_back(from_row(row));
  }
  return page;
}

StoredWorkload replace_workload(pqxx::transaction_base& txn, const StoredWorkload& current,
                                const placement::WorkloadDocument& doc) {
  if (doc == current.document) return current;
  auto rows = txn.exec_params(kReplace, current.id, placement::to_json(doc.workload).dump(), doc.manifests.dump());
  if (rows.empty()) throw std::runtime_error("workload \"" + doc.workload.name + "\" vanished while locked");
  return from_row(rows[0]);
}

WorkloadDeletion request_workload_deletion(pqxx::transaction_base& txn, const StoredWorkload& current) {
  if (current.state == "Deleting") return {WorkloadDeletionOutcome::kDeleting, current};
  const std::string& name = current.document.workload.name;
  if (!txn.exec_params(kHasBindings, current.id)[0][0].as<bool>()) {
    txn.exec_params(kDelete, current.id);
    return {WorkloadDeletionOutcome::kDeleted, current};
  }
  auto rows = txn.exec_params(kMarkDeleting, current.id);
  if (rows.empty()) throw std::runtime_error("workload \"" + name + "\" vanished while locked");
  return {WorkloadDeletionOutcome::kDeleting, from_row(rows[0])};
}

}  // namespace fleet::store
