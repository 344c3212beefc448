#pragma once
// A warm start: before fleetd listens, it reads what every agent's heartbeats and polls need from the database in
// pages of 1,000 clusters (one query per page): credential owners, the sequence, generation and agent version of
// each stored inventory (not the nodes: an unchanged delta does not need them, and parsing 200,000 nodes takes
// longer than agents wait), last heartbeat times and which clusters have open commands. Without it, a restart of fleetd
// under thousands of agents turns every agent's next heartbeat and poll into several queries within one heartbeat
// interval, more than a small database answers in time; heartbeats then fail and clusters are marked unreachable
// (measured in docs/benchmarks.md). With it, the first heartbeat after a restart is answered from memory like any
// other.
#include <chrono>
#include <cstddef>

#include "common/clock.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

class CommandNotifier;
class HeartbeatCache;
class LivenessRecorder;

struct WarmStartTotals {
  std::size_t agents = 0;
  std::size_t inventories = 0;     // agents that sent one: their unchanged deltas are answered from memory
  std::size_t quiet_clusters = 0;  // no open command: their polls need no query
  std::chrono::milliseconds took{0};
};

// `notifier` must be listening already (its generations are read before the queries, so a command queued while
// they run still wakes its agent); when it is not, no cluster is marked quiet. Throws what libpqxx throws.
WarmStartTotals warm_start(pqxx::connection_base& conn, HeartbeatCache& cache, LivenessRecorder& liveness,
                           CommandNotifier& notifier, const Clock& clock);

}  // namespace fleet
