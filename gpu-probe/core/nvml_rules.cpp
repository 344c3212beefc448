#include "gpu-probe/core/nvml_rules.hpp"

#include <algorithm>

#include "gpu-probe/core/xid_classifier.hpp"

namespace fleet::gpuprobe {

namespace {

CheckResult skipped(std::string name, std::string why) {
  CheckResult c;
  c.name = std::move(name);
  c.status = CheckStatus::kSkipped;
  c.message = std::move(why);
  return c;
}

CheckResult count_check(std::string name, std::uint64_t value, double limit, CheckStatus over, std::string msg) {
  CheckResult c;
  c.name = std::move(name);
  c.measured = static_cast<double>(value);
  c.comparison = Comparison::kAtMost;
  c.unit = "count";
  if (over == CheckStatus::kFail)
    c.fail_threshold = limit;
  else
    c.warn_threshold = limit;
  c.status = static_cast<double>(value) > limit ? over : CheckStatus::kPass;
  if (c.status != CheckStatus::kPass) c.message = std::move(msg);
  return c;
}

// A counter that rose between the readings before and after the load: the load itself provoked an error.
template <class T>
void note_increase(nlohmann::json& rises, const char* name, const std::optional<T>& before,
                   const std::optional<T>& after) {
  if (before && after && *after > *before) {
    rises[name] = {{"before", *before}, {"after", *after}};
  }
}

}  // namespace

std::vector<CheckResult> evaluate_nvml(const NvmlHealth& h, const BurnResult& burn, const Policy& policy) {
  std::vector<CheckResult> out;
  const NvmlSnapshot& b = h.before;
  if (!b.available) {
    std::string why = "NVML unavailable: " + (b.error.empty() ? std::string("not loaded") : b.error);
    for (const char* n :
         {"ecc_uncorrected_volatile", "ecc_uncorrected_aggregate", "retired_pages", "remapped_rows", "throttle_reasons",
          "pcie_link", "pcie_replay", "temperature", "power", "xid_events", "counters_after_load"}) {
      out.push_back(skipped(n, why));
    }
    return out;
  }

  if (b.ecc_volatile_uncorrected) {
    out.push_back(count_check("ecc_uncorrected_volatile", *b.ecc_volatile_uncorrected, 0, CheckStatus::kFail,
                              "uncorrectable ECC errors since the last driver load: reset the GPU and re-probe"));
  } else {
    out.push_back(skipped("ecc_uncorrected_volatile", "ECC counters not available (ECC off or not supported)"));
  }
  if (b.ecc_aggregate_uncorrected) {
    out.push_back(count_check("ecc_uncorrected_aggregate", *b.ecc_aggregate_uncorrected, 0, CheckStatus::kWarn,
                              "uncorrectable ECC errors in the GPU's lifetime"));
  } else {
    out.push_back(skipped("ecc_uncorrected_aggregate", "ECC counters not available (ECC off or not supported)"));
  }

  if (b.retired_pages_pending || b.retired_pages_dbe || b.retired_pages_sbe) {
    CheckResult c;
    c.name = "retired_pages";
    std::uint64_t total = b.retired_pages_dbe.value_or(0) + b.retired_pages_sbe.value_or(0);
    c.measured = static_cast<double>(total);
    c.fail_threshold = policy.retired_pages_fail;
    c.comparison = Comparison::kAtMost;
    c.unit = "pages";
    c.details["pending"] = b.retired_pages_pending.value_or(false);
    c.status = CheckStatus::kPass;
    if (b.retired_pages_pending.value_or(false)) {
      c.status = CheckStatus::kFail;
      c.message = "a page retirement is pending: reset the GPU and re-probe";
    } else if (static_cast<double>(total) >= policy.retired_pages_fail) {
      c.status = CheckStatus::kFail;
      c.message = "retired pages near the limit: replace the GPU";
    }
    out.push_back(c);
  } else {
    out.push_back(skipped("retired_pages", "page retirement not reported (Ampere and later remap rows instead)"));
  }

  if (b.remap_pending || b.remap_failure || b.remapped_rows_uncorrectable) {
    CheckResult c;
    c.name = "remapped_rows";
    c.measured = b.remapped_rows_uncorrectable.value_or(0);
    c.warn_threshold = policy.remapped_rows_warn;
    c.comparison = Comparison::kAtMost;
    c.unit = "rows";
    c.details = {{"pending", b.remap_pending.value_or(false)},
                 {"failure", b.remap_failure.value_or(false)},
                 {"correctable_rows", b.remapped_rows_correctable.value_or(0)}};
    c.status = CheckStatus::kPass;
    if (b.remap_failure.value_or(false)) {
      c.status = CheckStatus::kFail;
      c.message = "row remapping failed: the GPU has run out of spare rows; replace it";
    } else if (b.remap_pending.value_or(false)) {
      c.status = CheckStatus::kFail;
      c.message = "a row remap is pending: reset the GPU and re-probe";
      c.details["action"] = "reset-then-reprobe";
    } else if (*c.measured >= policy.remapped_rows_warn) {
      c.status = CheckStatus::kWarn;
      c.message = "many rows remapped for uncorrectable errors";
    }
    out.push_back(c);
  } else {
    out.push_back(skipped("remapped_rows", "row remapping not reported (pre-Ampere part or not supported)"));
  }

  {
    std::optional<std::uint64_t> mask;
    for (const auto* s : {&h.under_load, &h.after}) {
      if (s->throttle_reasons) mask = mask.value_or(0) | *s->throttle_reasons;
    }
    if (burn.ran) mask = mask.value_or(0) | burn.throttle_reasons_seen;
    if (!mask) {
      out.push_back(skipped("throttle_reasons", "clock event reasons not available"));
    } else {
      CheckResult c;
      c.name = "throttle_reasons";
      c.measured = static_cast<double>(*mask);
      c.unit = "bitmask";
      nlohmann::json reasons = nlohmann::json::array();
      if (*mask & kThrottleSwPowerCap) reasons.push_back("sw_power_cap");
      if (*mask & kThrottleHwSlowdown) reasons.push_back("hw_slowdown");
      if (*mask & kThrottleSwThermal) reasons.push_back("sw_thermal_slowdown");
      if (*mask & kThrottleHwThermal) reasons.push_back("hw_thermal_slowdown");
      if (*mask & kThrottleHwPowerBrake) reasons.push_back("hw_power_brake");
      c.details["reasons"] = reasons;
      // Running at the power cap under a full GEMM is normal; hardware slowdowns mean cooling or power delivery
      // is failing, and a software thermal slowdown means the part runs hot.
      if (*mask & (kThrottleHwSlowdown | kThrottleHwThermal | kThrottleHwPowerBrake)) {
        c.status = CheckStatus::kFail;
        c.message = "hardware clock slowdown (thermal or power brake) under load";
      } else if (*mask & kThrottleSwThermal) {
        c.status = CheckStatus::kWarn;
        c.message = "software thermal slowdown under load";
      } else {
        c.status = CheckStatus::kPass;
      }
      out.push_back(c);
    }
  }

  {
    const NvmlSnapshot& s = h.under_load.pcie_width_current ? h.under_load : h.after.available ? h.after : b;
    if (!s.pcie_width_current || !s.pcie_width_max || !s.pcie_gen_current || !s.pcie_gen_max) {
      out.push_back(skipped("pcie_link", "PCIe link state not available"));
    } else {
      CheckResult c;
      c.name = "pcie_link";
      c.measured = *s.pcie_width_current;
      c.fail_threshold = *s.pcie_width_max;
      c.comparison = Comparison::kAtLeast;
      c.unit = "lanes";
      c.details = {{"gen", *s.pcie_gen_current},
                   {"gen_max", *s.pcie_gen_max},
                   {"width", *s.pcie_width_current},
                   {"width_max", *s.pcie_width_max}};
      c.status = CheckStatus::kPass;
      // Read under load: an idle GPU may legitimately drop its link speed to save power.
      if (*s.pcie_width_current < *s.pcie_width_max) {
        c.status = CheckStatus::kFail;
        c.message = "PCIe link narrower than the card supports: reseat the card or check the riser";
      } else if (*s.pcie_gen_current < *s.pcie_gen_max) {
        c.status = CheckStatus::kWarn;
        c.message = "PCIe link trained below its maximum generation";
      }
      out.push_back(c);
    }
  }

  if (b.pcie_replay_counter && h.after.pcie_replay_counter) {
    std::uint64_t delta = *h.after.pcie_replay_counter >= *b.pcie_replay_counter
                              ? *h.after.pcie_replay_counter - *b.pcie_replay_counter
                              : 0;
    auto c = count_check("pcie_replay", delta, policy.pcie_replay_new_max, CheckStatus::kFail,
                         "PCIe replays during the probe: the link is corrupting transfers");
    c.details = {{"before", *b.pcie_replay_counter}, {"after", *h.after.pcie_replay_counter}};
    out.push_back(c);
  } else {
    out.push_back(skipped("pcie_replay", "PCIe replay counter not available"));
  }

  {
    std::optional<std::uint32_t> t;
    for (const auto* s : {&b, &h.under_load, &h.after}) {
      if (s->temperature_c) t = std::max(t.value_or(0), *s->temperature_c);
    }
    if (burn.max_temperature_c) t = std::max(t.value_or(0), *burn.max_temperature_c);
    if (!t) {
      out.push_back(skipped("temperature", "temperature not available"));
    } else {
      CheckResult c;
      c.name = "temperature";
      c.measured = *t;
      c.warn_threshold = policy.temperature_warn_c;
      c.fail_threshold = policy.temperature_fail_c;
      c.comparison = Comparison::kAtMost;
      c.unit = "C";
      c.status = *t >= policy.temperature_fail_c   ? CheckStatus::kFail
                 : *t >= policy.temperature_warn_c ? CheckStatus::kWarn
                                                   : CheckStatus::kPass;
      if (c.status != CheckStatus::kPass) c.message = "GPU temperature high under load: check cooling";
      out.push_back(c);
    }
  }

  {
    const NvmlSnapshot& s = h.under_load.power_w ? h.under_load : b;
    if (!s.power_w) {
      out.push_back(skipped("power", "power reading not available"));
    } else {
      CheckResult c;
      c.name = "power";
      c.measured = *s.power_w;
      c.unit = "W";
      c.comparison = Comparison::kAtMost;
      c.status = CheckStatus::kPass;
      if (s.power_limit_w) {
        c.details["limit_w"] = *s.power_limit_w;
        c.warn_threshold = *s.power_limit_w * policy.power_over_limit_warn_fraction;
        if (*s.power_w > *c.warn_threshold) {
          c.status = CheckStatus::kWarn;
          c.message = "power draw above the enforced limit: power telemetry or regulation is off";
        }
      }
      out.push_back(c);
    }
  }

  if (!h.xid_watch_available) {
    out.push_back(skipped("xid_events", "XID event watch not available: " + h.xid_error));
  } else {
    CheckResult c;
    c.name = "xid_events";
    c.measured = static_cast<double>(h.xids.size());
    c.fail_threshold = 0;
    c.comparison = Comparison::kAtMost;
    c.unit = "events";
    c.status = CheckStatus::kPass;
    nlohmann::json events = nlohmann::json::array();
    std::string action;
    for (const auto& e : h.xids) {
      XidClass cls = classify_xid(e.xid);
      events.push_back({{"xid", e.xid}, {"class", to_string(cls)}, {"at_ms", e.at_ms}});
      if (cls == XidClass::kDrain) {
        c.status = CheckStatus::kFail;
        action = "drain";
      } else if (cls == XidClass::kResetReprobe) {
        c.status = CheckStatus::kFail;
        if (action != "drain") action = "reset-then-reprobe";
      } else {
        c.status = worse(c.status, CheckStatus::kWarn);
      }
    }
    c.details["events"] = events;
    if (!action.empty()) c.details["action"] = action;
    if (c.status == CheckStatus::kFail) c.message = "XID errors during the probe: " + action;
    if (c.status == CheckStatus::kWarn) c.message = "XID events during the probe (usually application errors)";
    out.push_back(c);
  }

  if (!h.after.available) {
    out.push_back(skipped("counters_after_load", "no NVML reading after the load"));
  } else {
    nlohmann::json rises = nlohmann::json::object();
    note_increase(rises, "ecc_volatile_uncorrected", b.ecc_volatile_uncorrected, h.after.ecc_volatile_uncorrected);
    note_increase(rises, "ecc_aggregate_uncorrected", b.ecc_aggregate_uncorrected, h.after.ecc_aggregate_uncorrected);
    note_increase(rises, "retired_pages_dbe", b.retired_pages_dbe, h.after.retired_pages_dbe);
    note_increase(rises, "retired_pages_sbe", b.retired_pages_sbe, h.after.retired_pages_sbe);
    note_increase(rises, "remapped_rows_uncorrectable", b.remapped_rows_uncorrectable,
                  h.after.remapped_rows_uncorrectable);
    note_increase(rises, "retired_pages_pending", b.retired_pages_pending, h.after.retired_pages_pending);
    note_increase(rises, "remap_pending", b.remap_pending, h.after.remap_pending);
    note_increase(rises, "remap_failure", b.remap_failure, h.after.remap_failure);
    CheckResult c;
    c.name = "counters_after_load";
    c.measured = static_cast<double>(rises.size());
    c.fail_threshold = 0;
    c.comparison = Comparison::kAtMost;
    c.unit = "counters";
    c.details["increased"] = rises;
    c.status = rises.empty() ? CheckStatus::kPass : CheckStatus::kFail;
    if (!rises.empty()) c.message = "error counters rose during the probe's load";
    out.push_back(c);
  }
  return out;
}

}  // namespace fleet::gpuprobe
