#pragma once
// GPUs from Dynamic Resource Allocation: the ResourceSlices that the NVIDIA DRA driver (driver "gpu.nvidia.com")
// publishes per node, in the resource.k8s.io v1 shape (attributes on the device) or v1beta1's (under "basic").
// Pure: a ResourceSliceList in, GPUs by node out; they replace what the node's labels suggested, because they
// carry the real uuids and per-device facts.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/inventory.hpp"

namespace fleet::agent::kube {

inline constexpr std::string_view kNvidiaDraDriver = "gpu.nvidia.com";

// Devices of type "gpu" become GpuInfo (uuid, productName, driverVersion, cudaDriverVersion as major.minor,
// index, capacity memory); a "mig" device marks its parent GPU migMode "enabled". Devices of other drivers,
// slices without a node, and devices without a valid uuid are skipped. GPUs of a node are sorted by index; a
// missing or repeated index is replaced by the next free one.
std::map<std::string, std::vector<model::GpuInfo>> gpus_from_resource_slices(const nlohmann::json& slice_list);

// The node's GPUs become `gpus` (at most kMaxGpusPerNode); capacity.gpus follows, and allocatable.gpus is the
// device plugin's figure where the node has one, else the same.
void apply_dra_gpus(model::NodeInfo& node, std::vector<model::GpuInfo> gpus);

}  // namespace fleet::agent::kube
