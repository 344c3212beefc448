// The real gpu-probe binary's report goes through the parser and judgement the agents use. On a machine without a
// GPU (CI) it exits 2 and the node it would prove is quarantined: "could not run: no CUDA device".
#include <catch2/catch.hpp>

#include "admission/probe_verdict.hpp"
#include "integration-tests/child_process.hpp"

using namespace fleet;

TEST_CASE("the real gpu-probe's report is judged by admission: no GPU here means quarantined",
          "[integration][admission]") {
  auto run = itest::run_command({GPU_PROBE_BINARY, "--quick", "--expect-gpus", "8"});
  INFO(run.out << run.err);
  auto outcome = admission::outcome_from_report_text(run.out);
  REQUIRE(std::holds_alternative<admission::ProbeReport>(outcome));  // gpu-probe's own schema reads it back
  const auto verdict = admission::judge(outcome, 8);
  if (run.exit_code == 2) {
    CHECK_FALSE(verdict.admitted);
    CHECK(verdict.verdict == "could-not-run");
    // A build without nvcc (scripts/sanitize's) says so instead of looking for a device.
    const bool built_with_cuda = run.out.find("\"built_with_cuda\": false") == std::string::npos;
    CHECK(verdict.reason.rfind(
              built_with_cuda ? "could not run: no CUDA device" : "could not run: gpu-probe was built without CUDA",
              0) == 0);
  } else {
    // A machine with GPUs: exit 0 (pass or warn, and gpu-probe counted the 8 GPUs asked for) admits, 1 does not.
    CHECK(verdict.admitted == (run.exit_code == 0));
  }
}
