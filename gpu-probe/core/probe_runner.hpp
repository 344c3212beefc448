#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "gpu-probe/core/measurement_backend.hpp"
#include "gpu-probe/core/probe_options.hpp"

namespace fleet::gpuprobe {

using MonotonicMs = std::function<double()>;

// Enumerates, then measures the selected GPUs all at once (one host thread each: a node's probe takes as long
// as its slowest GPU, not the sum), then the peer pairs. A selection naming a device that does not exist makes
// the run could-not-run (bad-arguments).
NodeMeasurements run_measurements(MeasurementBackend& backend, const MeasurePlan& plan,
                                  const std::optional<std::vector<int>>& selection, const MonotonicMs& now_ms);

// The GPU count to compare with: --expect-gpus, or with the missing-gpu injection and no expectation, the count
// the driver saw before one was hidden (so that the injection is caught by the real count check).
std::optional<int> effective_expected_gpus(const ProbeOptions& options, const EnvironmentInfo& env);

}  // namespace fleet::gpuprobe
