#pragma once
// Seeded, portable randomness for the simulator. The standard distributions are implementation-defined (the same
// std::mt19937 seed gives other numbers under libc++ and libstdc++), so the sim uses its own: FNV-1a to turn names
// into numbers and SplitMix64 to scramble them. Fault draws are keyed by (seed, command, node, step) rather than
// taken from one stream, so an outcome does not depend on how often the I/O shell calls advance() or on what
// other commands ran in between.
#include <cstdint>
#include <string_view>

namespace fleet {

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A 64-bit key built from a seed and any number of parts; equal parts in equal order give equal keys everywhere.
class SeededKey {
 public:
  explicit constexpr SeededKey(std::uint64_t seed) : h_(splitmix64(seed)) {}

  constexpr SeededKey& mix(std::string_view part) {
    std::uint64_t f = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
    for (char c : part) {
      f ^= static_cast<unsigned char>(c);
      f *= 0x100000001b3ULL;
    }
    // The length goes in too so that ("ab","c") and ("a","bc") differ.
    return mix(f ^ (static_cast<std::uint64_t>(part.size()) << 56));
  }
  constexpr SeededKey& mix(std::uint64_t part) {
    h_ = splitmix64(h_ ^ splitmix64(part));
    return *this;
  }

  constexpr std::uint64_t value() const { return h_; }
  // Uniform in [0, 1) with 53 random bits.
  constexpr double unit() const { return static_cast<double>(h_ >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t h_;
};

// A sequential stream, for generators (fleet specs, test inventories) where order is fixed by construction.
class SplitMix64 {
 public:
  explicit constexpr SplitMix64(std::uint64_t seed) : state_(seed) {}
  // Counter-based: splitmix64 adds the golden-ratio increment itself.
  constexpr std::uint64_t next() { return splitmix64(state_++); }
  // Uniform in [0, n); n > 0. The modulo bias is below 2^-40 for the small n used here.
  constexpr std::uint64_t below(std::uint64_t n) { return next() % n; }
  constexpr double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  constexpr bool chance(double p) { return unit() < p; }

 private:
  std::uint64_t state_;
};

}  // namespace fleet
