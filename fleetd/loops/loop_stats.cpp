#include "fleetd/loops/loop_stats.hpp"

namespace fleet {

void LoopStats::ran(Clock::WallTime finished, double seconds) {
  std::lock_guard lock(mutex_);
  current_.runs++;
  current_.last_run = finished;
  current_.seconds.observe(seconds);
}

void LoopStats::failed() {
  std::lock_guard lock(mutex_);
  current_.errors++;
}

LoopStats::Snapshot LoopStats::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace fleet
