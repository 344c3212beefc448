#include "fleetd/store/rollout_creation.hpp"

#include <optional>
#include <pqxx/pqxx>

#include "fleetd/store/version_store.hpp"
#include "rollout/rollback.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet::store {
namespace {

// How many conflicting clusters a refused creation names.
constexpr std::size_t kConflictsNamed = 5;

// A rollback's earlier run, as its pins' source (RunState::phase tells whether it is final); nullopt when the spec
// is not a rollback; 422 when the run it names does not exist.
Result<std::optional<StoredRollout>> rollback_source(pqxx::transaction_base& txn, const rollout::RunSpec& spec) {
  if (spec.target.node_image_selection != rollout::NodeImageSelection::kPrevious) {
    return std::optional<StoredRollout>();
  }
  auto earlier = load_rollout(txn, spec.target.rollback_of, false);
  if (!earlier) {
    return make_error(ErrorCode::kInvalid, "target.rollbackOf: no rollout named \"" + spec.target.rollback_of + "\"",
                      "target.rollbackOf", "invalid-field");
  }
  return std::optional<StoredRollout>(std::move(earlier));
}

Result<rollout::Plan> plan_with(pqxx::transaction_base& txn, const rollout::RunSpec& spec, rollout::TimePoint now,
                                const std::optional<StoredRollout>& earlier) {
  rollout::PlanInput in;
  in.spec = &spec;
  in.clusters = cluster_facts(txn);
  const rollout::VersionCatalog catalog = load_catalog(txn);
  in.catalog = &catalog;
  in.history = step_history(txn);
  in.now = now;
  // A rollback: each pool back on the image it ran before the named run changed it (rollout/rollback.hpp).
  if (earlier) in.previous_images = rollout::rollback_pins(earlier->state);
  return rollout::make_plan(in);
}

}  // namespace

Error unknown_strategy_ref(std::string_view name) {
  return make_error(ErrorCode::kInvalid, "strategyRef: no strategy named \"" + std::string(name) + "\"", "strategyRef",
                    "invalid-field");
}

Status resolve_strategy_ref(pqxx::transaction_base& txn, rollout::RunSpec& spec) {
  if (spec.strategy_ref.empty()) return Ok{};
  auto stored = get_strategy(txn, spec.strategy_ref);
  if (!stored) return unknown_strategy_ref(spec.strategy_ref);
  auto strategy = rollout::strategy_from_json(stored->spec, "strategy");
  if (!strategy)
    return make_error(ErrorCode::kInternal, "stored strategy does not read back: " + strategy.error().message);
  spec.strategy = std::move(strategy).value();
  return Ok{};
}

Result<rollout::Plan> plan_run(pqxx::transaction_base& txn, const rollout::RunSpec& spec, rollout::TimePoint now) {
  auto earlier = rollback_source(txn, spec);
  if (!earlier) return earlier.error();
  return plan_with(txn, spec, now, *earlier);
}

Result<CreatedRun> create_run(pqxx::transaction_base& txn, const rollout::RunSpec& spec, std::string_view actor,
                              rollout::TimePoint now) {
  lock_rollout_creation(txn);
  auto earlier = rollback_source(txn, spec);
  if (!earlier) return earlier.error();
  // Until the earlier run is final its changes are not all known (and it may still make more).
  if (*earlier && !rollout::is_final((*earlier)->state.phase)) {
    return make_error(ErrorCode::kConflict,
                      "rollout \"" + spec.target.rollback_of + "\" is " +
                          std::string(rollout::to_string((*earlier)->state.phase)) +
                          ": abort it or wait for it to finish before rolling it back",
                      "target.rollbackOf", "invalid-state");
  }
  auto plan = plan_with(txn, spec, now, *earlier);
  if (!plan) return plan.error();
  std::vector<std::string> clusters;
  for (const auto& m : plan->members) {
    if (m.skip == rollout::SkipReason::kNone) clusters.push_back(m.cluster);
  }
  if (auto busy = clusters_in_active_runs(txn, clusters); !busy.empty()) {
    std::string text;
    for (std::size_t i = 0; i < busy.size() && i < kConflictsNamed; ++i) {
      text += (i ? ", " : "") + busy[i].first + " (in rollout " + busy[i].second + ")";
    }
    if (busy.size() > kConflictsNamed) text += " and " + std::to_string(busy.size() - kConflictsNamed) + " more";
    return make_error(ErrorCode::kConflict,
                      "only one run may act on a cluster at a time: " + text + "; finish, abort or wait for it", "",
                      "cluster-in-another-rollout");
  }
  if (count_active_rollouts(txn) >= kMaxActiveRollouts) {
    return make_error(ErrorCode::kConflict,
                      "at most " + std::to_string(kMaxActiveRollouts) + " runs may be active at once", "",
                      "limit-reached");
  }
  const auto seq = next_rollout_seq(txn);
  rollout::RunState state = rollout::initial_run_state(spec.name, *seq, spec, *plan);
  if (!insert_rollout(txn, state, rollout::to_json(*plan, spec), std::string(actor))) {
    return make_error(ErrorCode::kConflict, "a rollout named \"" + spec.name + "\" already exists", "name",
                      "already-exists");
  }
  rollout::Decision created;
  created.events.push_back({now, "run", state.name, "", "Pending",
                            "created by " + std::string(actor) + ": " + std::to_string(clusters.size()) + " of " +
                                std::to_string(plan->members.size()) + " members to upgrade"});
  save_decision(txn, state, created);
  auto stored = load_rollout(txn, spec.name, false);
  if (!stored) return make_error(ErrorCode::kInternal, "the run just created does not read back");
  return CreatedRun{std::move(*stored), std::move(plan).value(), clusters.size()};
}

}  // namespace fleet::store
