#include "gpu-probe/measure/cuda/memory_test.hpp"

#include <chrono>
#include <vector>

#include "gpu-probe/measure/cuda/cuda_resources.hpp"
#include "gpu-probe/measure/cuda/pattern_kernels.hpp"

namespace fleet::gpuprobe::cuda {

namespace {

struct NamedPattern {
  Pattern pattern;
  std::string name;
};

std::vector<NamedPattern> patterns_for(const MeasurePlan& plan) {
  std::vector<NamedPattern> out;
  auto add = [&](PatternKind k, bool inverse, std::uint32_t param, std::string name) {
    Pattern p{k, inverse, param, static_cast<std::uint32_t>(out.size())};
    out.push_back({p, std::move(name)});
  };
  for (int pass = 0; pass < plan.walking_passes; ++pass) {
    // Rotations spread over the 32 bit positions; one pass already covers all of them across neighbouring words.
    auto rot = static_cast<std::uint32_t>(pass * 32 / plan.walking_passes);
    add(PatternKind::kWalkingOnes, false, rot, "walking-ones/" + std::to_string(rot));
    add(PatternKind::kWalkingOnes, true, rot, "walking-zeros/" + std::to_string(rot));
  }
  add(PatternKind::kAddress, false, 0, "address");
  add(PatternKind::kAddress, true, 0, "address-inverse");
  auto seed = static_cast<std::uint32_t>(plan.seed);
  add(PatternKind::kRandom, false, seed, "random");
  add(PatternKind::kRandom, true, seed, "random-inverse");
  return out;
}

// Largest allocation up to `want` bytes: other processes or fragmentation can make the first attempt fail.
DeviceBuffer allocate_up_to(std::size_t want) {
  constexpr std::size_t kGranule = 2u << 20;
  std::size_t bytes = want / kGranule * kGranule;
  for (int attempt = 0; attempt < 8 && bytes >= kGranule; ++attempt) {
    DeviceBuffer buf;
    cudaError_t e = DeviceBuffer::try_allocate(bytes, buf);
    if (e == cudaSuccess) return buf;
    if (e != cudaErrorMemoryAllocation) check(e, "cudaMalloc (memory test)");
    (void)cudaGetLastError();  // clear the allocation failure so that it does not poison the next call
    bytes = bytes / 100 * 95 / kGranule * kGranule;
  }
  throw CudaFailure("cudaMalloc (memory test): could not allocate any test buffer");
}

}  // namespace

MemoryTestResult run_memory_test(const MeasurePlan& plan, cudaStream_t stream) {
  MemoryTestResult r;
  auto t0 = std::chrono::steady_clock::now();
  try {
    std::size_t free_bytes = 0, total_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    DeviceBuffer buf = allocate_up_to(static_cast<std::size_t>(static_cast<double>(free_bytes) * plan.mem_fraction));
    DeviceBuffer counters_buf(sizeof(MismatchCounters));
    auto* counters = counters_buf.get<MismatchCounters>();
    check(cudaMemsetAsync(counters, 0, sizeof(MismatchCounters), stream), "cudaMemsetAsync");
    auto* words = buf.get<std::uint32_t>();
    const std::uint64_t n = buf.bytes() / 4 / 4 * 4;
    r.bytes_tested = n * 4;
    auto patterns = patterns_for(plan);
    for (size_t i = 0; i < patterns.size(); ++i) {
      const auto& np = patterns[i];
      r.patterns.push_back(np.name);
      check(launch_fill_pattern(words, n, np.pattern, stream), "fill pattern kernel");
      if (i == 0 && has(plan.injections, Injection::kMemFlip)) {
        // Injected fault: one bit of one word changes between write and verify, as a weak cell would.
        check(launch_flip_bit(words + n / 2, 1U << 13, stream), "flip bit kernel");
      }
      check(launch_verify_pattern(words, n, np.pattern, counters, stream), "verify pattern kernel");
    }
    MismatchCounters host{};
    check(cudaMemcpyAsync(&host, counters, sizeof host, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync");
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (memory test)");
    r.mismatches = host.mismatches;
    auto base = reinterpret_cast<std::uint64_t>(words);
    for (unsigned i = 0; i < host.recorded && i < static_cast<unsigned>(kMaxRecordedMismatches); ++i) {
      const auto& rec = host.records[i];
      r.first_mismatches.push_back({rec.word_index * 4, base + rec.word_index * 4, rec.expected, rec.actual,
                                    rec.pattern_id < patterns.size() ? patterns[rec.pattern_id].name : "?"});
    }
    r.ran = true;
  } catch (const CudaFailure& e) {
    r.error = e.what();
  }
  r.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace fleet::gpuprobe::cuda
