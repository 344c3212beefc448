#pragma once
// The Kubernetes Job that runs gpu-probe on one GPU node (issue #11 item 3): what the admission machine's
// StartProbe becomes. Pure: the manifests are built here and created by node_admission_runner.cpp; the shipped
// deploy/kubernetes/gpu-probe-job.yaml documents the same shape.
//
// The pod is pinned to the node, tolerates the fleet's admission taints (the node carries
// fleet.io/gpu-unverified while it is being proven) and asks for every GPU of the node: `nvidia.com/gpu: N` from
// the device plugin, or, where the node's GPUs come from DRA ResourceSlices, a ResourceClaimTemplate whose one
// request takes all of the node's gpu.nvidia.com devices (allocationMode All).
//
// gpu-probe has no flag that sends its report both to a file and to stdout, and reads thresholds from a file
// only, so the container runs it through a short `sh -c` script (kProbeScript): the thresholds come in an
// environment variable and are written to a file, the report is written with --output, then printed on stdout
// (the pod's log, read back through the API: a 16-GPU report is ~40 KiB) and copied to /dev/termination-log
// when it fits the kubelet's 4 KiB limit (read without a second API call). gpu-probe's exit status is kept.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::agent::kube {

inline constexpr std::string_view kProbeContainer = "gpu-probe";
inline constexpr std::string_view kProbeAppLabel = "app.kubernetes.io/name";  // = "gpu-probe"
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedBy = "fleet-agent";
inline constexpr std::string_view kProbeIdKey = "fleet.io/probe-id";  // label (bounded) and annotation (full)
inline constexpr std::string_view kProbeNodeKey = "fleet.io/node";    // label (bounded) and annotation (full)
inline constexpr std::string_view kProbeTriggerKey = "fleet.io/probe-trigger";
inline constexpr std::string_view kThresholdsEnv = "FLEET_PROBE_THRESHOLDS";
inline constexpr std::string_view kDraDeviceClass = "gpu.nvidia.com";
inline constexpr std::size_t kTerminationMessageLimit = 4096;  // the kubelet's, per container
extern const std::string_view kProbeScript;

struct ProbeJobOptions {
  std::string namespace_ = "fleet-system";
  std::string image;  // empty: default_probe_image()
  std::string image_pull_policy = "IfNotPresent";
  std::chrono::seconds ttl_after_finished{3600};  // a Job the agent failed to delete goes by itself
  // The served resource.k8s.io version ("v1", "v1beta1") for a DRA node's ResourceClaimTemplate.
  std::string dra_version = "v1";
};

struct ProbeJobRequest {
  std::string node;
  std::string probe_id;
  std::string trigger;  // join | upgrade | …, recorded on the Job for people reading it
  std::string mode;     // quick | full
  int gpus = 0;         // every GPU of the node: requested, and gpu-probe's --expect-gpus
  nlohmann::json thresholds = nlohmann::json::object();  // SKU-table overrides; empty: gpu-probe's own table
  std::chrono::seconds timeout{600};                     // the admission policy's probe timeout
  bool dra = false;                                      // the node's GPUs come from DRA ResourceSlices
};

// "ghcr.io/fleetd/gpu-probe:<gpu-probe's version>".
std::string default_probe_image();

// "gpu-probe-" + the probe id made into a DNS-1123 label of at most 63 characters (a Job's pods carry its name
// in the job-name label, whose values are bounded so); a long or odd id is cut and given a hash of the whole id,
// so that distinct ids stay distinct names.
std::string probe_job_name(std::string_view probe_id);

// `text` as a label value (≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends); when it is not one, a
// cut and hashed form (the full text goes into an annotation).
std::string bounded_label_value(std::string_view text);

// gpu-probe's arguments: --quick|--full, --expect-gpus N, and --thresholds FILE when there are thresholds. The
// script adds --output.
std::vector<std::string> probe_args(const ProbeJobRequest& request);

// The batch/v1 Job.
nlohmann::json probe_job_manifest(const ProbeJobRequest& request, const ProbeJobOptions& options);

// The ResourceClaimTemplate a DRA node's probe pod claims its GPUs through (named as the Job); nullopt for a
// device-plugin node.
std::optional<nlohmann::json> probe_claim_template(const ProbeJobRequest& request, const ProbeJobOptions& options);

// API paths: the Job collection and one Job, the claim template collection of the namespace.
std::string jobs_path(std::string_view namespace_);
std::string claim_templates_path(std::string_view namespace_, std::string_view dra_version);

}  // namespace fleet::agent::kube
