#pragma once
#include <optional>
#include <string>
#include <vector>

#include "gpu-probe/core/check_result.hpp"
#include "gpu-probe/core/measurements.hpp"
#include "gpu-probe/core/probe_options.hpp"
#include "gpu-probe/core/version.hpp"

namespace fleet::gpuprobe {

struct GpuReport {
  DeviceInfo device;
  std::string sku;  // key of the matched SKU; empty = unknown model (relative checks only)
  CheckStatus status = CheckStatus::kSkipped;
  std::vector<CheckResult> checks;
  double duration_ms = 0;
};

struct EnvironmentSummary {
  bool built_with_cuda = false;
  int runtime_version = 0;
  int driver_cuda_version = 0;
  std::string driver_version;
  bool nvml_available = false;
  std::string nvml_error;
};

// The whole output of one probe run; serialised by report_json (schema in docs/gpu-probe.md).
struct Report {
  int schema_version = kReportSchemaVersion;
  std::string probe_version = std::string(kProbeVersion);
  std::string host;
  std::string started_at;  // RFC 3339 UTC
  Mode mode = Mode::kQuick;
  std::vector<std::string> injected;  // fault injections active in this run; a report with any is never "real"
  Verdict verdict = Verdict::kCouldNotRun;
  std::optional<CouldNotRun> could_not_run;
  EnvironmentSummary environment;
  std::vector<CheckResult> node_checks;
  std::vector<GpuReport> gpus;
  double wall_ms = 0;
};

const CheckResult* find_check(const std::vector<CheckResult>& checks, std::string_view name);

}  // namespace fleet::gpuprobe
