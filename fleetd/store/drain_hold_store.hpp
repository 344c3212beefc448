#pragma once
// Disruption budgets meet rollouts (issue #15 item 1, migrations/0019_rollout_drain_holds.sql): what the rollout
// executor reads to decide whether a node pool's drain must wait (placement/disruption_budget.hpp drain_hold), and
// where it records the drains it holds, which the placement loop counts as draining.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "placement/disruption_budget.hpp"
#include "rollout/run_machine.hpp"

namespace fleet::store {

// The workloads with a disruption budget that have a binding on one of `clusters`, by name, each with all its
// bindings (every cluster: replicas running elsewhere count as available) and their replicas per node pool.
std::vector<placement::BudgetedWorkload> budgeted_workloads(pqxx::transaction_base& txn,
                                                            const std::set<std::string>& clusters);

// The run's held drains are exactly `held` from now on.
void save_held_drains(pqxx::transaction_base& txn, const std::string& rollout,
                      const std::vector<rollout::HeldDrain>& held);

// The clusters whose node pools an active (Running or Paused) rollout has yet to upgrade: members not final whose
// steps drain a pool, for the placement snapshot's upgrade_pending.
std::set<std::string> clusters_pending_drain(pqxx::transaction_base& txn);

// Every held (cluster name, pool), for the placement snapshot.
std::set<std::pair<std::string, std::string>> held_drain_pools(pqxx::transaction_base& txn);

}  // namespace fleet::store
