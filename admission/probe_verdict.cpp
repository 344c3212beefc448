#include "admission/probe_verdict.hpp"

#include <algorithm>

#include "common/json_text.hpp"
#include "gpu-probe/core/report_json.hpp"

namespace fleet::admission {
namespace {

using gpuprobe::CheckStatus;

// Failing and warning checks of the node and of each GPU, in report order, each name once.
void collect(const std::vector<gpuprobe::CheckResult>& checks, AdmissionVerdict& out) {
  for (const auto& c : checks) {
    auto* list = c.status == CheckStatus::kFail   ? &out.failed_checks
                 : c.status == CheckStatus::kWarn ? &out.warnings
                                                  : nullptr;
    if (!list) continue;
    if (std::find(list->begin(), list->end(), c.name) == list->end()) list->push_back(c.name);
  }
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

AdmissionVerdict judge_report(const gpuprobe::Report& r, int expected_gpus) {
  AdmissionVerdict v;
  v.verdict = std::string(gpuprobe::to_string(r.verdict));
  if (r.verdict == gpuprobe::Verdict::kCouldNotRun) {
    v.reason = "could not run: " + (r.could_not_run ? r.could_not_run->reason : std::string("no reason given"));
    return v;
  }
  collect(r.node_checks, v);
  for (const auto& g : r.gpus) collect(g.checks, v);
  if (!r.injected.empty()) {
    v.reason = "the report comes from a run with injected faults (" + joined(r.injected) + "), not a real probe";
    return v;
  }
  if (static_cast<int>(r.gpus.size()) != expected_gpus) {
    v.reason =
        "the probe saw " + std::to_string(r.gpus.size()) + " GPUs, the node has " + std::to_string(expected_gpus);
    return v;
  }
  if (r.verdict == gpuprobe::Verdict::kFail) {
    v.reason = "failed: " + (v.failed_checks.empty() ? std::string("no check named") : joined(v.failed_checks));
    return v;
  }
  v.admitted = true;
  v.reason = r.verdict == gpuprobe::Verdict::kWarn ? "passed with warnings: " + joined(v.warnings) : "passed";
  return v;
}

}  // namespace

AdmissionVerdict judge(const ProbeOutcome& outcome, int expected_gpus) {
  if (const auto* not_run = std::get_if<ProbeNotRun>(&outcome)) {
    AdmissionVerdict v;
    v.verdict = "not-run";
    v.reason = not_run->reason.empty() ? "the probe ended without a report" : not_run->reason;
    return v;
  }
  return judge_report(std::get<ProbeReport>(outcome).report, expected_gpus);
}

ProbeOutcome outcome_from_report_text(std::string_view text) {
  // A termination message may carry a line of noise after the JSON; the report is the first JSON object.
  const auto start = text.find('{');
  const auto end = text.rfind('}');
  if (start == std::string_view::npos || end == std::string_view::npos || end < start) {
    return ProbeNotRun{"report does not parse: no JSON object in the probe's output"};
  }
  auto json = parse_json_text(text.substr(start, end - start + 1));
  if (!json) return ProbeNotRun{"report does not parse: " + json.error().message};
  auto report = gpuprobe::report_from_json(*json);
  if (!report) return ProbeNotRun{"report does not parse: " + report.error().message};
  return ProbeReport{std::move(*report)};
}

}  // namespace fleet::admission
