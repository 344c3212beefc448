#pragma once
// A rollout as the API shows it (GET /v1/rollouts/{name}, the actions' answers; docs/api.md "Staged upgrades"):
// the run's state, its target and frozen strategy, counts, gates, and per stage its groups and members.
#include <nlohmann/json.hpp>

#include "fleetd/store/rollout_store.hpp"

namespace fleet {

nlohmann::json rollout_view(const store::StoredRollout& run);

}  // namespace fleet
