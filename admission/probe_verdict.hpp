#pragma once
// What a finished probe means for admission. Only a real report (no fault injected) whose verdict is pass or warn
// and that counted every GPU the node has admits; everything else quarantines, and says why: failing checks, a
// probe that could not run (exit 2: no CUDA device), or a probe that never produced a report (timed out, image not
// pulled, pod not scheduled, report that does not parse). A GPU node that cannot be proven is not admitted.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gpu-probe/core/report.hpp"

namespace fleet::admission {

struct ProbeReport {
  gpuprobe::Report report;
};
// The probe ended without a report; `reason` says how ("timed out after 600 s", "image could not be pulled: …").
struct ProbeNotRun {
  std::string reason;
};
using ProbeOutcome = std::variant<ProbeReport, ProbeNotRun>;

struct AdmissionVerdict {
  bool admitted = false;
  std::string verdict;                     // the report's ("pass", "warn", "fail", "could-not-run") or "not-run"
  std::string reason;                      // why, in a sentence: "failed: hbm_bandwidth, gemm_bf16_correctness"
  std::vector<std::string> failed_checks;  // names, node checks first; empty unless checks failed
  std::vector<std::string> warnings;       // checks that warned (an admitted node may have some)
};

AdmissionVerdict judge(const ProbeOutcome& outcome, int expected_gpus);

// gpu-probe's output (the pod's termination message or log) read with gpu-probe's own report schema; anything
// that is not such a report is ProbeNotRun "report does not parse: …". At most 1 MiB is read.
ProbeOutcome outcome_from_report_text(std::string_view text);

}  // namespace fleet::admission
