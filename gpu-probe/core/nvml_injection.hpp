#pragma once
#include "gpu-probe/core/fault_injection.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe {

enum class NvmlStage { kBefore, kUnderLoad, kAfter };

// Software cannot provoke a real uncorrectable ECC error or a thermal slowdown, so these two injections alter the
// NVML readings at the point where the measurement layer hands them on; everything downstream (the counters-after-
// load comparison, the throttle rule) is the real code. Without NVML the injection supplies the reading itself,
// so the detector still fires on a machine without the library.
void apply_nvml_injection(NvmlSnapshot& s, NvmlStage stage, const InjectionSet& injections);

}  // namespace fleet::gpuprobe
