#include "gpu-probe/core/driver_compat.hpp"

#include <algorithm>
#include <charconv>

namespace fleet::gpuprobe {

std::optional<DriverRequirement> driver_requirement_for_runtime(int runtime_version) {
  struct Row {
    int runtime;
    const char* full;
  };
  // CUDA Toolkit release notes, Table 3 (toolkit driver version, Linux x86_64).
  static constexpr Row kRows[] = {
      {11080, "520.61.05"}, {12000, "525.60.13"}, {12010, "530.30.02"}, {12020, "535.54.03"},
      {12030, "545.23.06"}, {12040, "550.54.14"}, {12050, "555.42.02"}, {12060, "560.28.03"},
      {12080, "570.26"},    {12090, "575.51.03"}, {13000, "580.65.06"},
  };
  const Row* best = nullptr;
  for (const auto& r : kRows) {
    if (r.runtime <= runtime_version && r.runtime / 1000 == runtime_version / 1000) best = &r;
  }
  if (!best) return std::nullopt;
  // Minor-version compatibility floor per major (release notes, "CUDA minor version compatibility").
  const char* minor = runtime_version / 1000 == 11   ? "450.80.02"
                      : runtime_version / 1000 == 12 ? "525.60.13"
                                                     : "580.65.06";
  return DriverRequirement{best->full, minor};
}

std::optional<int> compare_driver_versions(std::string_view a, std::string_view b) {
  auto parse = [](std::string_view s) -> std::optional<std::vector<long>> {
    std::vector<long> parts;
    while (!s.empty()) {
      auto dot = s.find('.');
      auto piece = s.substr(0, dot);
      long v = 0;
      auto [p, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), v);
      if (ec != std::errc{} || p != piece.data() + piece.size()) return std::nullopt;
      parts.push_back(v);
      if (dot == std::string_view::npos) break;
      s = s.substr(dot + 1);
    }
    if (parts.empty()) return std::nullopt;
    return parts;
  };
  auto pa = parse(a);
  auto pb = parse(b);
  if (!pa || !pb) return std::nullopt;
  for (size_t i = 0; i < std::max(pa->size(), pb->size()); ++i) {
    long x = i < pa->size() ? (*pa)[i] : 0;
    long y = i < pb->size() ? (*pb)[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string cuda_version_string(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace fleet::gpuprobe
