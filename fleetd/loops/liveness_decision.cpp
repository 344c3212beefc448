#include "fleetd/loops/liveness_decision.hpp"

namespace fleet {

bool in_startup_grace(const LivenessPolicy& policy, Clock::WallTime now) {
  return now - policy.started_at < policy.unreachable_after;
}

Clock::WallTime unreachable_cutoff(const LivenessPolicy& policy, Clock::WallTime now) {
  return now - policy.unreachable_after;
}

LivenessDecision decide_liveness(const LivenessPolicy& policy, Clock::WallTime now,
                                 const std::vector<HeardCluster>& ready) {
  LivenessDecision decision;
  if (in_startup_grace(policy, now)) return decision;
  const Clock::WallTime cutoff = unreachable_cutoff(policy, now);
  for (const HeardCluster& c : ready) {
    if (c.last_heartbeat >= cutoff) continue;
    decision.mark.push_back(
        {c.name, c.last_heartbeat, std::chrono::duration_cast<std::chrono::seconds>(now - c.last_heartbeat)});
  }
  return decision;
}

}  // namespace fleet
