#include <catch2/catch.hpp>

#include "gpu-probe/core/evaluator.hpp"
#include "test_fixtures.hpp"

using namespace fleet::gpuprobe;
using fleet::gpuprobe::testing::healthy_node;

namespace {

Report eval(const NodeMeasurements& m, EvaluationContext ctx = {}) {
  return evaluate(m, SkuTable::built_in(), ctx);
}

const CheckResult& gpu_check(const Report& r, size_t gpu, const char* name) {
  const CheckResult* c = find_check(r.gpus.at(gpu).checks, name);
  if (!c) FAIL("no check " << name);
  return *c;
}

const CheckResult& node_check(const Report& r, const std::string& name) {
  const CheckResult* c = find_check(r.node_checks, name);
  if (!c) FAIL("no node check " << name);
  return *c;
}

GemmResult& gemm(NodeMeasurements& m, size_t gpu, const std::string& dtype) {
  for (auto& g : m.gpus.at(gpu).gemms) {
    if (g.dtype == dtype) return g;
  }
  throw std::runtime_error("no gemm");
}

}  // namespace

TEST_CASE("gpu-probe eval: a healthy H100 passes and exits 0", "[gpu-probe]") {
  auto r = eval(healthy_node(1));
  CHECK(r.verdict == Verdict::kPass);
  CHECK(exit_code_for(r.verdict) == 0);
  REQUIRE(r.gpus.size() == 1);
  CHECK(r.gpus[0].sku == "h100-sxm");
  CHECK(r.gpus[0].status == CheckStatus::kPass);
  for (const auto& c : r.gpus[0].checks) {
    INFO(c.name << ": " << c.message);
    CHECK(c.status != CheckStatus::kFail);
    CHECK(c.status != CheckStatus::kWarn);
  }
  CHECK(gpu_check(r, 0, "straggler_hbm").status == CheckStatus::kSkipped);  // alone on the node
}

TEST_CASE("gpu-probe eval: a healthy 8-GPU node passes", "[gpu-probe]") {
  auto r = eval(healthy_node(8), testing::context(8));
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.node_checks.size() == 2 + 56);
  CHECK(gpu_check(r, 3, "straggler_gemm").status == CheckStatus::kPass);
}

TEST_CASE("gpu-probe eval: throughput thresholds derive from the spec", "[gpu-probe]") {
  auto m = healthy_node(1);
  auto r = eval(m);
  const auto& hbm = gpu_check(r, 0, "hbm_bandwidth");
  CHECK(*hbm.spec == 3350);
  CHECK(*hbm.warn_threshold == Approx(3350 * 0.70));
  CHECK(*hbm.fail_threshold == Approx(3350 * 0.50));
  CHECK(hbm.comparison == Comparison::kAtLeast);
  CHECK(hbm.unit == "GB/s");

  m.gpus[0].hbm.gbps = 2000;  // between fail (1675) and warn (2345)
  CHECK(gpu_check(eval(m), 0, "hbm_bandwidth").status == CheckStatus::kWarn);
  CHECK(eval(m).verdict == Verdict::kWarn);
  m.gpus[0].hbm.gbps = 1000;
  CHECK(gpu_check(eval(m), 0, "hbm_bandwidth").status == CheckStatus::kFail);
  CHECK(exit_code_for(eval(m).verdict) == 1);

  m = healthy_node(1);
  gemm(m, 0, "bf16").tflops = 200;  // < 0.30 * 989
  CHECK(gpu_check(eval(m), 0, "gemm_bf16_throughput").status == CheckStatus::kFail);
  m = healthy_node(1);
  gemm(m, 0, "fp32").tflops = 20;  // between 0.25 and 0.45 of 66.9
  CHECK(gpu_check(eval(m), 0, "gemm_fp32_throughput").status == CheckStatus::kWarn);
  m = healthy_node(1);
  m.gpus[0].host_to_device.gbps = 10;  // Gen5 x16 = 63 GB/s; fail below 20%
  CHECK(gpu_check(eval(m), 0, "host_to_device_bandwidth").status == CheckStatus::kFail);
}

TEST_CASE("gpu-probe eval: an H200 at the figures of a real healthy card passes, slower ones warn, then fail",
          "[gpu-probe]") {
  // The slowest of 10 quick runs on an H200 SXM (docs/benchmarks.md, 2026-12-04).
  auto m = healthy_node(1);
  auto& g = m.gpus[0];
  g.device.name = "NVIDIA H200";
  g.device.total_memory_bytes = 150'109'880'320ULL;
  g.hbm.gbps = 4124.6;
  for (auto [d, tf] : {std::pair{"bf16", 752.2}, {"fp16", 721.7}, {"tf32", 432.4}, {"fp32", 50.7}})
    gemm(m, 0, d).tflops = tf;
  g.host_to_device.gbps = 55.1;
  g.device_to_host.gbps = 55.0;
  m.env.devices[0] = g.device;
  auto r = eval(m);
  CHECK(r.gpus[0].sku == "h200-sxm");
  CHECK(r.verdict == Verdict::kPass);
  for (const auto& c : r.gpus[0].checks) {
    INFO(c.name << ": " << c.message);
    CHECK(c.status != CheckStatus::kWarn);
  }
  CHECK(*gpu_check(r, 0, "hbm_bandwidth").warn_threshold == Approx(4800 * 0.77));

  g.hbm.gbps = 3500;  // 15% under the healthy card: warn (3696), not fail (3120)
  CHECK(gpu_check(eval(m), 0, "hbm_bandwidth").status == CheckStatus::kWarn);
  g.hbm.gbps = 3000;
  CHECK(gpu_check(eval(m), 0, "hbm_bandwidth").status == CheckStatus::kFail);
  gemm(m, 0, "bf16").tflops = 600;  // 20% under: warn (643), not fail (544)
  CHECK(gpu_check(eval(m), 0, "gemm_bf16_throughput").status == CheckStatus::kWarn);
  gemm(m, 0, "bf16").tflops = 500;
  CHECK(gpu_check(eval(m), 0, "gemm_bf16_throughput").status == CheckStatus::kFail);
}

TEST_CASE("gpu-probe eval: correctness rules", "[gpu-probe]") {
  auto m = healthy_node(1);
  m.gpus[0].memory.mismatches = 1;
  m.gpus[0].memory.first_mismatches.push_back({4096, 0x7f0000001000, 0x2000, 0x0, "walking-ones/0"});
  auto r = eval(m);
  const auto& mem = gpu_check(r, 0, "memory_test");
  CHECK(mem.status == CheckStatus::kFail);
  CHECK(mem.details["first_mismatches"][0]["offset"] == 4096);
  CHECK(r.verdict == Verdict::kFail);

  m = healthy_node(1);
  m.gpus[0].memory.ran = false;
  m.gpus[0].memory.error = "cudaMalloc: out of memory";
  CHECK(gpu_check(eval(m), 0, "memory_test").status == CheckStatus::kFail);

  m = healthy_node(1);
  gemm(m, 0, "fp16").mismatches = 3;
  gemm(m, 0, "fp16").first_mismatch_index = 42;
  r = eval(m);
  CHECK(gpu_check(r, 0, "gemm_fp16_correctness").status == CheckStatus::kFail);
  CHECK(gpu_check(r, 0, "gemm_fp16_correctness").details["first_mismatch_index"] == 42);
  CHECK(gpu_check(r, 0, "gemm_fp16_throughput").status == CheckStatus::kPass);

  m = healthy_node(1);
  gemm(m, 0, "tf32").error = "cublasGemmEx: CUBLAS_STATUS_EXECUTION_FAILED";
  CHECK(gpu_check(eval(m), 0, "gemm_tf32_throughput").status == CheckStatus::kFail);

  m = healthy_node(1);
  m.gpus[0].fatal_error = "device unusable: cudaErrorIllegalAddress";
  CHECK(gpu_check(eval(m), 0, "gpu_runtime").status == CheckStatus::kFail);
}

TEST_CASE("gpu-probe eval: unsupported dtypes are skipped and do not worsen the verdict", "[gpu-probe]") {
  auto m = healthy_node(1);
  GemmResult unsupported;
  unsupported.dtype = "bf16";
  unsupported.supported = false;
  gemm(m, 0, "bf16") = unsupported;
  auto r = eval(m);
  CHECK(gpu_check(r, 0, "gemm_bf16_throughput").status == CheckStatus::kSkipped);
  CHECK(gpu_check(r, 0, "gemm_bf16_correctness").status == CheckStatus::kSkipped);
  CHECK(r.verdict == Verdict::kPass);
}

TEST_CASE("gpu-probe eval: an unknown model gets relative checks only and a warning", "[gpu-probe]") {
  auto m = healthy_node(2);
  for (auto& g : m.gpus) g.device.name = "NVIDIA Future GPU";
  m.gpus[1].hbm.gbps = 1000;  // a third of its twin
  auto r = eval(m);
  CHECK(r.gpus[0].sku.empty());
  CHECK(gpu_check(r, 0, "sku").status == CheckStatus::kWarn);
  CHECK(gpu_check(r, 0, "sku").message.find("unknown GPU model") != std::string::npos);
  const auto& hbm = gpu_check(r, 0, "hbm_bandwidth");
  CHECK(hbm.status == CheckStatus::kPass);
  CHECK_FALSE(hbm.fail_threshold);
  CHECK_FALSE(hbm.spec);
  CHECK(hbm.details["relative_only"] == true);
  CHECK_FALSE(find_check(r.gpus[0].checks, "memory_size"));
  CHECK(gpu_check(r, 1, "straggler_hbm").status == CheckStatus::kFail);  // relative check still bites
  CHECK(r.verdict == Verdict::kFail);
  m.gpus[1].hbm.gbps = 3000;
  CHECK(eval(m).verdict == Verdict::kWarn);
  CHECK(exit_code_for(Verdict::kWarn) == 0);
}

TEST_CASE("gpu-probe eval: GPU count against --expect-gpus", "[gpu-probe]") {
  auto m = healthy_node(2);
  CHECK(node_check(eval(m), "gpu_count").status == CheckStatus::kPass);
  CHECK(node_check(eval(m, testing::context(2)), "gpu_count").status == CheckStatus::kPass);
  auto r = eval(m, testing::context(8));
  CHECK(node_check(r, "gpu_count").status == CheckStatus::kFail);
  CHECK(*node_check(r, "gpu_count").measured == 2);
  CHECK(*node_check(r, "gpu_count").fail_threshold == 8);
  CHECK(r.verdict == Verdict::kFail);
  CHECK(node_check(eval(m, testing::context(1)), "gpu_count").status == CheckStatus::kWarn);
}

TEST_CASE("gpu-probe eval: driver and runtime versions", "[gpu-probe]") {
  auto m = healthy_node(1);
  CHECK(node_check(eval(m), "driver_compat").status == CheckStatus::kPass);
  CHECK(node_check(eval(m), "driver_compat").details["min_driver"] == "580.65.06");
  m.env.runtime_version = 12080;
  m.env.driver_cuda_version = 12040;
  m.env.driver_version = "550.54.14";
  CHECK(node_check(eval(m), "driver_compat").status == CheckStatus::kWarn);  // minor-version compatibility
  m.env.driver_version = "520.0";
  CHECK(node_check(eval(m), "driver_compat").status == CheckStatus::kFail);  // below the minor-compat floor
  m = healthy_node(1);
  m.env.driver_cuda_version = 12090;
  m.env.driver_version = "";
  CHECK(node_check(eval(m), "driver_compat").status == CheckStatus::kFail);  // 13.0 runtime on a 12.x driver
}

TEST_CASE("gpu-probe eval: memory size below the model's", "[gpu-probe]") {
  auto m = healthy_node(1);
  m.gpus[0].device.total_memory_bytes = 40'000'000'000ULL;
  CHECK(gpu_check(eval(m), 0, "memory_size").status == CheckStatus::kFail);
}

TEST_CASE("gpu-probe eval: burn", "[gpu-probe]") {
  auto m = healthy_node(1);
  m.gpus[0].burn.ran = true;
  m.gpus[0].burn.seconds = 60;
  m.gpus[0].burn.window_tflops = {700, 695, 690};
  m.gpus[0].burn.gemms = 100;
  auto r = eval(m);
  CHECK(gpu_check(r, 0, "burn").status == CheckStatus::kPass);
  m.gpus[0].burn.window_tflops = {700, 600};  // 14% drop
  CHECK(gpu_check(eval(m), 0, "burn").status == CheckStatus::kWarn);
  m.gpus[0].burn.window_tflops = {700, 400};
  CHECK(gpu_check(eval(m), 0, "burn").status == CheckStatus::kFail);
  m.gpus[0].burn.window_tflops = {700, 700};
  m.gpus[0].burn.mismatches = 1;
  CHECK(gpu_check(eval(m), 0, "burn").status == CheckStatus::kFail);
  CHECK_FALSE(find_check(eval(healthy_node(1)).gpus[0].checks, "burn"));  // quick mode: no burn check
}

TEST_CASE("gpu-probe eval: stragglers on HBM and GEMM", "[gpu-probe]") {
  auto m = healthy_node(4);
  m.gpus[2].hbm.gbps = 2700;  // 10% below the others, still above the absolute thresholds
  gemm(m, 1, "bf16").tflops = 640;
  auto r = eval(m);
  CHECK(gpu_check(r, 2, "hbm_bandwidth").status == CheckStatus::kPass);
  CHECK(gpu_check(r, 2, "straggler_hbm").status == CheckStatus::kFail);
  CHECK(gpu_check(r, 0, "straggler_hbm").status == CheckStatus::kPass);
  CHECK(gpu_check(r, 1, "straggler_gemm").status == CheckStatus::kFail);
  CHECK(gpu_check(r, 1, "straggler_gemm").details["median"] == Approx(720));
  CHECK(r.verdict == Verdict::kFail);
  // A wider margin from the command line lets them through.
  CHECK(eval(m, testing::context(std::nullopt, 0.15)).verdict == Verdict::kPass);
}

TEST_CASE("gpu-probe eval: peer-to-peer", "[gpu-probe]") {
  auto m = healthy_node(3);
  m.peers[0].mismatches = 5;
  m.peers[1].peer_access = false;
  m.peers[2].gbps = 100;
  m.peers[3].error = "cudaMemcpyPeerAsync: cudaErrorUnknown";
  auto r = eval(m);
  CHECK(node_check(r, "p2p_0_1").status == CheckStatus::kFail);
  CHECK(node_check(r, "p2p_0_2").status == CheckStatus::kWarn);
  CHECK(node_check(r, "p2p_1_0").status == CheckStatus::kWarn);
  CHECK(node_check(r, "p2p_1_2").status == CheckStatus::kFail);
  CHECK(node_check(r, "p2p_2_0").status == CheckStatus::kPass);
}

TEST_CASE("gpu-probe eval: could not run", "[gpu-probe]") {
  NodeMeasurements m;
  m.env.built_with_cuda = true;
  m.env.could_not_run = CouldNotRun{"no-cuda-device", "no CUDA device: no NVIDIA driver found"};
  auto r = eval(m, testing::context(std::nullopt, std::nullopt, {}, "n1"));
  CHECK(r.verdict == Verdict::kCouldNotRun);
  CHECK(exit_code_for(r.verdict) == 2);
  CHECK(r.could_not_run->reason.find("no CUDA device") != std::string::npos);
  CHECK(r.gpus.empty());
  CHECK(r.node_checks.empty());
  CHECK(r.host == "n1");
  CHECK(r.started_at == "2026-03-01T10:00:00.000Z");
}

TEST_CASE("gpu-probe eval: injected faults are listed in the report", "[gpu-probe]") {
  auto r = eval(healthy_node(1), testing::context(std::nullopt, std::nullopt, {Injection::kMemFlip, Injection::kEcc}));
  CHECK(r.injected == std::vector<std::string>{"memflip", "ecc"});
}
