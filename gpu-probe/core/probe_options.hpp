#pragma once
#include <optional>
#include <string>
#include <vector>

#include "gpu-probe/core/fault_injection.hpp"

namespace fleet::gpuprobe {

enum class Mode { kQuick, kFull };
std::string_view to_string(Mode m);

// Everything the command line can say; produced by parse_arguments, consumed by main and make_measure_plan.
struct ProbeOptions {
  Mode mode = Mode::kQuick;
  std::optional<std::vector<int>> gpus;        // --gpus 0,2; absent = every visible device
  std::optional<int> expect_gpus;              // --expect-gpus N
  std::optional<std::string> output_path;      // --output FILE; absent = stdout
  bool human = false;                          // --human: a table instead of JSON
  InjectionSet injections;                     // --inject a,b (repeatable)
  std::optional<double> burn_seconds;          // --burn-seconds S (full mode)
  std::optional<double> mem_fraction;          // --mem-fraction F of free device memory for the pattern test
  std::optional<std::string> thresholds_path;  // --thresholds FILE: JSON overrides of the SKU table
  std::optional<double> straggler_margin;      // --straggler-margin 0.08
  bool show_help = false;
  bool show_version = false;
};

}  // namespace fleet::gpuprobe
