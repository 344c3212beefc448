#include "admission/admission_policy.hpp"

#include <algorithm>

namespace fleet::admission {

int max_concurrent_probes(const AdmissionPolicy& policy, int gpu_nodes) {
  const int by_percent = (std::max(0, gpu_nodes) * std::max(0, policy.max_probing_percent) + 99) / 100;
  return std::max({1, policy.max_probing_nodes, by_percent});
}

}  // namespace fleet::admission
