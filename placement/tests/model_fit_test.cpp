// Model-fit arithmetic (placement/model_fit.hpp) against published model sizes and GPU memory figures: Llama 3.1
// 8B / 70B / 405B parameter counts and configs (Hugging Face config.json: layers, KV heads, head dim), and the
// nominal memory of H100 80 GB, H200 141 GB, L40S 48 GB and L4 24 GB.
#include "placement/model_fit.hpp"
#include "placement/tests/placement_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleet::placement;
using fleet::placement::testing::kGiB;

namespace {

constexpr std::int64_t kGB = 1'000'000'000;

ModelSpec model_spec(std::int64_t parameters, Precision precision, std::int64_t tokens = 0, int sequences = 1) {
  ModelSpec m;
  m.parameters = parameters;
  m.precision = precision;
  m.context_tokens = tokens;
  m.concurrent_sequences = sequences;
  return m;
}

int needed(const ModelSpec& m, int gpu_gib) {
  return gpus_needed(estimate_memory(m).total_bytes, gpu_gib * kGiB);
}

constexpr std::int64_t k8B = 8 * kGB;
constexpr std::int64_t k70B = 70 * kGB;
constexpr std::int64_t k405B = 405 * kGB;

}  // namespace

TEST_CASE("model fit: weights are parameters times bytes per parameter", "[placement][model-fit]") {
  CHECK(estimate_memory(model_spec(k8B, Precision::kBf16)).weights_bytes == 16 * kGB);  // "8B BF16 ≈ 16 GB"
  CHECK(estimate_memory(model_spec(k8B, Precision::kFp32)).weights_bytes == 32 * kGB);
  CHECK(estimate_memory(model_spec(k70B, Precision::kBf16)).weights_bytes == 140 * kGB);  // "70B BF16 ≈ 140 GB"
  CHECK(estimate_memory(model_spec(k70B, Precision::kFp8)).weights_bytes == 70 * kGB);
  CHECK(estimate_memory(model_spec(k70B, Precision::kInt4)).weights_bytes == 35 * kGB);
  CHECK(estimate_memory(model_spec(k405B, Precision::kFp8)).weights_bytes == 405 * kGB);  // "405B FP8 ≈ 405 GB"
  CHECK(estimate_memory(model_spec(k405B, Precision::kFp4)).weights_bytes == 202'500'000'000);
  CHECK(estimate_memory(model_spec(k405B, Precision::kBf16)).weights_bytes == 810 * kGB);
}

TEST_CASE("model fit: the KV cache of the published Llama 3.1 configs", "[placement][model-fit]") {
  // Per token at bf16: 2 × layers × KV heads × head dim × 2 bytes: 8B 128 KiB, 70B 320 KiB, 405B 504 KiB.
  CHECK(estimate_memory(model_spec(k8B, Precision::kBf16, 1)).kv_cache_bytes == 131'072);
  CHECK(estimate_memory(model_spec(k70B, Precision::kBf16, 1)).kv_cache_bytes == 327'680);
  CHECK(estimate_memory(model_spec(k405B, Precision::kFp8, 1)).kv_cache_bytes == 516'096);  // KV stays bf16 ("auto")
  // 32k tokens × 8 sequences of 8B: 32 GiB; of 70B: 80 GiB.
  CHECK(estimate_memory(model_spec(k8B, Precision::kBf16, 32768, 8)).kv_cache_bytes == 32 * kGiB);
  CHECK(estimate_memory(model_spec(k70B, Precision::kBf16, 32768, 8)).kv_cache_bytes == 80 * kGiB);
  ModelSpec fp8_kv = model_spec(k70B, Precision::kFp8, 32768, 8);
  fp8_kv.kv_cache_precision = Precision::kFp8;
  CHECK(estimate_memory(fp8_kv).kv_cache_bytes == 40 * kGiB);
  // No context budget: no KV cache.
  CHECK(estimate_memory(model_spec(k70B, Precision::kBf16)).kv_cache_bytes == 0);
}

TEST_CASE("model fit: overhead and total", "[placement][model-fit]") {
  const MemoryEstimate e = estimate_memory(model_spec(k70B, Precision::kBf16));
  CHECK(e.overhead_bytes == 7 * kGB);  // 5% of 140 GB
  CHECK(e.total_bytes == 147 * kGB);   // 136.9 GiB
  CHECK(gib_text(e.total_bytes) == "136.9 GiB");
  CHECK(e.architecture.name == "Llama 3.1 70B");
  CHECK(e.architecture.source == ArchitectureChoice::Source::kTable);
}

TEST_CASE("model fit: which GPU counts hold 8B, 70B and 405B at BF16, FP8 and INT4", "[placement][model-fit]") {
  // 70B BF16 (140 GB): not one H100 80 GB, two yes; not one H200 141 GB either (131 GiB of weights alone).
  CHECK(needed(model_spec(k70B, Precision::kBf16), 80) == 2);
  CHECK(needed(model_spec(k70B, Precision::kBf16), 141) == 2);
  CHECK(needed(model_spec(k70B, Precision::kBf16), 48) == 4);  // L40S
  // ... nor on two H100 as NVML reports them (79.6 GiB) once a 32k × 8 KV cache is asked: 4.
  CHECK(gpus_needed(estimate_memory(model_spec(k70B, Precision::kBf16)).total_bytes, 81559LL * 1024 * 1024) == 2);
  CHECK(needed(model_spec(k70B, Precision::kBf16, 32768, 8), 80) == 4);
  // 70B FP8 (70 GB) on one H100 or H200; 70B INT4 (35 GB) on one L40S 48 GB, two L4 24 GB.
  CHECK(needed(model_spec(k70B, Precision::kFp8), 80) == 1);
  CHECK(needed(model_spec(k70B, Precision::kInt4), 48) == 1);
  CHECK(needed(model_spec(k70B, Precision::kInt4), 24) == 2);
  // 8B BF16 (16 GB) on one L4 24 GB, but only without a large KV cache: 32k × 8 needs 4 L4s.
  CHECK(needed(model_spec(k8B, Precision::kBf16), 24) == 1);
  CHECK(needed(model_spec(k8B, Precision::kBf16, 8192), 24) == 1);
  CHECK(needed(model_spec(k8B, Precision::kBf16, 32768, 8), 24) == 4);
  CHECK(needed(model_spec(k8B, Precision::kBf16, 32768, 8), 80) == 1);
  // 405B FP8 (405 GB): 8 × H100 (640 GB) yes, 4 × H100 no; 4 × H200 (564 GB) yes.
  CHECK(needed(model_spec(k405B, Precision::kFp8), 80) == 8);
  CHECK(needed(model_spec(k405B, Precision::kFp8), 141) == 4);
  // 405B BF16 (810 GB): more than a node of 8 H100; 8 H200.
  CHECK(needed(model_spec(k405B, Precision::kBf16), 80) == 16);
  CHECK(needed(model_spec(k405B, Precision::kBf16), 141) == 8);
  // 405B INT4 (203 GB): 4 H100, 2 H200.
  CHECK(needed(model_spec(k405B, Precision::kInt4), 80) == 4);
  CHECK(needed(model_spec(k405B, Precision::kInt4), 141) == 2);
  // Beyond 16 of anything: 0.
  CHECK(needed(model_spec(k405B, Precision::kFp32), 24) == 0);
}

TEST_CASE("model fit: shapes that fit, and why the others do not", "[placement][model-fit]") {
  const std::vector<GpuShape> fleet = {{"NVIDIA H100 80GB HBM3", 80 * kGiB, 8},
                                       {"NVIDIA L40S", 48 * kGiB, 4},
                                       {"NVIDIA L4", 24 * kGiB, 4},
                                       {"NVIDIA H200", 141 * kGiB, 8}};
  const std::vector<ShapeFit> fits = fit_shapes(estimate_memory(model_spec(k70B, Precision::kBf16)).total_bytes, fleet);
  REQUIRE(fits.size() == 4);
  CHECK(fits[0].fits);
  CHECK(fits[0].gpus_needed == 2);
  CHECK(fits[1].gpus_needed == 4);
  CHECK_FALSE(fits[2].fits);
  CHECK(fits[2].reason == "needs 8 GPUs, nodes have at most 4");
  CHECK(describe_fits(fits) ==
        "2×H100 80GB HBM3 (80 GiB), 4×L40S (48 GiB), 2×H200 (141 GiB); not L4 (24 GiB): needs 8 GPUs, nodes have at "
        "most 4");
  const std::vector<ShapeFit> big = fit_shapes(estimate_memory(model_spec(k405B, Precision::kFp8)).total_bytes, fleet);
  CHECK(describe_fits(big) ==
        "8×H100 80GB HBM3 (80 GiB), 4×H200 (141 GiB); not L40S (48 GiB): needs 16 GPUs, nodes have at most 4; "
        "not L4 (24 GiB): needs more than 16 GPUs");
  CHECK(describe_fits({}) == "nothing fits: the fleet has no GPUs");
}

TEST_CASE("model fit: parameter counts and architectures", "[placement][model-fit]") {
  CHECK(parse_parameter_count("70B") == 70 * kGB);
  CHECK(parse_parameter_count("8.03b") == 8'030'000'000);
  CHECK(parse_parameter_count("1.5T") == 1'500'000'000'000);
  CHECK(parse_parameter_count("350M") == 350'000'000);
  CHECK_FALSE(parse_parameter_count("70"));
  CHECK_FALSE(parse_parameter_count("B"));
  CHECK_FALSE(parse_parameter_count("-1B"));
  CHECK_FALSE(parse_parameter_count("1e3B"));
  CHECK_FALSE(parse_parameter_count("70 B"));
  CHECK(parse_precision("BF16") == Precision::kBf16);
  CHECK_FALSE(parse_precision("fp6"));

  CHECK(architecture_for(model_spec(k8B, Precision::kBf16)).name == "Llama 3.1 8B");
  CHECK(architecture_for(model_spec(405'900'000'000, Precision::kBf16)).name == "Llama 3.1 405B");
  CHECK(architecture_for(model_spec(46'700'000'000, Precision::kBf16)).name == "Mixtral 8x7B");
  const ArchitectureChoice far = architecture_for(model_spec(1'000 * kGB, Precision::kFp8));
  CHECK(far.name == "Llama 3.1 405B");
  CHECK(far.source == ArchitectureChoice::Source::kNearest);
  ModelSpec given = model_spec(k70B, Precision::kBf16, 1);
  given.architecture = Architecture{10, 2, 64};
  CHECK(estimate_memory(given).kv_cache_bytes == 2 * 10 * 2 * 64 * 2);
  CHECK(estimate_memory(given).architecture.source == ArchitectureChoice::Source::kGiven);
}

TEST_CASE("model fit: the least memory per GPU for a count", "[placement][model-fit]") {
  const std::int64_t total = estimate_memory(model_spec(k70B, Precision::kBf16)).total_bytes;
  const std::int64_t per_gpu = min_gpu_memory_for(total, 2);
  CHECK(per_gpu % (1024 * 1024) == 0);
  CHECK(per_gpu <= 80 * kGiB);
  CHECK(per_gpu > 76 * kGiB);  // 136.9 / 1.8
  CHECK(usable_bytes(80 * kGiB) * 2 >= total);
}
