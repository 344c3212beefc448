#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "gpu-probe/measure/cuda/device_hash.cuh"
#include "gpu-probe/measure/cuda/gemm_kernels.hpp"

namespace fleet::gpuprobe::cuda {

namespace {

constexpr int kThreads = 256;

// Maps a hash to {-2,-1,1,2}: never zero, so no element can hide a fault by multiplying it away.
__device__ __forceinline__ int small_value(std::uint32_t h) {
  int v = static_cast<int>(h & 1U) + 1;
  return (h & 2U) ? -v : v;
}

__device__ __forceinline__ int a_value(int i, int l, std::uint32_t seed) {
  return small_value(mix32(static_cast<std::uint32_t>(i) * 0x9E3779B1U ^ mix32(static_cast<std::uint32_t>(l) + seed)));
}
__device__ __forceinline__ int t_value(int l, std::uint32_t seed) {
  return small_value(mix32(l ^ (seed * 3U + 1U)));
}
__device__ __forceinline__ int b_value(int j, std::uint32_t seed) {
  return small_value(mix32(j ^ (seed * 5U + 7U)));
}

template <class T>
__device__ __forceinline__ T from_int(int v);
template <>
__device__ __forceinline__ __nv_bfloat16 from_int(int v) {
  return __int2bfloat16_rn(v);
}
template <>
__device__ __forceinline__ __half from_int(int v) {
  return __int2half_rn(v);
}
template <>
__device__ __forceinline__ float from_int(int v) {
  return static_cast<float>(v);
}

template <class T>
__global__ void fill_inputs(T* a, T* b, int m, int n, int k, std::uint32_t seed) {
  const std::uint64_t a_elems = static_cast<std::uint64_t>(m) * k;
  const std::uint64_t b_elems = static_cast<std::uint64_t>(k) * n;
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t x = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; x < a_elems + b_elems;
       x += stride) {
    if (x < a_elems) {
      int i = static_cast<int>(x % m);
      int l = static_cast<int>(x / m);
      a[x] = from_int<T>(a_value(i, l, seed));
    } else {
      std::uint64_t y = x - a_elems;
      int l = static_cast<int>(y % k);
      int j = static_cast<int>(y / k);
      b[y] = from_int<T>(t_value(l, seed) * b_value(j, seed));
    }
  }
}

__global__ void row_reference(int* r, int m, int k, std::uint32_t seed) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= m) return;
  int sum = 0;
  for (int l = 0; l < k; ++l) sum += a_value(i, l, seed) * t_value(l, seed);
  r[i] = sum;
}

__global__ void check_gemm(const float* c, const int* r, int m, int n, std::uint32_t seed, GemmCheckCounters* out) {
  const std::uint64_t total = static_cast<std::uint64_t>(m) * n;
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t x = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; x < total; x += stride) {
    int i = static_cast<int>(x % m);
    int j = static_cast<int>(x / m);
    float want = static_cast<float>(b_value(j, seed) * r[i]);
    // Value comparison: a NaN never compares equal, so it counts; +0/-0 (a zero row sum) is not a fault.
    if (!(c[x] == want)) {
      atomicAdd(&out->mismatches, 1ULL);
      atomicMin(&out->first_index, static_cast<unsigned long long>(x));
    }
  }
}

__global__ void corrupt_element(float* c, unsigned long long index) {
  c[index] = __uint_as_float(__float_as_uint(c[index]) ^ 0x10U);
}

unsigned grid_for(std::uint64_t elems) {
  std::uint64_t blocks = (elems + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 32768 ? (blocks ? blocks : 1) : 32768);
}

}  // namespace

cudaError_t launch_fill_gemm_inputs(GemmInput type, void* a, void* b, int m, int n, int k, std::uint32_t seed,
                                    cudaStream_t s) {
  unsigned grid = grid_for(static_cast<std::uint64_t>(m) * k + static_cast<std::uint64_t>(k) * n);
  switch (type) {
    case GemmInput::kBf16:
      fill_inputs<<<grid, kThreads, 0, s>>>(static_cast<__nv_bfloat16*>(a), static_cast<__nv_bfloat16*>(b), m, n, k,
                                            seed);
      break;
    case GemmInput::kFp16:
      fill_inputs<<<grid, kThreads, 0, s>>>(static_cast<__half*>(a), static_cast<__half*>(b), m, n, k, seed);
      break;
    case GemmInput::kFp32:
      fill_inputs<<<grid, kThreads, 0, s>>>(static_cast<float*>(a), static_cast<float*>(b), m, n, k, seed);
      break;
  }
  return cudaGetLastError();
}

cudaError_t launch_row_reference(int* r, int m, int k, std::uint32_t seed, cudaStream_t s) {
  row_reference<<<(m + kThreads - 1) / kThreads, kThreads, 0, s>>>(r, m, k, seed);
  return cudaGetLastError();
}

cudaError_t launch_check_gemm(const float* c, const int* r, int m, int n, std::uint32_t seed,
                              GemmCheckCounters* counters, cudaStream_t s) {
  check_gemm<<<grid_for(static_cast<std::uint64_t>(m) * n), kThreads, 0, s>>>(c, r, m, n, seed, counters);
  return cudaGetLastError();
}

cudaError_t launch_corrupt_element(float* c, unsigned long long index, cudaStream_t s) {
  corrupt_element<<<1, 1, 0, s>>>(c, index);
  return cudaGetLastError();
}

}  // namespace fleet::gpuprobe::cuda
