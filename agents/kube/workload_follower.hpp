#pragma once
// Reads back the workloads fleetd placed on this cluster (issue #15 item 4): every object of a followed kind
// (workload_readiness.hpp: Deployments, StatefulSets, Jobs, KAITO Workspaces, KubeRay RayClusters and
// RayServices) that carries fleetd's fleet.io/workload label, listed across namespaces, is turned into one
// readiness per workload, and what changed goes to fleetd with the next heartbeat (protocol/workload_status.hpp).
//
// It lists instead of remembering what it applied: an agent that restarts finds the same workloads on its first
// read, and an object someone changed or deleted by hand shows as it is. The cost is one list per kind per
// interval (6 by default every 10 s), whatever the number of workloads; a kind the cluster does not serve (404:
// no KAITO or KubeRay installed) is asked again only every `absent_kind_skips` reads.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/kube/kube_api.hpp"
#include "protocol/workload_status.hpp"

namespace fleet::agent::kube {

inline constexpr const char* kFleetWorkloadLabel = "fleet.io/workload";
inline constexpr const char* kFleetGenerationLabel = "fleet.io/generation";

using WorkloadStatuses = std::map<std::string, protocol::WorkloadStatus>;  // by workload name

// Pure: the listed objects → one status per workload. An object counts when its fleet.io/workload label is a valid
// workload name (what fleetd would accept) and its fleet.io/generation label a positive integer; the workload's
// generation is the lowest of its objects' (one not yet re-applied holds it back), its readiness the worst.
WorkloadStatuses workload_statuses(const std::vector<nlohmann::json>& objects);

// Pure: what to send after a read: each status new or different from `before`, and for each workload of `before`
// no longer found, Progressing "no objects of the workload found on the cluster" at its last generation (deleted
// by hand, or by delete_workload: either way it no longer runs here).
std::vector<protocol::WorkloadStatus> status_changes(const WorkloadStatuses& before, const WorkloadStatuses& now);

struct WorkloadFollowerOptions {
  std::chrono::milliseconds interval{10000};
  std::size_t page_size = 500;
  int absent_kind_skips = 30;
};

// Not thread-safe but for touch(): the backend calls refresh() from the agent's thread.
class WorkloadFollower {
 public:
  explicit WorkloadFollower(WorkloadFollowerOptions options) : options_(options) {}

  // When due (an interval since the last read, or touched since), lists every followed kind and returns the
  // changes. A list that fails for another reason than 404 keeps the previous state and reports nothing, so a
  // flaky API server never makes a workload look gone; the next call tries again.
  std::vector<protocol::WorkloadStatus> refresh(KubeApi& api, std::chrono::steady_clock::time_point now);
  // An apply or delete finished: read at the next refresh. Thread-safe (command workers call it).
  void touch() { touched_.store(true); }

 private:
  WorkloadFollowerOptions options_;
  std::atomic<bool> touched_{true};
  std::chrono::steady_clock::time_point last_read_{};
  WorkloadStatuses reported_;
  std::map<std::string, int> absent_;  // collection → reads left to skip
};

}  // namespace fleet::agent::kube
