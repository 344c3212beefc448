#pragma once
#include <memory>

#include "gpu-probe/core/measurement_backend.hpp"

namespace fleet::gpuprobe {

// The CUDA backend when the build found nvcc, otherwise one that reports "built without CUDA". Exactly one of
// measure/cuda/cuda_backend.cpp and measure/no_cuda_backend.cpp is linked.
std::unique_ptr<MeasurementBackend> make_measurement_backend();

}  // namespace fleet::gpuprobe
