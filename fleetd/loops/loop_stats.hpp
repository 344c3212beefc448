#pragma once
// What /metrics says of each background loop (issue #16): the rounds it ran and the rounds that failed on this
// replica, when its last round finished, and how long rounds take. Each loop records its rounds here; the daemon
// renders every loop's snapshot as fleetd_loop_*{loop="…"}.
//
// A loop that takes a database lock runs on one replica at a time, so a replica that does not hold the lock shows
// no recent round: alert on the newest last round across replicas (max by (loop)), not on each replica's.
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

#include "common/clock.hpp"
#include "common/duration_histogram.hpp"

namespace fleet {

class LoopStats {
 public:
  // From a 1 ms sweep to a 30 s placement round over a large fleet.
  static constexpr std::array<double, 14> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,     10,   30};
  struct Snapshot {
    std::uint64_t runs = 0;    // rounds that completed (for a locked loop: that held the lock)
    std::uint64_t errors = 0;  // rounds that failed (and were retried)
    std::optional<Clock::WallTime> last_run;
    DurationHistogram seconds{{kBuckets.begin(), kBuckets.end()}};
  };

  // A round that completed at `finished` after `seconds`.
  void ran(Clock::WallTime finished, double seconds);
  void failed();
  Snapshot snapshot() const;

 private:
  mutable std::mutex mutex_;
  Snapshot current_;
};

}  // namespace fleet
