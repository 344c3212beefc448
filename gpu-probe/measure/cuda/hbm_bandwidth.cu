#include <chrono>

#include "gpu-probe/measure/cuda/cuda_resources.hpp"
#include "gpu-probe/measure/cuda/hbm_bandwidth.hpp"

namespace fleet::gpuprobe::cuda {

namespace {

constexpr int kThreads = 256;
// 16-byte loads in flight per thread before the first store. On an H200 (bench/gpu-probe/hbm_copy_variants.cu,
// 2026-12-04) 8 gave 4120 GB/s, 4 gave 4067 and cudaMemcpyAsync 4242; persistent grids were slower (3810-3960).
constexpr int kUnroll = 8;

// Each block moves kThreads*kUnroll 16-byte vectors per step, coalesced across the warp; with a full grid this is
// one step, with the slow-bandwidth injection (two blocks) the grid-stride loop does the rest, slowly.
__global__ void copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, std::uint64_t vecs) {
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * kThreads * kUnroll;
  for (std::uint64_t base = static_cast<std::uint64_t>(blockIdx.x) * kThreads * kUnroll + threadIdx.x; base < vecs;
       base += stride) {
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      std::uint64_t i = base + static_cast<std::uint64_t>(u) * kThreads;
      if (i < vecs) v[u] = src[i];
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      std::uint64_t i = base + static_cast<std::uint64_t>(u) * kThreads;
      if (i < vecs) dst[i] = v[u];
    }
  }
}

}  // namespace

BandwidthResult measure_hbm_bandwidth(const MeasurePlan& plan, cudaStream_t stream) {
  BandwidthResult r;
  auto t0 = std::chrono::steady_clock::now();
  try {
    DeviceBuffer src(plan.hbm_bytes);
    DeviceBuffer dst(plan.hbm_bytes);
    check(cudaMemsetAsync(src.get(), 0x5a, plan.hbm_bytes, stream), "cudaMemsetAsync");
    const std::uint64_t vecs = plan.hbm_bytes / sizeof(uint4);
    const std::uint64_t per_block = static_cast<std::uint64_t>(kThreads) * kUnroll;
    unsigned grid = static_cast<unsigned>((vecs + per_block - 1) / per_block);
    if (has(plan.injections, Injection::kSlowBandwidth)) grid = 2;  // injected: a starved copy, really slower
    auto launch = [&] {
      copy_kernel<<<grid, kThreads, 0, stream>>>(src.get<uint4>(), dst.get<uint4>(), vecs);
      check(cudaGetLastError(), "copy kernel launch");
    };
    for (int i = 0; i < 3; ++i) launch();  // warm-up: clocks up, TLB entries populated
    Event start, stop;
    start.record(stream);
    const int iterations = has(plan.injections, Injection::kSlowBandwidth) ? 2 : plan.hbm_iterations;
    for (int i = 0; i < iterations; ++i) launch();
    stop.record(stream);
    stop.sync();
    double seconds = stop.since(start) / 1000.0;
    r.bytes_per_iteration = 2 * plan.hbm_bytes;
    r.iterations = iterations;
    r.gbps = seconds > 0 ? static_cast<double>(r.bytes_per_iteration) * iterations / seconds / 1e9 : 0;
    r.ran = true;
  } catch (const CudaFailure& e) {
    r.error = e.what();
  }
  r.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace fleet::gpuprobe::cuda
