#include "fleetd/store/admission_policy_store.hpp"

#include <pqxx/pqxx>

#include "admission/admission_policy_json.hpp"

namespace fleet::store {
namespace {

#define FLEET_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
constexpr const char* kColumns =
    "p.name, p.cluster_selector, p.priority, p.settings::text, p.resource_version, " FLEET_RFC3339(
        "p.created_at") ", " FLEET_RFC3339("p.updated_at");
#undef FLEET_RFC3339

const std::string kInsert =
    std::string(
        "INSERT INTO admission_policies AS p (name, cluster_selector, selector_json, priority, settings) "
        "VALUES ($1, $2, $3::jsonb, $4, $5::jsonb) ON CONFLICT (name) DO NOTHING RETURNING ") +
    kColumns;
const std::string kReplace =
    std::string(
        "UPDATE admission_policies AS p SET cluster_selector = $2, selector_json = $3::jsonb, priority = $4, "
        "settings = $5::jsonb, resource_version = nextval('resource_version_seq'), updated_at = now() "
        "WHERE name = $1 RETURNING ") +
    kColumns;
const std::string kGet = std::string("SELECT ") + kColumns + " FROM admission_policies p WHERE p.name = $1";
const std::string kLock = kGet + " FOR UPDATE";
const std::string kList = std::string("SELECT ") + kColumns + " FROM admission_policies p ORDER BY p.name";
const std::string kForCluster = std::string("SELECT ") + kColumns +
                                " FROM admission_policies p JOIN clusters c ON c.name = $1 "
                                "WHERE fleet_labels_match(c.labels, p.selector_json) "
                                "ORDER BY p.priority DESC, p.name LIMIT 1";
constexpr const char* kDelete = "DELETE FROM admission_policies WHERE name = $1";
constexpr const char* kCount = "SELECT count(*) FROM admission_policies";

// Rows were written from validated policies; one that no longer reads (a newer fleetd's) keeps the defaults
// rather than failing every agent that asks.
AdmissionPolicyRecord from_row(const pqxx::row& r) {
  AdmissionPolicyRecord p;
  p.name = r[0].c_str();
  if (auto s = model::parse_label_selector(r[1].c_str())) p.cluster_selector = std::move(s).value();
  p.priority = r[2].as<int>();
  if (auto settings = admission::admission_policy_from_json(nlohmann::json::parse(r[3].c_str()), "settings")) {
    p.settings = std::move(settings).value();
  }
  p.resource_version = r[4].as<std::int64_t>();
  p.created_at = r[5].c_str();
  p.updated_at = r[6].c_str();
  return p;
}

std::optional<AdmissionPolicyRecord> first(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return from_row(rows[0]);
}

}  // namespace

std::optional<AdmissionPolicyRecord> insert_admission_policy(pqxx::transaction_base& txn,
                                                             const AdmissionPolicyRecord& p) {
  return first(txn.exec_params(kInsert, p.name, model::to_string(p.cluster_selector),
                               model::to_sql_json(p.cluster_selector).dump(), p.priority,
                               admission::to_json(p.settings).dump()));
}

AdmissionPolicyRecord replace_admission_policy(pqxx::transaction_base& txn, const AdmissionPolicyRecord& p) {
  return from_row(txn.exec_params(kReplace, p.name, model::to_string(p.cluster_selector),
                                  model::to_sql_json(p.cluster_selector).dump(), p.priority,
                                  admission::to_json(p.settings).dump())
                      .at(0));
}

std::optional<AdmissionPolicyRecord> get_admission_policy(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_params(kGet, std::string(name)));
}

std::optional<AdmissionPolicyRecord> lock_admission_policy(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_params(kLock, std::string(name)));
}

bool delete_admission_policy(pqxx::transaction_base& txn, std::string_view name) {
  return txn.exec_params(kDelete, std::string(name)).affected_rows() == 1;
}

std::int64_t count_admission_policies(pqxx::transaction_base& txn) {
  return txn.exec(kCount).at(0).at(0).as<std::int64_t>();
}

std::vector<AdmissionPolicyRecord> list_admission_policies(pqxx::transaction_base& txn) {
  std::vector<AdmissionPolicyRecord> out;
  for (const auto& row : txn.exec(kList)) out.push_back(from_row(row));
  return out;
}

std::optional<AdmissionPolicyRecord> admission_policy_for_cluster(pqxx::transaction_base& txn,
                                                                  std::string_view cluster) {
  return first(txn.exec_params(kForCluster, std::string(cluster)));
}

}  // namespace fleet::store
