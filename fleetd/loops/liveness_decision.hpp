#pragma once
// Agent liveness as a pure decision (DESIGN §5 step 2): a `ready` cluster whose agent has not been heard for
// `unreachable_after` becomes `unreachable`. The liveness monitor reads the candidates, calls decide_liveness with
// its clock's time and writes the result (loops/liveness_monitor.cpp). No I/O and no clock reading here.
#include <chrono>
#include <string>
#include <vector>

#include "common/clock.hpp"

namespace fleet {

struct LivenessPolicy {
  std::chrono::seconds unreachable_after{30};
  // When this replica started. After a fleetd outage every agent looks silent, because fleetd was away, not they:
  // nothing is marked until one whole unreachable_after has passed since the start, so agents reach it first.
  Clock::WallTime started_at{};
};

struct HeardCluster {
  std::string name;
  Clock::WallTime last_heartbeat;
};

struct Unreachable {
  std::string name;
  Clock::WallTime last_heartbeat;
  std::chrono::seconds silent_for{0};  // at the decision, rounded down
};

struct LivenessDecision {
  std::vector<Unreachable> mark;  // in the order given
};

// Whether `now` is still inside the start-up grace: the monitor then reads nothing.
bool in_startup_grace(const LivenessPolicy& policy, Clock::WallTime now);
// Clusters heard before this are silent too long; what the monitor reads its candidates with.
Clock::WallTime unreachable_cutoff(const LivenessPolicy& policy, Clock::WallTime now);
// Which of the `ready` clusters (as read) to mark unreachable at `now`: those heard before the cutoff, none
// during the start-up grace.
LivenessDecision decide_liveness(const LivenessPolicy& policy, Clock::WallTime now,
                                 const std::vector<HeardCluster>& ready);

}  // namespace fleet
