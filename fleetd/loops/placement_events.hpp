#pragma once
// What a person reads in a workload's events (issue #15 item 5, GET /v1/workloads/{name}/events): every decision
// that changed something and every move, each with its reason. Pure: the placement loop passes what it read and
// what it decided, and writes the events in the round's own transaction (fleetd/store/workload_event_store.hpp),
// so an event is never written for a decision that did not commit, nor lost for one that did.
// - Decided: once per decision that decided a new generation, changed the workload's state, or changes a binding.
//   Re-evaluating an unchanged fleet (the safety round retries every unplaced workload) writes nothing, so the
//   events stay a history of changes and not a log of rounds.
// - Bound: a binding applied, one per cluster, with what changed: new, resized, moved between nodes, chosen again
//   after it failed, a new generation of the workload, other overrides.
// - Unbound: a binding taken away, with the decision's reason for not choosing that cluster now; for a move off a
//   live cluster, when it is superseded (it keeps running) and again when it is deleted (its replacements run).
// - Applied, Running, Failed, Removed: what the agents reported on a binding (binding_report_event and
//   binding_progress.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleetd/loops/binding_changes.hpp"
#include "fleetd/store/workload_event_store.hpp"
#include "placement/decision.hpp"

namespace fleet {

struct DecisionContext {
  std::string previous_state;                       // the workload's state before this round ("Pending" when new)
  std::optional<std::int64_t> previous_generation;  // of the decision stored before, if any
  std::int64_t generation = 0;                      // the generation decided now
};

std::vector<store::WorkloadEvent> decision_events(const DecisionContext& context, const placement::Decision& decision,
                                                  const std::vector<store::StoredBinding>& current,
                                                  const BindingChanges& changes);

// A Superseded binding (binding_changes.hpp) deleted now that the bindings that replace it run.
store::WorkloadEvent superseded_removal_event(const store::StoredBinding& binding);

// The workload is being deleted: an Unbound for each binding the deletion takes away now.
std::vector<store::WorkloadEvent> deletion_events(const BindingChanges& changes);

// A binding whose overrides could not be applied (fleetd/loops/binding_overrides.hpp): Failed, nothing sent.
store::WorkloadEvent override_failure_event(const std::string& cluster, std::string_view message);

// An agent's report on a binding: its apply_workload or delete_workload command finished (`from` Pending or
// Deleting; `succeeded`, and the command's message). What the agents report afterwards (running, no longer ready,
// failed on the cluster) is binding_progress.hpp's.
store::WorkloadEvent binding_report_event(const std::string& cluster, std::string_view from, bool succeeded,
                                          std::string_view message);

}  // namespace fleet
