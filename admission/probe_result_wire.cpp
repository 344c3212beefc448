#include "admission/probe_result_wire.hpp"

#include "gpu-probe/core/report_json.hpp"

namespace fleet::admission {

protocol::ProbeResult to_probe_result(const ProbeRecord& record) {
  protocol::ProbeResult r;
  r.probe_id = record.probe_id;
  r.node = record.node;
  r.trigger = std::string(to_string(record.trigger));
  r.gpu_uuids = record.gpu_uuids;
  r.started_at = record.started;
  r.finished_at = record.finished;
  r.verdict = record.verdict.verdict;
  r.admitted = record.verdict.admitted;
  r.reason = record.verdict.reason.substr(0, protocol::kMaxProbeReasonLength);
  r.failed_checks = record.verdict.failed_checks;
  if (r.failed_checks.size() > protocol::kMaxProbeChecks) r.failed_checks.resize(protocol::kMaxProbeChecks);
  if (record.report) {
    r.probe_version = record.report->probe_version;
    nlohmann::json report = gpuprobe::report_to_json(*record.report);
    // A report over the wire limit is summarized by the verdict and failing checks above rather than refused.
    if (report.dump().size() <= protocol::kMaxProbeReportBytes) r.report = std::move(report);
  }
  return r;
}

}  // namespace fleet::admission
