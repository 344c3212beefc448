#pragma once
// Probe-gated GPU node admission on a real cluster (issue #11 item 3): the admission machine
// (admission/admission_machine.hpp) fed with the cluster's nodes, and its decisions carried out through the API —
// fleet taints and the recorded admission written on the node, a gpu-probe Job per probe (probe_job.hpp), its
// pod read back into a ProbeFinished (probe_job_status.hpp), the Job deleted however the probe ended.
//
// Threading: the machine lives under a mutex and is fast (pure, in memory), so the agent's thread feeds it
// (observe() from inventory() and poll(), the operator's commands) without waiting on the network. Every API call
// runs on the runner's own thread with its own connection, which wakes when a decision asks for work and every
// `interval` to look at the Jobs in flight and retry what failed. A slow or unreachable API server therefore
// delays admission, never the agent's heartbeats; a probe stuck behind it is bounded by the machine's timeout.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "admission/admission_machine.hpp"
#include "agents/kube/admission_calls.hpp"
#include "agents/kube/kube_api.hpp"
#include "agents/kube/node_mapping.hpp"
#include "agents/kube/probe_job.hpp"
#include "common/error.hpp"
#include "protocol/probe_result.hpp"
#include "protocol/unguarded_node.hpp"

namespace fleet::agent::kube {

// A node as the inventory reports it (GPUs from DRA merged in), with what admission reads of its metadata.
struct AdmissionNode {
  model::NodeInfo info;
  NodeMeta meta;
  bool dra = false;  // its GPUs come from DRA ResourceSlices: the probe claims them through DRA
};

// The inventory's nodes with their metadata (by name) and whether their GPUs come from DRA (the nodes with
// ResourceSlice GPUs, by name).
std::vector<AdmissionNode> make_admission_nodes(const std::vector<model::NodeInfo>& nodes,
                                                const std::map<std::string, NodeMeta, std::less<>>& meta,
                                                const std::map<std::string, std::vector<model::GpuInfo>>& dra_gpus);

struct AdmissionRunnerOptions {
  ProbeJobOptions job;
  std::chrono::milliseconds interval{2000};  // how often Jobs in flight are read and failed writes retried
  // How long a probe pod may stay unschedulable or fail to pull its image before the probe ends "not run": the
  // GPUs may be freed, the registry may come back.
  std::chrono::seconds pending_grace{120};
  std::size_t page_size = 500;
  int conflict_retries = 5;
  std::function<Clock::WallTime()> now;  // the machine's time: timeouts, re-probes, records
};

struct AdmissionStats {
  int unguarded_nodes = 0;       // GPU nodes first seen without fleet.io/gpu-unverified and no recorded admission
  double unguarded_seconds = 0;  // how long those were schedulable, summed (from creationTimestamp to first sight)
  int unguarded_pods = 0;        // workload pods found on them then
  int jobs_created = 0;
  int jobs_deleted = 0;
};

// A step worth an event: probe_started, probe_blocked (its pod cannot start yet: the grace runs), probe_cancelled,
// node_admitted, node_quarantined, node_unguarded.
struct AdmissionEvent {
  Clock::WallTime at{};
  std::string type;
  std::string node;
  std::string message;
};

struct NodeAdmissionView {
  model::Admission state = model::Admission::kPendingProbe;
  int gpus = 0;
  int probes = 0;  // started on the node so far
  std::string reason;
};

class NodeAdmissionRunner {
 public:
  using ApiFactory = std::function<Result<std::unique_ptr<KubeApi>>()>;
  NodeAdmissionRunner(ApiFactory make_api, AdmissionRunnerOptions options);
  ~NodeAdmissionRunner();
  NodeAdmissionRunner(const NodeAdmissionRunner&) = delete;
  NodeAdmissionRunner& operator=(const NodeAdmissionRunner&) = delete;

  // The cluster's nodes now (all of them: a node missing here is forgotten and its probe cancelled), and the
  // served resource.k8s.io version for DRA probes. Starts the runner's thread on first call.
  void observe(const std::vector<AdmissionNode>& nodes, const std::string& dra_version);
  void tick();
  void set_policy(const admission::AdmissionPolicy& policy);

  // An operator's word (run_probe, set_node_admission). kNotFound for a node the machine does not know.
  Status request_probe(const std::string& node);
  Status admit(const std::string& node, const std::string& reason);
  Status quarantine(const std::string& node, const std::string& reason);

  bool observed() const;  // observe() has run
  std::optional<NodeAdmissionView> view(std::string_view node) const;
  std::map<std::string, model::Admission, std::less<>> admissions() const;
  std::vector<protocol::ProbeResult> take_results();
  std::vector<protocol::UnguardedNode> take_unguarded();  // for fleetd, as reported since the last call
  std::vector<AdmissionEvent> take_events();
  AdmissionStats stats() const;

 private:
  struct Start {
    ProbeJobRequest request;
  };
  struct Cancel {
    std::string probe_id;
    std::string reason;
  };
  using Action = std::variant<Start, Cancel>;
  struct Batch {
    std::vector<Action> actions;
    std::map<std::string, NodeAdmissionWrite> writes;
    std::vector<std::pair<std::string, std::optional<Clock::WallTime>>> unguarded;  // node, its creation
    ProbeJobOptions job;
  };
  // A probe Job the runner's thread looks after (only that thread touches these).
  struct Tracked {
    ProbeJobRequest request;
    std::string name;
    bool created = false;
    std::optional<Clock::WallTime> blocked_since;
  };

  // Caller holds mutex_.
  void step_locked(const admission::Input& input);
  void absorb_locked(const admission::Decision& d);
  Status operator_input_locked(const std::string& node, const admission::Input& input);

  void loop();
  void carry_out(KubeApi& api, Batch& batch);
  void write_nodes(KubeApi& api, const std::map<std::string, NodeAdmissionWrite>& writes);
  void report_unguarded(KubeApi& api, const std::string& node, std::optional<Clock::WallTime> created);
  void create_job(KubeApi& api, Tracked& job, const ProbeJobOptions& options);
  void poll_jobs(KubeApi& api, const ProbeJobOptions& options);
  void finish_probe(KubeApi& api, const Tracked& job, const admission::ProbeOutcome& outcome);
  void delete_job(KubeApi& api, const std::string& name);
  bool sweep(KubeApi& api);
  bool wait(std::chrono::milliseconds d);  // false when stopping

  ApiFactory make_api_;
  AdmissionRunnerOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  admission::AdmissionState state_;
  admission::AdmissionPolicy policy_;
  bool observed_ = false;
  std::map<std::string, AdmissionNode, std::less<>> nodes_;  // as last observed
  std::string dra_version_ = "v1";
  std::vector<Action> actions_;
  std::map<std::string, NodeAdmissionWrite, std::less<>> desired_;  // what each node should carry
  std::set<std::string, std::less<>> dirty_;                        // nodes whose write is not done yet
  std::vector<std::pair<std::string, std::optional<Clock::WallTime>>> unguarded_;
  std::vector<protocol::ProbeResult> results_;
  std::vector<protocol::UnguardedNode> unguarded_reports_;
  std::vector<AdmissionEvent> events_;
  AdmissionStats stats_;
  bool work_pending_ = false;
  bool stopping_ = false;
  KubeApi* api_ = nullptr;  // the thread's, for cancel() at shutdown

  // The runner thread's own.
  std::map<std::string, Tracked> jobs_;  // by probe id
  std::set<std::string> deletions_;      // Job names whose delete failed: retried each pass
  bool swept_ = false;

  std::thread thread_;
};

}  // namespace fleet::agent::kube
