#pragma once
// What an Applied or Running binding becomes from what its cluster's agent reports (pure; the placement loop
// writes the answer). Two sources, in this order:
// - the agent's read-back state of the workload's objects (protocol/workload_status.hpp, the kubernetes backend),
//   at the binding's generation or a later one: Ready → Running; Failed → Failed with the agent's message;
//   Progressing on a Running binding → back to Applied (a replica stopped being ready, or a resize of the same
//   generation is rolling out), so Running always means "the cluster says it runs";
// - without one (the sim backend reads nothing back): the agent's inventory shows the binding's GPUs in use on
//   every bound node → Running.
// nullopt: nothing changes.
#include <optional>
#include <string>

#include "fleetd/store/placement_store.hpp"
#include "fleetd/store/workload_event_store.hpp"

namespace fleet {

struct BindingProgress {
  std::string state;    // the binding's new state
  std::string message;  // the binding's message ("" when it runs)
  store::WorkloadEvent event;
};

std::optional<BindingProgress> binding_progress(const store::AppliedBinding& applied);

}  // namespace fleet
