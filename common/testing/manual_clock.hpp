#pragma once
// A Clock that moves only when a test moves it. Thread-safe: a test may advance it while threads of the code under
// test read it. Starts at a fixed wall time (2026-01-01T00:00:00Z) and an arbitrary steady time.
#include <atomic>
#include <chrono>

#include "common/clock.hpp"

namespace fleet::testing {

class ManualClock final : public Clock {
 public:
  ManualClock() = default;
  explicit ManualClock(WallTime start) : wall_(start.time_since_epoch().count()) {}

  WallTime wall_now() const override { return WallTime(WallTime::duration(wall_.load())); }
  SteadyTime steady_now() const override { return SteadyTime(SteadyTime::duration(steady_.load())); }

  // Both readings move together.
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    wall_ += std::chrono::duration_cast<WallTime::duration>(d).count();
    steady_ += std::chrono::duration_cast<SteadyTime::duration>(d).count();
  }

 private:
  static constexpr std::chrono::seconds kStart{1767225600};  // 2026-01-01T00:00:00Z
  std::atomic<WallTime::rep> wall_{std::chrono::duration_cast<WallTime::duration>(kStart).count()};
  std::atomic<SteadyTime::rep> steady_{std::chrono::duration_cast<SteadyTime::duration>(std::chrono::hours(1)).count()};
};

}  // namespace fleet::testing
