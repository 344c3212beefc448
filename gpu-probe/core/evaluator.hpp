#pragma once
#include <optional>
#include <string>

#include "gpu-probe/core/measurements.hpp"
#include "gpu-probe/core/probe_options.hpp"
#include "gpu-probe/core/report.hpp"
#include "gpu-probe/core/sku_table.hpp"

namespace fleet::gpuprobe {

// What the evaluator needs besides the measurements; host and time come from the caller (no clock in the core).
struct EvaluationContext {
  std::string host;
  std::string started_at;
  Mode mode = Mode::kQuick;
  std::optional<int> expect_gpus;
  std::optional<double> straggler_margin;  // overrides the policy's
  InjectionSet injections;
};

// Measurements + thresholds → per-check status and the overall verdict. Pure: same input, same report.
Report evaluate(const NodeMeasurements& m, const SkuTable& table, const EvaluationContext& ctx);

// A report for a run that never measured (bad arguments, no CUDA build, no device): verdict could-not-run.
Report could_not_run_report(const CouldNotRun& why, const EvaluationContext& ctx, const EnvironmentInfo& env);

// Checks at the threshold boundary: measured < fail → fail, < warn → warn. Without a spec: pass, relative only.
CheckResult throughput_check(std::string name, double measured, std::optional<double> spec, double warn_fraction,
                             double fail_fraction, std::string unit, double duration_ms);

}  // namespace fleet::gpuprobe
