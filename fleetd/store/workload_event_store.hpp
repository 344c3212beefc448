#pragma once
// A workload's events (issue #15 item 5; migrations/0016_workload_events.sql): what the placement loop decided and
// what the agents reported, each with its reason (fleetd/loops/placement_events.hpp says which events there are).
// Written in the caller's transaction, read oldest first by GET /v1/workloads/{name}/events.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace fleet::store {

struct WorkloadEvent {
  std::string type;     // Decided | Bound | Unbound | Applied | Running | Failed | Removed
  std::string cluster;  // empty for Decided
  std::string message;
  bool operator==(const WorkloadEvent&) const = default;
};

// Events of one round, for any number of workloads: written with one statement, in this order. Those of a workload
// that no longer exists (deleted in the same round) are dropped.
struct PendingWorkloadEvent {
  std::string workload_id;
  std::int64_t generation = 0;
  WorkloadEvent event;
};
void append_workload_events(pqxx::transaction_base& txn, std::chrono::system_clock::time_point at,
                            const std::vector<PendingWorkloadEvent>& events);

struct StoredWorkloadEvent {
  std::int64_t seq = 0;
  std::chrono::system_clock::time_point at;
  std::int64_t generation = 0;
  WorkloadEvent event;
};
// The workload's events after `after_seq`, oldest first, at most `limit`.
std::vector<StoredWorkloadEvent> list_workload_events(pqxx::transaction_base& txn, std::string_view workload_name,
                                                      std::int64_t after_seq, int limit);

}  // namespace fleet::store
