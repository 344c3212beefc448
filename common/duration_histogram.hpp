#pragma once
// A Prometheus-style histogram of durations kept by whoever measures (a control loop, a handler) and rendered by
// fleetd/http/metrics.hpp: fixed upper bounds, a count per bucket (not cumulative), the count and the sum.
#include <cstdint>
#include <utility>
#include <vector>

namespace fleet {

struct DurationHistogram {
  std::vector<double> bounds;         // ascending upper bounds in seconds; +Inf is implied
  std::vector<std::uint64_t> counts;  // observations in (bounds[i-1], bounds[i]]; one more for +Inf
  std::uint64_t count = 0;
  double sum = 0;

  DurationHistogram() = default;
  explicit DurationHistogram(std::vector<double> upper_bounds)
      : bounds(std::move(upper_bounds)), counts(bounds.size() + 1, 0) {}

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) ++i;
    counts[i]++;
    count++;
    sum += seconds;
  }
};

}  // namespace fleet
