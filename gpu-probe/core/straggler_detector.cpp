#include "gpu-probe/core/straggler_detector.hpp"

#include <algorithm>

namespace fleet::gpuprobe {

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::vector<std::optional<StragglerFinding>> detect_stragglers(const std::vector<std::optional<double>>& values,
                                                               const std::vector<std::string>& groups, double margin) {
  std::vector<std::optional<StragglerFinding>> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) continue;
    std::vector<double> peers;
    for (size_t j = 0; j < values.size(); ++j) {
      if (values[j] && j < groups.size() && i < groups.size() && groups[j] == groups[i]) peers.push_back(*values[j]);
    }
    if (peers.size() < 2) continue;
    StragglerFinding f;
    f.value = *values[i];
    f.median = median_of(peers);
    f.group_size = peers.size();
    f.ratio = f.median > 0 ? f.value / f.median : 1.0;
    f.straggler = f.value < (1.0 - margin) * f.median;
    out[i] = f;
  }
  return out;
}

}  // namespace fleet::gpuprobe
