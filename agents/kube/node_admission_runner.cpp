#include "agents/kube/node_admission_runner.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "admission/probe_result_wire.hpp"
#include "common/log.hpp"
#include "common/time_format.hpp"

namespace fleet::agent::kube {
namespace {

admission::ObservedNode observed_node(const AdmissionNode& n) {
  const model::NodeInfo& info = n.info;
  admission::ObservedNode o;
  o.name = info.name;
  o.gpus = static_cast<int>(info.gpus.size());
  for (const model::GpuInfo& g : info.gpus) o.gpu_uuids.push_back(g.uuid);
  o.gpus_healthy =
      std::all_of(info.gpus.begin(), info.gpus.end(), [](const model::GpuInfo& g) { return g.health == "healthy"; });
  o.kubernetes_version = info.kubernetes_version;
  o.node_image_version = info.node_image_version;
  o.driver_version = info.gpus.empty() ? "" : info.gpus.front().driver_version;
  o.taints = info.taints;
  o.recorded = n.meta.recorded_admission;
  o.recorded_last_probe = n.meta.recorded_last_probe;
  return o;
}

// An API error worth another try on the next pass (the server is down or busy), as opposed to one that will not
// change (forbidden, invalid, the namespace missing).
bool transient(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kInternal || e.code == ErrorCode::kConflict;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::vector<AdmissionNode> make_admission_nodes(const std::vector<model::NodeInfo>& nodes,
                                                const std::map<std::string, NodeMeta, std::less<>>& meta,
                                                const std::map<std::string, std::vector<model::GpuInfo>>& dra_gpus) {
  std::vector<AdmissionNode> out;
  out.reserve(nodes.size());
  for (const model::NodeInfo& n : nodes) {
    AdmissionNode a{n, {}, dra_gpus.count(n.name) > 0};
    if (auto it = meta.find(n.name); it != meta.end()) a.meta = it->second;
    out.push_back(std::move(a));
  }
  return out;
}

NodeAdmissionRunner::NodeAdmissionRunner(ApiFactory make_api, AdmissionRunnerOptions options)
    : make_api_(std::move(make_api)), options_(std::move(options)) {}

NodeAdmissionRunner::~NodeAdmissionRunner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (api_) api_->cancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// ---- the machine, on the caller's thread ----

void NodeAdmissionRunner::step_locked(const admission::Input& input) {
  absorb_locked(admission::apply(state_, input, policy_, options_.now()));
}

void NodeAdmissionRunner::absorb_locked(const admission::Decision& d) {
  const Clock::WallTime now = options_.now();
  for (const auto& t : d.transitions) {
    desired_[t.node].admission = std::string(model::to_string(t.to));
    dirty_.insert(t.node);
    if (t.to == model::Admission::kAdmitted || t.to == model::Admission::kQuarantined) {
      events_.push_back(
          {now, t.to == model::Admission::kAdmitted ? "node_admitted" : "node_quarantined", t.node, t.reason});
    }
  }
  for (const auto& t : d.taints) {
    desired_[t.node].fleet_taints = t.taints;
    dirty_.insert(t.node);
  }
  for (const auto& r : d.records) {
    results_.push_back(admission::to_probe_result(r));
    desired_[r.node].last_probe = format_rfc3339(r.finished);
    dirty_.insert(r.node);
  }
  for (const auto& c : d.cancel) {
    actions_.push_back(Cancel{c.probe_id, c.reason});
    events_.push_back({now, "probe_cancelled", c.node, c.reason});
  }
  for (const auto& s : d.start) {
    ProbeJobRequest r;
    r.node = s.node;
    r.probe_id = s.probe_id;
    r.trigger = std::string(admission::to_string(s.trigger));
    r.mode = s.mode;
    r.gpus = s.expect_gpus;
    r.thresholds = s.thresholds;
    r.timeout = policy_.probe_timeout;
    if (auto it = nodes_.find(s.node); it != nodes_.end()) r.dra = it->second.dra;
    events_.push_back({now, "probe_started", s.node, s.probe_id + " (" + r.trigger + ", " + r.mode + ")"});
    actions_.push_back(Start{std::move(r)});
  }
  for (const auto& u : d.unguarded) {
    auto it = nodes_.find(u.node);
    unguarded_.emplace_back(u.node, it == nodes_.end() ? std::nullopt : it->second.meta.created);
  }
  if (!d.empty()) {
    work_pending_ = true;
    wake_.notify_all();
  }
}

void NodeAdmissionRunner::observe(const std::vector<AdmissionNode>& nodes, const std::string& dra_version) {
  std::lock_guard lock(mutex_);
  admission::Observe in;
  nodes_.clear();
  for (const AdmissionNode& n : nodes) {
    in.nodes.push_back(observed_node(n));
    nodes_.emplace(n.info.name, n);
  }
  if (!dra_version.empty()) dra_version_ = dra_version;
  step_locked(in);
  // A node that is gone takes its pending writes with it.
  std::erase_if(desired_, [&](const auto& e) { return nodes_.find(e.first) == nodes_.end(); });
  std::erase_if(dirty_, [&](const std::string& n) { return nodes_.find(n) == nodes_.end(); });
  observed_ = true;
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void NodeAdmissionRunner::tick() {
  std::lock_guard lock(mutex_);
  if (observed_) step_locked(admission::Tick{});
}

void NodeAdmissionRunner::set_policy(const admission::AdmissionPolicy& policy) {
  std::lock_guard lock(mutex_);
  policy_ = policy;
  if (observed_) step_locked(admission::Tick{});  // a wider cap may start probes now
}

Status NodeAdmissionRunner::operator_input_locked(const std::string& node, const admission::Input& input) {
  if (state_.nodes.find(node) == state_.nodes.end()) {
    return make_error(ErrorCode::kNotFound, "node \"" + node + "\" does not exist", "payload.node");
  }
  step_locked(input);
  return Ok{};
}

Status NodeAdmissionRunner::request_probe(const std::string& node) {
  std::lock_guard lock(mutex_);
  return operator_input_locked(node, admission::ProbeRequested{node});
}

Status NodeAdmissionRunner::admit(const std::string& node, const std::string& reason) {
  std::lock_guard lock(mutex_);
  return operator_input_locked(node, admission::OperatorAdmit{node, reason});
}

Status NodeAdmissionRunner::quarantine(const std::string& node, const std::string& reason) {
  std::lock_guard lock(mutex_);
  return operator_input_locked(node, admission::OperatorQuarantine{node, reason});
}

bool NodeAdmissionRunner::observed() const {
  std::lock_guard lock(mutex_);
  return observed_;
}

std::optional<NodeAdmissionView> NodeAdmissionRunner::view(std::string_view node) const {
  std::lock_guard lock(mutex_);
  auto it = state_.nodes.find(node);
  if (it == state_.nodes.end()) return std::nullopt;
  return NodeAdmissionView{it->second.state, it->second.gpus, it->second.probes, it->second.reason};
}

std::map<std::string, model::Admission, std::less<>> NodeAdmissionRunner::admissions() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, model::Admission, std::less<>> out;
  for (const auto& [name, n] : state_.nodes) out.emplace(name, n.state);
  return out;
}

std::vector<protocol::ProbeResult> NodeAdmissionRunner::take_results() {
  std::lock_guard lock(mutex_);
  return std::exchange(results_, {});
}

std::vector<protocol::UnguardedNode> NodeAdmissionRunner::take_unguarded() {
  std::lock_guard lock(mutex_);
  return std::exchange(unguarded_reports_, {});
}

std::vector<AdmissionEvent> NodeAdmissionRunner::take_events() {
  std::lock_guard lock(mutex_);
  return std::exchange(events_, {});
}

AdmissionStats NodeAdmissionRunner::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

// ---- the API calls, on the runner's thread ----

bool NodeAdmissionRunner::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [&] { return stopping_ || work_pending_; });
  return !stopping_;
}

void NodeAdmissionRunner::loop() {
  std::unique_ptr<KubeApi> api;
  while (true) {
    if (!api) {
      auto made = make_api_();
      if (!made) {
        log::error("kubernetes: cannot create the admission client", {{"error", made.error().message}});
        if (!wait(options_.interval)) break;
        continue;
      }
      api = std::move(*made);
      std::lock_guard lock(mutex_);
      api_ = api.get();
      if (stopping_) break;
    }
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.interval, [&] { return stopping_ || work_pending_; });
      if (stopping_) break;
      work_pending_ = false;
      batch.actions = std::exchange(actions_, {});
      for (const std::string& n : dirty_) batch.writes.emplace(n, desired_[n]);
      batch.unguarded = std::exchange(unguarded_, {});
      batch.job = options_.job;
      batch.job.dra_version = dra_version_;
    }
    carry_out(*api, batch);
    poll_jobs(*api, batch.job);
    // Timeouts and due re-probes without waiting for the agent's next poll().
    std::lock_guard lock(mutex_);
    step_locked(admission::Tick{});
  }
  std::lock_guard lock(mutex_);
  api_ = nullptr;
}

void NodeAdmissionRunner::carry_out(KubeApi& api, Batch& batch) {
  // Guard first: the taints close the window in which work can land on an unproven node.
  write_nodes(api, batch.writes);
  for (const auto& [node, created] : batch.unguarded) report_unguarded(api, node, created);
  // Jobs left by an agent before this one: the machine does not know them, and a stale report must not admit.
  if (!swept_) swept_ = sweep(api);
  for (const Action& a : batch.actions) {
    if (const auto* start = std::get_if<Start>(&a)) {
      Tracked& t = jobs_[start->request.probe_id];
      t.request = start->request;
      t.name = probe_job_name(start->request.probe_id);
      create_job(api, t, batch.job);
    } else {
      const auto& cancel = std::get<Cancel>(a);
      // Cancelled: timed out, the node deleted or re-probed, an operator decided. The Job goes either way.
      auto it = jobs_.find(cancel.probe_id);
      delete_job(api, it != jobs_.end() ? it->second.name : probe_job_name(cancel.probe_id));
      if (it != jobs_.end()) jobs_.erase(it);
    }
  }
  // Deletes that failed before (delete_job puts back those that fail again).
  for (const std::string& name : std::exchange(deletions_, {})) delete_job(api, name);
}

void NodeAdmissionRunner::write_nodes(KubeApi& api, const std::map<std::string, NodeAdmissionWrite>& writes) {
  for (const auto& [node, write] : writes) {
    Status s = write_node_admission(api, node, write, options_.conflict_retries);
    if (!s && s.error().code != ErrorCode::kNotFound) {
      log::warn("kubernetes: cannot write a node's admission; retrying",
                {{"node", node}, {"error", s.error().message}});
      continue;
    }
    std::lock_guard lock(mutex_);
    // Done unless the machine asked for something else meanwhile.
    auto it = desired_.find(node);
    if (it == desired_.end() || it->second == write) dirty_.erase(node);
  }
}

void NodeAdmissionRunner::report_unguarded(KubeApi& api, const std::string& node,
                                           std::optional<Clock::WallTime> created) {
  const Clock::WallTime now = options_.now();
  auto pods = workload_pods_on(api, node, options_.page_size);
  std::optional<double> seconds;
  if (created) seconds = std::max(0.0, std::chrono::duration<double>(now - *created).count());
  std::string message = "GPU node " + node + " joined without fleet.io/gpu-unverified and was schedulable unguarded " +
                        (seconds ? "for " + std::to_string(std::llround(*seconds)) + " s" : "since it registered") +
                        "; tainted now";
  if (!pods) {
    message += "; whether pods landed on it is unknown (" + pods.error().message + ")";
  } else if (pods->empty()) {
    message += "; no pods landed on it";
  } else {
    message += "; " + plural(pods->size(), "pod", "pods") + " landed on it:";
    for (std::size_t i = 0; i < pods->size() && i < 10; ++i) message += (i ? ", " : " ") + (*pods)[i];
    if (pods->size() > 10) message += ", …";
  }
  log::warn("kubernetes: GPU node was schedulable before admission", {{"node", node}, {"message", message}});
  std::lock_guard lock(mutex_);
  ++stats_.unguarded_nodes;
  stats_.unguarded_seconds += seconds.value_or(0);
  if (pods) stats_.unguarded_pods += static_cast<int>(pods->size());
  events_.push_back({now, "node_unguarded", node, message});
  protocol::UnguardedNode report{node, now, seconds, std::nullopt, {}};
  if (pods) {
    report.pods = static_cast<int>(pods->size());
    for (std::size_t i = 0; i < pods->size() && i < protocol::kMaxUnguardedPodNames; ++i) {
      report.pod_names.push_back((*pods)[i]);
    }
  }
  unguarded_reports_.push_back(std::move(report));
}

void NodeAdmissionRunner::create_job(KubeApi& api, Tracked& t, const ProbeJobOptions& options) {
  Status s =
      create_probe_job(api, probe_job_manifest(t.request, options), probe_claim_template(t.request, options), options);
  if (s) {
    t.created = true;
    std::lock_guard lock(mutex_);
    ++stats_.jobs_created;
    return;
  }
  if (transient(s.error())) {
    // Tried again each pass (poll_jobs); the machine's timeout bounds how long.
    log::warn("kubernetes: cannot create a probe Job; retrying",
              {{"node", t.request.node}, {"job", t.name}, {"error", s.error().message}});
    return;
  }
  const Tracked failed = t;
  finish_probe(api, failed, admission::ProbeNotRun{"the probe's Job could not be created: " + s.error().message});
}

void NodeAdmissionRunner::poll_jobs(KubeApi& api, const ProbeJobOptions& options) {
  std::vector<std::string> ids;
  for (const auto& [id, t] : jobs_) ids.push_back(id);
  for (const std::string& id : ids) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    Tracked& t = it->second;
    if (!t.created) {
      create_job(api, t, options);
      continue;
    }
    auto state = read_probe_job_state(api, options.namespace_, t.name, options_.page_size);
    if (!state) {
      log::warn("kubernetes: cannot read a probe Job", {{"job", t.name}, {"error", state.error().message}});
      continue;
    }
    if (const auto* ended = std::get_if<ProbeEnded>(&*state)) {
      std::optional<std::string> log_text;
      if (needs_log(*ended)) log_text = read_probe_log(api, options.namespace_, ended->pod);
      const Tracked done = t;
      finish_probe(api, done, outcome_of(*ended, log_text));
    } else if (const auto* blocked = std::get_if<ProbeBlocked>(&*state);
               blocked && blocked->gpus_busy &&
               t.request.trigger == admission::to_string(admission::Trigger::kSchedule)) {
      // A routine re-probe of a node whose GPUs workloads hold: no verdict, the machine tries again later and the
      // Job goes. (A node not proven yet follows the blocked path below: the rule, a GPU node that cannot
      // be proven is quarantined, wins over waiting.)
      {
        std::lock_guard lock(mutex_);
        step_locked(admission::GpusBusy{t.request.node, t.request.probe_id, blocked->reason});
      }
      const std::string name = t.name;
      jobs_.erase(id);
      delete_job(api, name);
    } else if (blocked) {
      const Clock::WallTime now = options_.now();
      if (!t.blocked_since) {
        t.blocked_since = now;
        if (!blocked->final) {
          const auto grace = std::to_string(options_.pending_grace.count());
          std::lock_guard lock(mutex_);
          events_.push_back(
              {now, "probe_blocked", t.request.node, blocked->reason + "; waiting up to " + grace + " s"});
        }
      }
      if (blocked_for_good(*blocked, *t.blocked_since, now, options_.pending_grace)) {
        const Tracked done = t;
        finish_probe(api, done, admission::ProbeNotRun{blocked->reason});
      }
    } else {
      t.blocked_since.reset();
    }
  }
}

void NodeAdmissionRunner::finish_probe(KubeApi& api, const Tracked& job, const admission::ProbeOutcome& outcome) {
  {
    std::lock_guard lock(mutex_);
    step_locked(admission::ProbeFinished{job.request.node, job.request.probe_id, outcome});
  }
  // Whatever the verdict (or if the machine had given up on this probe already), the Job's work is over.
  jobs_.erase(job.request.probe_id);
  delete_job(api, job.name);
}

void NodeAdmissionRunner::delete_job(KubeApi& api, const std::string& name) {
  Status s = delete_probe_job(api, options_.job.namespace_, name);
  if (!s) {
    log::warn("kubernetes: cannot delete a probe Job; retrying", {{"job", name}, {"error", s.error().message}});
    deletions_.insert(name);
    return;
  }
  std::lock_guard lock(mutex_);
  ++stats_.jobs_deleted;
}

bool NodeAdmissionRunner::sweep(KubeApi& api) {
  auto names = list_probe_jobs(api, options_.job.namespace_, options_.page_size);
  if (!names) {
    log::warn("kubernetes: cannot list leftover probe Jobs", {{"error", names.error().message}});
    return !transient(names.error());  // forbidden: the RBAC lacks list; do not ask every pass
  }
  for (const std::string& name : *names) {
    log::info("kubernetes: deleting a probe Job left by an earlier agent", {{"job", name}});
    delete_job(api, name);
  }
  return true;
}

}  // namespace fleet::agent::kube
