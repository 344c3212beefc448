#pragma once
// NVML loaded with dlopen at run time: the CUDA toolkit ships no nvml.h and the probe must start (and report
// could-not-run or skipped checks) on hosts without the driver. Only the entry points the probe uses are declared,
// with the types and constants of nvml.h (driver API, stable ABI).
#include <memory>
#include <string>

namespace fleet::gpuprobe::nvml {

using Return = int;  // nvmlReturn_t
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorTimeout = 10;

struct DeviceSt;
using Device = DeviceSt*;  // nvmlDevice_t
struct EventSetSt;
using EventSet = EventSetSt*;  // nvmlEventSet_t

struct EventData {  // nvmlEventData_t
  Device device;
  unsigned long long event_type;
  unsigned long long event_data;  // the XID for nvmlEventTypeXidCriticalError
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

inline constexpr unsigned long long kEventTypeXidCriticalError = 0x8;
inline constexpr int kMemoryErrorUncorrected = 1;  // nvmlMemoryErrorType_t
inline constexpr int kVolatileEcc = 0;             // nvmlEccCounterType_t
inline constexpr int kAggregateEcc = 1;
inline constexpr int kRetiredMultipleSbe = 0;  // nvmlPageRetirementCause_t
inline constexpr int kRetiredDbe = 1;
inline constexpr int kTemperatureGpu = 0;  // nvmlTemperatureSensors_t
inline constexpr int kClockSm = 1;         // nvmlClockType_t

class Library {
 public:
  // Loads libnvidia-ml.so.1 and calls nvmlInit_v2 once per process; never throws. On failure available() is false
  // and error() says why.
  static std::shared_ptr<Library> load();
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  bool available() const { return available_; }
  const std::string& error() const { return error_; }
  std::string error_string(Return r) const;
  std::string driver_version() const;

  // Entry points; null when this driver's NVML lacks one (then the dependent reading is left empty).
  Return (*device_by_pci_bus_id)(const char*, Device*) = nullptr;
  Return (*total_ecc_errors)(Device, int, int, unsigned long long*) = nullptr;
  Return (*retired_pages)(Device, int, unsigned int*, unsigned long long*) = nullptr;
  Return (*retired_pages_pending)(Device, int*) = nullptr;
  Return (*remapped_rows)(Device, unsigned int*, unsigned int*, unsigned int*, unsigned int*) = nullptr;
  Return (*clock_event_reasons)(Device, unsigned long long*) = nullptr;
  Return (*pcie_gen_current)(Device, unsigned int*) = nullptr;
  Return (*pcie_gen_max)(Device, unsigned int*) = nullptr;
  Return (*pcie_width_current)(Device, unsigned int*) = nullptr;
  Return (*pcie_width_max)(Device, unsigned int*) = nullptr;
  Return (*pcie_replay_counter)(Device, unsigned int*) = nullptr;
  Return (*temperature)(Device, int, unsigned int*) = nullptr;
  Return (*power_usage)(Device, unsigned int*) = nullptr;
  Return (*enforced_power_limit)(Device, unsigned int*) = nullptr;
  Return (*clock_info)(Device, int, unsigned int*) = nullptr;
  Return (*event_set_create)(EventSet*) = nullptr;
  Return (*register_events)(Device, unsigned long long, EventSet) = nullptr;
  Return (*event_set_wait)(EventSet, EventData*, unsigned int) = nullptr;
  Return (*event_set_free)(EventSet) = nullptr;

 private:
  Library() = default;
  void* handle_ = nullptr;
  bool available_ = false;
  std::string error_;
  Return (*shutdown_)() = nullptr;
  const char* (*error_string_)(Return) = nullptr;
  Return (*driver_version_)(char*, unsigned int) = nullptr;
};

}  // namespace fleet::gpuprobe::nvml
