#include "gpu-probe/measure/nvml/nvml_reader.hpp"

namespace fleet::gpuprobe::nvml {

DeviceReader::DeviceReader(std::shared_ptr<Library> lib, const std::string& pci_bus_id) : lib_(std::move(lib)) {
  if (!lib_ || !lib_->available()) {
    error_ = lib_ ? lib_->error() : "NVML not loaded";
    return;
  }
  if (Return r = lib_->device_by_pci_bus_id(pci_bus_id.c_str(), &device_); r != kSuccess) {
    error_ = "no NVML device for PCI bus id " + pci_bus_id + ": " + lib_->error_string(r);
    device_ = nullptr;
  }
}

DeviceReader::~DeviceReader() {
  if (events_ && lib_->event_set_free) lib_->event_set_free(events_);
}

NvmlSnapshot DeviceReader::snapshot() const {
  NvmlSnapshot s;
  if (!device_) {
    s.error = error_;
    return s;
  }
  s.available = true;
  // Each reading is independent: NOT_SUPPORTED (or a missing entry point) leaves the field empty, which the
  // evaluator turns into a skipped check.
  auto u32 = [&](Return (*fn)(Device, unsigned int*), std::optional<std::uint32_t>& out) {
    unsigned int v = 0;
    if (fn && fn(device_, &v) == kSuccess) out = v;
  };
  unsigned long long ull = 0;
  if (lib_->total_ecc_errors &&
      lib_->total_ecc_errors(device_, kMemoryErrorUncorrected, kVolatileEcc, &ull) == kSuccess) {
    s.ecc_volatile_uncorrected = ull;
  }
  if (lib_->total_ecc_errors &&
      lib_->total_ecc_errors(device_, kMemoryErrorUncorrected, kAggregateEcc, &ull) == kSuccess) {
    s.ecc_aggregate_uncorrected = ull;
  }
  if (lib_->retired_pages) {
    for (int cause : {kRetiredDbe, kRetiredMultipleSbe}) {
      unsigned int count = 0;  // 0 = ask for the count only
      Return r = lib_->retired_pages(device_, cause, &count, nullptr);
      if (r == kSuccess || r == kErrorInsufficientSize) {
        (cause == kRetiredDbe ? s.retired_pages_dbe : s.retired_pages_sbe) = count;
      }
    }
  }
  if (lib_->retired_pages_pending) {
    int pending = 0;
    if (lib_->retired_pages_pending(device_, &pending) == kSuccess) s.retired_pages_pending = pending != 0;
  }
  if (lib_->remapped_rows) {
    unsigned int corr = 0, unc = 0, pending = 0, failure = 0;
    if (lib_->remapped_rows(device_, &corr, &unc, &pending, &failure) == kSuccess) {
      s.remapped_rows_correctable = corr;
      s.remapped_rows_uncorrectable = unc;
      s.remap_pending = pending != 0;
      s.remap_failure = failure != 0;
    }
  }
  if (lib_->clock_event_reasons && lib_->clock_event_reasons(device_, &ull) == kSuccess) s.throttle_reasons = ull;
  u32(lib_->pcie_gen_current, s.pcie_gen_current);
  u32(lib_->pcie_gen_max, s.pcie_gen_max);
  u32(lib_->pcie_width_current, s.pcie_width_current);
  u32(lib_->pcie_width_max, s.pcie_width_max);
  u32(lib_->pcie_replay_counter, s.pcie_replay_counter);
  unsigned int v = 0;
  if (lib_->temperature && lib_->temperature(device_, kTemperatureGpu, &v) == kSuccess) s.temperature_c = v;
  if (lib_->power_usage && lib_->power_usage(device_, &v) == kSuccess) s.power_w = v / 1000.0;
  if (lib_->enforced_power_limit && lib_->enforced_power_limit(device_, &v) == kSuccess) s.power_limit_w = v / 1000.0;
  if (lib_->clock_info && lib_->clock_info(device_, kClockSm, &v) == kSuccess) s.sm_clock_mhz = v;
  return s;
}

bool DeviceReader::start_xid_watch() {
  if (!device_) {
    xid_error_ = error_;
    return false;
  }
  if (!lib_->event_set_create || !lib_->register_events || !lib_->event_set_wait) {
    xid_error_ = "this NVML lacks the event API";
    return false;
  }
  if (Return r = lib_->event_set_create(&events_); r != kSuccess) {
    xid_error_ = "nvmlEventSetCreate: " + lib_->error_string(r);
    events_ = nullptr;
    return false;
  }
  if (Return r = lib_->register_events(device_, kEventTypeXidCriticalError, events_); r != kSuccess) {
    xid_error_ = "nvmlDeviceRegisterEvents: " + lib_->error_string(r);
    return false;
  }
  return true;
}

std::vector<XidEvent> DeviceReader::poll_xids(double at_ms) {
  std::vector<XidEvent> out;
  if (!events_) return out;
  // Bounded: an event storm must not keep the probe here forever.
  for (int i = 0; i < 1024; ++i) {
    EventData d{};
    Return r = lib_->event_set_wait(events_, &d, 0);
    if (r != kSuccess) break;  // kErrorTimeout: nothing pending
    if (d.event_type == kEventTypeXidCriticalError) out.push_back({d.event_data, at_ms});
  }
  return out;
}

}  // namespace fleet::gpuprobe::nvml
