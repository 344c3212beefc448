#include "gpu-probe/measure/cuda/gemm_probe.hpp"

#include <cublas_v2.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "gpu-probe/measure/cuda/cuda_resources.hpp"
#include "gpu-probe/measure/cuda/gemm_kernels.hpp"

namespace fleet::gpuprobe::cuda {

namespace {

class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t s) {
    check(cublasCreate(&h_), "cublasCreate");
    check(cublasSetStream(h_, s), "cublasSetStream");
    check(cublasSetMathMode(h_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  }
  ~CublasHandle() {
    if (h_) (void)cublasDestroy(h_);  // see cuda_resources.hpp on dropped codes in destructors
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

struct GemmTypes {
  GemmInput input;
  cudaDataType_t ab_type;
  cublasComputeType_t compute;
  std::size_t elem_bytes;
  int min_cc_major;  // BF16 and TF32 tensor cores arrived with Ampere (8.0)
};

bool types_for(const std::string& dtype, GemmTypes& out) {
  if (dtype == "bf16")
    out = {GemmInput::kBf16, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 2, 8};
  else if (dtype == "fp16")
    out = {GemmInput::kFp16, CUDA_R_16F, CUBLAS_COMPUTE_32F, 2, 7};
  else if (dtype == "tf32")
    out = {GemmInput::kFp32, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 4, 8};
  else if (dtype == "fp32")
    out = {GemmInput::kFp32, CUDA_R_32F, CUBLAS_COMPUTE_32F, 4, 0};
  else
    return false;
  return true;
}

// Everything one GEMM shape needs on the device, filled and referenced once.
class GemmSetup {
 public:
  GemmSetup(const GemmTypes& t, int size, std::uint32_t seed, cudaStream_t s)
      : types_(t),
        n_(size),
        seed_(seed),
        stream_(s),
        handle_(s),
        a_(static_cast<std::size_t>(size) * size * t.elem_bytes),
        b_(static_cast<std::size_t>(size) * size * t.elem_bytes),
        c_(static_cast<std::size_t>(size) * size * sizeof(float)),
        r_(static_cast<std::size_t>(size) * sizeof(int)),
        counters_(sizeof(GemmCheckCounters)),
        workspace_(kWorkspaceBytes) {
    // cuBLAS on Hopper wants a workspace for its fastest kernels (NVIDIA recommends 32 MiB on sm_90).
    check(cublasSetWorkspace(handle_.get(), workspace_.get(), kWorkspaceBytes), "cublasSetWorkspace");
    check(launch_fill_gemm_inputs(t.input, a_.get(), b_.get(), size, size, size, seed, s), "fill GEMM inputs");
    check(launch_row_reference(r_.get<int>(), size, size, seed, s), "GEMM row reference");
    reset_counters();
  }

  void gemm() {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    check(cublasGemmEx(handle_.get(), CUBLAS_OP_N, CUBLAS_OP_N, n_, n_, n_, &alpha, a_.get(), types_.ab_type, n_,
                       b_.get(), types_.ab_type, n_, &beta, c_.get(), CUDA_R_32F, n_, types_.compute,
                       CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
  }
  void check_result() {
    check(launch_check_gemm(c_.get<float>(), r_.get<int>(), n_, n_, seed_, counters_.get<GemmCheckCounters>(), stream_),
          "GEMM check kernel");
  }
  void corrupt() {
    check(launch_corrupt_element(c_.get<float>(), static_cast<unsigned long long>(n_) * n_ / 3 + 7, stream_),
          "corrupt kernel");
  }
  void reset_counters() {
    const GemmCheckCounters init{0, ~0ULL};
    check(cudaMemcpyAsync(counters_.get(), &init, sizeof init, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }
  GemmCheckCounters read_counters() {
    GemmCheckCounters h{};
    check(cudaMemcpyAsync(&h, counters_.get(), sizeof h, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync");
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    return h;
  }
  double flops() const { return 2.0 * n_ * static_cast<double>(n_) * n_; }

 private:
  static constexpr std::size_t kWorkspaceBytes = 32u << 20;
  GemmTypes types_;
  int n_;
  std::uint32_t seed_;
  cudaStream_t stream_;
  CublasHandle handle_;
  DeviceBuffer a_, b_, c_, r_, counters_, workspace_;
};

double elapsed_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Milliseconds of one GEMM after warm-up, to size the timed loops.
double time_one(GemmSetup& g, cudaStream_t s) {
  Event a, b;
  a.record(s);
  g.gemm();
  b.record(s);
  b.sync();
  return std::max(0.001, static_cast<double>(b.since(a)));
}

}  // namespace

GemmResult measure_gemm(const GemmPlan& plan, int cc_major, const InjectionSet& injections, cudaStream_t stream,
                        const UnderLoadHook& under_load) {
  GemmResult r;
  r.dtype = plan.dtype;
  r.m = r.n = r.k = plan.size;
  auto t0 = std::chrono::steady_clock::now();
  GemmTypes types{};
  if (!types_for(plan.dtype, types) || cc_major < types.min_cc_major) {
    r.supported = false;
    return r;
  }
  try {
    GemmSetup g(types, plan.size, 0x5eed0000U + static_cast<std::uint32_t>(plan.size), stream);
    for (int i = 0; i < plan.warmup; ++i) g.gemm();
    double one_ms = time_one(g, stream);
    int iterations = std::clamp(static_cast<int>(std::lround(plan.target_ms / one_ms)), 3, plan.max_iterations);
    Event start, stop;
    start.record(stream);
    for (int i = 0; i < iterations; ++i) g.gemm();
    stop.record(stream);
    if (under_load) under_load();  // the GPU is busy with the loop just queued
    stop.sync();
    double seconds = stop.since(start) / 1000.0;
    r.timed_iterations = iterations;
    r.tflops = seconds > 0 ? g.flops() * iterations / seconds / 1e12 : 0;

    // The timed loop's last result is checked too; then each repetition recomputes and is checked on its own.
    g.check_result();
    const bool corrupt = has(injections, Injection::kGemmCorrupt);
    for (int rep = 0; rep < plan.checked_repetitions; ++rep) {
      g.gemm();
      if (corrupt && rep == plan.checked_repetitions / 2) g.corrupt();  // injected: a silent bit flip in C
      g.check_result();
    }
    auto counters = g.read_counters();
    r.checked_repetitions = plan.checked_repetitions + 1;
    r.mismatches = counters.mismatches;
    if (counters.mismatches) r.first_mismatch_index = counters.first_index;
    r.ran = true;
  } catch (const CudaFailure& e) {
    r.error = e.what();
  }
  r.duration_ms = elapsed_ms(t0);
  return r;
}

BurnResult run_burn(const MeasurePlan& plan, int cc_major, cudaStream_t stream, const BurnSampler& sampler) {
  BurnResult r;
  auto t0 = std::chrono::steady_clock::now();
  if (plan.burn_seconds <= 0) return r;
  GemmTypes types{};
  types_for(cc_major >= 8 ? "bf16" : "fp16", types);
  try {
    GemmSetup g(types, 8192, 0xb0e2U, stream);
    for (int i = 0; i < 3; ++i) g.gemm();
    double one_ms = time_one(g, stream);
    // Windows of about one second: long enough to average, short enough to see a throttling trend.
    int per_window = std::max(1, static_cast<int>(1000.0 / one_ms));
    while (elapsed_ms(t0) < plan.burn_seconds * 1000.0) {
      Event start, stop;
      start.record(stream);
      for (int i = 0; i < per_window; ++i) {
        g.gemm();
        g.check_result();
      }
      stop.record(stream);
      if (sampler) {
        BurnSample s = sampler();
        r.throttle_reasons_seen |= s.throttle_reasons;
        if (s.temperature_c) r.max_temperature_c = std::max(r.max_temperature_c.value_or(0), *s.temperature_c);
      }
      stop.sync();
      double seconds = stop.since(start) / 1000.0;
      r.window_tflops.push_back(seconds > 0 ? g.flops() * per_window / seconds / 1e12 : 0);
      r.gemms += static_cast<std::uint64_t>(per_window);
    }
    r.mismatches = g.read_counters().mismatches;
    r.seconds = elapsed_ms(t0) / 1000.0;
    r.ran = true;
  } catch (const CudaFailure& e) {
    r.error = e.what();
  }
  r.duration_ms = elapsed_ms(t0);
  return r;
}

}  // namespace fleet::gpuprobe::cuda
