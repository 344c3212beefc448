#pragma once
#include <cuda_runtime.h>

#include <functional>

#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe::cuda {

// Called while the GPU is busy with GEMMs: the hook takes the under-load NVML reading (clocks, throttle reasons,
// PCIe link state, power), which at idle would say little.
using UnderLoadHook = std::function<void()>;
// Called about once a second during the burn; returns the temperature and throttle-reason mask it read.
struct BurnSample {
  std::optional<std::uint32_t> temperature_c;
  std::uint64_t throttle_reasons = 0;
};
using BurnSampler = std::function<BurnSample()>;

// One cuBLAS GEMM measurement (throughput + exact check) on the current device.
GemmResult measure_gemm(const GemmPlan& plan, int cc_major, const InjectionSet& injections, cudaStream_t stream,
                        const UnderLoadHook& under_load);

// Sustained BF16 (FP16 before Ampere) GEMM with an exact check after every GEMM, for plan.burn_seconds.
BurnResult run_burn(const MeasurePlan& plan, int cc_major, cudaStream_t stream, const BurnSampler& sampler);

}  // namespace fleet::gpuprobe::cuda
