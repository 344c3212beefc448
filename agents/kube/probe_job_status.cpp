#include "agents/kube/probe_job_status.hpp"

#include "agents/kube/json_fields.hpp"
#include "agents/kube/probe_job.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

// The condition of `type` whose status is "True" (or, for PodScheduled, "False"), or null.
const json& condition(const json& object, std::string_view type, std::string_view status) {
  static const json kNull;
  const json& c = find_condition(object, type);
  return str(c, "status") == status ? c : kNull;
}

const json& probe_container_status(const json& pod) {
  static const json kNull;
  const json& statuses = member(member(pod, "status"), "containerStatuses");
  if (!statuses.is_array()) return kNull;
  for (const json& s : statuses) {
    if (str(s, "name") == kProbeContainer) return s;
  }
  return kNull;
}

// One pod's state; nullopt when the pod is merely on its way (or running).
std::optional<ProbeJobState> read_pod(const json& pod) {
  const json& cs = probe_container_status(pod);
  const json& state = member(cs, "state");
  if (const json& t = member(state, "terminated"); t.is_object()) {
    ProbeEnded e;
    e.pod = str(member(pod, "metadata"), "name");
    if (const json& code = member(t, "exitCode"); code.is_number_integer()) e.exit_code = code.get<int>();
    e.termination_message = str(t, "message");
    e.detail = "exit code " + (e.exit_code ? std::to_string(*e.exit_code) : std::string("unknown"));
    if (const std::string reason = str(t, "reason"); !reason.empty()) e.detail += " (" + reason + ")";
    return e;
  }
  const std::string phase = str(member(pod, "status"), "phase");
  if (phase == "Failed") {
    // Failed before the container ran: the kubelet refused the pod (its GPUs are taken: OutOfnvidia.com/gpu), or
    // the pod was evicted. Nothing will run it again (restartPolicy Never, backoffLimit 0).
    const json& s = member(pod, "status");
    const std::string reason = str(s, "reason");
    const std::string message = str(s, "message");
    const bool busy = reason.rfind("OutOf", 0) == 0 && reason.find("gpu") != std::string::npos;
    return ProbeBlocked{"the probe's pod failed before gpu-probe ran: " + (reason.empty() ? "" : reason + ": ") +
                            (message.empty() ? "no message" : message),
                        true, busy};
  }
  if (const json& w = member(state, "waiting"); w.is_object()) {
    const std::string reason = str(w, "reason");
    if (reason == "ErrImagePull" || reason == "ImagePullBackOff") {
      return ProbeBlocked{"image could not be pulled: " + said(w, reason), false};
    }
    if (reason == "InvalidImageName" || reason == "ErrImageNeverPull") {
      return ProbeBlocked{"image could not be pulled: " + said(w, reason), true};
    }
    if (reason == "CreateContainerConfigError" || reason == "CreateContainerError" || reason == "RunContainerError") {
      return ProbeBlocked{"container could not be created: " + said(w, reason), false};
    }
  }
  if (phase == "Pending") {
    const json& unscheduled = condition(pod, "PodScheduled", "False");
    if (unscheduled.is_object() && str(unscheduled, "reason") == "Unschedulable") {
      const bool busy = str(unscheduled, "message").find("Insufficient nvidia.com/gpu") != std::string::npos;
      return ProbeBlocked{"pod could not be scheduled: " + said(unscheduled, "Unschedulable"), false, busy};
    }
  }
  return std::nullopt;
}

}  // namespace

ProbeJobState read_probe_job(const json& job, const json& pods) {
  std::optional<ProbeJobState> blocked;
  if (pods.is_array()) {
    for (const json& pod : pods) {
      auto s = read_pod(pod);
      if (!s) continue;
      if (std::holds_alternative<ProbeEnded>(*s)) return *s;  // a report, if there is one, wins
      if (!blocked) blocked = std::move(s);
    }
  }
  if (const json& failed = condition(job, "Failed", "True"); failed.is_object()) {
    // The Job gave up (its activeDeadlineSeconds passed, or its pod failed) and no pod ended with a report.
    if (blocked && std::get<ProbeBlocked>(*blocked).final) return *blocked;
    return ProbeBlocked{"the probe's Job failed: " + str(failed, "reason") + ": " + said(failed, "no message"), true};
  }
  if (blocked) return *blocked;
  if (condition(job, "Complete", "True").is_object()) {
    return ProbeBlocked{"the probe's Job completed but its pod is gone, and the report with it", true};
  }
  return ProbeRunning{};
}

bool needs_log(const ProbeEnded& ended) {
  return !std::holds_alternative<admission::ProbeReport>(
      admission::outcome_from_report_text(ended.termination_message));
}

admission::ProbeOutcome outcome_of(const ProbeEnded& ended, const std::optional<std::string>& log) {
  auto from_message = admission::outcome_from_report_text(ended.termination_message);
  if (std::holds_alternative<admission::ProbeReport>(from_message)) return from_message;
  const bool has_log = log && log->find_first_not_of(" \t\r\n") != std::string::npos;
  const bool has_message = ended.termination_message.find_first_not_of(" \t\r\n") != std::string::npos;
  if (!has_log && !has_message)
    return admission::ProbeNotRun{"the probe ended without a report (" + ended.detail + ")"};
  auto outcome = has_log ? admission::outcome_from_report_text(*log) : std::move(from_message);
  // Text that is not a report: the parser says why, the exit code says how the probe ended ("not found": 127).
  if (auto* not_run = std::get_if<admission::ProbeNotRun>(&outcome)) not_run->reason += " (" + ended.detail + ")";
  return outcome;
}

bool blocked_for_good(const ProbeBlocked& blocked, std::chrono::system_clock::time_point first_seen,
                      std::chrono::system_clock::time_point now, std::chrono::seconds grace) {
  return blocked.final || now - first_seen >= grace;
}

}  // namespace fleet::agent::kube
