#pragma once
// The placement loop (issue #14 item 3): it decides nothing itself. A round reads the workloads that need a
// decision and the fleet through the stores, calls the pure engine (placement/engine.hpp) for the batch, and
// writes the decisions, the bindings and the agents' apply_workload / delete_workload commands in one transaction.
// A crash leaves the old decisions or the new ones; the workloads' generations say what is still to decide.
//
// Event-driven: it LISTENs on `fleet_placements` (a workload created, changed or deleted; an agent's report that
// finishes a workload command; an inventory change, which also retries workloads not fully placed), with a safety
// round every few seconds. One replica runs it at a time (a session advisory lock, as the rollout executor).
//
// A binding's state follows the agents: Pending (command queued) → Applied (the agent applied the manifests) →
// Running (the cluster reports the workload's objects ready, or, from the sim, its inventory shows the GPUs in use
// on every bound node: binding_progress.hpp) | Failed (the agent could not apply, or the cluster reports the
// workload failed). A Running binding the cluster no longer reports ready goes back to Applied.
//
// Re-placement (issue #15 item 1): a workload bound to a cluster that is gone (unreachable past the liveness
// monitor's --unreachable-after grace, or being deleted) is decided again in the next safety round; the engine
// does not choose a gone cluster, so its replicas go elsewhere, and the old binding is deleted once they are all
// placed. A workload bound to nodes of a pool being drained (an upgrade_node_pool in flight, or a drain a rollout
// holds for a disruption budget: fleetd/store/drain_hold_store.hpp) is decided again too, and those nodes are not
// capacity; so is one bound to a node that was quarantined or left the inventory. A move off a live cluster is
// make-before-break: the old binding is Superseded and keeps running until every other binding of the workload runs
// (binding_changes.hpp).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "common/duration_histogram.hpp"
#include "fleetd/loops/loop_stats.hpp"
#include "fleetd/store/placement_store.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace fleet {

struct PlacementLoopStats {
  std::uint64_t rounds = 0;     // rounds that ran (each one transaction)
  std::uint64_t errors = 0;     // rounds that failed (rolled back; retried)
  std::uint64_t decisions = 0;  // workload decisions written
  std::uint64_t commands = 0;   // apply and delete commands queued
  DurationHistogram decision_seconds{{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25}};
  DurationHistogram round_seconds{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  std::map<std::string, std::int64_t> workloads_by_state;  // as of the last safety round
  struct Gpus {
    std::int64_t total = 0, free = 0, bound = 0;
  };
  std::map<std::string, Gpus> gpus_by_model;  // admitted, healthy; as of the last round that read the fleet
  bool leader = false;
};

class PlacementLoop {
 public:
  struct Options {
    std::string database_url;
    std::chrono::milliseconds safety_period{5000};
    int batch_limit = 1000;  // workloads decided per round
    // Rounds woken only by agents (reports, inventory) start at least this long after the previous round ended,
    // so that the reports of a burst (100 agents applying one workload) are followed in a few rounds instead of
    // one round each, which took a core from the agents' own requests. A workload change is never held back.
    std::chrono::milliseconds agent_event_spacing{50};
    // The look for replicas that must move (gone clusters, drains, quarantined or vanished nodes) reads every
    // binding's nodes: a round an inventory woke makes it at most this often, a safety round always.
    std::chrono::milliseconds moves_spacing{1000};
  };
  PlacementLoop(Options options, const Clock& clock);
  ~PlacementLoop();
  PlacementLoop(const PlacementLoop&) = delete;
  PlacementLoop& operator=(const PlacementLoop&) = delete;

  void start();
  void stop();
  PlacementLoopStats stats() const;
  LoopStats::Snapshot loop_stats() const { return loop_stats_.snapshot(); }  // fleetd_loop_*

 private:
  void run();
  // One round in one transaction. `retry_unplaced`: also re-decide workloads not fully placed.
  void round(pqxx::connection_base& conn, bool retry_unplaced, bool moves, bool safety);
  // Waits until `due` (the agent-event spacing) for more notifications, and adds them to `events`.
  void hold_agent_events(pqxx::connection_base& conn, std::chrono::steady_clock::time_point due,
                         std::set<std::string>& events);

  Options options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<std::string> notified_;
  LoopStats loop_stats_;
  PlacementLoopStats stats_;
  // The loop thread's own: parsed nodes between rounds (store::FleetCache). Emptied every
  // kFleetCacheSafetyRounds safety rounds, so that a change made beside the heartbeat path (SQL by hand) is
  // seen within about a minute.
  store::FleetCache fleet_cache_;
  std::uint64_t safety_rounds_ = 0;
  static constexpr std::uint64_t kFleetCacheSafetyRounds = 12;
  std::thread thread_;
};

}  // namespace fleet
