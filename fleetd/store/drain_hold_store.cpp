#include "fleetd/store/drain_hold_store.hpp"

#include <map>

namespace fleet::store {

namespace {

// Each binding of a budgeted workload that has one on the given clusters, with its replicas per node pool (a node
// the inventory no longer has counts under pool "").
constexpr const char* kBudgeted =
    "SELECT w.name, COALESCE((w.spec->>'replicas')::int, 1), (w.spec->'disruptionBudget')::text, c.name, b.state, "
    "COALESCE((SELECT jsonb_agg(jsonb_build_object('pool', COALESCE(n.data->>'pool', ''), 'replicas', "
    "COALESCE((s->>'replicas')::int, 0))) FROM jsonb_array_elements(b.nodes) s LEFT JOIN nodes n ON "
    "n.cluster_id = b.cluster_id AND n.name = s->>'node'), '[]'::jsonb)::text "
    "FROM workloads w JOIN workload_bindings b ON b.workload_id = w.id JOIN clusters c ON c.id = b.cluster_id "
    "WHERE w.spec ? 'disruptionBudget' AND EXISTS (SELECT 1 FROM workload_bindings o JOIN clusters oc ON "
    "oc.id = o.cluster_id WHERE o.workload_id = w.id AND oc.name IN (SELECT jsonb_array_elements_text($1::jsonb))) "
    "ORDER BY w.name, c.name";
constexpr const char* kForgetHolds =
    "DELETE FROM rollout_drain_holds h WHERE h.rollout = $1 AND NOT EXISTS (SELECT 1 FROM "
    "jsonb_array_elements($2::jsonb) k WHERE k->>'clusterId' = h.cluster_id::text AND k->>'pool' = h.pool)";
constexpr const char* kAddHold =
    "INSERT INTO rollout_drain_holds (rollout, cluster_id, pool, reason) VALUES ($1, $2::uuid, $3, $4) "
    "ON CONFLICT (rollout, cluster_id, pool) DO UPDATE SET reason = EXCLUDED.reason "
    "WHERE rollout_drain_holds.reason <> EXCLUDED.reason";
constexpr const char* kPendingDrain =
    "SELECT DISTINCT m.cluster FROM rollout_members m JOIN rollouts r ON r.name = m.rollout "
    "WHERE r.state IN ('Running', 'Paused') AND m.state IN ('Pending', 'WaitingForWindow', 'Upgrading', 'Probing') "
    "AND m.data->'steps' @> '[{\"kind\": \"NodePool\"}]'::jsonb";
constexpr const char* kHeldPools =
    "SELECT c.name, h.pool FROM rollout_drain_holds h JOIN clusters c ON c.id = h.cluster_id";

}  // namespace

std::vector<placement::BudgetedWorkload> budgeted_workloads(pqxx::transaction_base& txn,
                                                            const std::set<std::string>& clusters) {
  std::vector<placement::BudgetedWorkload> out;
  if (clusters.empty()) return out;
  const nlohmann::json names(clusters);
  for (const auto& r : txn.exec_params(kBudgeted, names.dump())) {
    const std::string name = r[0].c_str();
    if (out.empty() || out.back().name != name) {
      auto budget = placement::disruption_budget_from_json(
          nlohmann::json{{"disruptionBudget", nlohmann::json::parse(r[2].c_str(), nullptr, false)}});
      if (!budget || !*budget) continue;  // fleetd wrote it from a validated spec; skip rather than guess
      out.push_back({name, r[1].as<int>(), **budget, {}});
    }
    placement::BudgetedBinding b{r[3].c_str(), r[4].c_str(), {}};
    for (const auto& p : nlohmann::json::parse(r[5].c_str())) {
      b.pools.push_back({p.value("pool", ""), p.value("replicas", 0)});
    }
    out.back().bindings.push_back(std::move(b));
  }
  return out;
}

void save_held_drains(pqxx::transaction_base& txn, const std::string& rollout,
                      const std::vector<rollout::HeldDrain>& held) {
  nlohmann::json keys = nlohmann::json::array();
  for (const rollout::HeldDrain& h : held) keys.push_back({{"clusterId", h.cluster_id}, {"pool", h.pool}});
  txn.exec_params(kForgetHolds, rollout, keys.dump());
  for (const rollout::HeldDrain& h : held) txn.exec_params(kAddHold, rollout, h.cluster_id, h.pool, h.reason);
}

std::set<std::string> clusters_pending_drain(pqxx::transaction_base& txn) {
  std::set<std::string> out;
  for (const auto& r : txn.exec(kPendingDrain)) out.insert(r[0].c_str());
  return out;
}

std::set<std::pair<std::string, std::string>> held_drain_pools(pqxx::transaction_base& txn) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& r : txn.exec(kHeldPools)) out.emplace(r[0].c_str(), r[1].c_str());
  return out;
}

}  // namespace fleet::store
