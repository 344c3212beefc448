#pragma once
// Where fleetd's code gets the time: an injected Clock, never std::chrono::*::now() in code that decides, so that
// tests drive time with a ManualClock (common/testing/manual_clock.hpp) instead of sleeping. Two readings:
//   - wall time: stored and compared across replicas (heartbeat times, liveness deadlines);
//   - steady time: intervals, deadlines and cache expiry inside this process.
// Waits on other processes (the embedded PostgreSQL starting, a migration lock) use the OS clock directly: they
// measure the world, they decide nothing a test needs to drive.
#include <chrono>

namespace fleet {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using SteadyTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual WallTime wall_now() const = 0;
  virtual SteadyTime steady_now() const = 0;
};

// The process's real clock; lives for the whole program.
const Clock& system_clock();

}  // namespace fleet
