#include "gpu-probe/measure/cuda/host_bandwidth.hpp"

#include <chrono>
#include <cstring>

#include "gpu-probe/measure/cuda/cuda_resources.hpp"

namespace fleet::gpuprobe::cuda {

namespace {

BandwidthResult time_copies(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, int iterations,
                            cudaStream_t stream) {
  BandwidthResult r;
  auto t0 = std::chrono::steady_clock::now();
  check(cudaMemcpyAsync(dst, src, bytes, kind, stream), "cudaMemcpyAsync (warm-up)");
  Event start, stop;
  start.record(stream);
  for (int i = 0; i < iterations; ++i) check(cudaMemcpyAsync(dst, src, bytes, kind, stream), "cudaMemcpyAsync");
  stop.record(stream);
  stop.sync();
  double seconds = stop.since(start) / 1000.0;
  r.bytes_per_iteration = bytes;
  r.iterations = iterations;
  r.gbps = seconds > 0 ? static_cast<double>(bytes) * iterations / seconds / 1e9 : 0;
  r.ran = true;
  r.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

HostBandwidth measure_host_bandwidth(const MeasurePlan& plan, cudaStream_t stream) {
  HostBandwidth out;
  try {
    PinnedBuffer host(plan.host_bytes);
    DeviceBuffer dev(plan.host_bytes);
    std::memset(host.get(), 0x3c, plan.host_bytes);  // touch every page before timing
    try {
      out.host_to_device =
          time_copies(dev.get(), host.get(), plan.host_bytes, cudaMemcpyHostToDevice, plan.host_iterations, stream);
    } catch (const CudaFailure& e) {
      out.host_to_device.error = e.what();
    }
    try {
      out.device_to_host =
          time_copies(host.get(), dev.get(), plan.host_bytes, cudaMemcpyDeviceToHost, plan.host_iterations, stream);
    } catch (const CudaFailure& e) {
      out.device_to_host.error = e.what();
    }
  } catch (const CudaFailure& e) {
    out.host_to_device.error = out.device_to_host.error = e.what();
  }
  return out;
}

}  // namespace fleet::gpuprobe::cuda
