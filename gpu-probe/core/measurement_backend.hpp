#pragma once
#include <vector>

#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe {

// The boundary between measuring (CUDA, NVML: measure/) and everything else. The runner and its tests only see
// this interface, so the orchestration is tested with a fake and no GPU.
class MeasurementBackend {
 public:
  virtual ~MeasurementBackend() = default;
  // Versions and devices. Sets could_not_run when nothing can be measured (no CUDA build, no driver, no device).
  virtual EnvironmentInfo enumerate(const MeasurePlan& plan) = 0;
  // Every per-GPU measurement on one device. Called concurrently, one host thread per device.
  virtual GpuMeasurements measure_gpu(const DeviceInfo& device, const MeasurePlan& plan) = 0;
  // Copies and verifies between every ordered pair of the given devices; called after the per-GPU phase.
  virtual std::vector<PeerResult> measure_peers(const std::vector<DeviceInfo>& devices, const MeasurePlan& plan) = 0;
};

}  // namespace fleet::gpuprobe
