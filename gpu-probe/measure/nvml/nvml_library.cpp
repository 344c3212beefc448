#include "gpu-probe/measure/nvml/nvml_library.hpp"

#include <dlfcn.h>

#include <mutex>

namespace fleet::gpuprobe::nvml {

namespace {
template <class Fn>
void bind(void* handle, Fn& fn, const char* name) {
  fn = reinterpret_cast<Fn>(dlsym(handle, name));
}
}  // namespace

std::shared_ptr<Library> Library::load() {
  // One instance per process: nvmlInit/nvmlShutdown are reference counted, but one is all we need.
  static std::mutex mu;
  static std::weak_ptr<Library> cached;
  std::lock_guard lock(mu);
  if (auto lib = cached.lock()) return lib;
  std::shared_ptr<Library> lib(new Library());
  cached = lib;
  lib->handle_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle_) {
    const char* e = dlerror();
    lib->error_ = std::string("cannot load libnvidia-ml.so.1 (NVIDIA driver not installed?): ") + (e ? e : "");
    return lib;
  }
  Return (*init)() = nullptr;
  bind(lib->handle_, init, "nvmlInit_v2");
  bind(lib->handle_, lib->shutdown_, "nvmlShutdown");
  bind(lib->handle_, lib->error_string_, "nvmlErrorString");
  bind(lib->handle_, lib->driver_version_, "nvmlSystemGetDriverVersion");
  if (!init || !lib->shutdown_) {
    lib->error_ = "libnvidia-ml.so.1 lacks nvmlInit_v2/nvmlShutdown";
    return lib;
  }
  if (Return r = init(); r != kSuccess) {
    lib->error_ = "nvmlInit_v2 failed: " + lib->error_string(r);
    lib->shutdown_ = nullptr;
    return lib;
  }
  bind(lib->handle_, lib->device_by_pci_bus_id, "nvmlDeviceGetHandleByPciBusId_v2");
  bind(lib->handle_, lib->total_ecc_errors, "nvmlDeviceGetTotalEccErrors");
  bind(lib->handle_, lib->retired_pages, "nvmlDeviceGetRetiredPages");
  bind(lib->handle_, lib->retired_pages_pending, "nvmlDeviceGetRetiredPagesPendingStatus");
  bind(lib->handle_, lib->remapped_rows, "nvmlDeviceGetRemappedRows");
  bind(lib->handle_, lib->clock_event_reasons, "nvmlDeviceGetCurrentClocksEventReasons");
  if (!lib->clock_event_reasons) {  // the pre-535 name of the same call
    bind(lib->handle_, lib->clock_event_reasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
  }
  bind(lib->handle_, lib->pcie_gen_current, "nvmlDeviceGetCurrPcieLinkGeneration");
  bind(lib->handle_, lib->pcie_gen_max, "nvmlDeviceGetMaxPcieLinkGeneration");
  bind(lib->handle_, lib->pcie_width_current, "nvmlDeviceGetCurrPcieLinkWidth");
  bind(lib->handle_, lib->pcie_width_max, "nvmlDeviceGetMaxPcieLinkWidth");
  bind(lib->handle_, lib->pcie_replay_counter, "nvmlDeviceGetPcieReplayCounter");
  bind(lib->handle_, lib->temperature, "nvmlDeviceGetTemperature");
  bind(lib->handle_, lib->power_usage, "nvmlDeviceGetPowerUsage");
  bind(lib->handle_, lib->enforced_power_limit, "nvmlDeviceGetEnforcedPowerLimit");
  bind(lib->handle_, lib->clock_info, "nvmlDeviceGetClockInfo");
  bind(lib->handle_, lib->event_set_create, "nvmlEventSetCreate");
  bind(lib->handle_, lib->register_events, "nvmlDeviceRegisterEvents");
  bind(lib->handle_, lib->event_set_wait, "nvmlEventSetWait_v2");
  bind(lib->handle_, lib->event_set_free, "nvmlEventSetFree");
  if (!lib->device_by_pci_bus_id) {
    lib->error_ = "libnvidia-ml.so.1 lacks nvmlDeviceGetHandleByPciBusId_v2";
    return lib;
  }
  lib->available_ = true;
  return lib;
}

Library::~Library() {
  if (shutdown_) shutdown_();
  if (handle_) dlclose(handle_);
}

std::string Library::error_string(Return r) const {
  if (error_string_) {
    if (const char* s = error_string_(r)) return s;
  }
  return "NVML error " + std::to_string(r);
}

std::string Library::driver_version() const {
  if (!available_ || !driver_version_) return {};
  char buf[96] = {};
  if (driver_version_(buf, sizeof buf) != kSuccess) return {};
  return buf;
}

}  // namespace fleet::gpuprobe::nvml
