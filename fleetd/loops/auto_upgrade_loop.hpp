#pragma once
// Auto-upgrade profiles at work (issue #13 item 3, rollout/auto_upgrade.hpp): every `period`, on one replica at a
// time (ControlLoop), reads the profiles with the releases they acted on and the catalog, asks rollout::due_runs which
// runs are due, and creates each (store/rollout_creation.hpp), starting it when its profile says so. The release is
// recorded in the same transaction as its run, so it is acted on exactly once: another replica's round, or one after
// a restart, finds it recorded. A run that cannot be created (a cluster in another run, the strategy deleted, the
// active-run limit) is not recorded; the profile shows the error (lastError) and the next round tries again.
// Each run created writes an audit row (actor "fleetd", action "rollout.create", the profile and release in detail).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "fleetd/loops/loop_stats.hpp"

namespace fleet {

class ControlLoop;

struct AutoUpgradeLoopOptions {
  std::string database_url;
  // A catalog change is acted on within a period; a round with no profiles is one cheap query.
  std::chrono::milliseconds period{std::chrono::seconds(5)};
};

class AutoUpgradeLoop {
 public:
  AutoUpgradeLoop(AutoUpgradeLoopOptions options, const Clock& clock);
  ~AutoUpgradeLoop();
  void start();
  void stop();
  std::uint64_t runs_created() const { return created_.load(); }  // by this replica since start
  LoopStats::Snapshot loop_stats() const;                         // fleetd_loop_*{loop="auto-upgrade"}

 private:
  std::atomic<std::uint64_t> created_{0};
  std::unique_ptr<ControlLoop> loop_;
};

}  // namespace fleet
