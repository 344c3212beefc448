#pragma once
// Exponential backoff with full jitter (the AWS Architecture Blog's "full jitter"): after the n-th failure in a
// row, wait a uniformly random time in [0, min(cap, base · 2^n)]. Jitter matters here: ten thousand agents cut
// off by one fleetd restart must not come back in lockstep.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace fleet::agent {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed)
      : base_(base), cap_(cap), rng_(seed) {}

  // The wait before the next attempt; each call counts one more failure.
  std::chrono::milliseconds next() {
    const int shift = std::min(failures_, 30);
    ++failures_;
    const double ceiling = std::min(static_cast<double>(cap_.count()),
                                    static_cast<double>(base_.count()) * static_cast<double>(std::int64_t{1} << shift));
    std::uniform_real_distribution<double> pick(0.0, ceiling);
    // Never zero: a tight retry loop against a down server helps nobody.
    return std::max(std::chrono::milliseconds(10), std::chrono::milliseconds(static_cast<std::int64_t>(pick(rng_))));
  }
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::mt19937_64 rng_;
  int failures_ = 0;
};

}  // namespace fleet::agent
