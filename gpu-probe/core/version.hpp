#pragma once
#include <string_view>

namespace fleet::gpuprobe {

inline constexpr std::string_view kProbeVersion = "0.1.0";
// Bumped on any incompatible change to the report; consumers (the agent, fleetd) check it before reading.
inline constexpr int kReportSchemaVersion = 1;
inline constexpr std::string_view kReportSchemaId = "fleet.gpu-probe.report/v1";

}  // namespace fleet::gpuprobe
