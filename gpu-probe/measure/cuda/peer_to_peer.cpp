#include "gpu-probe/measure/cuda/peer_to_peer.hpp"

#include <chrono>

#include "gpu-probe/measure/cuda/cuda_resources.hpp"
#include "gpu-probe/measure/cuda/pattern_kernels.hpp"

namespace fleet::gpuprobe::cuda {

namespace {

PeerResult measure_pair(int src, int dst, const MeasurePlan& plan) {
  PeerResult r;
  r.src = src;
  r.dst = dst;
  auto t0 = std::chrono::steady_clock::now();
  try {
    int can = 0;
    check(cudaDeviceCanAccessPeer(&can, src, dst), "cudaDeviceCanAccessPeer");
    r.peer_access = can != 0;
    check(cudaSetDevice(src), "cudaSetDevice");
    if (r.peer_access) {
      cudaError_t e = cudaDeviceEnablePeerAccess(dst, 0);
      if (e == cudaErrorPeerAccessAlreadyEnabled) {
        (void)cudaGetLastError();  // already on from an earlier pair: not an error, clear it
      } else {
        check(e, "cudaDeviceEnablePeerAccess");
      }
    }
    Stream stream;
    DeviceBuffer src_buf(plan.peer_bytes);
    check(cudaSetDevice(dst), "cudaSetDevice");
    DeviceBuffer dst_buf(plan.peer_bytes);
    DeviceBuffer counters_buf(sizeof(MismatchCounters));
    check(cudaMemset(counters_buf.get(), 0, sizeof(MismatchCounters)), "cudaMemset");
    check(cudaMemset(dst_buf.get(), 0, plan.peer_bytes), "cudaMemset");
    check(cudaSetDevice(src), "cudaSetDevice");
    const std::uint64_t words = plan.peer_bytes / 4 / 4 * 4;
    Pattern p{PatternKind::kRandom, false, static_cast<std::uint32_t>(src * 131 + dst), 0};
    check(launch_fill_pattern(src_buf.get<std::uint32_t>(), words, p, stream.get()), "fill pattern kernel");
    check(cudaMemcpyPeerAsync(dst_buf.get(), dst, src_buf.get(), src, plan.peer_bytes, stream.get()),
          "cudaMemcpyPeerAsync (warm-up)");
    Event start, stop;
    start.record(stream.get());
    for (int i = 0; i < plan.peer_iterations; ++i) {
      check(cudaMemcpyPeerAsync(dst_buf.get(), dst, src_buf.get(), src, plan.peer_bytes, stream.get()),
            "cudaMemcpyPeerAsync");
    }
    stop.record(stream.get());
    stop.sync();
    double seconds = stop.since(start) / 1000.0;
    r.gbps = seconds > 0 ? static_cast<double>(plan.peer_bytes) * plan.peer_iterations / seconds / 1e9 : 0;

    check(cudaSetDevice(dst), "cudaSetDevice");
    check(launch_verify_pattern(dst_buf.get<std::uint32_t>(), words, p, counters_buf.get<MismatchCounters>(), nullptr),
          "verify pattern kernel");
    MismatchCounters host{};
    check(cudaMemcpy(&host, counters_buf.get(), sizeof host, cudaMemcpyDeviceToHost), "cudaMemcpy");
    r.mismatches = host.mismatches;
    r.ran = true;
    check(cudaSetDevice(src), "cudaSetDevice");  // buffers are freed on their own devices' contexts either way
  } catch (const CudaFailure& e) {
    r.error = e.what();
  }
  r.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

std::vector<PeerResult> measure_peer_to_peer(const std::vector<DeviceInfo>& devices, const MeasurePlan& plan) {
  std::vector<PeerResult> out;
  for (const auto& a : devices) {
    for (const auto& b : devices) {
      if (a.index != b.index) out.push_back(measure_pair(a.index, b.index, plan));
    }
  }
  return out;
}

}  // namespace fleet::gpuprobe::cuda
