#pragma once
// What a probe Job and its pod say, read as the admission machine needs it (issue #11 item 3). Pure: the runner
// reads the Job and its pods from the API and hands the JSON here.
//
//   - the pod's container terminated (pass, fail, exit 2 could-not-run, a crash): ProbeEnded, whose report is the
//     termination message or, when that does not hold a whole report (over 4 KiB, or empty), the pod's log;
//   - the pod cannot start: ProbeBlocked. Pending with PodScheduled=False/Unschedulable → "pod could not be
//     scheduled: …"; a container waiting on ErrImagePull/ImagePullBackOff → "image could not be pulled: …";
//     CreateContainerError and the like → "container could not be created: …". These can clear (GPUs freed, a
//     registry back), so they end the probe only after a grace; InvalidImageName, ErrImageNeverPull, a pod the
//     kubelet rejected and a Job that failed without its pod end it at once. A pod refused because workloads hold
//     the GPUs (OutOfnvidia.com/gpu, Insufficient nvidia.com/gpu) is `gpus_busy`: no verdict, tried again later;
//   - otherwise (no pod yet, creating, running): ProbeRunning, nothing to decide yet.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "admission/probe_verdict.hpp"

namespace fleet::agent::kube {

struct ProbeRunning {};
struct ProbeBlocked {
  std::string reason;  // the ProbeNotRun reason if it does not clear
  bool final = false;  // cannot clear: no grace
  // Workloads hold the node's GPUs (the kubelet refused the pod OutOfnvidia.com/gpu, or the scheduler found
  // "Insufficient nvidia.com/gpu"): for a routine re-probe no verdict on the GPUs (the machine's GpusBusy, at
  // once); for a node not proven yet the blocked path as usual.
  bool gpus_busy = false;
};
struct ProbeEnded {
  std::string pod;
  std::optional<int> exit_code;
  std::string termination_message;
  std::string detail;  // "exit code 137 (OOMKilled)", for a probe that wrote no report
};
using ProbeJobState = std::variant<ProbeRunning, ProbeBlocked, ProbeEnded>;

// `job`: the Job object; `pods`: the items of its pod list (label job-name=<job>).
ProbeJobState read_probe_job(const nlohmann::json& job, const nlohmann::json& pods);

// The report of an ended probe: the termination message when it parses as a report, else the log (nullopt when
// it could not be read). No text at all → ProbeNotRun "the probe ended without a report (<detail>)"; text that is
// not a report → the parser's "report does not parse: …" followed by " (<detail>)".
admission::ProbeOutcome outcome_of(const ProbeEnded& ended, const std::optional<std::string>& log);

// Whether the termination message alone settles the probe (a whole report): if not, the log is read.
bool needs_log(const ProbeEnded& ended);

// A blocked probe ends when its block cannot clear or has lasted `grace` since it was first seen.
bool blocked_for_good(const ProbeBlocked& blocked, std::chrono::system_clock::time_point first_seen,
                      std::chrono::system_clock::time_point now, std::chrono::seconds grace);

}  // namespace fleet::agent::kube
