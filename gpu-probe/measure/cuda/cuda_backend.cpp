#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>

#include "gpu-probe/core/nvml_injection.hpp"
#include "gpu-probe/measure/backend_factory.hpp"
#include "gpu-probe/measure/cuda/cuda_resources.hpp"
#include "gpu-probe/measure/cuda/gemm_probe.hpp"
#include "gpu-probe/measure/cuda/hbm_bandwidth.hpp"
#include "gpu-probe/measure/cuda/host_bandwidth.hpp"
#include "gpu-probe/measure/cuda/memory_test.hpp"
#include "gpu-probe/measure/cuda/peer_to_peer.hpp"
#include "gpu-probe/measure/nvml/nvml_reader.hpp"

namespace fleet::gpuprobe {

namespace {

std::string format_uuid(const cudaUUID_t& u) {
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  char s[64];
  std::snprintf(s, sizeof s, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return s;
}

CouldNotRun no_device(const std::string& detail) {
  return {"no-cuda-device", "no CUDA device: " + detail};
}

class CudaBackend final : public MeasurementBackend {
 public:
  EnvironmentInfo enumerate(const MeasurePlan& plan) override {
    EnvironmentInfo env;
    env.built_with_cuda = true;
    nvml_ = nvml::Library::load();
    env.nvml_available = nvml_->available();
    env.nvml_error = nvml_->error();
    env.driver_version = nvml_->driver_version();
    cudaError_t e = cudaRuntimeGetVersion(&env.runtime_version);
    if (e != cudaSuccess) {
      env.could_not_run = CouldNotRun{"internal", std::string("cudaRuntimeGetVersion: ") + cudaGetErrorString(e)};
      return env;
    }
    // Reports 0 (and success) when no driver is installed: the clearest way to tell "no driver" from "too old".
    e = cudaDriverGetVersion(&env.driver_cuda_version);
    if (e != cudaSuccess || env.driver_cuda_version == 0) {
      env.could_not_run = no_device("no NVIDIA driver found (libcuda.so.1 missing or not loadable)");
      return env;
    }
    int count = 0;
    e = cudaGetDeviceCount(&count);
    if (e == cudaErrorInsufficientDriver) {
      env.could_not_run = no_device("the driver supports CUDA " + std::to_string(env.driver_cuda_version) +
                                    " but this build needs " + std::to_string(env.runtime_version));
      return env;
    }
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
      env.could_not_run = no_device("the driver is loaded but reports no GPU (check CUDA_VISIBLE_DEVICES)");
      return env;
    }
    if (e != cudaSuccess) {
      env.could_not_run =
          no_device(std::string("cudaGetDeviceCount: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
      return env;
    }
    env.devices_seen_by_driver = count;
    for (int i = 0; i < count; ++i) {
      cudaDeviceProp p{};
      if (cudaError_t pe = cudaGetDeviceProperties(&p, i); pe != cudaSuccess) {
        env.could_not_run = no_device("cudaGetDeviceProperties(" + std::to_string(i) + "): " + cudaGetErrorString(pe));
        return env;
      }
      DeviceInfo d;
      d.index = i;
      d.name = p.name;
      char bus[32] = {};
      if (cudaError_t be = cudaDeviceGetPCIBusId(bus, sizeof bus, i); be == cudaSuccess) d.pci_bus_id = bus;
      d.uuid = format_uuid(p.uuid);
      d.total_memory_bytes = p.totalGlobalMem;
      d.cc_major = p.major;
      d.cc_minor = p.minor;
      d.multiprocessors = p.multiProcessorCount;
      env.devices.push_back(d);
    }
    // Injected: the last GPU vanishes from enumeration, as one that fell off the bus would.
    if (has(plan.injections, Injection::kMissingGpu) && !env.devices.empty()) env.devices.pop_back();
    return env;
  }

  GpuMeasurements measure_gpu(const DeviceInfo& device, const MeasurePlan& plan) override {
    GpuMeasurements g;
    g.device = device;
    const auto t0 = std::chrono::steady_clock::now();
    auto now_ms = [&] {
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    nvml::DeviceReader reader(nvml_, device.pci_bus_id);
    g.nvml.before = reader.snapshot();
    g.nvml.xid_watch_available = reader.start_xid_watch();
    g.nvml.xid_error = reader.xid_error();
    try {
      cuda::check(cudaSetDevice(device.index), "cudaSetDevice");
      std::size_t free_bytes = 0, total = 0;
      cuda::check(cudaMemGetInfo(&free_bytes, &total), "cudaMemGetInfo");  // also creates the context
      g.device.free_memory_bytes = free_bytes;
      cuda::Stream stream;

      // Order: the timed checks (HBM, GEMMs, host link) first, then the memory test, then the burn. Measured on an
      // H200 (2026-12-04, bench/gpu-probe/hbm_copy_variants.cu "pattern"): for some hundred milliseconds after half
      // the card was written and freed, copies ran about 10% slower (the probe read 3690 GB/s after its memory
      // test, 4040 without it); the cause (driver clean-up of the freed memory, we think) is not established.
      g.hbm = cuda::measure_hbm_bandwidth(plan, stream.get());
      if (!still_healthy(g, g.hbm.error)) return finish(g, reader, plan, now_ms());
      bool sampled = false;
      for (const auto& gp : plan.gemms) {
        auto hook = [&] {
          if (!sampled) g.nvml.under_load = reader.snapshot();
          sampled = true;
        };
        g.gemms.push_back(cuda::measure_gemm(gp, device.cc_major, plan.injections, stream.get(), hook));
        if (!still_healthy(g, g.gemms.back().error)) return finish(g, reader, plan, now_ms());
      }
      auto host = cuda::measure_host_bandwidth(plan, stream.get());
      g.host_to_device = host.host_to_device;
      g.device_to_host = host.device_to_host;
      if (!still_healthy(g, host.host_to_device.error)) return finish(g, reader, plan, now_ms());
      g.memory = cuda::run_memory_test(plan, stream.get());
      if (!still_healthy(g, g.memory.error)) return finish(g, reader, plan, now_ms());
      if (plan.burn_seconds > 0) {
        g.burn = cuda::run_burn(plan, device.cc_major, stream.get(), [&] {
          NvmlSnapshot s = reader.snapshot();
          apply_nvml_injection(s, NvmlStage::kUnderLoad, plan.injections);
          return cuda::BurnSample{s.temperature_c, s.throttle_reasons.value_or(0)};
        });
      }
    } catch (const cuda::CudaFailure& e) {
      g.fatal_error = e.what();
    }
    return finish(g, reader, plan, now_ms());
  }

  std::vector<PeerResult> measure_peers(const std::vector<DeviceInfo>& devices, const MeasurePlan& plan) override {
    return cuda::measure_peer_to_peer(devices, plan);
  }

 private:
  // After a failed measurement, a sticky error (illegal address, ECC, GPU lost) poisons the context: every later
  // call would fail the same way, so stop and report it once.
  static bool still_healthy(GpuMeasurements& g, const std::string& step_error) {
    if (step_error.empty()) return true;
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) return true;
    g.fatal_error = std::string("device unusable after a failed measurement: ") + cudaGetErrorName(e) + " (" +
                    cudaGetErrorString(e) + ")";
    return false;
  }

  GpuMeasurements& finish(GpuMeasurements& g, nvml::DeviceReader& reader, const MeasurePlan& plan, double at_ms) {
    g.nvml.after = reader.snapshot();
    g.nvml.xids = reader.poll_xids(at_ms);
    apply_nvml_injection(g.nvml.before, NvmlStage::kBefore, plan.injections);
    apply_nvml_injection(g.nvml.under_load, NvmlStage::kUnderLoad, plan.injections);
    apply_nvml_injection(g.nvml.after, NvmlStage::kAfter, plan.injections);
    return g;
  }

  std::shared_ptr<nvml::Library> nvml_;
};

}  // namespace

std::unique_ptr<MeasurementBackend> make_measurement_backend() {
  return std::make_unique<CudaBackend>();
}

}  // namespace fleet::gpuprobe
