#pragma once
// Creating an update run, as POST /v1/rollouts and the auto-upgrade loop (loops/auto_upgrade_loop.hpp) both do: the
// strategyRef resolved and frozen, the plan made (with a rollback's pins), the one-run-per-cluster rule and the
// active-run limit checked, and the run inserted with its "created" event, in the caller's transaction. Errors are
// values (the API's status and type): 422 for a bad reference, 409 for a conflict or a taken name.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "fleetd/store/rollout_store.hpp"
#include "rollout/plan.hpp"
#include "rollout/run_spec.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

// 422 invalid-field: `strategyRef` names no stored strategy (runs and auto-upgrade profiles refuse it alike).
Error unknown_strategy_ref(std::string_view name);
// A spec with a strategyRef gets the stored strategy copied in (422 invalid-field when there is none).
Status resolve_strategy_ref(pqxx::transaction_base& txn, rollout::RunSpec& spec);

// The plan of `spec` over the fleet as stored now; a rollback (nodeImageSelection Previous) reads its pins from the
// run it names (422 when there is none).
Result<rollout::Plan> plan_run(pqxx::transaction_base& txn, const rollout::RunSpec& spec, rollout::TimePoint now);

struct CreatedRun {
  StoredRollout run;
  rollout::Plan plan;
  std::size_t to_upgrade = 0;  // members not skipped by the plan
};
// Takes the creation lock (one creation at a time, so two runs never both take a cluster), plans and inserts. A
// rollback of a run that is not final yet is 409 invalid-state.
Result<CreatedRun> create_run(pqxx::transaction_base& txn, const rollout::RunSpec& spec, std::string_view actor,
                              rollout::TimePoint now);

}  // namespace fleet::store
