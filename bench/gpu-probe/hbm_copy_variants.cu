// Device-to-device copy variants for gpu-probe's hbm_bandwidth check, timed side by side against cudaMemcpyAsync
// (what PyTorch's x.copy_(y) runs, the bench's reference). Standalone: no project headers.
//   nvcc -O3 -gencode=arch=compute_90,code=sm_90 -o hbm_copy_variants bench/gpu-probe/hbm_copy_variants.cu
//   ./hbm_copy_variants [MiB=1024] [iterations=30] [repeats=5] [pattern] [const] [stream]
//     pattern: first write and free half the free memory (as the probe's memory test does before it)
//     const:   the source is memset to 0x5a (as the probe does) instead of random words
//     stream:  launch on a non-blocking stream (as the probe does) instead of the legacy default stream
// Prints, per variant, the median GB/s (bytes read + written) of `repeats` timings of `iterations` copies, and
// checks that every word of the destination was written with the source's (random) data.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define CHECK(call)                                                                              \
  do {                                                                                           \
    cudaError_t e_ = (call);                                                                     \
    if (e_ != cudaSuccess) {                                                                     \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                              \
    }                                                                                            \
  } while (0)

// The probe's kernel as of the first H200 run: one step per block, a grid covering the buffer.
template <int Threads, int Unroll>
__global__ void one_step(const uint4* __restrict__ src, uint4* __restrict__ dst, std::uint64_t vecs) {
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * Threads * Unroll;
  for (std::uint64_t base = static_cast<std::uint64_t>(blockIdx.x) * Threads * Unroll + threadIdx.x; base < vecs;
       base += stride) {
    uint4 v[Unroll];
#pragma unroll
    for (int u = 0; u < Unroll; ++u) {
      std::uint64_t i = base + static_cast<std::uint64_t>(u) * Threads;
      if (i < vecs) v[u] = src[i];
    }
#pragma unroll
    for (int u = 0; u < Unroll; ++u) {
      std::uint64_t i = base + static_cast<std::uint64_t>(u) * Threads;
      if (i < vecs) dst[i] = v[u];
    }
  }
}

// Grid-stride over whole tiles without per-element guards (the tail is copied by a guarded loop), optionally with
// streaming (evict-first) loads and stores.
template <int Threads, int Unroll, bool Streaming>
__global__ void tiled(const uint4* __restrict__ src, uint4* __restrict__ dst, std::uint64_t vecs) {
  constexpr std::uint64_t kTile = static_cast<std::uint64_t>(Threads) * Unroll;
  const std::uint64_t tiles = vecs / kTile;
  for (std::uint64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const uint4* s = src + t * kTile + threadIdx.x;
    uint4* d = dst + t * kTile + threadIdx.x;
    uint4 v[Unroll];
#pragma unroll
    for (int u = 0; u < Unroll; ++u) v[u] = Streaming ? __ldcs(s + u * Threads) : s[u * Threads];
#pragma unroll
    for (int u = 0; u < Unroll; ++u) {
      if (Streaming) {
        __stcs(d + u * Threads, v[u]);
      } else {
        d[u * Threads] = v[u];
      }
    }
  }
  for (std::uint64_t i = tiles * kTile + static_cast<std::uint64_t>(blockIdx.x) * Threads + threadIdx.x; i < vecs;
       i += static_cast<std::uint64_t>(gridDim.x) * Threads) {
    dst[i] = src[i];
  }
}

__global__ void fill_random(std::uint32_t* p, std::uint64_t words, std::uint32_t seed) {
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < words;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    std::uint32_t x = static_cast<std::uint32_t>(i) * 2654435761u ^ seed;
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    x ^= x >> 15;
    p[i] = x;
  }
}

__global__ void count_mismatches(const std::uint32_t* a, const std::uint32_t* b, std::uint64_t words,
                                 unsigned long long* bad) {
  unsigned long long local = 0;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < words;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    local += a[i] != b[i];
  }
  if (local) atomicAdd(bad, local);
}

cudaStream_t g_stream = nullptr;

struct Variant {
  const char* name;
  void (*launch)(const uint4*, uint4*, std::uint64_t, int sms);
};

template <int T, int U>
void launch_one_step(const uint4* s, uint4* d, std::uint64_t vecs, int) {
  const std::uint64_t per = static_cast<std::uint64_t>(T) * U;
  one_step<T, U><<<static_cast<unsigned>((vecs + per - 1) / per), T, 0, g_stream>>>(s, d, vecs);
}

template <int T, int U, bool S, int BlocksPerSm>
void launch_tiled(const uint4* s, uint4* d, std::uint64_t vecs, int sms) {
  tiled<T, U, S><<<static_cast<unsigned>(sms * BlocksPerSm), T, 0, g_stream>>>(s, d, vecs);
}

template <int T, int U, bool S>
void launch_tiled_full(const uint4* s, uint4* d, std::uint64_t vecs, int) {
  const std::uint64_t per = static_cast<std::uint64_t>(T) * U;
  tiled<T, U, S><<<static_cast<unsigned>((vecs + per - 1) / per), T, 0, g_stream>>>(s, d, vecs);
}

void launch_memcpy(const uint4* s, uint4* d, std::uint64_t vecs, int) {
  CHECK(cudaMemcpyAsync(d, s, vecs * sizeof(uint4), cudaMemcpyDeviceToDevice, g_stream));
}

int main(int argc, char** argv) {
  const std::uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 30;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  bool pattern = false, constant = false;
  for (int a = 4; a < argc; ++a) {
    pattern |= std::strcmp(argv[a], "pattern") == 0;
    constant |= std::strcmp(argv[a], "const") == 0;
    if (std::strcmp(argv[a], "stream") == 0) CHECK(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
  }
  const std::uint64_t bytes = mib << 20;
  const std::uint64_t vecs = bytes / sizeof(uint4);
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("%s, %d SMs, L2 %d MiB; %llu MiB per buffer, %d copies per timing, median of %d;%s%s%s\n", prop.name,
              prop.multiProcessorCount, prop.l2CacheSize >> 20, static_cast<unsigned long long>(mib), iterations,
              repeats, pattern ? " after a pattern pass" : "", constant ? " constant source" : "",
              g_stream ? " non-blocking stream" : "");
  if (pattern) {
    std::size_t free_bytes = 0, total = 0;
    CHECK(cudaMemGetInfo(&free_bytes, &total));
    void* big = nullptr;
    CHECK(cudaMalloc(&big, free_bytes / 2));
    for (int i = 0; i < 3; ++i) CHECK(cudaMemset(big, i * 0x55, free_bytes / 2));
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaFree(big));
  }
  uint4 *src = nullptr, *dst = nullptr;
  unsigned long long* bad = nullptr;
  CHECK(cudaMalloc(&src, bytes));
  CHECK(cudaMalloc(&dst, bytes));
  CHECK(cudaMalloc(&bad, sizeof(*bad)));
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));

  const Variant variants[] = {
      {"cudaMemcpyAsync D2D (reference)", launch_memcpy},
      {"one step/block 256x4 (probe v1)", launch_one_step<256, 4>},
      {"one step/block 256x8", launch_one_step<256, 8>},
      {"tiled full grid 256x4", launch_tiled_full<256, 4, false>},
      {"tiled full grid 256x4 streaming", launch_tiled_full<256, 4, true>},
      {"persistent 8x256 per SM, x4", launch_tiled<256, 4, false, 8>},
      {"persistent 8x256 per SM, x8", launch_tiled<256, 8, false, 8>},
      {"persistent 8x256 per SM, x4 stream", launch_tiled<256, 4, true, 8>},
      {"persistent 8x256 per SM, x8 stream", launch_tiled<256, 8, true, 8>},
      {"persistent 4x512 per SM, x4", launch_tiled<512, 4, false, 4>},
      {"persistent 2x1024 per SM, x4", launch_tiled<1024, 4, false, 2>},
      {"persistent 16x128 per SM, x8", launch_tiled<128, 8, false, 16>},
  };
  std::printf("%-38s %10s %10s %10s %8s\n", "variant", "median", "min", "max", "errors");
  std::uint32_t seed = 12345;
  for (const Variant& v : variants) {
    if (constant) {
      CHECK(cudaMemset(src, 0x5a, bytes));
    } else {
      fill_random<<<prop.multiProcessorCount * 8, 256>>>(reinterpret_cast<std::uint32_t*>(src), bytes / 4, seed++);
      CHECK(cudaGetLastError());
    }
    CHECK(cudaMemset(dst, 0xA5, bytes));  // poison: an unwritten word shows as a mismatch
    for (int i = 0; i < 3; ++i) v.launch(src, dst, vecs, prop.multiProcessorCount);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaStreamSynchronize(g_stream));
    std::vector<double> gbps;
    for (int r = 0; r < repeats; ++r) {
      CHECK(cudaEventRecord(start, g_stream));
      for (int i = 0; i < iterations; ++i) v.launch(src, dst, vecs, prop.multiProcessorCount);
      CHECK(cudaGetLastError());
      CHECK(cudaEventRecord(stop, g_stream));
      CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      CHECK(cudaEventElapsedTime(&ms, start, stop));
      gbps.push_back(2.0 * static_cast<double>(bytes) * iterations / (ms / 1000.0) / 1e9);
    }
    CHECK(cudaStreamSynchronize(g_stream));
    CHECK(cudaMemset(bad, 0, sizeof(*bad)));
    count_mismatches<<<prop.multiProcessorCount * 8, 256>>>(
        reinterpret_cast<const std::uint32_t*>(src), reinterpret_cast<const std::uint32_t*>(dst), bytes / 4, bad);
    CHECK(cudaGetLastError());
    unsigned long long errors = 0;
    CHECK(cudaMemcpy(&errors, bad, sizeof(errors), cudaMemcpyDeviceToHost));
    std::sort(gbps.begin(), gbps.end());
    std::printf("%-38s %10.1f %10.1f %10.1f %8llu\n", v.name, gbps[gbps.size() / 2], gbps.front(), gbps.back(), errors);
  }
  return 0;
}
