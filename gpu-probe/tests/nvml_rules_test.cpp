#include <catch2/catch.hpp>

#include "gpu-probe/core/nvml_injection.hpp"
#include "gpu-probe/core/nvml_rules.hpp"
#include "gpu-probe/core/report.hpp"
#include "test_fixtures.hpp"

using namespace fleet::gpuprobe;
using fleet::gpuprobe::testing::healthy_snapshot;

namespace {

NvmlHealth healthy() {
  NvmlHealth h;
  h.before = h.under_load = h.after = healthy_snapshot();
  h.xid_watch_available = true;
  return h;
}

CheckStatus status_of(const NvmlHealth& h, const char* check, const BurnResult& burn = {}) {
  auto checks = evaluate_nvml(h, burn, Policy{});
  const CheckResult* c = find_check(checks, check);
  REQUIRE(c);
  return c->status;
}

}  // namespace

TEST_CASE("gpu-probe nvml: a healthy GPU passes every NVML check", "[gpu-probe]") {
  auto checks = evaluate_nvml(healthy(), {}, Policy{});
  CHECK(checks.size() == 11);
  for (const auto& c : checks) {
    INFO(c.name);
    CHECK((c.status == CheckStatus::kPass || c.name == "retired_pages"));
  }
  CHECK(find_check(checks, "retired_pages")->status == CheckStatus::kSkipped);  // Hopper remaps rows instead
}

TEST_CASE("gpu-probe nvml: without NVML every check is skipped, not failed", "[gpu-probe]") {
  NvmlHealth h;
  h.before.error = "cannot load libnvidia-ml.so.1";
  auto checks = evaluate_nvml(h, {}, Policy{});
  REQUIRE(checks.size() == 11);
  for (const auto& c : checks) {
    CHECK(c.status == CheckStatus::kSkipped);
    CHECK(c.message.find("libnvidia-ml") != std::string::npos);
  }
}

TEST_CASE("gpu-probe nvml: ECC counts", "[gpu-probe]") {
  auto h = healthy();
  h.before.ecc_volatile_uncorrected = 1;
  h.after.ecc_volatile_uncorrected = 1;
  CHECK(status_of(h, "ecc_uncorrected_volatile") == CheckStatus::kFail);
  CHECK(status_of(h, "counters_after_load") == CheckStatus::kPass);  // old error, not new
  h = healthy();
  h.before.ecc_aggregate_uncorrected = 2;
  h.after.ecc_aggregate_uncorrected = 2;
  CHECK(status_of(h, "ecc_uncorrected_aggregate") == CheckStatus::kWarn);
  h = healthy();
  h.before.ecc_volatile_uncorrected.reset();
  CHECK(status_of(h, "ecc_uncorrected_volatile") == CheckStatus::kSkipped);
}

TEST_CASE("gpu-probe nvml: retired pages and remapped rows", "[gpu-probe]") {
  auto h = healthy();
  h.before.retired_pages_dbe = 2;
  h.before.retired_pages_sbe = 1;
  h.before.retired_pages_pending = false;
  CHECK(status_of(h, "retired_pages") == CheckStatus::kPass);
  h.before.retired_pages_pending = true;
  CHECK(status_of(h, "retired_pages") == CheckStatus::kFail);
  h.before.retired_pages_pending = false;
  h.before.retired_pages_dbe = 60;
  CHECK(status_of(h, "retired_pages") == CheckStatus::kFail);

  h = healthy();
  h.before.remap_pending = true;
  CHECK(status_of(h, "remapped_rows") == CheckStatus::kFail);
  h = healthy();
  h.before.remap_failure = true;
  CHECK(status_of(h, "remapped_rows") == CheckStatus::kFail);
  h = healthy();
  h.before.remapped_rows_uncorrectable = 8;
  h.after.remapped_rows_uncorrectable = 8;
  CHECK(status_of(h, "remapped_rows") == CheckStatus::kWarn);
  h.before.remapped_rows_uncorrectable = 1;
  h.after.remapped_rows_uncorrectable = 1;
  CHECK(status_of(h, "remapped_rows") == CheckStatus::kPass);
}

TEST_CASE("gpu-probe nvml: throttle reasons", "[gpu-probe]") {
  auto h = healthy();
  h.under_load.throttle_reasons = kThrottleHwThermal;
  CHECK(status_of(h, "throttle_reasons") == CheckStatus::kFail);
  h.under_load.throttle_reasons = kThrottleHwPowerBrake;
  CHECK(status_of(h, "throttle_reasons") == CheckStatus::kFail);
  h.under_load.throttle_reasons = kThrottleHwSlowdown;
  CHECK(status_of(h, "throttle_reasons") == CheckStatus::kFail);
  h.under_load.throttle_reasons = kThrottleSwThermal;
  CHECK(status_of(h, "throttle_reasons") == CheckStatus::kWarn);
  h.under_load.throttle_reasons = kThrottleSwPowerCap | kThrottleGpuIdle;
  CHECK(status_of(h, "throttle_reasons") == CheckStatus::kPass);
  // Seen only during the burn still counts.
  h = healthy();
  BurnResult burn;
  burn.ran = true;
  burn.throttle_reasons_seen = kThrottleHwThermal;
  CHECK(status_of(h, "throttle_reasons", burn) == CheckStatus::kFail);
}

TEST_CASE("gpu-probe nvml: PCIe link and replays", "[gpu-probe]") {
  auto h = healthy();
  h.under_load.pcie_width_current = 8;
  CHECK(status_of(h, "pcie_link") == CheckStatus::kFail);
  h = healthy();
  h.under_load.pcie_gen_current = 4;
  CHECK(status_of(h, "pcie_link") == CheckStatus::kWarn);
  h = healthy();
  h.after.pcie_replay_counter = *h.before.pcie_replay_counter + 1;
  CHECK(status_of(h, "pcie_replay") == CheckStatus::kFail);
}

TEST_CASE("gpu-probe nvml: temperature and power", "[gpu-probe]") {
  auto h = healthy();
  h.under_load.temperature_c = 86;
  CHECK(status_of(h, "temperature") == CheckStatus::kWarn);
  h.under_load.temperature_c = 92;
  CHECK(status_of(h, "temperature") == CheckStatus::kFail);
  h = healthy();
  BurnResult burn;
  burn.max_temperature_c = 95;
  CHECK(status_of(h, "temperature", burn) == CheckStatus::kFail);
  h = healthy();
  h.under_load.power_w = 800;  // > 1.1 * 700 W
  CHECK(status_of(h, "power") == CheckStatus::kWarn);
}

TEST_CASE("gpu-probe nvml: XID events by class", "[gpu-probe]") {
  auto run = [](std::vector<std::uint64_t> xids) {
    auto h = healthy();
    for (auto x : xids) h.xids.push_back({x, 10});
    auto checks = evaluate_nvml(h, {}, Policy{});
    return *find_check(checks, "xid_events");
  };
  CHECK(run({}).status == CheckStatus::kPass);
  auto drain = run({13, 79});
  CHECK(drain.status == CheckStatus::kFail);
  CHECK(drain.details["action"] == "drain");
  auto reset = run({63});
  CHECK(reset.status == CheckStatus::kFail);
  CHECK(reset.details["action"] == "reset-then-reprobe");
  CHECK(run({94, 48}).details["action"] == "drain");
  CHECK(run({13}).status == CheckStatus::kWarn);
  CHECK(run({999}).status == CheckStatus::kWarn);
  auto h = healthy();
  h.xid_watch_available = false;
  CHECK(status_of(h, "xid_events") == CheckStatus::kSkipped);
}

TEST_CASE("gpu-probe nvml: any counter rising during the load fails", "[gpu-probe]") {
  auto h = healthy();
  h.after.ecc_volatile_uncorrected = 1;
  CHECK(status_of(h, "counters_after_load") == CheckStatus::kFail);
  h = healthy();
  h.after.remap_pending = true;
  CHECK(status_of(h, "counters_after_load") == CheckStatus::kFail);
  h = healthy();
  h.after.remapped_rows_uncorrectable = 1;
  CHECK(status_of(h, "counters_after_load") == CheckStatus::kFail);
  h = healthy();
  h.after.available = false;
  CHECK(status_of(h, "counters_after_load") == CheckStatus::kSkipped);
}

TEST_CASE("gpu-probe nvml: ecc and throttle injections fire the real rules", "[gpu-probe]") {
  for (bool nvml_present : {true, false}) {
    INFO(nvml_present);
    NvmlHealth h = nvml_present ? healthy() : NvmlHealth{};
    InjectionSet inj = {Injection::kEcc, Injection::kThrottle};
    apply_nvml_injection(h.before, NvmlStage::kBefore, inj);
    apply_nvml_injection(h.under_load, NvmlStage::kUnderLoad, inj);
    apply_nvml_injection(h.after, NvmlStage::kAfter, inj);
    CHECK(status_of(h, "counters_after_load") == CheckStatus::kFail);
    CHECK(status_of(h, "throttle_reasons") == CheckStatus::kFail);
  }
  auto h = healthy();
  apply_nvml_injection(h.after, NvmlStage::kAfter, {});
  CHECK(status_of(h, "counters_after_load") == CheckStatus::kPass);
}
