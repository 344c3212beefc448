#pragma once
// A workload's disruption budget (issue #15 item 1): how many of its replicas, across the fleet, a voluntary
// disruption (a rollout draining the nodes they run on) may take down at once. Kubernetes PodDisruptionBudget's two
// forms, over the workload's wanted replicas:
//   {"maxUnavailable": 1 | "25%"}  at most that many unavailable (a percent rounds down: never more than asked);
//   {"minAvailable": 2 | "50%"}    at least that many available (a percent rounds up: never fewer than asked).
// Involuntary losses (a cluster that stops answering) are not the budget's to prevent; they count as unavailable,
// which leaves less room for a drain. Pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::placement {

struct DisruptionBudget {
  enum class Kind { kMaxUnavailable, kMinAvailable };
  Kind kind = Kind::kMaxUnavailable;
  int value = 0;         // replicas, or a percent 0..100
  bool percent = false;  // value is a percent of the wanted replicas
  bool operator==(const DisruptionBudget&) const = default;
};

// The replicas that must stay available out of `replicas` wanted (0..replicas).
int min_available(const DisruptionBudget& budget, int replicas);
// "maxUnavailable 1", "minAvailable 50%".
std::string describe(const DisruptionBudget& budget);

// A budgeted workload as the drain check sees it: its bindings, each with its replicas per node pool.
struct PoolReplicas {
  std::string pool;
  int replicas = 0;
  bool operator==(const PoolReplicas&) const = default;
};
struct BudgetedBinding {
  std::string cluster;
  std::string state;  // Pending | Applied | Running | Failed | Deleting | Superseded
  std::vector<PoolReplicas> pools;
  bool operator==(const BudgetedBinding&) const = default;
};
struct BudgetedWorkload {
  std::string name;
  int replicas = 0;  // wanted, across the fleet
  DisruptionBudget budget;
  std::vector<BudgetedBinding> bindings;
  bool operator==(const BudgetedWorkload&) const = default;
};

// Whether draining `pool` of `cluster` now would break a workload's budget: the first such workload (in the given
// order) and why, in words. A drain takes down the replicas a binding (not Deleting or Failed) has in the pool;
// available are the replicas of Running and Superseded bindings (a Superseded one still runs until its replacement
// does), less those. The drain breaks the budget when the pool holds some and fewer than min_available would be
// left: "workload llm has 2 replicas on pool gpu of aks-1; draining it would leave 1 of 3 available, below its
// disruption budget (minAvailable 2)".
std::optional<std::string> drain_hold(const std::vector<BudgetedWorkload>& workloads, std::string_view cluster,
                                      std::string_view pool);

// The workload's "disruptionBudget" member; nullopt when absent. Exactly one of the two forms; a number 0..10000
// or a percent string "0%".."100%"; anything else is 422 naming the member.
Result<std::optional<DisruptionBudget>> disruption_budget_from_json(const nlohmann::json& workload);
nlohmann::json to_json(const DisruptionBudget& budget);

}  // namespace fleet::placement
