#pragma once
#include <cuda_runtime.h>

#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe::cuda {

// Pattern test over plan.mem_fraction of the device's free memory: walking ones/zeros, address-in-address and
// seeded random, each with its inverse. Runs on the calling thread's current device.
MemoryTestResult run_memory_test(const MeasurePlan& plan, cudaStream_t stream);

}  // namespace fleet::gpuprobe::cuda
