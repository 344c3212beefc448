#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "gpu-probe/core/check_status.hpp"

namespace fleet::gpuprobe {

// How `measured` is compared with the thresholds: at-least for throughputs, at-most for error counts.
enum class Comparison { kNone, kAtLeast, kAtMost, kEqual };

struct CheckResult {
  std::string name;  // stable id, e.g. "hbm_bandwidth", "gemm_bf16_correctness"
  CheckStatus status = CheckStatus::kSkipped;
  std::optional<double> measured;
  std::optional<double> fail_threshold;  // crossing it fails
  std::optional<double> warn_threshold;  // crossing it warns
  std::optional<double> spec;            // the data-sheet figure the thresholds derive from, when there is one
  Comparison comparison = Comparison::kNone;
  std::string unit;
  double duration_ms = 0;
  std::string message;  // one sentence a person can act on
  nlohmann::json details = nlohmann::json::object();
};

std::string_view to_string(Comparison c);
std::optional<Comparison> parse_comparison(std::string_view s);

}  // namespace fleet::gpuprobe
