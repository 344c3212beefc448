#pragma once
#include <cuda_runtime.h>

#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe::cuda {

struct HostBandwidth {
  BandwidthResult host_to_device;
  BandwidthResult device_to_host;
};

// Pinned host memory ↔ device, each direction timed separately with events.
HostBandwidth measure_host_bandwidth(const MeasurePlan& plan, cudaStream_t stream);

}  // namespace fleet::gpuprobe::cuda
