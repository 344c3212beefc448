#include "gpu-probe/core/nvml_injection.hpp"

#include "gpu-probe/core/nvml_rules.hpp"

namespace fleet::gpuprobe {

void apply_nvml_injection(NvmlSnapshot& s, NvmlStage stage, const InjectionSet& injections) {
  const bool ecc = has(injections, Injection::kEcc);
  const bool throttle = has(injections, Injection::kThrottle);
  if (!ecc && !throttle) return;
  if (!s.available) {
    s = NvmlSnapshot{};
    s.available = true;
    s.error.clear();
  }
  if (ecc) {
    if (!s.ecc_volatile_uncorrected) s.ecc_volatile_uncorrected = 0;
    if (!s.ecc_aggregate_uncorrected) s.ecc_aggregate_uncorrected = 0;
    if (stage == NvmlStage::kAfter) {
      *s.ecc_volatile_uncorrected += 1;
      *s.ecc_aggregate_uncorrected += 1;
    }
  }
  if (throttle && stage == NvmlStage::kUnderLoad) {
    s.throttle_reasons = s.throttle_reasons.value_or(0) | kThrottleHwThermal;
  }
}

}  // namespace fleet::gpuprobe
