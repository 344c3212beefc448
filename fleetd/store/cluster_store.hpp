#pragma once
// PostgreSQL access for the cluster registry. Functions run inside a caller's transaction so that a mutation,
// its audit row and its idempotency record commit together. No business rules here: validation and merge-patch
// logic live in the API layer; this file maps rows to model::Cluster and back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/cluster.hpp"

namespace pqxx {
class transaction_base;
class connection_base;
}  // namespace pqxx

namespace fleet::store {

// Registers the hot-path statements on a connection (the DB pool calls it on connect). get_cluster and
// list_clusters need them: parsing and planning would otherwise cost more than the lookups themselves.
void prepare_cluster_statements(pqxx::connection_base& conn);

std::optional<model::Cluster> get_cluster(pqxx::transaction_base& txn, std::string_view name);
bool cluster_exists(pqxx::transaction_base& txn, std::string_view name);
// Row-locks the cluster (SELECT … FOR UPDATE) for a read-modify-write.
std::optional<model::Cluster> lock_cluster(pqxx::transaction_base& txn, std::string_view name);
// nullopt when a cluster of that name exists already.
std::optional<model::Cluster> insert_cluster(pqxx::transaction_base& txn, const model::ClusterCreate& create);
// Writes the user-editable fields (labels, taints, region, update group) of a locked row; bumps its version.
model::Cluster update_cluster_spec(pqxx::transaction_base& txn, const model::Cluster& cluster);
// Deletes; false when absent. (If-Match is checked by the caller on the locked row first.)
bool delete_cluster(pqxx::transaction_base& txn, std::string_view name);

struct ClusterListQuery {
  std::string after_name;        // keyset: names strictly greater than this
  std::string selector_json;     // model::to_sql_json output; empty = no selector
  std::string containment_json;  // {"k": "v", …} every match must contain (index-assisted prefilter); empty = none
  int limit = 100;
};
struct ClusterListPage {
  std::vector<model::Cluster> items;
  bool more = false;  // another page follows items.back()
};
ClusterListPage list_clusters(pqxx::transaction_base& txn, const ClusterListQuery& query);

}  // namespace fleet::store
