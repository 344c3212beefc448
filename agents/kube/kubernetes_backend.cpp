#include "agents/kube/kubernetes_backend.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "agents/kube/admission_commands.hpp"
#include "agents/kube/commands.hpp"
#include "agents/kube/kube_api.hpp"
#include "agents/kube/manifest_url.hpp"
#include "agents/kube/node_admission_runner.hpp"
#include "agents/kube/node_informer.hpp"
#include "agents/kube/node_mapping.hpp"
#include "agents/kube/resource_slices.hpp"
#include "agents/kube/upgrade/aks_driver.hpp"
#include "agents/kube/upgrade/aksarc_driver.hpp"
#include "agents/kube/upgrade/driver_choice.hpp"
#include "agents/kube/upgrade/suc_driver.hpp"
#include "agents/kube/upgrade/upgrade_driver.hpp"
#include "agents/kube/workload_follower.hpp"
#include "common/log.hpp"
#include "model/names.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent {
namespace kube {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kResourceSlicePaths[] = {"/apis/resource.k8s.io/v1/resourceslices",
                                                    "/apis/resource.k8s.io/v1beta1/resourceslices"};

enum class Op {
  kCordonCluster,
  kCordonNode,
  kDrainNode,
  kTaintNode,
  kApply,
  kDelete,
  kRunProbe,
  kSetNodeAdmission,
  kUpgradeControlPlane,
  kUpgradeNodePool,
  kBlueGreenNodePool
};

struct Parsed {
  Op op = Op::kCordonCluster;
  bool cordon = true;
  std::string node;
  DrainRequest drain;
  TaintChange taints;
  std::vector<json> manifests;
  std::optional<std::vector<std::string>> probe_nodes;  // run_probe: nullopt → every GPU node
  bool admit = false;                                   // set_node_admission
  std::string reason;
  std::optional<protocol::UpgradeControlPlane> control_plane;  // carried out by the upgrade driver
  std::optional<protocol::UpgradeNodePool> pool_upgrade;
  std::optional<protocol::BlueGreenNodePool> blue_green;
  std::string pool;  // upgrade_node_pool, blue_green_node_pool: two of one pool conflict, of two pools do not
};

Error invalid(const std::string& field, const std::string& message) {
  return make_error(ErrorCode::kInvalid, field + ": " + message, field, "invalid-field");
}

Error unsupported(protocol::CommandKind kind, std::string_view why) {
  return make_error(ErrorCode::kInvalid,
                    "not supported by the kubernetes backend: " + std::string(protocol::to_string(kind)) + " (" +
                        std::string(why) + ")",
                    "kind", "unsupported-command");
}

// The manifests' API paths are known only here (the default namespace is the connection's).
Result<std::vector<json>> checked_manifests(const protocol::Manifests& m, const std::string& default_namespace) {
  for (std::size_t i = 0; i < m.objects.size(); ++i) {
    if (auto ref = object_ref(m.objects[i], default_namespace); !ref) {
      return invalid("payload.manifests[" + std::to_string(i) + "]", ref.error().message);
    }
  }
  return m.objects;
}

// What a worker runs for a command whose payload parsed.
struct Planner {
  const KubernetesBackendOptions& options;
  const std::string& default_namespace;
  bool has_driver = false;
  std::string no_driver_why;  // why upgrades are refused without a driver
  std::string no_pools_why;   // why blue-green pools are refused: empty when the driver creates and deletes pools

  Result<Parsed> operator()(const protocol::UpgradeControlPlane& c) const {
    if (!has_driver) return unsupported(protocol::CommandKind::kUpgradeControlPlane, no_driver_why);
    Parsed out;
    out.op = Op::kUpgradeControlPlane;
    out.control_plane = c;
    return out;
  }
  Result<Parsed> operator()(const protocol::UpgradeNodePool& c) const {
    if (!has_driver) return unsupported(protocol::CommandKind::kUpgradeNodePool, no_driver_why);
    Parsed out;
    out.op = Op::kUpgradeNodePool;
    out.pool_upgrade = c;
    out.pool = c.pool;
    return out;
  }
  Result<Parsed> operator()(const protocol::RunProbe& c) const {
    if (!options.gpu_admission) return admission_off(protocol::CommandKind::kRunProbe);
    Parsed out;
    out.op = Op::kRunProbe;
    out.probe_nodes = c.nodes;
    return out;
  }
  Result<Parsed> operator()(const protocol::CordonCluster& c) const {
    Parsed out;
    out.op = Op::kCordonCluster;
    out.cordon = c.cordon;
    return out;
  }
  Result<Parsed> operator()(const protocol::CordonNode& c) const {
    Parsed out;
    out.op = Op::kCordonNode;
    out.node = c.node;
    out.cordon = c.cordon;
    return out;
  }
  Result<Parsed> operator()(const protocol::DrainNode& c) const {
    Parsed out;
    out.op = Op::kDrainNode;
    out.node = c.node;
    out.drain.node = c.node;
    out.drain.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.drain_timeout);
    if (c.timeout_seconds) out.drain.timeout = std::chrono::milliseconds(std::llround(*c.timeout_seconds * 1000));
    out.drain.grace_period_seconds = c.grace_period_seconds;
    return out;
  }
  Result<Parsed> operator()(const protocol::TaintNode& c) const {
    Parsed out;
    out.op = Op::kTaintNode;
    out.node = c.node;
    out.taints = TaintChange{c.node, c.add, c.remove};
    return out;
  }
  Result<Parsed> operator()(const protocol::SetNodeAdmission& c) const {
    if (!options.gpu_admission) return admission_off(protocol::CommandKind::kSetNodeAdmission);
    Parsed out;
    out.op = Op::kSetNodeAdmission;
    out.node = c.node;
    out.admit = c.admit;
    out.reason = c.reason;
    return out;
  }
  // Blue-green pools need a driver that creates and deletes node pools (aks: agentPools PUT and DELETE); with
  // another the command is refused at start, naming what is missing, and the run's member fails cleanly with
  // nothing changed on the cluster.
  Result<Parsed> operator()(const protocol::BlueGreenNodePool& c) const {
    if (!no_pools_why.empty()) return unsupported(protocol::CommandKind::kBlueGreenNodePool, no_pools_why);
    Parsed out;
    out.op = Op::kBlueGreenNodePool;
    out.blue_green = c;
    out.pool = c.pool;
    return out;
  }
  static Error admission_off(protocol::CommandKind kind) {
    return unsupported(kind, "GPU node admission is off in this agent (gpu_admission), so no gpu-probe Job runs");
  }
  Result<Parsed> operator()(const protocol::ApplyWorkload& c) const { return workload(Op::kApply, c); }
  Result<Parsed> operator()(const protocol::DeleteWorkload& c) const { return workload(Op::kDelete, c); }

  Result<Parsed> workload(Op op, const protocol::Manifests& m) const {
    auto manifests = checked_manifests(m, default_namespace);
    if (!manifests) return manifests.error();
    Parsed out;
    out.op = op;
    out.manifests = std::move(*manifests);
    return out;
  }
};

class KubernetesBackend final : public ClusterBackend {
 public:
  KubernetesBackend(KubernetesBackendOptions options, KubeConnection connection, std::unique_ptr<KubeApi> api,
                    std::unique_ptr<UpgradeDriver> upgrade_driver)
      : options_(std::move(options)),
        connection_(std::move(connection)),
        api_(std::move(api)),
        upgrade_driver_(std::move(upgrade_driver)),
        informer_([this] { return make_api(); },
                  InformerOptions{options_.list_page_size, options_.watch_timeout, options_.watch_retry,
                                  NodeMappingOptions{options_.cluster_name, options_.gpu_uuid_seed}}),
        workloads_(WorkloadFollowerOptions{options_.workload_status_interval, options_.list_page_size}) {
    if (!options_.gpu_admission) return;
    AdmissionRunnerOptions a;
    a.job.namespace_ = options_.probe_namespace;
    a.job.image = options_.probe_image;
    a.job.ttl_after_finished = options_.probe_job_ttl;
    a.interval = options_.admission_interval;
    a.pending_grace = options_.probe_pending_grace;
    a.page_size = options_.list_page_size;
    a.conflict_retries = options_.conflict_retries;
    a.now = [this] {
      return fleet::Clock::WallTime(
          std::chrono::duration_cast<fleet::Clock::WallTime::duration>(std::chrono::duration<double>(now())));
    };
    admission_ = std::make_unique<NodeAdmissionRunner>([this] { return make_api(); }, std::move(a));
  }

  ~KubernetesBackend() override {
    admission_.reset();  // its thread first: it calls make_api() and now() of this object
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (KubeApi* api : worker_apis_) api->cancel();
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  std::string_view name() const override { return "kubernetes"; }

  Result<model::ClusterInventory> inventory() override {
    // /version first: it is the cheapest call, and a wrong CA, a bad token or a down server show up here.
    auto version = api_->get("/version");
    if (!version) return version.error();
    if (auto s = informer_.ensure_synced(*api_); !s) return s.error();
    refresh_resource_slices();

    model::ClusterInventory inv;
    std::string git = version->value("gitVersion", "");
    if (!git.empty() && git.front() == 'v') git.erase(0, 1);
    inv.kubernetes_version = version_token(git);
    inv.nodes = current_nodes();
    if (admission_) {
      // The machine's word over the taints': it knows a node is probing, and a taint it just asked for may not
      // have come back through the watch yet.
      admission_->observe(admission_nodes(inv.nodes), dra_version());
      const auto states = admission_->admissions();
      for (model::NodeInfo& n : inv.nodes) {
        if (auto it = states.find(n.name); it != states.end()) n.admission = it->second;
      }
    }
    inv.node_image_version = dominant_image(inv.nodes);
    model::canonicalize(inv);
    if (auto s = model::validate_inventory(inv); !s) {
      return make_error(ErrorCode::kInternal, "the inventory read from the cluster is not valid: " + s.error().message);
    }
    return inv;
  }

  Result<StartResult> start(const protocol::Command& command) override {
    std::lock_guard lock(mutex_);
    if (auto it = commands_.find(command.id); it != commands_.end()) {
      if (!(it->second.command == command)) {
        return make_error(ErrorCode::kConflict, "command id \"" + command.id + "\" was used for another command", "id",
                          "command-conflict");
      }
      return StartResult{false, it->second.status};
    }
    Planner planner{options_, connection_.default_namespace, upgrade_driver_ != nullptr, {}, {}};
    const bool upgrade = command.kind() == protocol::CommandKind::kUpgradeControlPlane ||
                         command.kind() == protocol::CommandKind::kUpgradeNodePool ||
                         command.kind() == protocol::CommandKind::kBlueGreenNodePool;
    if (upgrade && !upgrade_driver_) planner.no_driver_why = no_driver_why();
    if (command.kind() == protocol::CommandKind::kBlueGreenNodePool) {
      if (!upgrade_driver_) {
        planner.no_pools_why = planner.no_driver_why;
      } else if (!upgrade_driver_->replaces_node_pools()) {
        planner.no_pools_why = "the " + upgrade_driver_->name() +
                               " upgrade driver cannot create or delete node pools; blue-green pools run on AKS (the "
                               "aks driver) and fleet-sim";
      }
    }
    auto parsed = std::visit(planner, command.payload);
    if (!parsed) return parsed.error();
    if (!parsed->node.empty() && informer_.synced() && !informer_.has_node(parsed->node)) {
      return make_error(ErrorCode::kNotFound, "node \"" + parsed->node + "\" does not exist", "payload.node");
    }
    if (parsed->op == Op::kRunProbe || parsed->op == Op::kSetNodeAdmission) {
      return start_admission_locked(command, std::move(*parsed));
    }
    const std::string kind(protocol::to_string(command.kind()));
    for (const auto& [id, entry] : commands_) {
      if (entry.status.state != protocol::CommandState::kRunning || entry.command.kind() != command.kind()) continue;
      if (entry.parsed.node == parsed->node && entry.parsed.pool == parsed->pool && parsed->op != Op::kApply &&
          parsed->op != Op::kDelete) {
        return make_error(
            ErrorCode::kConflict,
            "command " + id + " (" + kind + (parsed->node.empty() ? "" : " " + parsed->node) + ") is still running", {},
            "command-conflict");
      }
    }
    Entry entry;
    entry.command = command;
    entry.parsed = std::move(*parsed);
    entry.status.id = command.id;
    entry.status.kind = kind;
    entry.status.state = protocol::CommandState::kRunning;
    entry.status.message = "queued";
    entry.status.started_at = now();
    entry.status.nodes_total = entry.parsed.node.empty() ? 0 : 1;
    auto [it, inserted] = commands_.emplace(command.id, std::move(entry));
    queue_.push_back(command.id);
    if (workers_.size() < static_cast<std::size_t>(std::max(1, options_.workers))) {
      workers_.emplace_back([this] { worker_loop(); });
    }
    wake_.notify_one();
    return StartResult{true, it->second.status};
  }

  std::vector<protocol::CommandEvent> poll() override {
    if (admission_ && informer_.synced()) {
      // From the informer's cache: no network call on the agent's thread.
      admission_->observe(admission_nodes(current_nodes()), dra_version());
      admission_->tick();
    }
    std::lock_guard lock(mutex_);
    if (admission_) collect_admission_locked();
    return std::exchange(events_, {});
  }

  std::optional<std::chrono::milliseconds> progress_due() const {
    std::lock_guard lock(mutex_);
    if (!events_.empty()) return std::chrono::milliseconds(0);
    for (const auto& [id, entry] : commands_) {
      if (entry.status.state == protocol::CommandState::kRunning) return options_.progress_check;
    }
    return std::nullopt;
  }

  std::optional<protocol::CommandStatus> status(std::string_view command_id) const override {
    std::lock_guard lock(mutex_);
    auto it = commands_.find(command_id);
    if (it == commands_.end()) return std::nullopt;
    return it->second.status;
  }

  std::vector<protocol::ProbeResult> take_probe_results() override {
    return admission_ ? admission_->take_results() : std::vector<protocol::ProbeResult>{};
  }
  std::vector<protocol::UnguardedNode> take_unguarded_nodes() override {
    return admission_ ? admission_->take_unguarded() : std::vector<protocol::UnguardedNode>{};
  }
  std::vector<protocol::WorkloadStatus> take_workload_statuses() override {
    return workloads_.refresh(*api_, Clock::now());
  }
  void set_admission_policy(const admission::AdmissionPolicy& policy) override {
    if (admission_) admission_->set_policy(policy);
  }

  std::optional<KubernetesAdmissionStats> admission_stats() const {
    if (!admission_) return std::nullopt;
    const AdmissionStats s = admission_->stats();
    return KubernetesAdmissionStats{s.unguarded_nodes, s.unguarded_seconds, s.unguarded_pods, s.jobs_created,
                                    s.jobs_deleted};
  }

 private:
  struct Entry {
    protocol::Command command;
    Parsed parsed;
    protocol::CommandStatus status;
    // run_probe: each node's probe count when the command started; the node is done once a later probe ended.
    std::map<std::string, int, std::less<>> probes_before;
  };

  // The nodes as the inventory reports them: the informer's, with GPUs from ResourceSlices where there are any.
  // On the agent's thread (dra_gpus_ is its).
  std::vector<model::NodeInfo> current_nodes() const {
    std::vector<model::NodeInfo> nodes = informer_.nodes();
    for (model::NodeInfo& n : nodes) {
      if (auto it = dra_gpus_.find(n.name); it != dra_gpus_.end()) apply_dra_gpus(n, it->second);
    }
    return nodes;
  }

  std::vector<AdmissionNode> admission_nodes(const std::vector<model::NodeInfo>& nodes) const {
    return make_admission_nodes(nodes, informer_.node_meta(), dra_gpus_);
  }

  // "v1" or "v1beta1": the resource.k8s.io version ResourceSlices were found at.
  std::string dra_version() const { return slice_path_.find("/v1beta1/") != std::string::npos ? "v1beta1" : "v1"; }

  static double seconds_of(fleet::Clock::WallTime t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  }

  // run_probe and set_node_admission, carried out by the admission machine (as the sim does). Caller holds mutex_.
  Result<StartResult> start_admission_locked(const protocol::Command& command, Parsed parsed);
  // Admission's events, each attributed to the run_probe waiting on its node, then run_probe commands whose
  // nodes are all admitted or quarantined are finished. Caller holds mutex_.
  void collect_admission_locked();
  std::string waiting_run_probe_locked(std::string_view node) const;

  double now() const {
    if (options_.clock) return options_.clock();
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  Result<std::unique_ptr<KubeApi>> make_api() const { return KubeApi::create(connection_, options_.request_timeout); }

  // Caller holds mutex_.
  void emit_locked(const std::string& command_id, std::string type, std::string node, std::string message) {
    events_.push_back(protocol::CommandEvent{now(), command_id, std::move(type), std::move(node), std::move(message)});
  }

  void refresh_resource_slices() {
    const auto t = Clock::now();
    if (slices_read_ && t - slices_read_at_ < options_.resource_slice_refresh) return;
    const std::string selector = "spec.driver=" + std::string(kNvidiaDraDriver);
    for (std::string_view path : kResourceSlicePaths) {
      if (!slice_path_.empty() && slice_path_ != path) continue;
      auto list = api_->list(http::with_query(path, {{"fieldSelector", selector}}), options_.list_page_size);
      if (!list && list.error().code == ErrorCode::kNotFound) continue;  // this version (or DRA) is not served
      slices_read_ = true;
      slices_read_at_ = t;
      if (!list) {
        // Keep the last known devices: a transient error should not make GPUs vanish from the fleet's view.
        log::warn("kubernetes: cannot list ResourceSlices", {{"error", list.error().message}});
        return;
      }
      slice_path_ = std::string(path);
      dra_gpus_ = gpus_from_resource_slices(*list);
      return;
    }
    // Neither v1 nor v1beta1: the cluster does not serve DRA (or the version moved); look again next time.
    slices_read_ = true;
    slices_read_at_ = t;
    slice_path_.clear();
    dra_gpus_.clear();
  }

  void worker_loop() {
    std::unique_ptr<KubeApi> api;
    while (true) {
      std::string id;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        id = queue_.front();
        queue_.pop_front();
      }
      if (!api) {
        auto made = make_api();
        if (!made) {
          finish(id, made.error());
          continue;
        }
        api = std::move(*made);
        std::lock_guard lock(mutex_);
        worker_apis_.push_back(api.get());
        if (stopping_) api->cancel();
      }
      execute(id, *api);
    }
    std::lock_guard lock(mutex_);
    std::erase(worker_apis_, api.get());
  }

  void finish(const std::string& id, const Outcome& outcome) {
    std::lock_guard lock(mutex_);
    protocol::CommandStatus& st = commands_.at(id).status;
    st.state = outcome ? protocol::CommandState::kSucceeded : protocol::CommandState::kFailed;
    st.message = outcome ? *outcome : outcome.error().message;
    st.finished_at = now();
    emit_locked(id, outcome ? "command_succeeded" : "command_failed", "", st.message);
  }

  void execute(const std::string& id, KubeApi& api) {
    Parsed p;
    {
      std::lock_guard lock(mutex_);
      Entry& e = commands_.at(id);
      p = e.parsed;
      e.status.message = "running";
      emit_locked(id, "command_started", p.node, std::string(protocol::to_string(e.command.kind())));
    }
    CommandContext ctx{api,
                       options_.field_manager,
                       connection_.default_namespace,
                       options_.eviction_retry,
                       options_.pod_poll_interval,
                       options_.list_page_size,
                       options_.conflict_retries,
                       [&](const std::string& type, const std::string& node, const std::string& message) {
                         std::lock_guard lock(mutex_);
                         emit_locked(id, type, node, message);
                       },
                       [&](const std::function<void(protocol::CommandStatus&)>& change) {
                         std::lock_guard lock(mutex_);
                         change(commands_.at(id).status);
                       },
                       [&](std::chrono::milliseconds d) {
                         std::unique_lock lock(mutex_);
                         wake_.wait_for(lock, d, [&] { return stopping_; });
                         return !stopping_;
                       }};
    Outcome outcome = std::string();
    switch (p.op) {
      case Op::kCordonCluster:
        outcome = run_cordon_cluster(ctx, p.cordon);
        break;
      case Op::kCordonNode:
        outcome = run_cordon_node(ctx, p.node, p.cordon);
        break;
      case Op::kDrainNode:
        outcome = run_drain_node(ctx, p.drain);
        break;
      case Op::kTaintNode:
        outcome = run_taint_node(ctx, p.taints);
        break;
      case Op::kApply:
        outcome = run_apply(ctx, p.manifests);
        workloads_.touch();
        break;
      case Op::kDelete:
        outcome = run_delete(ctx, p.manifests);
        workloads_.touch();
        break;
      case Op::kUpgradeControlPlane:
      case Op::kUpgradeNodePool:
      case Op::kBlueGreenNodePool:
        outcome = run_upgrade(ctx, p);
        break;
      case Op::kRunProbe:
      case Op::kSetNodeAdmission:
        break;  // carried out by the admission machine at start(), never queued for a worker
    }
    finish(id, outcome);
  }

  // Through the driver, with the same event and status plumbing as every other command; per-node progress
  // comes from the node cache, so following an upgrade costs the API server nothing.
  Outcome run_upgrade(CommandContext& ctx, const Parsed& p) {
    // A blue-green pool's cordons and drains go through the same bodies as cordon_node and drain_node, with the
    // command's own status counting nodes: theirs (one node each) only add details.
    CommandContext node_ctx = ctx;
    node_ctx.update = [&ctx](const std::function<void(protocol::CommandStatus&)>& change) {
      ctx.update([&](protocol::CommandStatus& st) {
        protocol::CommandStatus copy = st;
        change(copy);
        st.details = std::move(copy.details);
      });
    };
    UpgradeContext u{
        ctx.emit,
        ctx.update,
        ctx.sleep,
        [] { return std::chrono::steady_clock::now(); },
        [this](const std::string& pool) { return pool_nodes(pool); },
        &ctx.api,
        [&node_ctx](const std::string& node, bool cordon) { return run_cordon_node(node_ctx, node, cordon); },
        [&node_ctx, this](const std::string& node) {
          DrainRequest d;
          d.node = node;
          d.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.drain_timeout);
          return run_drain_node(node_ctx, d);
        },
        [] { return std::chrono::system_clock::now(); }};
    if (p.control_plane) return upgrade_driver_->upgrade_control_plane(u, *p.control_plane);
    if (p.blue_green) return upgrade_driver_->blue_green_node_pool(u, *p.blue_green);
    return upgrade_driver_->upgrade_node_pool(u, *p.pool_upgrade);
  }

  // A pool's nodes from the node cache, with the admission machine's word on each. A GPU node the machine has not
  // seen yet (it sees the cache on the agent's next inventory) is pending: a new GPU node is never taken for
  // admitted before its probe.
  std::vector<PoolNode> pool_nodes(const std::string& pool) const {
    const auto states = admission_ ? admission_->admissions() : std::map<std::string, model::Admission, std::less<>>();
    std::vector<PoolNode> out;
    for (const model::NodeInfo& n : informer_.nodes()) {
      if (pool != kEveryPool && n.pool != pool) continue;
      PoolNode node{n.name, n.kubernetes_version, n.node_image_version, n.capacity.gpus > 0 || !n.gpus.empty(),
                    model::Admission::kAdmitted};
      if (auto it = states.find(n.name); it != states.end()) {
        node.admission = it->second;
      } else if (admission_ && node.gpu) {
        node.admission = model::Admission::kPendingProbe;
      }
      out.push_back(std::move(node));
    }
    return out;
  }

  // Why upgrades are refused, with what the node cache tells about the cluster (an AKS node label).
  std::string no_driver_why() const {
    bool aks = false;
    bool k3s = false;
    const bool read = informer_.synced();
    if (read) {
      for (const model::NodeInfo& n : informer_.nodes()) {
        aks = aks || n.labels.count(std::string(kAksClusterLabel)) > 0;
        k3s = k3s || n.kubernetes_version.find("+k3s") != std::string::npos ||
              n.kubernetes_version.find("+rke2") != std::string::npos;
      }
    }
    return choose_upgrade_driver(options_.upgrade_driver, false, false, seen_cluster(aks, k3s, read)).why;
  }

  KubernetesBackendOptions options_;
  KubeConnection connection_;
  std::unique_ptr<KubeApi> api_;                   // inventory()'s, on the agent's thread
  std::unique_ptr<UpgradeDriver> upgrade_driver_;  // null: upgrades are refused (no_driver_why)
  NodeInformer informer_;

  // ResourceSlices, refreshed by inventory() on the agent's thread.
  std::map<std::string, std::vector<model::GpuInfo>> dra_gpus_;
  std::string slice_path_;  // the served version's path, once found
  bool slices_read_ = false;
  Clock::time_point slices_read_at_{};

  std::unique_ptr<NodeAdmissionRunner> admission_;  // null with gpu_admission off
  WorkloadFollower workloads_;                      // read back on the agent's thread; touched by the workers

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Entry, std::less<>> commands_;
  std::deque<std::string> queue_;
  std::vector<protocol::CommandEvent> events_;
  std::vector<std::thread> workers_;
  std::vector<KubeApi*> worker_apis_;
  bool stopping_ = false;
};

Result<StartResult> KubernetesBackend::start_admission_locked(const protocol::Command& command, Parsed parsed) {
  if (!informer_.synced()) {
    return make_error(ErrorCode::kUnavailable, "the cluster's nodes have not been read yet; try again", {},
                      "not-ready");
  }
  // The machine decides on the nodes as the cache has them now (no network call here).
  admission_->observe(admission_nodes(current_nodes()), dra_version());
  const bool probe = parsed.op == Op::kRunProbe;
  auto nodes = admission_command_nodes(*admission_, probe, parsed.probe_nodes, parsed.node);
  if (!nodes) return nodes.error();
  for (const std::string& n : *nodes) {
    if (std::string id = waiting_run_probe_locked(n); !id.empty()) {
      return make_error(ErrorCode::kConflict, "command " + id + " (run_probe) is still probing node " + n, {},
                        "command-conflict");
    }
  }
  Entry entry;
  entry.command = command;
  entry.parsed = std::move(parsed);
  const Parsed& p = entry.parsed;
  protocol::CommandStatus& st = entry.status;
  st.id = command.id;
  st.kind = std::string(protocol::to_string(command.kind()));
  st.started_at = now();
  st.nodes_total = static_cast<int>(nodes->size());
  st.state = protocol::CommandState::kSucceeded;
  if (!probe) {
    // The operator's word, carried out by the machine at once (it cancels a probe in flight); the taints follow
    // on the admission thread.
    Status s = p.admit ? admission_->admit(p.node, p.reason) : admission_->quarantine(p.node, p.reason);
    if (!s) return s.error();
    st.message = "node " + p.node + (p.admit ? " admitted" : " quarantined") + " by an operator: " + p.reason;
    st.nodes_done = 1;
    st.details[p.node] = p.admit ? "admitted" : "quarantined";
  } else if (nodes->empty()) {
    st.message = "no GPU nodes to probe";
  } else {
    auto before = request_probes(*admission_, *nodes);
    if (!before) return before.error();
    entry.probes_before = std::move(*before);
    st.state = protocol::CommandState::kRunning;
    st.message = "probing " + std::to_string(nodes->size()) + " nodes";
  }
  emit_locked(command.id, "command_started", probe ? "" : p.node, st.kind);
  if (st.state != protocol::CommandState::kRunning) {
    st.finished_at = now();
    emit_locked(command.id, "command_succeeded", "", st.message);
  }
  auto [it, inserted] = commands_.emplace(command.id, std::move(entry));
  return StartResult{true, it->second.status};
}

std::string KubernetesBackend::waiting_run_probe_locked(std::string_view node) const {
  for (const auto& [id, e] : commands_) {
    if (e.status.state == protocol::CommandState::kRunning && e.probes_before.count(node) &&
        !e.status.details.count(std::string(node))) {
      return id;
    }
  }
  return {};
}

void KubernetesBackend::collect_admission_locked() {
  for (AdmissionEvent& e : admission_->take_events()) {
    const std::string command = e.type == "node_unguarded" ? std::string() : waiting_run_probe_locked(e.node);
    events_.push_back(
        protocol::CommandEvent{seconds_of(e.at), command, std::move(e.type), std::move(e.node), std::move(e.message)});
  }
  for (auto& [id, e] : commands_) {
    if (e.status.state != protocol::CommandState::kRunning || e.probes_before.empty()) continue;
    if (!settle_run_probe(*admission_, e.probes_before, e.status)) continue;
    e.status.finished_at = now();
    emit_locked(id, e.status.nodes_failed > 0 ? "command_failed" : "command_succeeded", "", e.status.message);
  }
}

}  // namespace
}  // namespace kube

std::optional<KubernetesAdmissionStats> kubernetes_admission_stats(const ClusterBackend& backend) {
  const auto* k = dynamic_cast<const kube::KubernetesBackend*>(&backend);
  return k ? k->admission_stats() : std::nullopt;
}

std::optional<std::chrono::milliseconds> kubernetes_progress_due(const ClusterBackend& backend) {
  const auto* k = dynamic_cast<const kube::KubernetesBackend*>(&backend);
  return k ? k->progress_due() : std::nullopt;
}

namespace {

// The aks or aksarc driver from the agent's options, the workload identity filled in from the webhook's variables.
Result<std::unique_ptr<kube::UpgradeDriver>> make_arm_upgrade_driver(const AksUpgradeOptions& o, bool arc) {
  auto cluster = arc ? kube::parse_connected_cluster_id(o.arc_cluster_id) : kube::parse_aks_cluster_id(o.cluster_id);
  if (!cluster) return cluster.error();
  const auto env = [&](const char* name) -> const char* {
    const std::string_view n(name);
    const std::string& given = n == "AZURE_AUTHORITY_HOST" ? o.authority
                               : n == "AZURE_TENANT_ID"    ? o.tenant_id
                               : n == "AZURE_CLIENT_ID"    ? o.client_id
                                                           : o.federated_token_file;
    return given.empty() ? std::getenv(name) : given.c_str();
  };
  auto id = kube::workload_identity_from_env(env);
  if (!id) return id.error();
  if (o.poll_interval.count() <= 0 || o.poll_cap.count() <= 0 || o.busy_retry.count() <= 0 ||
      o.step_timeout.count() <= 0 || o.poll_floor.count() < 0) {
    return make_error(ErrorCode::kInvalid, std::string(arc ? "aksarc" : "aks") +
                                               " upgrade driver: intervals and the step timeout must be positive");
  }
  kube::EntraTokenOptions t;
  t.identity = std::move(*id);
  t.ca_file = o.ca_file;
  kube::ArmClientOptions arm;
  arm.endpoint = o.arm_endpoint;
  arm.ca_file = o.ca_file;
  auto tokens = kube::make_entra_token_source(std::move(t));
  const kube::ArmPolling polling{o.poll_interval, o.poll_floor, o.poll_cap, o.busy_retry};
  if (arc) {
    return kube::make_aksarc_driver({std::move(*cluster), std::move(arm), std::move(tokens), polling, o.step_timeout});
  }
  kube::AksDriverOptions d;
  d.cluster = std::move(*cluster);
  d.arm = std::move(arm);
  d.tokens = std::move(tokens);
  d.disable_auto_upgrade = o.disable_auto_upgrade;
  d.honor_planned_maintenance = o.honor_planned_maintenance;
  d.polling = polling;
  d.step_timeout = o.step_timeout;
  return kube::make_aks_driver(std::move(d));
}

}  // namespace

Result<std::unique_ptr<ClusterBackend>> make_kubernetes_backend(const KubernetesBackendOptions& options) {
  if (options.drain_timeout.count() <= 0 || options.eviction_retry.count() <= 0 ||
      options.request_timeout.count() <= 0 || options.watch_timeout.count() <= 0 ||
      options.pod_poll_interval.count() <= 0 || options.list_page_size == 0 || options.workers < 1 ||
      options.conflict_retries < 0) {
    return make_error(ErrorCode::kInvalid,
                      "kubernetes backend: timeouts, intervals, page size and workers must be "
                      "positive");
  }
  if (options.field_manager.empty()) {
    return make_error(ErrorCode::kInvalid, "kubernetes backend: the field manager must not be empty");
  }
  Result<kube::KubeConnection> connection =
      options.connection            ? Result<kube::KubeConnection>(*options.connection)
      : !options.kubeconfig.empty() ? kube::load_kubeconfig(options.kubeconfig, options.context)
                                    : kube::in_cluster_connection([](const char* n) { return std::getenv(n); });
  if (!connection) return connection.error();
  const std::string& flag = options.upgrade_driver;
  if (flag != "auto" && flag != "aks" && flag != "aksarc" && flag != "system-upgrade-controller" && flag != "none") {
    return make_error(ErrorCode::kInvalid,
                      "kubernetes backend: the upgrade driver must be auto, aks, aksarc, system-upgrade-controller or "
                      "none, not \"" +
                          flag + "\"");
  }
  std::unique_ptr<kube::UpgradeDriver> driver;
  const auto kind = kube::choose_upgrade_driver(flag, !options.aks.cluster_id.empty(),
                                                !options.aks.arc_cluster_id.empty(), kube::SeenCluster::kUnknown)
                        .kind;
  if (kind == kube::UpgradeDriverKind::kAks || kind == kube::UpgradeDriverKind::kAksArc) {
    auto made = make_arm_upgrade_driver(options.aks, kind == kube::UpgradeDriverKind::kAksArc);
    if (!made) return made.error();
    driver = std::move(*made);
  }
  if (kind == kube::UpgradeDriverKind::kSystemUpgradeController) {
    const SucUpgradeOptions& o = options.suc;
    if (o.poll_interval.count() <= 0 || o.step_timeout.count() <= 0 || o.namespace_.empty() ||
        o.upgrade_image.empty()) {
      return make_error(ErrorCode::kInvalid,
                        "system-upgrade-controller driver: the namespace, the upgrade image, the poll interval and "
                        "the step timeout must be set");
    }
    kube::SucDriverOptions d;
    d.plan.namespace_ = o.namespace_;
    d.plan.service_account = o.service_account;
    d.plan.upgrade_image = o.upgrade_image;
    d.plan.version_suffix = o.version_suffix;
    d.field_manager = options.field_manager;
    d.poll_interval = o.poll_interval;
    d.step_timeout = o.step_timeout;
    driver = kube::make_suc_driver(std::move(d));
  }
  auto api = kube::KubeApi::create(*connection, options.request_timeout);
  if (!api) return api.error();
  return std::unique_ptr<ClusterBackend>(
      std::make_unique<kube::KubernetesBackend>(options, std::move(*connection), std::move(*api), std::move(driver)));
}

}  // namespace fleet::agent
