#pragma once
// Healthy measurements for tests: each test starts from these and breaks exactly one thing.
#include "gpu-probe/core/evaluator.hpp"
#include "gpu-probe/core/measurements.hpp"

namespace fleet::gpuprobe::testing {

inline NvmlSnapshot healthy_snapshot() {
  NvmlSnapshot s;
  s.available = true;
  s.ecc_volatile_uncorrected = 0;
  s.ecc_aggregate_uncorrected = 0;
  s.remapped_rows_correctable = 0;
  s.remapped_rows_uncorrectable = 0;
  s.remap_pending = false;
  s.remap_failure = false;
  s.throttle_reasons = 0x4;  // SW power cap: normal under a full GEMM
  s.pcie_gen_current = 5;
  s.pcie_gen_max = 5;
  s.pcie_width_current = 16;
  s.pcie_width_max = 16;
  s.pcie_replay_counter = 3;
  s.temperature_c = 55;
  s.power_w = 650;
  s.power_limit_w = 700;
  s.sm_clock_mhz = 1980;
  return s;
}

inline GpuMeasurements healthy_h100(int index) {
  GpuMeasurements g;
  g.device = {index,
              "NVIDIA H100 80GB HBM3",
              "00000000:1" + std::to_string(index) + ":00.0",
              "GPU-" + std::to_string(index),
              85'520'809'984ULL,
              84'000'000'000ULL,
              9,
              0,
              132};
  g.memory = {true, "", 40'000'000'000ULL, {"walking-ones/0", "walking-zeros/0"}, 0, {}, 300};
  g.hbm = {true, "", 3000, 2ULL << 30, 30, 40};
  for (auto [d, tf] : {std::pair{"bf16", 720.0}, {"fp16", 730.0}, {"tf32", 380.0}, {"fp32", 50.0}}) {
    GemmResult r;
    r.dtype = d;
    r.ran = true;
    r.m = r.n = r.k = 8192;
    r.tflops = tf;
    r.timed_iterations = 100;
    r.checked_repetitions = 11;
    r.duration_ms = 250;
    g.gemms.push_back(r);
  }
  g.host_to_device = {true, "", 53, 256ULL << 20, 8, 50};
  g.device_to_host = {true, "", 54, 256ULL << 20, 8, 50};
  g.nvml.before = healthy_snapshot();
  g.nvml.under_load = healthy_snapshot();
  g.nvml.after = healthy_snapshot();
  g.nvml.xid_watch_available = true;
  g.duration_ms = 4000;
  return g;
}

inline NodeMeasurements healthy_node(int gpus) {
  NodeMeasurements m;
  m.env.built_with_cuda = true;
  m.env.runtime_version = 13000;
  m.env.driver_cuda_version = 13000;
  m.env.driver_version = "580.65.06";
  m.env.nvml_available = true;
  m.env.devices_seen_by_driver = gpus;
  for (int i = 0; i < gpus; ++i) {
    m.gpus.push_back(healthy_h100(i));
    m.env.devices.push_back(m.gpus.back().device);
  }
  for (int a = 0; a < gpus; ++a) {
    for (int b = 0; b < gpus; ++b) {
      if (a != b) m.peers.push_back({a, b, true, true, "", 380, 0, 10});
    }
  }
  m.wall_ms = 6000;
  return m;
}

// Contexts for evaluate(); helpers rather than designated initializers, which -Wextra flags for the omitted members.
inline EvaluationContext context(std::optional<int> expect_gpus = std::nullopt,
                                 std::optional<double> straggler_margin = std::nullopt, InjectionSet injections = {},
                                 std::string host = "test-host", std::string started_at = "2026-03-01T10:00:00.000Z") {
  EvaluationContext c;
  c.host = std::move(host);
  c.started_at = std::move(started_at);
  c.expect_gpus = expect_gpus;
  c.straggler_margin = straggler_margin;
  c.injections = std::move(injections);
  return c;
}

}  // namespace fleet::gpuprobe::testing
