#pragma once
// Agent liveness in PostgreSQL: clusters.last_heartbeat, written in batches by the liveness recorder and read by the
// liveness monitor. Times are fleetd's wall clock (fleet::Clock), never the database's now(), so that the monitor
// compares like with like.
#include <string>
#include <vector>

#include "common/clock.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct HeartbeatTime {
  std::string cluster;
  Clock::WallTime at;
  // The hash (hex) of the credential the heartbeat came with. Empty only for times read back from the database.
  std::string credential_hash;
};
// Each cluster's last_heartbeat moves forward to `at` (an older time than the stored one changes nothing), and a
// `registering` or `unreachable` cluster becomes `ready` (a new resourceVersion). One statement for the batch.
// Only where `credential_hash` is still the cluster's agent credential: a heartbeat answered by a replica that had
// not yet heard of a re-registration, a revocation or the cluster's deletion keeps nothing alive (issue #10).
void write_heartbeat_times(pqxx::transaction_base& txn, const std::vector<HeartbeatTime>& times);

// `ready` clusters last heard before `cutoff`, oldest first, at most `limit`.
std::vector<HeartbeatTime> ready_clusters_heard_before(pqxx::transaction_base& txn, Clock::WallTime cutoff, int limit);
// Marks `clusters` unreachable (a new resourceVersion) where they are still `ready` and still last heard before
// `cutoff`: a heartbeat that arrived since the read keeps its cluster ready. Returns the clusters marked.
std::vector<std::string> mark_unreachable(pqxx::transaction_base& txn, const std::vector<std::string>& clusters,
                                          Clock::WallTime cutoff);

}  // namespace fleet::store
