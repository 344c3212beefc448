#pragma once
// The one device-side hash the probe's kernels share: seeded data (memory patterns, GEMM inputs) must be
// reproducible at verify time, so it is a cheap bijection rather than a random generator.
#include <cstdint>

namespace fleet::gpuprobe::cuda {

// lowbias32 (Chris Wellons).
__device__ __forceinline__ std::uint32_t mix32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

}  // namespace fleet::gpuprobe::cuda
