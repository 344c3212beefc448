#pragma once
// Staged upgrades in PostgreSQL (migrations/0009_rollouts.sql): update strategies, rollouts (update runs) with
// their members and events, and the reads the planner and the run machine need (cluster facts, observations,
// step history). Functions run inside the caller's transaction; the run machine's decision is written by
// save_decision in one go, with its events and its agent commands.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rollout/cluster_facts.hpp"
#include "rollout/plan.hpp"
#include "rollout/run_machine.hpp"
#include "rollout/run_state.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

// The channel that wakes the rollout executor: the payload is a run's seq, or "*" for "look at every active run".
inline constexpr const char* kRolloutChannel = "fleet_rollouts";
inline constexpr int kMaxStrategies = 1000;
inline constexpr int kMaxActiveRollouts = 100;

struct StrategyRecord {
  std::string name;
  nlohmann::json spec;  // {"stages", "failurePolicy"}
  std::string created_by;
  std::int64_t resource_version = 0;
  std::string created_at, updated_at;
};
std::optional<StrategyRecord> insert_strategy(pqxx::transaction_base& txn, const std::string& name,
                                              const nlohmann::json& spec, const std::string& created_by);
std::optional<StrategyRecord> get_strategy(pqxx::transaction_base& txn, std::string_view name);
std::vector<StrategyRecord> list_strategies(pqxx::transaction_base& txn);
bool delete_strategy(pqxx::transaction_base& txn, std::string_view name);
std::int64_t count_strategies(pqxx::transaction_base& txn);

// Whether a read brings back the stored plan (every member's steps: GET …:plan) or only its estimates, kept beside
// it (migrations/0021), which is what a run's view shows.
enum class PlanRead { kWhole, kEstimates };

struct RolloutMeta {
  std::int64_t seq = 0;
  std::string created_by;
  std::int64_t resource_version = 0;
  std::string created_at, updated_at;
  std::int64_t estimate_seconds = 0;           // the plan's, for the whole run
  std::vector<std::int64_t> member_estimates;  // the plan's, beside RunState::members
  nlohmann::json plan;                         // null unless read with PlanRead::kWhole
};
struct StoredRollout {
  rollout::RunState state;
  RolloutMeta meta;
};

// Inserts the run, its members (from `state`) and a "created" event. nullopt when the name is taken.
std::optional<std::int64_t> next_rollout_seq(pqxx::transaction_base& txn);
bool insert_rollout(pqxx::transaction_base& txn, const rollout::RunState& state, const nlohmann::json& plan,
                    const std::string& created_by);
// `for_update` locks the run's row: actions and the executor serialize on it.
std::optional<StoredRollout> load_rollout(pqxx::transaction_base& txn, std::string_view name, bool for_update,
                                          PlanRead plan = PlanRead::kEstimates);
std::optional<std::string> rollout_name_by_seq(pqxx::transaction_base& txn, std::int64_t seq);
// Writes what the decision changed: the run's status (when run_changed), the changed members, the events, and
// the commands (enqueued by id, so a re-issued one is a no-op; a command whose cluster is gone is not queued).
// NOTIFYs the rollout channel when anything changed, so the executor (on any replica) looks again.
// Returns the run's new resourceVersion when it wrote anything.
std::optional<std::int64_t> save_decision(pqxx::transaction_base& txn, const rollout::RunState& state,
                                          const rollout::Decision& decision);
// Locks the run's row and returns its resourceVersion (nullopt: no such run): what the executor compares with the
// state it kept from its last decision, to skip reading a thousand member rows again when nobody else wrote.
std::optional<std::int64_t> lock_rollout(pqxx::transaction_base& txn, std::string_view name);
bool delete_rollout(pqxx::transaction_base& txn, std::string_view name);

struct RolloutPage {
  std::vector<StoredRollout> items;
  std::optional<std::int64_t> next_before_seq;  // newest first
};
RolloutPage list_rollouts(pqxx::transaction_base& txn, std::int64_t before_seq, int limit);
// Serializes run creation (a transaction-scoped advisory lock): two runs created at once must not both take a
// cluster.
void lock_rollout_creation(pqxx::transaction_base& txn);
std::int64_t count_active_rollouts(pqxx::transaction_base& txn);
bool rollout_exists(pqxx::transaction_base& txn, std::string_view name);
// Every run by state, for the rollout metrics.
std::map<std::string, std::int64_t> rollouts_by_state(pqxx::transaction_base& txn);
// Wakes the executor (on whichever replica) for the run when the transaction commits.
void notify_rollout(pqxx::transaction_base& txn, std::int64_t seq);
// Names of runs the executor must look at (Pending runs have nothing to do; Aborted ones may have members in
// flight).
std::vector<std::string> runs_to_execute(pqxx::transaction_base& txn);

struct EventRow {
  std::int64_t seq = 0;
  rollout::Event event;
};
std::vector<EventRow> list_rollout_events(pqxx::transaction_base& txn, std::string_view name, std::int64_t after_seq,
                                          int limit);

// Clusters that already belong to an active run with work left, and the run: ("cluster", "run") pairs.
std::vector<std::pair<std::string, std::string>> clusters_in_active_runs(pqxx::transaction_base& txn,
                                                                         const std::vector<std::string>& clusters);

// Every cluster with its pools (from the stored inventory), for the planner.
std::vector<rollout::ClusterFacts> cluster_facts(pqxx::transaction_base& txn);
// Medians of the rollout commands that finished, per provider (the planner's estimates).
rollout::StepHistory step_history(pqxx::transaction_base& txn);
// What the run machine needs to see for one run: its in-flight members' commands and its members' clusters.
rollout::Observations observe(pqxx::transaction_base& txn, const rollout::RunState& state);

}  // namespace fleet::store
