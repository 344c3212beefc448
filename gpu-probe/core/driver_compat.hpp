#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::gpuprobe {

struct DriverRequirement {
  std::string full;          // minimum Linux driver for every feature of this CUDA runtime
  std::string minor_compat;  // minimum for CUDA minor-version compatibility (same major)
};

// From the CUDA toolkit release notes, table "CUDA Toolkit and Corresponding Driver Versions" (Linux x86_64).
std::optional<DriverRequirement> driver_requirement_for_runtime(int runtime_version);

// Compares dotted driver versions numerically ("580.65.06" vs "575.51.03"): <0, 0, >0. Unparseable → nullopt.
std::optional<int> compare_driver_versions(std::string_view a, std::string_view b);

// 13000 → "13.0".
std::string cuda_version_string(int v);

}  // namespace fleet::gpuprobe
