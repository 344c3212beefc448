#pragma once
// The operator's view in /metrics (issue #16, item 2), over what the daemon's parts count: each background loop's
// rounds, failures, last round and round time (fleetd_loop_*{loop}); the database pool's queue wait, job time and
// failures (fleetd_db_*); the agents heard within the unreachable limit and the oldest of their heartbeats
// (fleetd_agents_connected, fleetd_agent_heartbeat_age_max_seconds). The sources are read at scrape time.
#include <functional>
#include <map>
#include <string>

#include "fleetd/db/db_pool.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"
#include "fleetd/loops/loop_stats.hpp"

namespace fleet {

class Metrics;

struct OperatorSources {
  std::function<std::map<std::string, LoopStats::Snapshot>()> loops;  // loop name → its rounds
  std::function<DbJobStats()> db_jobs;
  std::function<LivenessRecorder::ConnectedAgents()> agents;
};

void register_operator_metrics(Metrics& metrics, const OperatorSources& sources);

}  // namespace fleet
