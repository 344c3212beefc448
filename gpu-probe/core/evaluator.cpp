#include "gpu-probe/core/evaluator.hpp"

#include <algorithm>

#include "gpu-probe/core/driver_compat.hpp"
#include "gpu-probe/core/nvml_rules.hpp"
#include "gpu-probe/core/straggler_detector.hpp"

namespace fleet::gpuprobe {

const CheckResult* find_check(const std::vector<CheckResult>& checks, std::string_view name) {
  for (const auto& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

constexpr std::string_view kRelativeOnly = "no spec figure for this model: measured only, relative checks apply";

EnvironmentSummary summarise(const EnvironmentInfo& env) {
  return {env.built_with_cuda, env.runtime_version, env.driver_cuda_version,
          env.driver_version,  env.nvml_available,  env.nvml_error};
}

std::vector<std::string> injection_names(const InjectionSet& set) {
  std::vector<std::string> out;
  for (auto i : set) out.emplace_back(to_string(i));
  return out;
}

CheckResult failed_measurement(std::string name, const std::string& error, double duration_ms) {
  CheckResult c;
  c.name = std::move(name);
  c.status = CheckStatus::kFail;
  c.message = "measurement failed: " + error;
  c.duration_ms = duration_ms;
  return c;
}

CheckResult exactness_check(std::string name, std::uint64_t mismatches, std::string unit, double duration_ms,
                            std::string fail_message) {
  CheckResult c;
  c.name = std::move(name);
  c.measured = static_cast<double>(mismatches);
  c.fail_threshold = 0;
  c.comparison = Comparison::kAtMost;
  c.unit = std::move(unit);
  c.duration_ms = duration_ms;
  c.status = mismatches ? CheckStatus::kFail : CheckStatus::kPass;
  if (mismatches) c.message = std::move(fail_message);
  return c;
}

CheckResult gpu_count_check(const EnvironmentInfo& env, std::optional<int> expect) {
  CheckResult c;
  c.name = "gpu_count";
  c.measured = static_cast<double>(env.devices.size());
  c.unit = "GPUs";
  c.comparison = Comparison::kEqual;
  c.status = CheckStatus::kPass;
  if (!expect) {
    c.message = "no --expect-gpus given: count not checked";
    return c;
  }
  c.fail_threshold = *expect;
  if (static_cast<int>(env.devices.size()) < *expect) {
    c.status = CheckStatus::kFail;
    c.message = "fewer GPUs than expected: a GPU is missing or has fallen off the bus";
  } else if (static_cast<int>(env.devices.size()) > *expect) {
    c.status = CheckStatus::kWarn;
    c.message = "more GPUs than expected";
  }
  return c;
}

CheckResult driver_check(const EnvironmentInfo& env) {
  CheckResult c;
  c.name = "driver_compat";
  c.measured = env.driver_cuda_version;
  c.fail_threshold = env.runtime_version;
  c.comparison = Comparison::kAtLeast;
  c.unit = "cuda-version";
  c.details = {{"runtime", cuda_version_string(env.runtime_version)},
               {"driver_cuda", cuda_version_string(env.driver_cuda_version)},
               {"driver_version", env.driver_version}};
  auto req = driver_requirement_for_runtime(env.runtime_version);
  if (req) {
    c.details["min_driver"] = req->full;
    c.details["min_driver_minor_compat"] = req->minor_compat;
  }
  c.status = CheckStatus::kPass;
  if (env.driver_cuda_version < env.runtime_version) {
    bool same_major = env.driver_cuda_version / 1000 == env.runtime_version / 1000;
    c.status = same_major ? CheckStatus::kWarn : CheckStatus::kFail;
    c.message = same_major ? "driver older than the CUDA runtime: running on minor-version compatibility"
                           : "driver too old for this CUDA runtime";
  }
  if (req && !env.driver_version.empty()) {
    auto vs_full = compare_driver_versions(env.driver_version, req->full);
    auto vs_minor = compare_driver_versions(env.driver_version, req->minor_compat);
    if (vs_minor && *vs_minor < 0) {
      c.status = CheckStatus::kFail;
      c.message = "driver " + env.driver_version + " is below the minimum " + req->minor_compat;
    } else if (vs_full && *vs_full < 0) {
      c.status = worse(c.status, CheckStatus::kWarn);
      c.message = "driver " + env.driver_version + " is below " + req->full + " (full support for this runtime)";
    }
  }
  return c;
}

struct GpuContext {
  const SkuSpec* sku = nullptr;
  Policy policy;
};

void add_throughput_checks(const GpuMeasurements& g, const GpuContext& ctx, std::vector<CheckResult>& out) {
  const SkuSpec* sku = ctx.sku;
  const Policy& p = ctx.policy;

  if (g.memory.ran || !g.memory.error.empty()) {
    if (!g.memory.error.empty()) {
      out.push_back(failed_measurement("memory_test", g.memory.error, g.memory.duration_ms));
    } else {
      auto c = exactness_check("memory_test", g.memory.mismatches, "words", g.memory.duration_ms,
                               "device memory returned wrong data: replace the GPU");
      c.details["bytes_tested"] = g.memory.bytes_tested;
      c.details["patterns"] = g.memory.patterns;
      nlohmann::json first = nlohmann::json::array();
      for (const auto& mm : g.memory.first_mismatches) {
        first.push_back({{"offset", mm.offset_bytes},
                         {"address", mm.device_address},
                         {"expected", mm.expected},
                         {"actual", mm.actual},
                         {"pattern", mm.pattern}});
      }
      c.details["first_mismatches"] = first;
      out.push_back(c);
    }
  }

  if (!g.hbm.error.empty()) {
    out.push_back(failed_measurement("hbm_bandwidth", g.hbm.error, g.hbm.duration_ms));
  } else if (g.hbm.ran) {
    out.push_back(throughput_check("hbm_bandwidth", g.hbm.gbps, sku ? std::optional(sku->hbm_gbps) : std::nullopt,
                                   p.hbm_warn_fraction, p.hbm_fail_fraction, "GB/s", g.hbm.duration_ms));
  }

  for (const auto& gm : g.gemms) {
    std::string base = "gemm_" + gm.dtype;
    if (!gm.supported) {
      CheckResult c;
      c.name = base + "_throughput";
      c.message = gm.dtype + " GEMM not supported on this device";
      out.push_back(c);
      c.name = base + "_correctness";
      out.push_back(c);
      continue;
    }
    if (!gm.error.empty()) {
      out.push_back(failed_measurement(base + "_throughput", gm.error, gm.duration_ms));
      continue;
    }
    if (!gm.ran) continue;
    std::optional<double> spec;
    if (sku) {
      if (gm.dtype == "bf16") spec = sku->bf16_tflops;
      if (gm.dtype == "fp16") spec = sku->fp16_tflops;
      if (gm.dtype == "tf32") spec = sku->tf32_tflops;
      if (gm.dtype == "fp32") spec = sku->fp32_tflops;
    }
    bool fp32 = gm.dtype == "fp32";
    auto t = throughput_check(base + "_throughput", gm.tflops, spec, fp32 ? p.fp32_warn_fraction : p.gemm_warn_fraction,
                              fp32 ? p.fp32_fail_fraction : p.gemm_fail_fraction, "TFLOP/s", gm.duration_ms);
    t.details = {{"m", gm.m}, {"n", gm.n}, {"k", gm.k}, {"iterations", gm.timed_iterations}};
    out.push_back(t);
    auto c = exactness_check(base + "_correctness", gm.mismatches, "elements", 0,
                             "GEMM produced wrong results (silent data corruption): replace the GPU");
    c.details["repetitions"] = gm.checked_repetitions;
    if (gm.first_mismatch_index) c.details["first_mismatch_index"] = *gm.first_mismatch_index;
    out.push_back(c);
  }

  // The link the card should train to: the SKU's, else what NVML says the card and slot can do.
  std::optional<double> link;
  if (sku && sku->pcie_gen > 0) {
    link = pcie_gbps(sku->pcie_gen, sku->pcie_width);
  } else if (g.nvml.before.pcie_gen_max && g.nvml.before.pcie_width_max) {
    link = pcie_gbps(static_cast<int>(*g.nvml.before.pcie_gen_max), static_cast<int>(*g.nvml.before.pcie_width_max));
  }
  const std::pair<const char*, const BandwidthResult*> links[] = {{"host_to_device_bandwidth", &g.host_to_device},
                                                                  {"device_to_host_bandwidth", &g.device_to_host}};
  for (const auto& [name, r] : links) {
    if (!r->error.empty()) {
      out.push_back(failed_measurement(name, r->error, r->duration_ms));
    } else if (r->ran) {
      out.push_back(throughput_check(name, r->gbps, link, p.host_link_warn_fraction, p.host_link_fail_fraction, "GB/s",
                                     r->duration_ms));
    }
  }

  if (!g.burn.error.empty()) {
    out.push_back(failed_measurement("burn", g.burn.error, g.burn.duration_ms));
  } else if (g.burn.ran) {
    CheckResult c = exactness_check("burn", g.burn.mismatches, "elements", g.burn.duration_ms,
                                    "GEMM results went wrong during the sustained burn: replace the GPU");
    c.details = {{"seconds", g.burn.seconds}, {"gemms", g.burn.gemms}, {"window_tflops", g.burn.window_tflops}};
    if (g.burn.mismatches == 0 && g.burn.window_tflops.size() >= 2) {
      double first = g.burn.window_tflops.front();
      double last = g.burn.window_tflops.back();
      double drop = first > 0 ? 1.0 - last / first : 0;
      c.details["throughput_drop"] = drop;
      if (drop > p.burn_drop_fail_fraction) {
        c.status = CheckStatus::kFail;
        c.message = "GEMM throughput fell during the burn: the GPU throttles (cooling or power)";
      } else if (drop > p.burn_drop_warn_fraction) {
        c.status = CheckStatus::kWarn;
        c.message = "GEMM throughput fell during the burn";
      }
    }
    out.push_back(c);
  }
}

std::optional<double> gemm_figure(const GpuMeasurements& g) {
  // BF16 is what training runs; FP16 stands in where BF16 is unsupported (T4).
  for (const char* d : {"bf16", "fp16"}) {
    for (const auto& gm : g.gemms) {
      if (gm.dtype == d && gm.ran && gm.supported && gm.error.empty()) return gm.tflops;
    }
  }
  return std::nullopt;
}

void add_straggler_checks(const NodeMeasurements& m, const std::vector<std::string>& groups, double margin,
                          std::vector<GpuReport>& gpus) {
  struct Metric {
    const char* check;
    const char* unit;
    std::vector<std::optional<double>> values;
  };
  Metric metrics[2] = {{"straggler_hbm", "GB/s", {}}, {"straggler_gemm", "TFLOP/s", {}}};
  for (const auto& g : m.gpus) {
    metrics[0].values.push_back(g.hbm.ran && g.hbm.error.empty() ? std::optional(g.hbm.gbps) : std::nullopt);
    metrics[1].values.push_back(gemm_figure(g));
  }
  for (auto& metric : metrics) {
    auto findings = detect_stragglers(metric.values, groups, margin);
    for (size_t i = 0; i < gpus.size(); ++i) {
      CheckResult c;
      c.name = metric.check;
      c.unit = metric.unit;
      if (!findings[i]) {
        c.status = CheckStatus::kSkipped;
        c.message = "no other GPU of this model on the node to compare with";
      } else {
        const auto& f = *findings[i];
        c.measured = f.value;
        c.fail_threshold = (1.0 - margin) * f.median;
        c.comparison = Comparison::kAtLeast;
        c.details = {{"median", f.median}, {"ratio", f.ratio}, {"group_size", f.group_size}, {"margin", margin}};
        c.status = f.straggler ? CheckStatus::kFail : CheckStatus::kPass;
        if (f.straggler) c.message = "GPU is more than the margin below its peers' median: it would stall the job";
      }
      gpus[i].checks.push_back(c);
    }
  }
}

void add_peer_checks(const NodeMeasurements& m, double margin, std::vector<CheckResult>& out) {
  std::vector<double> bws;
  for (const auto& p : m.peers) {
    if (p.ran && p.error.empty() && p.peer_access) bws.push_back(p.gbps);
  }
  double median = median_of(bws);
  for (const auto& p : m.peers) {
    std::string name = "p2p_" + std::to_string(p.src) + "_" + std::to_string(p.dst);
    if (!p.error.empty()) {
      out.push_back(failed_measurement(name, p.error, p.duration_ms));
      continue;
    }
    if (!p.ran) continue;
    CheckResult c =
        exactness_check(name, p.mismatches, "words", p.duration_ms, "peer-to-peer copy delivered wrong data");
    c.details = {{"gbps", p.gbps}, {"peer_access", p.peer_access}, {"median_gbps", median}};
    if (p.mismatches == 0) {
      if (!p.peer_access) {
        c.status = CheckStatus::kWarn;
        c.message = "no direct peer access between these GPUs: copies are staged through the host";
      } else if (bws.size() >= 2 && p.gbps < (1.0 - margin) * median) {
        c.status = CheckStatus::kWarn;
        c.message = "peer-to-peer bandwidth below the other pairs: check NVLink/NVSwitch";
      }
    }
    out.push_back(c);
  }
}

}  // namespace

CheckResult throughput_check(std::string name, double measured, std::optional<double> spec, double warn_fraction,
                             double fail_fraction, std::string unit, double duration_ms) {
  CheckResult c;
  c.name = std::move(name);
  c.measured = measured;
  c.unit = std::move(unit);
  c.duration_ms = duration_ms;
  c.comparison = Comparison::kAtLeast;
  if (!spec || *spec <= 0) {
    c.status = CheckStatus::kPass;
    c.message = std::string(kRelativeOnly);
    c.details["relative_only"] = true;
    return c;
  }
  c.spec = *spec;
  c.warn_threshold = *spec * warn_fraction;
  c.fail_threshold = *spec * fail_fraction;
  if (measured < *c.fail_threshold) {
    c.status = CheckStatus::kFail;
    c.message = "far below the model's spec figure";
  } else if (measured < *c.warn_threshold) {
    c.status = CheckStatus::kWarn;
    c.message = "below the expected share of the model's spec figure";
  } else {
    c.status = CheckStatus::kPass;
  }
  return c;
}

Report could_not_run_report(const CouldNotRun& why, const EvaluationContext& ctx, const EnvironmentInfo& env) {
  Report r;
  r.host = ctx.host;
  r.started_at = ctx.started_at;
  r.mode = ctx.mode;
  r.injected = injection_names(ctx.injections);
  r.verdict = Verdict::kCouldNotRun;
  r.could_not_run = why;
  r.environment = summarise(env);
  return r;
}

Report evaluate(const NodeMeasurements& m, const SkuTable& table, const EvaluationContext& ctx) {
  if (m.env.could_not_run) {
    Report r = could_not_run_report(*m.env.could_not_run, ctx, m.env);
    r.wall_ms = m.wall_ms;
    return r;
  }
  Report r;
  r.host = ctx.host;
  r.started_at = ctx.started_at;
  r.mode = ctx.mode;
  r.injected = injection_names(ctx.injections);
  r.environment = summarise(m.env);
  r.wall_ms = m.wall_ms;
  r.node_checks.push_back(gpu_count_check(m.env, ctx.expect_gpus));
  r.node_checks.push_back(driver_check(m.env));

  std::vector<std::string> groups;
  double margin = ctx.straggler_margin.value_or(table.defaults().straggler_margin);
  for (const auto& g : m.gpus) {
    GpuReport gr;
    gr.device = g.device;
    gr.duration_ms = g.duration_ms;
    GpuContext gc;
    gc.sku = table.match(g.device.name);
    gc.policy = table.policy_for(gc.sku);
    groups.push_back(gc.sku ? gc.sku->key : "name:" + g.device.name);
    if (gc.sku) gr.sku = gc.sku->key;

    CheckResult sku;
    sku.name = "sku";
    if (gc.sku) {
      sku.status = CheckStatus::kPass;
      sku.details = {{"key", gc.sku->key}, {"display_name", gc.sku->display_name}, {"source", gc.sku->source}};
    } else {
      sku.status = CheckStatus::kWarn;
      sku.message = "unknown GPU model '" + g.device.name +
                    "': no spec figures, only correctness, health and relative checks apply";
    }
    gr.checks.push_back(sku);

    if (!g.fatal_error.empty()) gr.checks.push_back(failed_measurement("gpu_runtime", g.fatal_error, 0));

    if (gc.sku && gc.sku->memory_gb > 0) {
      CheckResult c;
      c.name = "memory_size";
      c.measured = static_cast<double>(g.device.total_memory_bytes) / 1e9;
      c.spec = gc.sku->memory_gb;
      c.fail_threshold = gc.sku->memory_gb * gc.policy.memory_size_fail_fraction;
      c.comparison = Comparison::kAtLeast;
      c.unit = "GB";
      c.status = *c.measured < *c.fail_threshold ? CheckStatus::kFail : CheckStatus::kPass;
      if (c.status == CheckStatus::kFail) c.message = "less device memory than the model has";
      gr.checks.push_back(c);
    }

    add_throughput_checks(g, gc, gr.checks);
    auto nvml = evaluate_nvml(g.nvml, g.burn, gc.policy);
    gr.checks.insert(gr.checks.end(), nvml.begin(), nvml.end());
    r.gpus.push_back(std::move(gr));
  }
  add_straggler_checks(m, groups, margin, r.gpus);
  add_peer_checks(m, margin, r.node_checks);

  CheckStatus worst = CheckStatus::kSkipped;
  for (auto& g : r.gpus) {
    CheckStatus gw = CheckStatus::kSkipped;
    for (const auto& c : g.checks) gw = worse(gw, c.status);
    g.status = gw;
    worst = worse(worst, gw);
  }
  for (const auto& c : r.node_checks) worst = worse(worst, c.status);
  r.verdict = verdict_from(worst);
  return r;
}

}  // namespace fleet::gpuprobe
