#pragma once
// Device-memory patterns shared by the memory test and the peer-to-peer check: fill a buffer with a pattern that
// is a pure function of the word index, then verify it in place, counting and recording mismatches on the device.
#include <cuda_runtime.h>

#include <cstdint>

namespace fleet::gpuprobe::cuda {

enum class PatternKind : std::uint32_t { kWalkingOnes = 0, kAddress = 1, kRandom = 2 };

struct Pattern {
  PatternKind kind = PatternKind::kWalkingOnes;
  bool inverse = false;     // walking zeros = inverse walking ones
  std::uint32_t param = 0;  // rotation for walking patterns, seed for random
  std::uint32_t id = 0;     // recorded with each mismatch, to name the pattern in the report
};

inline constexpr int kMaxRecordedMismatches = 32;

struct MismatchRecord {
  unsigned long long word_index;
  std::uint32_t expected;
  std::uint32_t actual;
  std::uint32_t pattern_id;
  std::uint32_t pad;
};

// Device-side counters; one per verify target, zeroed by the caller (cudaMemsetAsync).
struct MismatchCounters {
  unsigned long long mismatches;
  unsigned int recorded;
  unsigned int pad;
  MismatchRecord records[kMaxRecordedMismatches];
};

// `words` must be a multiple of 4 (16-byte vector accesses). Launch errors are returned, not thrown: the caller
// checks them with check().
cudaError_t launch_fill_pattern(std::uint32_t* buf, std::uint64_t words, Pattern p, cudaStream_t s);
cudaError_t launch_verify_pattern(const std::uint32_t* buf, std::uint64_t words, Pattern p, MismatchCounters* counters,
                                  cudaStream_t s);
// Flips one bit of one word: the memflip injection, between a fill and its verify.
cudaError_t launch_flip_bit(std::uint32_t* word, std::uint32_t mask, cudaStream_t s);

}  // namespace fleet::gpuprobe::cuda
