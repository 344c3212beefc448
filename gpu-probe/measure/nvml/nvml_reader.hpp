#pragma once
#include <memory>
#include <string>
#include <vector>

#include "gpu-probe/core/measurements.hpp"
#include "gpu-probe/measure/nvml/nvml_library.hpp"

namespace fleet::gpuprobe::nvml {

// Reads one GPU's health counters and watches its XID events. The CUDA device is matched to its NVML handle by
// PCI bus id, because CUDA and NVML may number devices differently (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER).
class DeviceReader {
 public:
  DeviceReader(std::shared_ptr<Library> lib, const std::string& pci_bus_id);
  ~DeviceReader();
  DeviceReader(const DeviceReader&) = delete;
  DeviceReader& operator=(const DeviceReader&) = delete;

  NvmlSnapshot snapshot() const;
  // Registers for XID events; false (with the reason in xid_error()) when the driver does not allow it.
  bool start_xid_watch();
  // Drains pending XID events without blocking; at_ms is stamped by the caller's clock.
  std::vector<XidEvent> poll_xids(double at_ms);
  const std::string& xid_error() const { return xid_error_; }

 private:
  std::shared_ptr<Library> lib_;
  Device device_ = nullptr;
  std::string error_;
  EventSet events_ = nullptr;
  std::string xid_error_;
};

}  // namespace fleet::gpuprobe::nvml
