#include "agents/kube/upgrade/suc_driver.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "agents/kube/kube_api.hpp"
#include "model/version.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;
using Ms = std::chrono::milliseconds;

struct SucStep {
  UpgradeContext& ctx;
  KubeApi& api;
  std::string what;     // "the control plane", "pool gpu"
  std::string version;  // the Kubernetes version, "1.32.7"
  std::string plan_path;
  std::chrono::steady_clock::time_point deadline;
  std::string pool;  // per-node progress; empty for the control plane
  std::map<std::string, bool> reported;
  std::string last_state;
  bool jobs_unreadable = false;  // the controller's Jobs answered 401/403/404 once: not asked again
};

Error timed_out(const SucStep& s) {
  return make_error(ErrorCode::kUnavailable,
                    "system-upgrade-controller: " + s.what + " did not reach " + s.version +
                        " within the step timeout (last state: " + (s.last_state.empty() ? "unknown" : s.last_state) +
                        "); the Plan stays, the controller goes on, and a later command for the same version follows "
                        "it instead of applying it again",
                    {}, "upgrade-timeout");
}

Status wait(SucStep& s, Ms delay) {
  const auto now = s.ctx.now();
  if (now >= s.deadline) return timed_out(s);
  if (!s.ctx.sleep(std::min(delay, std::chrono::duration_cast<Ms>(s.deadline - now)))) {
    return make_error(ErrorCode::kUnavailable,
                      "the agent is stopping; the Plan for " + s.what + " stays and the next agent follows it", {},
                      "agent-stopping");
  }
  if (s.ctx.now() >= s.deadline) return timed_out(s);
  return Ok{};
}

// The Plan as the API server has it; a missing one is an empty view.
Result<PlanView> get_plan(SucStep& s) {
  auto r = s.api.call("GET", s.plan_path);
  if (!r) return r.error();
  if (r->status == 404) return PlanView{};
  if (r->status < 200 || r->status >= 300) return api_error("GET", s.plan_path, *r);
  return read_plan(r->body);
}

void report(SucStep& s, const PlanView& plan) {
  int done = 0;
  std::vector<PoolNode> nodes;
  if (!s.pool.empty() && s.ctx.pool_nodes) nodes = s.ctx.pool_nodes(s.pool);
  for (const PoolNode& n : nodes) {
    if (!kubelet_at(n.kubelet_version, s.version)) continue;
    ++done;
    if (!s.reported[n.name]) {
      s.reported[n.name] = true;
      s.ctx.emit("node_upgraded", n.name, "node " + n.name + " reports v" + n.kubelet_version);
    }
  }
  if (!nodes.empty()) {
    s.ctx.update([&](protocol::CommandStatus& st) {
      st.nodes_total = static_cast<int>(nodes.size());
      st.nodes_done = done;
      for (const auto& [name, r] : s.reported) st.details[name] = "upgraded";
    });
  }
  std::string state = plan.complete.value_or(false) ? "Complete" : "InProgress";
  if (!plan.applying.empty()) {
    state += ": applying on";
    for (const std::string& n : plan.applying) state += " " + n;
  } else if (!plan.message.empty() && !plan.complete.value_or(false)) {
    state += ": " + plan.message.substr(0, 300);
  }
  if (state == s.last_state) return;
  s.last_state = state;
  s.ctx.emit("upgrade_progress", "", "system-upgrade-controller: " + s.what + ": " + state);
  s.ctx.update([&](protocol::CommandStatus& st) { st.message = s.what + " → " + s.version + ": " + state; });
}

// The node whose upgrade failed, as the command's Error, when the controller's Job for it ran out of retries. Jobs
// that cannot be read (the agent has no RBAC for them, say) are said once and left: a node that never upgrades
// still ends at the step timeout. A failed read is tried again on the next poll.
std::optional<Error> failed_node(SucStep& s, const std::string& jobs_path, const std::string& latest_version) {
  if (s.jobs_unreadable) return std::nullopt;
  auto r = s.api.call("GET", jobs_path);
  if (!r || r->status >= 500) return std::nullopt;
  if (r->status < 200 || r->status >= 300) {
    s.jobs_unreadable = true;
    s.ctx.emit("upgrade_progress", "",
               "system-upgrade-controller: its upgrade Jobs cannot be read (" +
                   api_error("GET", jobs_path, *r).message +
                   "), so a node whose upgrade fails shows only when the step times out");
    return std::nullopt;
  }
  const auto failed = failed_upgrade_job(r->body, latest_version);
  if (!failed) return std::nullopt;
  const std::string node = failed->node.empty() ? "(unnamed)" : failed->node;
  s.ctx.update([&](protocol::CommandStatus& st) { st.details[node] = "failed"; });
  std::string why = failed->reason.empty() ? "Failed" : failed->reason;
  if (!failed->message.empty()) why += ": " + failed->message.substr(0, 300);
  return make_error(ErrorCode::kInternal,
                    "system-upgrade-controller: the upgrade of node " + node + " to " + s.version + " failed (Job " +
                        failed->job + ": " + why + "), so " + s.what + " did not reach " + s.version +
                        "; the Plan stays (the controller tries the node again once the Job is deleted, and a later "
                        "command for the same version follows it instead of applying it again), and the node stays "
                        "cordoned as the controller left it",
                    {}, "upgrade-failed");
}

class SucDriver final : public UpgradeDriver {
 public:
  explicit SucDriver(SucDriverOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "system-upgrade-controller"; }

  UpgradeOutcome upgrade_control_plane(UpgradeContext& ctx, const protocol::UpgradeControlPlane& c) override {
    const std::string version = model::to_string(c.kubernetes_version);
    return run(ctx, "the control plane", "", version, control_plane_plan(version, options_.plan));
  }

  UpgradeOutcome upgrade_node_pool(UpgradeContext& ctx, const protocol::UpgradeNodePool& c) override {
    if (!c.kubernetes_version) {
      return make_error(ErrorCode::kInvalid,
                        "not supported by the system-upgrade-controller driver: a node-image upgrade (k3s and RKE2 "
                        "upgrade the Kubernetes binaries in place; the OS image is the machine owner's)",
                        "payload.nodeImageVersion", "unsupported-command");
    }
    std::vector<std::string> names;
    if (ctx.pool_nodes) {
      for (const PoolNode& n : ctx.pool_nodes(c.pool)) names.push_back(n.name);
    }
    if (names.empty()) {
      return make_error(ErrorCode::kNotFound, "pool " + c.pool + " has no nodes in the cluster", "payload.pool");
    }
    // In place: no surge node exists, so at most maxUnavailable nodes (at least one) are down at once.
    const int concurrency = std::max(1, c.max_unavailable.resolve(static_cast<int>(names.size()), false));
    const std::string version = model::to_string(*c.kubernetes_version);
    return run(ctx, "pool " + c.pool, c.pool, version, pool_plan(c.pool, names, version, concurrency, options_.plan));
  }

 private:
  UpgradeOutcome run(UpgradeContext& ctx, std::string what, std::string pool, const std::string& version,
                     const json& plan) {
    if (!ctx.kube) return make_error(ErrorCode::kInternal, "the system-upgrade-controller driver needs the kube API");
    const std::string name = plan["metadata"]["name"];
    SucStep s{ctx,
              *ctx.kube,
              std::move(what),
              version,
              suc_plan_path(name, options_.plan),
              ctx.now() + options_.step_timeout,
              std::move(pool),
              {},
              {}};
    const std::string wanted = plan["spec"]["version"];
    bool resumed = false;
    // Read, then apply or follow. A 409 (two agents racing to create the Plan across a restart, or a write that
    // lost to another) reads the Plan again after a wait and decides again, within the step's deadline.
    while (true) {
      auto current = get_plan(s);
      if (!current) return current.error();
      const UpgradeDecision d = decide_plan(*current, wanted);
      if (d == UpgradeDecision::kDone) return s.what + " is already at " + version;
      if (d == UpgradeDecision::kFollow) {
        resumed = true;
        ctx.emit("upgrade_resumed", "", "Plan " + name + " for " + wanted + " is already applied; following it");
        break;
      }
      const std::string target =
          http::with_query(s.plan_path, {{"fieldManager", options_.field_manager}, {"force", "true"}});
      auto r = s.api.call("PATCH", target, plan.dump(), kApplyPatch);
      if (!r) return r.error();
      if (r->status == 409) {
        s.last_state = "409 Conflict on apply";
        ctx.emit("upgrade_waiting", "",
                 "system-upgrade-controller: Plan " + name + " was not applied (" +
                     api_error("PATCH", s.plan_path, *r).message + "); reading it again");
        if (auto w = wait(s, options_.poll_interval); !w) return w.error();
        continue;
      }
      if (r->status < 200 || r->status >= 300) {
        Error e = api_error("PATCH", s.plan_path, *r);
        if (r->status == 404) e.message += " (is system-upgrade-controller installed, with its Plan CRD?)";
        return e;
      }
      ctx.emit("upgrade_started", "", "applied Plan " + name + " for " + wanted);
      break;
    }
    const std::string jobs_path = suc_jobs_path(name, options_.plan);
    while (true) {
      if (auto w = wait(s, options_.poll_interval); !w) return w.error();
      auto view = get_plan(s);
      if (!view) {
        if (view.error().code == ErrorCode::kUnavailable) continue;  // the API server blinked; the Plan goes on
        return view.error();
      }
      if (!view->exists) {
        return make_error(ErrorCode::kConflict,
                          "the Plan " + name + " was deleted before " + s.what + " reached " + version);
      }
      report(s, *view);
      const UpgradeDecision now = decide_plan(*view, wanted);
      if (now == UpgradeDecision::kDone) break;
      if (now == UpgradeDecision::kSend) {
        return make_error(ErrorCode::kConflict, "the Plan " + name + " was changed to " + view->spec_version +
                                                    " by someone else while it upgraded " + s.what);
      }
      if (auto failed = failed_node(s, jobs_path, view->latest_version.empty() ? wanted : view->latest_version)) {
        return *failed;
      }
    }
    if (s.pool.empty()) ctx.emit("control_plane_upgraded", "", "control plane at " + version);
    return s.what + " upgraded to " + version + " by system-upgrade-controller" +
           (resumed ? " (a Plan already applied was followed)" : "");
  }

  SucDriverOptions options_;
};

}  // namespace

std::unique_ptr<UpgradeDriver> make_suc_driver(SucDriverOptions options) {
  return std::make_unique<SucDriver>(std::move(options));
}

}  // namespace fleet::agent::kube
