#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gpu-probe/core/probe_options.hpp"

namespace fleet::gpuprobe {

struct GemmPlan {
  std::string dtype;  // "bf16", "fp16", "tf32", "fp32"
  int size = 0;       // m = n = k
  int warmup = 0;
  double target_ms = 0;  // the timed loop runs about this long (iterations sized from one timed GEMM)
  int max_iterations = 0;
  int checked_repetitions = 0;  // each followed by an exact check, to catch intermittent corruption
};

// How much work each measurement does; derived from the options so that quick/full differ in one place.
struct MeasurePlan {
  Mode mode = Mode::kQuick;
  double mem_fraction = 0;      // of free device memory for the pattern test
  int walking_passes = 1;       // rotations of the walking-ones/zeros patterns
  std::uint64_t hbm_bytes = 0;  // per buffer; read + write counted
  int hbm_iterations = 0;
  std::vector<GemmPlan> gemms;
  std::uint64_t host_bytes = 0;
  int host_iterations = 0;
  std::uint64_t peer_bytes = 0;
  int peer_iterations = 0;
  double burn_seconds = 0;  // 0 = no burn
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  InjectionSet injections;
};

MeasurePlan make_measure_plan(const ProbeOptions& options);

}  // namespace fleet::gpuprobe
