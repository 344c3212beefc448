#pragma once
// A lock-free latency histogram for many threads: logarithmic buckets 5% wide from 10 µs to about 100 s, so a
// percentile read from it is within 5% of the true value. fleet-sim records every heartbeat's round trip here.
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

namespace fleet::agent {

class LatencyHistogram {
 public:
  static constexpr double kFirstMicros = 10.0;
  static constexpr double kGrowth = 1.05;
  static constexpr std::size_t kBuckets = 330;  // 10 µs · 1.05^330 ≈ 100 s

  void record(std::int64_t micros) {
    buckets_[bucket_of(micros)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t count() const { return count_.load(); }

  // The upper edge of the bucket holding the q-quantile (0 < q ≤ 1), in microseconds; 0 when empty.
  double quantile_micros(double q) const {
    const std::uint64_t total = count();
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return upper_edge(i);
    }
    return upper_edge(kBuckets - 1);
  }

  // Counts per bucket (bucket i ends at upper_edge(i)), so that histograms of several processes can be merged.
  std::vector<std::uint64_t> buckets() const {
    std::vector<std::uint64_t> out(kBuckets);
    for (std::size_t i = 0; i < kBuckets; ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
    return out;
  }

  static std::size_t bucket_of(std::int64_t micros) {
    if (micros <= kFirstMicros) return 0;
    auto i =
        static_cast<std::size_t>(std::ceil(std::log(static_cast<double>(micros) / kFirstMicros) / std::log(kGrowth)));
    return i < kBuckets ? i : kBuckets - 1;
  }
  static double upper_edge(std::size_t i) { return kFirstMicros * std::pow(kGrowth, static_cast<double>(i)); }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
};

}  // namespace fleet::agent
