#include "gpu-probe/core/measure_plan.hpp"

namespace fleet::gpuprobe {

namespace {
constexpr std::uint64_t kMiB = 1024ULL * 1024ULL;
// Quick mode budget (H100, goal <= 15 s wall): the sizes below keep each check well under a second; what dominates
// is driver/context start-up. Full mode follows DCGM's longer levels: most of memory and a sustained burn.
constexpr double kQuickMemFraction = 0.5;
constexpr double kFullMemFraction = 0.92;
constexpr double kDefaultBurnSeconds = 120;
}  // namespace

MeasurePlan make_measure_plan(const ProbeOptions& options) {
  MeasurePlan p;
  p.mode = options.mode;
  p.injections = options.injections;
  const bool full = options.mode == Mode::kFull;
  p.mem_fraction = options.mem_fraction.value_or(full ? kFullMemFraction : kQuickMemFraction);
  p.walking_passes = full ? 8 : 1;
  // 1 GiB per buffer is 20x the largest L2 (H100: 50 MB), so the copy measures HBM, not cache.
  p.hbm_bytes = 1024 * kMiB;
  p.hbm_iterations = full ? 100 : 30;
  // 8192^3 fills every SM with tiles (2048 128x256 tiles on 132 SMs); FP32 without tensor cores is 15x slower,
  // so it runs smaller to keep quick mode quick on any SKU (T4: ~17 ms per 4096^3 FP32 GEMM).
  // Timed loops last a fixed time rather than a fixed count, so that a T4 and an H200 both finish quick mode fast
  // and both run long enough for the clocks to settle.
  const int reps = full ? 50 : 10;
  const double ms = full ? 1000 : 200;
  p.gemms = {
      {"bf16", 8192, 3, ms, 1000, reps},
      {"fp16", 8192, 2, ms * 0.75, 1000, reps},
      {"tf32", 8192, 2, ms * 0.75, 1000, reps / 2},
      {"fp32", 4096, 1, ms * 0.5, 1000, reps / 2},
  };
  p.host_bytes = 256 * kMiB;
  p.host_iterations = full ? 20 : 8;
  // Small enough that a PCIe node without P2P (copies staged through the host, ~10 GB/s) stays within budget.
  p.peer_bytes = (full ? 256 : 64) * kMiB;
  p.peer_iterations = full ? 20 : 5;
  p.burn_seconds = full ? options.burn_seconds.value_or(kDefaultBurnSeconds) : 0;
  return p;
}

}  // namespace fleet::gpuprobe
