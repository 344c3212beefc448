#include "gpu-probe/core/fault_injection.hpp"

namespace fleet::gpuprobe {

std::string_view to_string(Injection i) {
  switch (i) {
    case Injection::kMemFlip:
      return "memflip";
    case Injection::kGemmCorrupt:
      return "gemm-corrupt";
    case Injection::kSlowBandwidth:
      return "slow-bandwidth";
    case Injection::kEcc:
      return "ecc";
    case Injection::kThrottle:
      return "throttle";
    case Injection::kMissingGpu:
      return "missing-gpu";
  }
  return "?";
}

std::optional<Injection> parse_injection(std::string_view s) {
  for (auto i : {Injection::kMemFlip, Injection::kGemmCorrupt, Injection::kSlowBandwidth, Injection::kEcc,
                 Injection::kThrottle, Injection::kMissingGpu}) {
    if (to_string(i) == s) return i;
  }
  return std::nullopt;
}

}  // namespace fleet::gpuprobe
