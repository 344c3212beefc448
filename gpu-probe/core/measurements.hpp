#pragma once
// Plain data produced by the measurement layer (CUDA/NVML) and consumed by the evaluator. Nothing here knows
// about thresholds: a measurement is what the hardware did, the verdict is decided elsewhere.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fleet::gpuprobe {

struct DeviceInfo {
  int index = -1;  // CUDA ordinal
  std::string name;
  std::string pci_bus_id;
  std::string uuid;
  std::uint64_t total_memory_bytes = 0;
  std::uint64_t free_memory_bytes = 0;
  int cc_major = 0;
  int cc_minor = 0;
  int multiprocessors = 0;
};

// Why the probe could not measure at all (exit 2). Codes are stable strings for machines; reason is for people.
struct CouldNotRun {
  std::string code;  // "no-cuda-build", "no-cuda-device", "bad-arguments", "internal"
  std::string reason;
};

struct EnvironmentInfo {
  bool built_with_cuda = false;
  int runtime_version = 0;      // cudaRuntimeGetVersion, e.g. 13000
  int driver_cuda_version = 0;  // cudaDriverGetVersion: newest CUDA the driver supports; 0 = no driver
  std::string driver_version;   // NVML "580.65.06"; empty when NVML is absent
  bool nvml_available = false;
  std::string nvml_error;          // why NVML is unavailable
  int devices_seen_by_driver = 0;  // before the missing-gpu injection hides one
  std::vector<DeviceInfo> devices;
  std::optional<CouldNotRun> could_not_run;
};

struct MemoryMismatch {
  std::uint64_t offset_bytes = 0;  // from the start of the tested allocation
  std::uint64_t device_address = 0;
  std::uint32_t expected = 0;
  std::uint32_t actual = 0;
  std::string pattern;
};

struct MemoryTestResult {
  bool ran = false;
  std::string error;  // a CUDA error during the test; evaluated as a failure of the GPU
  std::uint64_t bytes_tested = 0;
  std::vector<std::string> patterns;
  std::uint64_t mismatches = 0;
  std::vector<MemoryMismatch> first_mismatches;  // at most a few dozen, for the report
  double duration_ms = 0;
};

struct BandwidthResult {
  bool ran = false;
  std::string error;
  double gbps = 0;  // 1e9 bytes per second
  std::uint64_t bytes_per_iteration = 0;
  int iterations = 0;
  double duration_ms = 0;
};

struct GemmResult {
  std::string dtype;  // "bf16", "fp16", "tf32", "fp32"
  bool ran = false;
  bool supported = true;  // false: the device/cuBLAS cannot run this dtype (e.g. BF16 on T4)
  std::string error;
  int m = 0, n = 0, k = 0;
  double tflops = 0;
  int timed_iterations = 0;
  int checked_repetitions = 0;
  std::uint64_t mismatches = 0;
  std::optional<std::uint64_t> first_mismatch_index;  // row-major C index of the first wrong element found
  double duration_ms = 0;
};

// One NVML reading. Every field is optional: drivers and SKUs differ in what they expose.
struct NvmlSnapshot {
  bool available = false;
  std::string error;
  std::optional<std::uint64_t> ecc_volatile_uncorrected;
  std::optional<std::uint64_t> ecc_aggregate_uncorrected;
  std::optional<std::uint32_t> retired_pages_dbe;
  std::optional<std::uint32_t> retired_pages_sbe;
  std::optional<bool> retired_pages_pending;
  std::optional<std::uint32_t> remapped_rows_correctable;
  std::optional<std::uint32_t> remapped_rows_uncorrectable;
  std::optional<bool> remap_pending;
  std::optional<bool> remap_failure;
  std::optional<std::uint64_t> throttle_reasons;  // nvmlClocksEventReason* bit mask
  std::optional<std::uint32_t> pcie_gen_current;
  std::optional<std::uint32_t> pcie_gen_max;
  std::optional<std::uint32_t> pcie_width_current;
  std::optional<std::uint32_t> pcie_width_max;
  std::optional<std::uint32_t> pcie_replay_counter;
  std::optional<std::uint32_t> temperature_c;
  std::optional<double> power_w;
  std::optional<double> power_limit_w;
  std::optional<std::uint32_t> sm_clock_mhz;
};

struct XidEvent {
  std::uint64_t xid = 0;
  double at_ms = 0;  // since the GPU's probe started
};

struct NvmlHealth {
  NvmlSnapshot before;      // before any load
  NvmlSnapshot under_load;  // taken while GEMMs run: clocks, throttle reasons, PCIe link, power
  NvmlSnapshot after;       // after all load; compared with `before` so any new error fails
  bool xid_watch_available = false;
  std::string xid_error;
  std::vector<XidEvent> xids;
};

struct BurnResult {
  bool ran = false;
  std::string error;
  double seconds = 0;
  std::vector<double> window_tflops;  // throughput per ~1 s window, to see thermal throttling
  std::uint64_t mismatches = 0;
  std::uint64_t gemms = 0;
  std::optional<std::uint32_t> max_temperature_c;
  std::uint64_t throttle_reasons_seen = 0;  // OR of every reading during the burn
  double duration_ms = 0;
};

struct GpuMeasurements {
  DeviceInfo device;
  std::string fatal_error;  // a CUDA error that stopped this GPU's probe early
  MemoryTestResult memory;
  BandwidthResult hbm;
  std::vector<GemmResult> gemms;
  BandwidthResult host_to_device;
  BandwidthResult device_to_host;
  BurnResult burn;
  NvmlHealth nvml;
  double duration_ms = 0;
};

struct PeerResult {
  int src = -1;
  int dst = -1;
  bool peer_access = false;
  bool ran = false;
  std::string error;
  double gbps = 0;
  std::uint64_t mismatches = 0;
  double duration_ms = 0;
};

struct NodeMeasurements {
  EnvironmentInfo env;
  std::vector<GpuMeasurements> gpus;
  std::vector<PeerResult> peers;
  double wall_ms = 0;
};

}  // namespace fleet::gpuprobe
