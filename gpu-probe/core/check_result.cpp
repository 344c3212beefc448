#include "gpu-probe/core/check_result.hpp"

namespace fleet::gpuprobe {

std::string_view to_string(Comparison c) {
  switch (c) {
    case Comparison::kNone:
      return "none";
    case Comparison::kAtLeast:
      return "at-least";
    case Comparison::kAtMost:
      return "at-most";
    case Comparison::kEqual:
      return "equal";
  }
  return "none";
}

std::optional<Comparison> parse_comparison(std::string_view s) {
  for (auto c : {Comparison::kNone, Comparison::kAtLeast, Comparison::kAtMost, Comparison::kEqual}) {
    if (to_string(c) == s) return c;
  }
  return std::nullopt;
}

}  // namespace fleet::gpuprobe
