#include <catch2/catch.hpp>

#include "gpu-probe/core/sku_table.hpp"

using namespace fleet::gpuprobe;

TEST_CASE("gpu-probe sku: CUDA device names map to the right SKU", "[gpu-probe]") {
  auto t = SkuTable::built_in();
  std::vector<std::pair<std::string, std::string>> cases = {
      {"NVIDIA H100 80GB HBM3", "h100-sxm"},
      {"NVIDIA H100 PCIe", "h100-pcie"},
      {"NVIDIA H100 NVL", "h100-nvl"},
      {"NVIDIA H200", "h200-sxm"},
      {"NVIDIA H200 NVL", "h200-nvl"},
      {"NVIDIA A100-SXM4-40GB", "a100-sxm-40gb"},
      {"NVIDIA A100-SXM4-80GB", "a100-sxm-80gb"},
      {"NVIDIA A100-PCIE-40GB", "a100-pcie-40gb"},
      {"NVIDIA A100 80GB PCIe", "a100-pcie-80gb"},
      {"NVIDIA L40S", "l40s"},
      {"NVIDIA L4", "l4"},
      {"NVIDIA A10", "a10"},
      {"Tesla T4", "t4"},
  };
  for (const auto& [name, key] : cases) {
    INFO(name);
    const SkuSpec* s = t.match(name);
    REQUIRE(s);
    CHECK(s->key == key);
  }
  CHECK_FALSE(t.match("NVIDIA GeForce RTX 4090"));
  CHECK_FALSE(t.match(""));
}

TEST_CASE("gpu-probe sku: every built-in entry has figures and a source", "[gpu-probe]") {
  auto t = SkuTable::built_in();
  REQUIRE(t.skus().size() >= 10);
  for (const auto& s : t.skus()) {
    INFO(s.key);
    CHECK(s.hbm_gbps > 0);
    CHECK(s.memory_gb > 0);
    CHECK(s.fp32_tflops);
    CHECK(s.fp16_tflops);
    CHECK(s.pcie_gen >= 3);
    CHECK_FALSE(s.source.empty());
  }
  CHECK(t.find("h100-sxm")->hbm_gbps == 3350);
  CHECK(t.find("h100-sxm")->bf16_tflops == Approx(989.4));
  CHECK_FALSE(t.find("t4")->bf16_tflops);  // Turing has no BF16
}

TEST_CASE("gpu-probe sku: policy is defaults plus the SKU's overrides", "[gpu-probe]") {
  auto t = SkuTable::built_in();
  Policy h100 = t.policy_for(t.find("h100-sxm"));
  Policy l4 = t.policy_for(t.find("l4"));
  Policy unknown = t.policy_for(nullptr);
  CHECK(h100.gemm_fail_fraction == Approx(0.30));
  CHECK(l4.gemm_fail_fraction == Approx(0.20));
  CHECK(l4.hbm_fail_fraction == Approx(0.50));
  CHECK(unknown.straggler_margin == Approx(0.08));
}

TEST_CASE("gpu-probe sku: PCIe rates", "[gpu-probe]") {
  CHECK(pcie_gbps(5, 16) == Approx(63.0).epsilon(0.01));
  CHECK(pcie_gbps(4, 16) == Approx(31.5).epsilon(0.01));
  CHECK(pcie_gbps(3, 8) == Approx(7.88).epsilon(0.01));
  CHECK(pcie_gbps(9, 16) == 0);
}

TEST_CASE("gpu-probe sku: override file changes, adds and validates", "[gpu-probe]") {
  auto t = SkuTable::built_in();
  auto st = t.apply_overrides(R"({
    "defaults": {"straggler_margin": 0.05},
    "skus": [
      {"key": "h100-sxm", "hbm_gbps": 3000, "policy": {"hbm_fail_fraction": 0.6}},
      {"key": "lab-h100", "match": "h100 80gb hbm3 lab", "hbm_gbps": 2000, "fp32_tflops": 10, "memory_gb": 80}
    ]})");
  INFO((st.ok() ? std::string() : st.error().message));
  REQUIRE(st.ok());
  CHECK(t.defaults().straggler_margin == Approx(0.05));
  CHECK(t.find("h100-sxm")->hbm_gbps == 3000);
  CHECK(t.policy_for(t.find("h100-sxm")).hbm_fail_fraction == Approx(0.6));
  CHECK(t.policy_for(t.find("h100-sxm")).straggler_margin == Approx(0.05));
  // New entries are tried before the built-ins.
  CHECK(t.match("NVIDIA H100 80GB HBM3 Lab")->key == "lab-h100");
  CHECK(t.match("NVIDIA H100 80GB HBM3")->key == "h100-sxm");
  CHECK(t.find("lab-h100")->source == "override file");
}

TEST_CASE("gpu-probe sku: a bad override file is rejected and changes nothing", "[gpu-probe]") {
  auto t = SkuTable::built_in();
  for (const char* bad : {
           "not json",
           "[]",
           R"({"defaults": {"hbm_fail_fraction_typo": 0.1}})",
           R"({"defaults": {"hbm_fail_fraction": "low"}})",
           R"({"defaults": {"hbm_fail_fraction": 0.9}})",  // laxer fail than warn
           R"({"skus": [{"key": "h100-sxm", "hbm_gbps": -1}]})",
           R"({"skus": [{"key": "h100-sxm", "color": "green"}]})",
           R"({"skus": [{"key": "new-one", "hbm_gbps": 1}]})",  // new SKU without a match pattern
           R"({"skus": [{"key": "new-one", "match": "([unclosed"}]})",
           R"({"skus": [{"hbm_gbps": 1}]})",
           R"({"extra": 1})",
       }) {
    INFO(bad);
    auto st = t.apply_overrides(bad);
    CHECK_FALSE(st.ok());
    CHECK(st.error().code == fleet::ErrorCode::kInvalid);
  }
  CHECK(t.find("h100-sxm")->hbm_gbps == 3350);
  CHECK_FALSE(t.find("new-one"));
}
