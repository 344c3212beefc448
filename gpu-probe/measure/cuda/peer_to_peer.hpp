#pragma once
#include <vector>

#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe::cuda {

// For every ordered pair: enable peer access where the driver allows it, time cudaMemcpyPeerAsync of a seeded
// pattern and verify it on the destination with the memory test's verify kernel.
std::vector<PeerResult> measure_peer_to_peer(const std::vector<DeviceInfo>& devices, const MeasurePlan& plan);

}  // namespace fleet::gpuprobe::cuda
