#pragma once
// Node-image rollback (issue #13 item 5): which image each node pool goes back to. A run whose target is
// NodeImageOnly with nodeImageSelection Previous and rollbackOf NAME puts every pool that run NAME moved to another
// node image back on the image it ran before (each node-pool step records it as from_node_image when it is
// planned). The planner decides, per pool, whether that image may be gone back to (in the catalog, not retired,
// supported or allowUnsupported, the same OS line, the GPU driver inside its range) and says why not where it may
// not. Kubernetes versions are never touched by a rollback: a minor version is never downgraded.
#include <map>
#include <string>

#include "rollout/run_state.hpp"

namespace fleet::rollout {

// "cluster/pool" → the image the pool ran before `earlier` changed it and the one `earlier` put there, for every
// node-pool step of `earlier` that ran (a member's steps before its current one, and a failed member's failed step,
// which may have reimaged some nodes). A pool stepped more than once: `from` is its image from before the run, `to`
// the last one the run put there.
std::map<std::string, RollbackPin> rollback_pins(const RunState& earlier);

}  // namespace fleet::rollout
