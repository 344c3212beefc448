#pragma once
#include <optional>
#include <string>
#include <vector>

namespace fleet::gpuprobe {

struct StragglerFinding {
  double value = 0;
  double median = 0;  // of the GPU's group (same model) on this node
  double ratio = 0;   // value / median
  std::size_t group_size = 0;
  bool straggler = false;  // value < (1 - margin) * median
};

// One synchronous training step waits for the slowest GPU, so a GPU clearly below its peers is a fault even when
// it clears the absolute threshold. values[i] is GPU i's figure (nullopt = not measured), groups[i] its model.
// Returns nullopt for GPUs without a value or alone in their group.
std::vector<std::optional<StragglerFinding>> detect_stragglers(const std::vector<std::optional<double>>& values,
                                                               const std::vector<std::string>& groups, double margin);

double median_of(std::vector<double> values);

}  // namespace fleet::gpuprobe
