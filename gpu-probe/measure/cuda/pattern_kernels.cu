#include "gpu-probe/measure/cuda/device_hash.cuh"
#include "gpu-probe/measure/cuda/pattern_kernels.hpp"

namespace fleet::gpuprobe::cuda {

namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ std::uint32_t pattern_value(const std::uint32_t* base, std::uint64_t i, Pattern p) {
  std::uint32_t v;
  switch (p.kind) {
    case PatternKind::kWalkingOnes:
      // The one bit walks across neighbouring words, so one pass exercises every bit position of every 32 words.
      v = 1U << ((static_cast<std::uint32_t>(i) + p.param) & 31U);
      break;
    case PatternKind::kAddress: {
      // Address in address: catches address-line faults that make two words alias.
      auto addr = reinterpret_cast<std::uint64_t>(base + i);
      v = static_cast<std::uint32_t>(addr) ^ static_cast<std::uint32_t>(addr >> 32);
      break;
    }
    default:
      v = mix32(static_cast<std::uint32_t>(i) ^ mix32(static_cast<std::uint32_t>(i >> 32) + p.param));
      break;
  }
  return p.inverse ? ~v : v;
}

__global__ void fill_kernel(std::uint32_t* buf, std::uint64_t vecs, Pattern p) {
  for (std::uint64_t v = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; v < vecs;
       v += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    std::uint64_t i = v * 4;
    uint4 w = make_uint4(pattern_value(buf, i, p), pattern_value(buf, i + 1, p), pattern_value(buf, i + 2, p),
                         pattern_value(buf, i + 3, p));
    reinterpret_cast<uint4*>(buf)[v] = w;
  }
}

__device__ void record(MismatchCounters* c, std::uint64_t i, std::uint32_t expected, std::uint32_t actual,
                       std::uint32_t id) {
  atomicAdd(&c->mismatches, 1ULL);
  unsigned slot = atomicAdd(&c->recorded, 1U);
  if (slot < kMaxRecordedMismatches) c->records[slot] = {i, expected, actual, id, 0};
}

__global__ void verify_kernel(const std::uint32_t* buf, std::uint64_t vecs, Pattern p, MismatchCounters* c) {
  for (std::uint64_t v = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; v < vecs;
       v += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    // volatile-free 16-byte load; the verify reads what the fill wrote, never a cached copy from this kernel.
    uint4 w = reinterpret_cast<const uint4*>(buf)[v];
    std::uint64_t i = v * 4;
    std::uint32_t got[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      std::uint32_t want = pattern_value(buf, i + k, p);
      if (got[k] != want) record(c, i + k, want, got[k], p.id);
    }
  }
}

__global__ void flip_kernel(std::uint32_t* word, std::uint32_t mask) {
  *word ^= mask;
}

unsigned grid_for(std::uint64_t vecs) {
  // Enough blocks to saturate any current GPU; the grid-stride loop covers the rest.
  std::uint64_t blocks = (vecs + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65536 ? (blocks ? blocks : 1) : 65536);
}

}  // namespace

cudaError_t launch_fill_pattern(std::uint32_t* buf, std::uint64_t words, Pattern p, cudaStream_t s) {
  std::uint64_t vecs = words / 4;
  fill_kernel<<<grid_for(vecs), kThreads, 0, s>>>(buf, vecs, p);
  return cudaGetLastError();
}

cudaError_t launch_verify_pattern(const std::uint32_t* buf, std::uint64_t words, Pattern p, MismatchCounters* counters,
                                  cudaStream_t s) {
  std::uint64_t vecs = words / 4;
  verify_kernel<<<grid_for(vecs), kThreads, 0, s>>>(buf, vecs, p, counters);
  return cudaGetLastError();
}

cudaError_t launch_flip_bit(std::uint32_t* word, std::uint32_t mask, cudaStream_t s) {
  flip_kernel<<<1, 1, 0, s>>>(word, mask);
  return cudaGetLastError();
}

}  // namespace fleet::gpuprobe::cuda
