#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "gpu-probe/core/evaluator.hpp"
#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/probe_runner.hpp"
#include "test_fixtures.hpp"

using namespace fleet::gpuprobe;

namespace {

// A backend that records how it was driven. measure_gpu waits (bounded) until every GPU's thread has arrived,
// which only happens when they run concurrently.
class FakeBackend : public MeasurementBackend {
 public:
  explicit FakeBackend(int gpus, bool throw_on_gpu1 = false) : gpus_(gpus), throw_on_gpu1_(throw_on_gpu1) {}
  EnvironmentInfo enumerate(const MeasurePlan& plan) override {
    auto node = testing::healthy_node(gpus_);
    if (has(plan.injections, Injection::kMissingGpu) && !node.env.devices.empty()) node.env.devices.pop_back();
    return node.env;
  }
  GpuMeasurements measure_gpu(const DeviceInfo& d, const MeasurePlan&) override {
    {
      std::unique_lock lock(mu_);
      ++arrived_;
      cv_.notify_all();
      all_arrived_ = cv_.wait_for(lock, std::chrono::seconds(5), [&] { return arrived_ >= expected_concurrent_; });
    }
    if (throw_on_gpu1_ && d.index == 1) throw std::runtime_error("boom");
    auto g = testing::healthy_h100(d.index);
    g.device = d;
    return g;
  }
  std::vector<PeerResult> measure_peers(const std::vector<DeviceInfo>& devices, const MeasurePlan&) override {
    peer_calls_++;
    peer_devices_ = devices.size();
    return {};
  }
  int gpus_;
  bool throw_on_gpu1_;
  int expected_concurrent_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool all_arrived_ = true;
  int peer_calls_ = 0;
  size_t peer_devices_ = 0;
};

double fake_clock() {
  static std::atomic<int> t{0};
  return t++ * 10.0;
}

}  // namespace

TEST_CASE("gpu-probe runner: all GPUs are measured concurrently", "[gpu-probe]") {
  FakeBackend b(4);
  b.expected_concurrent_ = 4;
  auto m = run_measurements(b, make_measure_plan({}), std::nullopt, fake_clock);
  CHECK(b.all_arrived_);
  REQUIRE(m.gpus.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(m.gpus[i].device.index == i);
  CHECK(b.peer_calls_ == 1);
  CHECK(b.peer_devices_ == 4);
  CHECK(m.wall_ms > 0);
}

TEST_CASE("gpu-probe runner: --gpus selects devices — unknown ones are bad arguments", "[gpu-probe]") {
  FakeBackend b(4);
  b.expected_concurrent_ = 2;
  auto m = run_measurements(b, make_measure_plan({}), std::vector<int>{0, 2}, fake_clock);
  REQUIRE(m.gpus.size() == 2);
  CHECK(m.gpus[1].device.index == 2);
  FakeBackend one(1);
  auto bad = run_measurements(one, make_measure_plan({}), std::vector<int>{3}, fake_clock);
  REQUIRE(bad.env.could_not_run);
  CHECK(bad.env.could_not_run->code == "bad-arguments");
  CHECK(exit_code_for(evaluate(bad, SkuTable::built_in(), {}).verdict) == 2);
  CHECK(one.peer_calls_ == 0);
}

TEST_CASE("gpu-probe runner: no device is could-not-run", "[gpu-probe]") {
  FakeBackend b(0);
  auto m = run_measurements(b, make_measure_plan({}), std::nullopt, fake_clock);
  REQUIRE(m.env.could_not_run);
  CHECK(m.env.could_not_run->reason.find("no CUDA device") != std::string::npos);
}

TEST_CASE("gpu-probe runner: an exception in one GPU's thread fails that GPU only", "[gpu-probe]") {
  FakeBackend b(2, /*throw_on_gpu1=*/true);
  auto m = run_measurements(b, make_measure_plan({}), std::nullopt, fake_clock);
  auto r = evaluate(m, SkuTable::built_in(), {});
  CHECK(r.gpus[0].status == CheckStatus::kPass);
  CHECK(r.gpus[1].status == CheckStatus::kFail);
  CHECK(find_check(r.gpus[1].checks, "gpu_runtime")->message.find("boom") != std::string::npos);
}

TEST_CASE("gpu-probe runner: missing-gpu injection is caught by the count check", "[gpu-probe]") {
  for (int gpus : {1, 4}) {
    INFO(gpus);
    FakeBackend b(gpus);
    ProbeOptions o;
    o.injections = {Injection::kMissingGpu};
    auto m = run_measurements(b, make_measure_plan(o), std::nullopt, fake_clock);
    REQUIRE_FALSE(m.env.could_not_run);
    auto expect = effective_expected_gpus(o, m.env);
    CHECK(*expect == gpus);
    auto r = evaluate(m, SkuTable::built_in(), testing::context(expect));
    CHECK(find_check(r.node_checks, "gpu_count")->status == CheckStatus::kFail);
    CHECK(exit_code_for(r.verdict) == 1);
  }
  ProbeOptions plain;
  EnvironmentInfo env;
  env.devices_seen_by_driver = 4;
  CHECK_FALSE(effective_expected_gpus(plain, env));
  plain.expect_gpus = 8;
  CHECK(*effective_expected_gpus(plain, env) == 8);
}

TEST_CASE("gpu-probe plan: quick and full", "[gpu-probe]") {
  ProbeOptions o;
  auto quick = make_measure_plan(o);
  CHECK(quick.burn_seconds == 0);
  CHECK(quick.mem_fraction == Approx(0.5));
  REQUIRE(quick.gemms.size() == 4);
  CHECK(quick.gemms[0].dtype == "bf16");
  o.mode = Mode::kFull;
  auto full = make_measure_plan(o);
  CHECK(full.mem_fraction >= 0.9);
  CHECK(full.burn_seconds == 120);
  CHECK(full.walking_passes > quick.walking_passes);
  o.burn_seconds = 30;
  o.mem_fraction = 0.95;
  o.injections = {Injection::kSlowBandwidth};
  full = make_measure_plan(o);
  CHECK(full.burn_seconds == 30);
  CHECK(full.mem_fraction == Approx(0.95));
  CHECK(has(full.injections, Injection::kSlowBandwidth));
}
