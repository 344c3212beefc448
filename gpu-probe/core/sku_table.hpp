#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace fleet::gpuprobe {

// How measured figures are judged against spec figures. Fractions are of the data-sheet figure; they are set
// below what healthy parts reach with this probe's kernels (copy ~85-93% of HBM spec, cuBLAS 55-80% of dense
// tensor peak depending on the power cap) so a healthy GPU passes every run and a sick one still falls out.
struct Policy {
  double hbm_warn_fraction = 0.70;
  double hbm_fail_fraction = 0.50;
  double gemm_warn_fraction = 0.50;  // BF16/FP16/TF32 (tensor cores)
  double gemm_fail_fraction = 0.30;
  double fp32_warn_fraction = 0.45;  // FP32 on CUDA cores
  double fp32_fail_fraction = 0.25;
  double host_link_warn_fraction = 0.45;  // of the PCIe link's per-direction rate
  double host_link_fail_fraction = 0.20;
  double temperature_warn_c = 85;
  double temperature_fail_c = 92;
  double straggler_margin = 0.08;         // below the node median by more than this fails
  double burn_drop_warn_fraction = 0.10;  // last burn window this much below the first
  double burn_drop_fail_fraction = 0.25;
  double retired_pages_fail = 60;  // pre-Ampere parts retire at most 64 pages; near that = RMA
  double remapped_rows_warn = 8;   // uncorrectable-error rows already remapped
  double pcie_replay_new_max = 0;  // replays during the run; any is a link error
  double power_over_limit_warn_fraction = 1.10;
  double memory_size_fail_fraction = 0.95;  // reported memory below this share of the nominal size
};

// Data-sheet figures of one GPU model. TFLOP/s are dense (without 2:4 sparsity).
struct SkuSpec {
  std::string key;  // stable id, e.g. "h100-sxm"
  std::string display_name;
  std::string match;     // ECMAScript regex, case-insensitive, searched in the CUDA device name
  double memory_gb = 0;  // nominal, 1e9 bytes
  double hbm_gbps = 0;   // memory bandwidth, 1e9 bytes/s
  std::optional<double> bf16_tflops;
  std::optional<double> fp16_tflops;
  std::optional<double> tf32_tflops;
  std::optional<double> fp32_tflops;
  int pcie_gen = 0;
  int pcie_width = 0;
  std::string source;  // where the figures come from
  nlohmann::json policy_overrides = nlohmann::json::object();
};

// Per-direction PCIe rate in GB/s for a generation and width (after 8b/10b or 128b/130b encoding).
double pcie_gbps(int gen, int width);

class SkuTable {
 public:
  static SkuTable built_in();

  // Applies a JSON override document: {"defaults": {policy fields}, "skus": [{"key": ..., fields...}]}.
  // An entry with a known key changes that entry's fields; a new key (with "match") is tried before the built-ins.
  // Unknown fields are errors, so that a typo does not silently leave a threshold unchanged.
  fleet::Status apply_overrides(std::string_view json_text);

  const SkuSpec* match(std::string_view device_name) const;
  const SkuSpec* find(std::string_view key) const;
  Policy policy_for(const SkuSpec* sku) const;  // defaults, then the SKU's overrides
  const Policy& defaults() const { return defaults_; }
  const std::vector<SkuSpec>& skus() const { return skus_; }

 private:
  Policy defaults_;
  std::vector<SkuSpec> skus_;
};

fleet::Status apply_policy_json(Policy& policy, const nlohmann::json& j);

}  // namespace fleet::gpuprobe
