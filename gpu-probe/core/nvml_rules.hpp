#pragma once
#include <vector>

#include "gpu-probe/core/check_result.hpp"
#include "gpu-probe/core/measurements.hpp"
#include "gpu-probe/core/sku_table.hpp"

namespace fleet::gpuprobe {

// NVML clock-event (throttle) reason bits, from nvml.h (nvmlClocksEventReason*).
inline constexpr std::uint64_t kThrottleGpuIdle = 0x1;
inline constexpr std::uint64_t kThrottleSwPowerCap = 0x4;
inline constexpr std::uint64_t kThrottleHwSlowdown = 0x8;
inline constexpr std::uint64_t kThrottleSwThermal = 0x20;
inline constexpr std::uint64_t kThrottleHwThermal = 0x40;
inline constexpr std::uint64_t kThrottleHwPowerBrake = 0x80;

// Health checks from NVML counters; every check is emitted (as skipped when NVML or the counter is absent) so the
// report always has the same shape.
std::vector<CheckResult> evaluate_nvml(const NvmlHealth& h, const BurnResult& burn, const Policy& policy);

}  // namespace fleet::gpuprobe
