#pragma once
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/error.hpp"
#include "gpu-probe/core/report.hpp"

namespace fleet::gpuprobe {

// Schema fleet.gpu-probe.report/v1 (docs/gpu-probe.md). Absent optional figures are JSON null, never omitted, so
// consumers see the same keys on every run.
nlohmann::json report_to_json(const Report& r);

// Reads a report back (the agent and tests do); rejects other schema versions and missing fields.
fleet::Result<Report> report_from_json(const nlohmann::json& j);

nlohmann::json check_to_json(const CheckResult& c);

}  // namespace fleet::gpuprobe
