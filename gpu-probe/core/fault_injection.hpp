#pragma once
#include <optional>
#include <set>
#include <string_view>

namespace fleet::gpuprobe {

// Faults the measurement layer can inject so that each detector is shown to fire through its real code path.
enum class Injection {
  kMemFlip,        // flip one bit in device memory between the pattern write and its verify
  kGemmCorrupt,    // flip one bit of a GEMM result in device memory before the exact check
  kSlowBandwidth,  // run the HBM copy kernel on two blocks, so the measured bandwidth really drops
  kEcc,            // add one uncorrectable ECC error to the post-load NVML reading
  kThrottle,       // set the HW-thermal-slowdown bit in the under-load NVML reading
  kMissingGpu,     // hide the last CUDA device from enumeration
};

using InjectionSet = std::set<Injection>;

std::string_view to_string(Injection i);
std::optional<Injection> parse_injection(std::string_view s);
inline bool has(const InjectionSet& set, Injection i) {
  return set.count(i) != 0;
}

}  // namespace fleet::gpuprobe
