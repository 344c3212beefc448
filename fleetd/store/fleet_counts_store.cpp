#include "fleetd/store/fleet_counts_store.hpp"

#include <pqxx/pqxx>

#include "fleetd/store/inventory_store.hpp"

namespace fleet::store {
namespace {

constexpr const char* kClustersByStateAndProvider =
    "SELECT state, provider, count(*) FROM clusters GROUP BY state, provider";
// The predicate is agent_commands_open's: the partial index holds exactly these rows.
constexpr const char* kOpenCommandsByStateAndKind =
    "SELECT state, kind, count(*) FROM agent_commands WHERE state IN ('queued', 'leased', 'running') "
    "GROUP BY state, kind";

std::map<std::pair<std::string, std::string>, std::int64_t> count_pairs(pqxx::transaction_base& txn,
                                                                        const char* query) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  for (const auto& r : txn.exec(query)) out[{r[0].c_str(), r[1].c_str()}] = r[2].as<std::int64_t>();
  return out;
}

}  // namespace

FleetCounts read_fleet_counts(pqxx::transaction_base& txn) {
  FleetCounts out;
  out.gpu_nodes_by_admission = gpu_nodes_by_admission(txn);
  out.clusters = count_pairs(txn, kClustersByStateAndProvider);
  out.open_commands = count_pairs(txn, kOpenCommandsByStateAndKind);
  return out;
}

}  // namespace fleet::store
