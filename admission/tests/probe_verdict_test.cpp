#include "admission/probe_verdict.hpp"

#include <catch2/catch.hpp>

#include "gpu-probe/core/report_json.hpp"

namespace fleet::admission {
namespace {

gpuprobe::CheckResult check(std::string name, gpuprobe::CheckStatus status) {
  gpuprobe::CheckResult c;
  c.name = std::move(name);
  c.status = status;
  return c;
}

gpuprobe::Report report(gpuprobe::Verdict verdict, int gpus) {
  gpuprobe::Report r;
  r.verdict = verdict;
  for (int i = 0; i < gpus; ++i) {
    gpuprobe::GpuReport g;
    g.device.index = i;
    g.checks.push_back(check("hbm_bandwidth", gpuprobe::CheckStatus::kPass));
    r.gpus.push_back(g);
  }
  return r;
}

}  // namespace

TEST_CASE("a pass or warn report that counted every GPU admits", "[admission][verdict]") {
  auto v = judge(ProbeReport{report(gpuprobe::Verdict::kPass, 8)}, 8);
  CHECK(v.admitted);
  CHECK(v.verdict == "pass");
  CHECK(v.reason == "passed");
  auto warned = report(gpuprobe::Verdict::kWarn, 2);
  warned.gpus[1].checks.push_back(check("pcie_link", gpuprobe::CheckStatus::kWarn));
  auto w = judge(ProbeReport{warned}, 2);
  CHECK(w.admitted);
  CHECK(w.warnings == std::vector<std::string>{"pcie_link"});
}

TEST_CASE("failing checks, a missing GPU, injected faults, could-not-run and no report quarantine",
          "[admission][verdict]") {
  auto failed = report(gpuprobe::Verdict::kFail, 2);
  failed.node_checks.push_back(check("device_count", gpuprobe::CheckStatus::kPass));
  failed.gpus[0].checks.push_back(check("gemm_bf16_correctness", gpuprobe::CheckStatus::kFail));
  failed.gpus[1].checks.push_back(check("gemm_bf16_correctness", gpuprobe::CheckStatus::kFail));
  failed.gpus[1].checks.push_back(check("ecc_volatile", gpuprobe::CheckStatus::kFail));
  auto f = judge(ProbeReport{failed}, 2);
  CHECK_FALSE(f.admitted);
  CHECK(f.failed_checks == std::vector<std::string>{"gemm_bf16_correctness", "ecc_volatile"});
  CHECK(f.reason == "failed: gemm_bf16_correctness, ecc_volatile");

  auto missing = judge(ProbeReport{report(gpuprobe::Verdict::kPass, 7)}, 8);
  CHECK_FALSE(missing.admitted);
  CHECK(missing.reason == "the probe saw 7 GPUs, the node has 8");

  auto injected = report(gpuprobe::Verdict::kPass, 1);
  injected.injected = {"hbm"};
  CHECK_FALSE(judge(ProbeReport{injected}, 1).admitted);

  gpuprobe::Report cnr;
  cnr.verdict = gpuprobe::Verdict::kCouldNotRun;
  cnr.could_not_run = gpuprobe::CouldNotRun{"no-cuda-device", "no CUDA device: no NVIDIA driver found"};
  auto c = judge(ProbeReport{cnr}, 8);
  CHECK_FALSE(c.admitted);
  CHECK(c.verdict == "could-not-run");
  CHECK(c.reason == "could not run: no CUDA device: no NVIDIA driver found");

  auto timed_out = judge(ProbeNotRun{"timed out after 600 s"}, 8);
  CHECK_FALSE(timed_out.admitted);
  CHECK(timed_out.verdict == "not-run");
  CHECK(timed_out.reason == "timed out after 600 s");
}

TEST_CASE("the probe's output is read with gpu-probe's schema, anything else is no report", "[admission][verdict]") {
  const std::string text = gpuprobe::report_to_json(report(gpuprobe::Verdict::kPass, 4)).dump(2);
  auto read = outcome_from_report_text("some log line\n" + text + "\n");
  REQUIRE(std::holds_alternative<ProbeReport>(read));
  CHECK(judge(read, 4).admitted);
  for (std::string garbage : {"", "Error: ImagePullBackOff", "{\"schema\": \"something else\"}", "{not json}"}) {
    CAPTURE(garbage);
    auto o = outcome_from_report_text(garbage);
    REQUIRE(std::holds_alternative<ProbeNotRun>(o));
    CHECK(std::get<ProbeNotRun>(o).reason.rfind("report does not parse: ", 0) == 0);
    CHECK_FALSE(judge(o, 4).admitted);
  }
}

}  // namespace fleet::admission
