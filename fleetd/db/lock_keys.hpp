#pragma once
// Every PostgreSQL advisory-lock key fleetd takes, in one place so that two never collide. "fleet" in ASCII, then a
// number per lock. A new control loop adds its key here.
#include <cstdint>

namespace fleet::lock_keys {

inline constexpr std::int64_t kMigrations = 0x666c656574000001;     // session lock while migrating (db/migrations)
inline constexpr std::int64_t kLiveness = 0x666c656574000002;       // loops/liveness_monitor: one replica a round
inline constexpr std::int64_t kCommandLeases = 0x666c656574000003;  // loops/lease_sweeper: one replica a round
inline constexpr std::int64_t kFleetGauges = 0x666c656574000004;    // loops/fleet_gauges: one count at a time
inline constexpr std::int64_t kRolloutExecutor =
    0x666c656574000005;  // loops/rollout_executor: one executor (session lock)
inline constexpr std::int64_t kRolloutCreate =
    0x666c656574000006;  // handlers/rollout_handlers: one creation at a time (xact)
inline constexpr std::int64_t kPlacementLoop =
    0x666c656574000007;  // loops/placement_loop: one placement loop (session lock)
inline constexpr std::int64_t kRecordSweeper = 0x666c656574000008;  // loops/record_sweeper: one replica a round
inline constexpr std::int64_t kAutoUpgrade = 0x666c656574000009;    // loops/auto_upgrade_loop: one replica a round

}  // namespace fleet::lock_keys
