#include "agents/kube/upgrade/suc_driver.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agents/kube/kube_api.hpp"
#include "common/time_format.hpp"
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
  s.ctx.update([&](protocol::CommandStatus& st) {
    st.details[node] = "failed";
    st.nodes_failed = std::max(st.nodes_failed, 1);
  });
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

// What one step asks of the controller.
struct SucRequest {
  std::string what;     // "the control plane", "pool gpu"
  std::string pool;     // empty for the control plane
  std::string version;  // "1.32.7"
  json plan;            // the Plan to apply
  // A pool's: the nodes its Plan selects, and how many at a time (for the Plan cut short at notAfter).
  std::optional<std::vector<std::string>> hostnames;
  int concurrency = 1;
  // A maintenance window's end (upgrade_node_pool's notAfter): no node starts at or after it.
  std::optional<std::chrono::system_clock::time_point> not_after;
};

bool window_ended(const UpgradeContext& ctx, const SucRequest& r) {
  if (!r.not_after) return false;
  return (ctx.wall_now ? ctx.wall_now() : std::chrono::system_clock::now()) >= *r.not_after;
}

// The pool's nodes whose kubelets do not report the version yet.
std::vector<std::string> nodes_left(const SucStep& s) {
  std::vector<std::string> left;
  if (s.pool.empty() || !s.ctx.pool_nodes) return left;
  for (const PoolNode& n : s.ctx.pool_nodes(s.pool)) {
    if (!kubelet_at(n.kubelet_version, s.version)) left.push_back(n.name);
  }
  return left;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 8; ++i) out += (i == 0 ? "" : ", ") + names[i];
  if (names.size() > 8) out += " and " + std::to_string(names.size() - 8) + " more";
  return out;
}

class SucDriver final : public UpgradeDriver {
 public:
  explicit SucDriver(SucDriverOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "system-upgrade-controller"; }

  UpgradeOutcome upgrade_control_plane(UpgradeContext& ctx, const protocol::UpgradeControlPlane& c) override {
    const std::string version = model::to_string(c.kubernetes_version);
    return run(ctx, SucRequest{"the control plane", "", version, control_plane_plan(version, options_.plan),
                               std::nullopt, 1, std::nullopt});
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
    json plan = pool_plan(c.pool, names, version, concurrency, options_.plan);
    return run(ctx, SucRequest{"pool " + c.pool, c.pool, version, std::move(plan), names, concurrency, c.not_after});
  }

 private:
  // Server-side apply of a Plan: true when applied, false on a 409 (read again and decide again), else the error.
  Result<bool> apply(SucStep& s, const json& plan) const {
    const std::string target =
        http::with_query(s.plan_path, {{"fieldManager", options_.field_manager}, {"force", "true"}});
    auto r = s.api.call("PATCH", target, plan.dump(), kApplyPatch);
    if (!r) return r.error();
    if (r->status == 409) {
      s.last_state = "409 Conflict on apply";
      s.ctx.emit("upgrade_waiting", "",
                 "system-upgrade-controller: Plan " + plan["metadata"]["name"].get<std::string>() +
                     " was not applied (" + api_error("PATCH", s.plan_path, *r).message + "); reading it again");
      return false;
    }
    if (r->status < 200 || r->status >= 300) {
      Error e = api_error("PATCH", s.plan_path, *r);
      if (r->status == 404) e.message += " (is system-upgrade-controller installed, with its Plan CRD?)";
      return e;
    }
    return true;
  }

  // At notAfter: the Plan is applied again selecting only the nodes done and those in hand (status.applying), so
  // the controller finishes those and starts no other. Its Jobs for the nodes in hand go on (it deletes none).
  // `keep`: what the Plan selects once this returns true.
  Result<bool> cut_short(SucStep& s, const SucRequest& r, const PlanView& view, std::vector<std::string>& keep) {
    keep = view.applying;
    if (s.ctx.pool_nodes) {
      for (const PoolNode& n : s.ctx.pool_nodes(s.pool)) {
        if (kubelet_at(n.kubelet_version, s.version)) keep.push_back(n.name);
      }
    }
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    auto applied = apply(s, pool_plan(s.pool, keep, s.version, r.concurrency, options_.plan));
    if (!applied || !*applied) return applied;
    s.ctx.emit(
        "upgrade_progress", "",
        "system-upgrade-controller: " + s.what + ": the maintenance window ends (notAfter " +
            format_rfc3339(*r.not_after) + "): " +
            (view.applying.empty() ? "no node is in hand, so none starts"
                                   : "the nodes in hand (" + joined(view.applying) + ") finish, no other starts"));
    return true;
  }

  UpgradeOutcome run(UpgradeContext& ctx, const SucRequest& r) {
    if (!ctx.kube) return make_error(ErrorCode::kInternal, "the system-upgrade-controller driver needs the kube API");
    const std::string name = r.plan["metadata"]["name"];
    SucStep s{
        ctx,    *ctx.kube, r.what, r.version, suc_plan_path(name, options_.plan), ctx.now() + options_.step_timeout,
        r.pool, {},        {}};
    const std::string wanted = r.plan["spec"]["version"];
    std::optional<std::vector<std::string>> selected = r.hostnames;  // what the Plan in force selects
    bool resumed = false;
    bool stopping = false;  // notAfter has passed: the step ends once the nodes in hand are done
    // Read, then apply or follow. A 409 (two agents racing to create the Plan across a restart, or a write that
    // lost to another) reads the Plan again after a wait and decides again, within the step's deadline.
    while (true) {
      auto current = get_plan(s);
      if (!current) return current.error();
      const UpgradeDecision d = decide_plan(*current, wanted, selected);
      if (d == UpgradeDecision::kDone) return s.what + " is already at " + r.version;
      if (window_ended(ctx, r)) {
        // Delivered after notAfter: nothing new starts. A Plan of ours for the version still upgrading (an agent
        // restart) is followed until its nodes in hand are done.
        stopping = true;
        if (!current->exists || !same_suc_version(current->spec_version, wanted) || current->complete.value_or(false)) {
          return stopped(s, r, "notAfter had passed when the command arrived; no node started");
        }
        selected = current->hostnames;
        resumed = true;
        ctx.emit("upgrade_resumed", "", "Plan " + name + " for " + wanted + " is still upgrading; following it");
        break;
      }
      if (d == UpgradeDecision::kFollow) {
        resumed = true;
        ctx.emit("upgrade_resumed", "", "Plan " + name + " for " + wanted + " is already applied; following it");
        break;
      }
      auto applied = apply(s, r.plan);
      if (!applied) return applied.error();
      if (!*applied) {
        if (auto w = wait(s, options_.poll_interval); !w) return w.error();
        continue;
      }
      ctx.emit("upgrade_started", "", "applied Plan " + name + " for " + wanted);
      break;
    }
    const std::string jobs_path = suc_jobs_path(name, options_.plan);
    bool cut = false;  // the Plan now selects only the nodes done and in hand
    while (true) {
      if (auto w = wait(s, options_.poll_interval); !w) return w.error();
      auto view = get_plan(s);
      if (!view) {
        if (view.error().code == ErrorCode::kUnavailable) continue;  // the API server blinked; the Plan goes on
        return view.error();
      }
      if (!view->exists) {
        return make_error(ErrorCode::kConflict,
                          "the Plan " + name + " was deleted before " + s.what + " reached " + r.version);
      }
      report(s, *view);
      if (r.hostnames && !cut && window_ended(ctx, r) && !view->complete.value_or(false)) {
        stopping = true;
        std::vector<std::string> keep;
        auto done = cut_short(s, r, *view, keep);
        if (!done) return done.error();
        if (*done) {  // else a 409: the Plan is as it was, and the next poll tries again
          cut = true;
          selected = std::move(keep);
        }
        continue;
      }
      const UpgradeDecision now = decide_plan(*view, wanted, selected);
      if (now == UpgradeDecision::kDone) break;
      if (now == UpgradeDecision::kSend) {
        return make_error(ErrorCode::kConflict, "the Plan " + name + " was changed to " + view->spec_version +
                                                    " by someone else while it upgraded " + s.what);
      }
      if (auto failed = failed_node(s, jobs_path, view->latest_version.empty() ? wanted : view->latest_version)) {
        return *failed;
      }
    }
    if (stopping && !nodes_left(s).empty()) return stopped(s, r, "");
    if (s.pool.empty()) ctx.emit("control_plane_upgraded", "", "control plane at " + r.version);
    return s.what + " upgraded to " + r.version + " by system-upgrade-controller" +
           (resumed ? " (a Plan already applied was followed)" : "");
  }

  // Succeeded with `stopped`: the window ended with nodes left; the run sends the step again in the next window.
  static UpgradeOutcome stopped(SucStep& s, const SucRequest& r, const std::string& why) {
    const std::vector<std::string> left = nodes_left(s);
    s.ctx.update([&](protocol::CommandStatus& st) { st.stopped = true; });
    const std::string end = "notAfter " + format_rfc3339(*r.not_after);
    return s.what + " stopped at the maintenance window's end (" + end +
           "): " + (why.empty() ? "the nodes in hand finished" : why) + "; " + std::to_string(left.size()) +
           (left.size() == 1 ? " node" : " nodes") + " left for the next window (" + joined(left) + ")";
  }

  SucDriverOptions options_;
};

}  // namespace

std::unique_ptr<UpgradeDriver> make_suc_driver(SucDriverOptions options) {
  return std::make_unique<SucDriver>(std::move(options));
}

}  // namespace fleet::agent::kube
