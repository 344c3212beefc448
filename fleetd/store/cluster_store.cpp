#include "fleetd/store/cluster_store.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace fleet::store {
namespace {

// Timestamps leave PostgreSQL as milliseconds since the epoch: independent of the session's TimeZone and
// DateStyle, and far cheaper on both sides than formatting and parsing text (this is the hottest read).
#define FLEET_TS(col) "(date_part('epoch', " col ") * 1000)::bigint"
constexpr const char* kClusterColumns =
    "id::text, name, provider, region, labels::text, taints::text, update_group, kubernetes_version, "
    "node_image_version, state, " FLEET_TS("last_heartbeat") ", resource_version, " FLEET_TS(
        "created_at") ", " FLEET_TS("updated_at") ", "
    // The agent's version lives with its credential (one row per cluster, keyed by cluster_id): an index lookup.
    "COALESCE((SELECT a.agent_version FROM agents a WHERE a.cluster_id = clusters.id), '')";
#undef FLEET_TS

const std::string kSelectByName = std::string("SELECT ") + kClusterColumns + " FROM clusters WHERE name = $1";
const std::string kLockByName = kSelectByName + " FOR UPDATE";
const std::string kInsert = std::string(
                                "INSERT INTO clusters (name, provider, region, labels, taints, update_group) "
                                "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6) ON CONFLICT (name) DO NOTHING "
                                "RETURNING ") +
                            kClusterColumns;
const std::string kUpdateSpec = std::string(
                                    "UPDATE clusters SET labels = $2::jsonb, taints = $3::jsonb, region = $4, "
                                    "update_group = $5, resource_version = nextval('resource_version_seq'), "
                                    "updated_at = now() WHERE name = $1 RETURNING ") +
                                kClusterColumns;
constexpr const char* kDelete = "DELETE FROM clusters WHERE name = $1";
constexpr const char* kExists = "SELECT 1 FROM clusters WHERE name = $1";
// Fetches limit+1 rows: the extra one only says whether another page exists.
const std::string kList = std::string("SELECT ") + kClusterColumns +
                          " FROM clusters WHERE name > $1"
                          " AND ($2 = '' OR fleet_labels_match(labels, $2::jsonb))"
                          " AND ($3 = '' OR labels @> $3::jsonb)"
                          " ORDER BY name LIMIT $4";

nlohmann::json taints_json(const std::vector<model::Taint>& taints) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : taints) out.push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
  return out;
}

std::chrono::system_clock::time_point ts(const pqxx::field& f) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(f.as<std::int64_t>()));
}

model::Cluster row_to_cluster(const pqxx::row& r) {
  model::Cluster c;
  c.id = r[0].c_str();
  c.name = r[1].c_str();
  c.provider = r[2].c_str();
  c.region = r[3].c_str();
  const auto labels = nlohmann::json::parse(r[4].c_str());
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (it->is_string()) c.labels[it.key()] = it->get<std::string>();
  }
  const auto taints = nlohmann::json::parse(r[5].c_str());
  for (const auto& t : taints) {
    c.taints.push_back({t.value("key", ""), t.value("value", ""), t.value("effect", "")});
  }
  c.update_group = r[6].c_str();
  c.kubernetes_version = r[7].c_str();
  c.node_image_version = r[8].c_str();
  c.state = r[9].c_str();
  if (!r[10].is_null()) c.last_heartbeat = ts(r[10]);
  c.resource_version = r[11].as<std::int64_t>();
  c.created_at = ts(r[12]);
  c.updated_at = ts(r[13]);
  c.agent_version = r[14].c_str();
  return c;
}

std::optional<model::Cluster> first(const pqxx::result& res) {
  if (res.empty()) return std::nullopt;
  return row_to_cluster(res[0]);
}

}  // namespace

constexpr const char* kGetStatement = "fleet_cluster_get";
constexpr const char* kListStatement = "fleet_cluster_list";

void prepare_cluster_statements(pqxx::connection_base& conn) {
  conn.prepare(kGetStatement, kSelectByName);
  conn.prepare(kListStatement, kList);
}

std::optional<model::Cluster> get_cluster(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_prepared(kGetStatement, std::string(name)));
}

bool cluster_exists(pqxx::transaction_base& txn, std::string_view name) {
  return !txn.exec_params(kExists, std::string(name)).empty();
}

std::optional<model::Cluster> lock_cluster(pqxx::transaction_base& txn, std::string_view name) {
  return first(txn.exec_params(kLockByName, std::string(name)));
}

std::optional<model::Cluster> insert_cluster(pqxx::transaction_base& txn, const model::ClusterCreate& c) {
  nlohmann::json labels(c.labels);
  return first(txn.exec_params(kInsert, c.name, c.provider, c.region, labels.dump(), taints_json(c.taints).dump(),
                               c.update_group));
}

model::Cluster update_cluster_spec(pqxx::transaction_base& txn, const model::Cluster& c) {
  nlohmann::json labels(c.labels);
  auto res =
      txn.exec_params(kUpdateSpec, c.name, labels.dump(), taints_json(c.taints).dump(), c.region, c.update_group);
  return row_to_cluster(res.at(0));
}

bool delete_cluster(pqxx::transaction_base& txn, std::string_view name) {
  return txn.exec_params(kDelete, std::string(name)).affected_rows() > 0;
}

ClusterListPage list_clusters(pqxx::transaction_base& txn, const ClusterListQuery& q) {
  auto res = txn.exec_prepared(kListStatement, q.after_name, q.selector_json, q.containment_json, q.limit + 1);
  ClusterListPage page;
  for (const auto& row : res) {
    if (static_cast<int>(page.items.size()) == q.limit) {
      page.more = true;
      break;
    }
    page.items.push_back(row_to_cluster(row));
  }
  return page;
}

}  // namespace fleet::store
