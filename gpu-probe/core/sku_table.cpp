#include "gpu-probe/core/sku_table.hpp"

#include <regex>

namespace fleet::gpuprobe {

namespace {

fleet::Error invalid(std::string message, std::string field = {}) {
  return fleet::make_error(fleet::ErrorCode::kInvalid, std::move(message), std::move(field), "bad-thresholds");
}

// Spec figures. Sources are NVIDIA's product data sheets; TFLOP/s are the dense figures (the sheets print
// "with sparsity" numbers that are twice these).
std::vector<SkuSpec> built_in_skus() {
  std::vector<SkuSpec> v;
  // NVIDIA H100 Tensor Core GPU data sheet (2023), H100 SXM column: 80 GB HBM3, 3.35 TB/s, BF16/FP16 1,979
  // TFLOPS sparse, TF32 989 sparse, FP32 67 TFLOPS, PCIe Gen5 x16. CUDA names it "NVIDIA H100 80GB HBM3".
  v.push_back({"h100-sxm",
               "NVIDIA H100 SXM 80GB",
               "h100.*(sxm|hbm3)",
               80,
               3350,
               989.4,
               989.4,
               494.7,
               66.9,
               5,
               16,
               "NVIDIA H100 Tensor Core GPU data sheet (2023), H100 SXM",
               {}});
  // Same data sheet, H100 NVL column: 94 GB HBM3, 3.9 TB/s, BF16 1,671 sparse, TF32 835 sparse, FP32 60.
  v.push_back({"h100-nvl",
               "NVIDIA H100 NVL 94GB",
               "h100 nvl",
               94,
               3900,
               835.5,
               835.5,
               417.5,
               60,
               5,
               16,
               "NVIDIA H100 Tensor Core GPU data sheet (2023), H100 NVL",
               {}});
  // Same data sheet, H100 PCIe column: 80 GB HBM2e, 2 TB/s, BF16 1,513 sparse, TF32 756 sparse, FP32 51.
  v.push_back({"h100-pcie",
               "NVIDIA H100 PCIe 80GB",
               "h100.*pcie",
               80,
               2000,
               756.5,
               756.5,
               378,
               51.2,
               5,
               16,
               "NVIDIA H100 Tensor Core GPU data sheet (2023), H100 PCIe",
               {}});
  // NVIDIA H200 Tensor Core GPU data sheet (2024), H200 NVL column: 141 GB HBM3e, 4.8 TB/s, BF16 1,671 sparse,
  // TF32 835 sparse, FP32 60. Listed before the SXM entry because its name also contains "H200".
  v.push_back({"h200-nvl",
               "NVIDIA H200 NVL 141GB",
               "h200 nvl",
               141,
               4800,
               835.5,
               835.5,
               417.5,
               60,
               5,
               16,
               "NVIDIA H200 Tensor Core GPU data sheet (2024), H200 NVL",
               {}});
  // Same data sheet, H200 SXM column: 141 GB HBM3e, 4.8 TB/s, BF16 1,979 sparse, TF32 989 sparse, FP32 67.
  // Calibrated on a real card (bench/gpu-probe/run.sh, 2026-12-04, one H200 SXM, driver 580.159.04, 10 quick
  // runs): HBM copy 0.859-0.860 of spec, BF16/FP16 GEMM 0.73-0.80, TF32 0.87-0.89, FP32 0.76. Warn about 10% under
  // the slowest healthy figure, fail about 25% under it; the other Hopper entries keep the defaults until measured.
  v.push_back({"h200-sxm",
               "NVIDIA H200 SXM 141GB",
               "h200",
               141,
               4800,
               989.4,
               989.4,
               494.7,
               66.9,
               5,
               16,
               "NVIDIA H200 Tensor Core GPU data sheet (2024), H200 SXM",
               {{"hbm_warn_fraction", 0.77},
                {"hbm_fail_fraction", 0.65},
                {"gemm_warn_fraction", 0.65},
                {"gemm_fail_fraction", 0.55},
                {"fp32_warn_fraction", 0.68},
                {"fp32_fail_fraction", 0.57}}});
  // NVIDIA A100 Tensor Core GPU data sheet (2021): BF16/FP16 312 TFLOPS, TF32 156, FP32 19.5, PCIe Gen4 x16;
  // bandwidth 1,555 GB/s (40GB), 2,039 GB/s (80GB SXM), 1,935 GB/s (80GB PCIe).
  v.push_back({"a100-sxm-80gb",
               "NVIDIA A100 SXM4 80GB",
               "a100.*sxm.*80",
               80,
               2039,
               312,
               312,
               156,
               19.5,
               4,
               16,
               "NVIDIA A100 Tensor Core GPU data sheet (2021), A100 80GB SXM",
               {}});
  v.push_back({"a100-pcie-80gb",
               "NVIDIA A100 PCIe 80GB",
               "a100.*80gb.*pcie|a100.*pcie.*80",
               80,
               1935,
               312,
               312,
               156,
               19.5,
               4,
               16,
               "NVIDIA A100 Tensor Core GPU data sheet (2021), A100 80GB PCIe",
               {}});
  v.push_back({"a100-sxm-40gb",
               "NVIDIA A100 SXM4 40GB",
               "a100.*sxm.*40",
               40,
               1555,
               312,
               312,
               156,
               19.5,
               4,
               16,
               "NVIDIA A100 Tensor Core GPU data sheet (2021), A100 40GB SXM",
               {}});
  v.push_back({"a100-pcie-40gb",
               "NVIDIA A100 PCIe 40GB",
               "a100.*pcie.*40|a100.*40gb.*pcie",
               40,
               1555,
               312,
               312,
               156,
               19.5,
               4,
               16,
               "NVIDIA A100 Tensor Core GPU data sheet (2021), A100 40GB PCIe",
               {}});
  // NVIDIA L40S data sheet (2023): 48 GB GDDR6, 864 GB/s, BF16/FP16 733 sparse (362 dense), TF32 366 sparse,
  // FP32 91.6, PCIe Gen4 x16.
  v.push_back({"l40s",
               "NVIDIA L40S 48GB",
               "l40s",
               48,
               864,
               362.05,
               362.05,
               183,
               91.6,
               4,
               16,
               "NVIDIA L40S GPU data sheet (2023)",
               {}});
  // NVIDIA L4 Tensor Core GPU data sheet (2023): 24 GB GDDR6, 300 GB/s, BF16/FP16 242 sparse, TF32 120 sparse,
  // FP32 30.3, PCIe Gen4 x16. At 72 W it is power-capped far below peak, hence the lower GEMM fractions.
  v.push_back({"l4",
               "NVIDIA L4 24GB",
               "^nvidia l4$",
               24,
               300,
               121,
               121,
               60,
               30.3,
               4,
               16,
               "NVIDIA L4 Tensor Core GPU data sheet (2023)",
               {{"gemm_warn_fraction", 0.35},
                {"gemm_fail_fraction", 0.20},
                {"fp32_warn_fraction", 0.30},
                {"fp32_fail_fraction", 0.15}}});
  // NVIDIA A10 Tensor Core GPU data sheet (2021): 24 GB GDDR6, 600 GB/s, BF16/FP16 250 sparse (125 dense),
  // TF32 125 sparse, FP32 31.2, PCIe Gen4 x16.
  v.push_back({"a10",
               "NVIDIA A10 24GB",
               "^nvidia a10$",
               24,
               600,
               125,
               125,
               62.5,
               31.2,
               4,
               16,
               "NVIDIA A10 Tensor Core GPU data sheet (2021)",
               {}});
  // NVIDIA T4 Tensor Core GPU data sheet (2019): 16 GB GDDR6, 320 GB/s, FP16 mixed 65 TFLOPS, FP32 8.1, no BF16
  // and no TF32, PCIe Gen3 x16, 70 W: ECC on GDDR6 and the power cap keep it well below the sheet figures.
  v.push_back({"t4",
               "NVIDIA T4 16GB",
               "tesla t4|^nvidia t4$",
               16,
               320,
               std::nullopt,
               65,
               std::nullopt,
               8.1,
               3,
               16,
               "NVIDIA T4 Tensor Core GPU data sheet (2019)",
               {{"hbm_warn_fraction", 0.55},
                {"hbm_fail_fraction", 0.40},
                {"gemm_warn_fraction", 0.30},
                {"gemm_fail_fraction", 0.15},
                {"fp32_warn_fraction", 0.30},
                {"fp32_fail_fraction", 0.15}}});
  return v;
}

struct PolicyField {
  const char* name;
  double Policy::*member;
};

constexpr PolicyField kPolicyFields[] = {
    {"hbm_warn_fraction", &Policy::hbm_warn_fraction},
    {"hbm_fail_fraction", &Policy::hbm_fail_fraction},
    {"gemm_warn_fraction", &Policy::gemm_warn_fraction},
    {"gemm_fail_fraction", &Policy::gemm_fail_fraction},
    {"fp32_warn_fraction", &Policy::fp32_warn_fraction},
    {"fp32_fail_fraction", &Policy::fp32_fail_fraction},
    {"host_link_warn_fraction", &Policy::host_link_warn_fraction},
    {"host_link_fail_fraction", &Policy::host_link_fail_fraction},
    {"temperature_warn_c", &Policy::temperature_warn_c},
    {"temperature_fail_c", &Policy::temperature_fail_c},
    {"straggler_margin", &Policy::straggler_margin},
    {"burn_drop_warn_fraction", &Policy::burn_drop_warn_fraction},
    {"burn_drop_fail_fraction", &Policy::burn_drop_fail_fraction},
    {"retired_pages_fail", &Policy::retired_pages_fail},
    {"remapped_rows_warn", &Policy::remapped_rows_warn},
    {"pcie_replay_new_max", &Policy::pcie_replay_new_max},
    {"power_over_limit_warn_fraction", &Policy::power_over_limit_warn_fraction},
    {"memory_size_fail_fraction", &Policy::memory_size_fail_fraction},
};

fleet::Status apply_sku_json(SkuSpec& s, const nlohmann::json& j, const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& val = it.value();
    auto num = [&](double& out) -> fleet::Status {
      if (!val.is_number() || val.get<double>() < 0) return invalid(where + "." + k + " must be a number >= 0", k);
      out = val.get<double>();
      return fleet::Ok{};
    };
    auto opt_num = [&](std::optional<double>& out) -> fleet::Status {
      if (val.is_null()) {
        out.reset();
        return fleet::Ok{};
      }
      double d = 0;
      if (auto st = num(d); !st) return st;
      out = d;
      return fleet::Ok{};
    };
    auto str = [&](std::string& out) -> fleet::Status {
      if (!val.is_string()) return invalid(where + "." + k + " must be a string", k);
      out = val.get<std::string>();
      return fleet::Ok{};
    };
    fleet::Status st = fleet::Ok{};
    double tmp = 0;
    if (k == "key")
      continue;
    else if (k == "display_name")
      st = str(s.display_name);
    else if (k == "match") {
      st = str(s.match);
      if (st) {
        try {
          std::regex re(s.match, std::regex::ECMAScript | std::regex::icase);
        } catch (const std::regex_error&) {
          return invalid(where + ".match is not a valid regular expression", k);
        }
      }
    } else if (k == "memory_gb")
      st = num(s.memory_gb);
    else if (k == "hbm_gbps")
      st = num(s.hbm_gbps);
    else if (k == "bf16_tflops")
      st = opt_num(s.bf16_tflops);
    else if (k == "fp16_tflops")
      st = opt_num(s.fp16_tflops);
    else if (k == "tf32_tflops")
      st = opt_num(s.tf32_tflops);
    else if (k == "fp32_tflops")
      st = opt_num(s.fp32_tflops);
    else if (k == "pcie_gen" || k == "pcie_width") {
      st = num(tmp);
      if (st) (k == "pcie_gen" ? s.pcie_gen : s.pcie_width) = static_cast<int>(tmp);
    } else if (k == "source")
      st = str(s.source);
    else if (k == "policy") {
      Policy probe;  // validate now so that a bad field is reported against the file, not at evaluation time
      if (!val.is_object()) return invalid(where + ".policy must be an object", k);
      if (auto pst = apply_policy_json(probe, val); !pst) return pst;
      for (auto p = val.begin(); p != val.end(); ++p) s.policy_overrides[p.key()] = p.value();
    } else {
      return invalid("unknown field " + where + "." + k, k);
    }
    if (!st) return st;
  }
  return fleet::Ok{};
}

}  // namespace

double pcie_gbps(int gen, int width) {
  // GT/s per lane and encoding efficiency: Gen1/2 8b/10b, Gen3+ 128b/130b.
  double gts = 0;
  double eff = 128.0 / 130.0;
  switch (gen) {
    case 1:
      gts = 2.5;
      eff = 0.8;
      break;
    case 2:
      gts = 5;
      eff = 0.8;
      break;
    case 3:
      gts = 8;
      break;
    case 4:
      gts = 16;
      break;
    case 5:
      gts = 32;
      break;
    case 6:
      gts = 64;
      eff = 1.0;
      break;  // FLIT mode; close enough for a threshold
    default:
      return 0;
  }
  return gts * eff * width / 8.0;
}

fleet::Status apply_policy_json(Policy& policy, const nlohmann::json& j) {
  if (j.is_null()) return fleet::Ok{};  // a SKU without overrides
  if (!j.is_object()) return invalid("policy overrides must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const auto& f : kPolicyFields) {
      if (it.key() == f.name) {
        if (!it.value().is_number() || it.value().get<double>() < 0) {
          return invalid("policy field " + it.key() + " must be a number >= 0", it.key());
        }
        policy.*(f.member) = it.value().get<double>();
        known = true;
      }
    }
    if (!known) return invalid("unknown policy field " + it.key(), it.key());
  }
  if (policy.hbm_fail_fraction > policy.hbm_warn_fraction || policy.gemm_fail_fraction > policy.gemm_warn_fraction ||
      policy.fp32_fail_fraction > policy.fp32_warn_fraction ||
      policy.host_link_fail_fraction > policy.host_link_warn_fraction ||
      policy.temperature_warn_c > policy.temperature_fail_c ||
      policy.burn_drop_warn_fraction > policy.burn_drop_fail_fraction) {
    return invalid("a fail threshold is laxer than its warn threshold");
  }
  return fleet::Ok{};
}

SkuTable SkuTable::built_in() {
  SkuTable t;
  t.skus_ = built_in_skus();
  return t;
}

fleet::Status SkuTable::apply_overrides(std::string_view json_text) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid("threshold overrides are not valid JSON");
  if (!doc.is_object()) return invalid("threshold overrides must be a JSON object");
  // Work on a copy so that a bad document leaves the table as it was.
  SkuTable next = *this;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() == "defaults") {
      if (auto st = apply_policy_json(next.defaults_, it.value()); !st) return st;
    } else if (it.key() == "skus") {
      if (!it.value().is_array()) return invalid("\"skus\" must be an array", "skus");
      std::vector<SkuSpec> added;
      for (const auto& entry : it.value()) {
        if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string() ||
            entry["key"].get<std::string>().empty()) {
          return invalid("each entry of \"skus\" needs a non-empty string \"key\"", "skus");
        }
        auto key = entry["key"].get<std::string>();
        SkuSpec* existing = nullptr;
        for (auto& s : next.skus_) {
          if (s.key == key) existing = &s;
        }
        if (existing) {
          if (auto st = apply_sku_json(*existing, entry, "skus[" + key + "]"); !st) return st;
        } else {
          if (!entry.contains("match")) return invalid("new SKU " + key + " needs a \"match\" pattern", "skus");
          SkuSpec s;
          s.key = key;
          s.display_name = key;
          s.source = "override file";
          if (auto st = apply_sku_json(s, entry, "skus[" + key + "]"); !st) return st;
          added.push_back(std::move(s));
        }
      }
      next.skus_.insert(next.skus_.begin(), added.begin(), added.end());
    } else if (it.key() == "$schema" || it.key() == "comment") {
      continue;
    } else {
      return invalid("unknown top-level field " + it.key(), it.key());
    }
  }
  // Every SKU's policy must still be consistent with the (possibly changed) defaults.
  for (const auto& s : next.skus_) {
    Policy p = next.defaults_;
    if (auto st = apply_policy_json(p, s.policy_overrides); !st) return st;
  }
  *this = std::move(next);
  return fleet::Ok{};
}

const SkuSpec* SkuTable::match(std::string_view device_name) const {
  std::string name(device_name);
  for (const auto& s : skus_) {
    std::regex re(s.match, std::regex::ECMAScript | std::regex::icase);
    if (std::regex_search(name, re)) return &s;
  }
  return nullptr;
}

const SkuSpec* SkuTable::find(std::string_view key) const {
  for (const auto& s : skus_) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

Policy SkuTable::policy_for(const SkuSpec* sku) const {
  Policy p = defaults_;
  // Overrides were validated when the table was built or overridden.
  if (sku) (void)apply_policy_json(p, sku->policy_overrides);
  return p;
}

}  // namespace fleet::gpuprobe
