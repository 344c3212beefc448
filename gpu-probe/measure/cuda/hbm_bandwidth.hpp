#pragma once
#include <cuda_runtime.h>

#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe::cuda {

// Device-to-device copy through a kernel over two plan.hbm_bytes buffers; reports bytes read plus written per
// second (the same accounting as a PyTorch x.copy_() benchmark).
BandwidthResult measure_hbm_bandwidth(const MeasurePlan& plan, cudaStream_t stream);

}  // namespace fleet::gpuprobe::cuda
