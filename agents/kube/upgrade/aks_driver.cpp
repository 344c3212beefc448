#include "agents/kube/upgrade/aks_driver.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "agents/kube/upgrade/arm_lro.hpp"
#include "model/version.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;
using Ms = std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

std::string budget_text(const protocol::NodeBudget& b) {
  return std::to_string(b.value) + (b.percent ? "%" : "");
}

bool transient(int status) {
  return status == 408 || status == 429 || status >= 500;
}

std::string etag_of(const ArmResponse& r) {
  if (auto it = r.headers.find("etag"); it != r.headers.end()) return it->second;
  if (r.body.is_object()) {
    for (const char* key : {"eTag", "etag"}) {
      if (auto e = r.body.find(key); e != r.body.end() && e->is_string()) return e->get<std::string>();
    }
  }
  return {};
}

std::string provisioning_state(const json& resource) {
  if (!resource.is_object()) return {};
  auto p = resource.find("properties");
  if (p == resource.end() || !p->is_object()) return {};
  return p->value("provisioningState", "");
}

std::string node_image_of(const json& agent_pool) {
  return agent_pool.is_object() ? agent_pool.value("/properties/nodeImageVersion"_json_pointer, std::string())
                                : std::string();
}

// One upgrade step (the control plane, a pool, a pool's node image) with its deadline and what it has reported.
struct Step {
  UpgradeContext& ctx;
  ArmClient& arm;
  std::string what;    // "the control plane", "pool gpu", "the node image of pool gpu"
  std::string target;  // for messages
  SteadyTime deadline;
  Ms poll_interval;
  std::string pool;                                  // per-node progress; empty for the control plane
  std::string node_version;                          // a node of the pool is upgraded at this kubelet version …
  std::map<std::string, std::string> images_before;  // … or (node image) once its image changed
  std::map<std::string, bool> nodes_reported;
  std::string last_state;
  bool absent_ok = false;     // a 404 is the resource's state (null), not an error: pools created or deleted
  bool gone_is_done = false;  // a deletion: the resource answering 404 is its end
  std::string accepted_text;  // the upgrade_started event; empty → "AKS accepted the upgrade of …"
};

Error timed_out(const Step& s) {
  return make_error(ErrorCode::kUnavailable,
                    "AKS: " + s.what + " did not reach " + s.target +
                        " within the step timeout (last state: " + (s.last_state.empty() ? "unknown" : s.last_state) +
                        "); the operation may still be running in Azure, and a later command for the same target "
                        "follows it instead of sending another request",
                    {}, "upgrade-timeout");
}

// Sleeps `delay`, or until the deadline; an error when the deadline has passed or the backend is stopping.
Status wait(Step& s, Ms delay) {
  const auto now = s.ctx.now();
  if (now >= s.deadline) return timed_out(s);
  const Ms left = std::chrono::duration_cast<Ms>(s.deadline - now);
  if (!s.ctx.sleep(std::min(delay, left))) {
    return make_error(
        ErrorCode::kUnavailable,
        "the agent is stopping; the AKS operation on " + s.what + " goes on in Azure and the next agent follows it", {},
        "agent-stopping");
  }
  if (s.ctx.now() >= s.deadline) return timed_out(s);
  return Ok{};
}

// Per-node progress from the node cache: a node is upgraded once its kubelet reports the target version (or,
// for a node image, once its image changed).
void report_nodes(Step& s) {
  if (s.pool.empty() || !s.ctx.pool_nodes) return;
  const std::vector<PoolNode> nodes = s.ctx.pool_nodes(s.pool);
  int done = 0;
  for (const PoolNode& n : nodes) {
    bool upgraded = false;
    if (!s.node_version.empty()) {
      upgraded = n.kubelet_version == s.node_version;
    } else if (auto it = s.images_before.find(n.name); it != s.images_before.end()) {
      upgraded = n.node_image != it->second;
    } else {
      upgraded = true;  // a surge node AKS added: it comes up with the new image
    }
    if (!upgraded) continue;
    ++done;
    if (!s.nodes_reported[n.name]) {
      s.nodes_reported[n.name] = true;
      s.ctx.emit("node_upgraded", n.name,
                 "node " + n.name + " reports " + (s.node_version.empty() ? n.node_image : "v" + n.kubelet_version));
    }
  }
  s.ctx.update([&](protocol::CommandStatus& st) {
    st.nodes_total = static_cast<int>(nodes.size());
    st.nodes_done = done;
    for (const auto& [name, reported] : s.nodes_reported) st.details[name] = "upgraded";
  });
}

void report_state(Step& s, const std::string& state, std::optional<int> percent = std::nullopt) {
  report_nodes(s);
  const std::string text = state + (percent ? " " + std::to_string(*percent) + "%" : "");
  if (text == s.last_state) return;
  s.last_state = text;
  s.ctx.emit("upgrade_progress", "", "AKS: " + s.what + ": " + text);
  s.ctx.update([&](protocol::CommandStatus& st) { st.message = "AKS: " + s.what + " → " + s.target + ": " + text; });
}

// GET with transient failures (transport, 429, 5xx) retried until the deadline.
Result<ArmResponse> get_resource(Step& s, const std::string& path) {
  while (true) {
    auto r = s.arm.call("GET", path);
    if (r && r->status >= 200 && r->status < 300) return r;
    if (r && r->status == 404) {
      return make_error(ErrorCode::kNotFound,
                        "AKS: " + s.what + " does not exist: " + arm_error("GET", path, *r).message);
    }
    if (r && !transient(r->status)) return arm_error("GET", path, *r);
    if (!r && r.error().code != ErrorCode::kUnavailable) return r.error();
    if (auto w = wait(s, s.poll_interval); !w) return w.error();
  }
}

Error operation_failed(const Step& s, const LroStatus& st) {
  std::string m =
      "AKS: the operation on " + s.what + " toward " + s.target + " ended " + std::string(to_string(st.state));
  if (!st.error_code.empty()) m += ": " + st.error_code;
  if (!st.error_message.empty()) m += ": " + st.error_message.substr(0, 600);
  return make_error(ErrorCode::kInternal, std::move(m), {}, "upgrade-failed");
}

// Polls the resource itself until its provisioningState settles: for an operation already in flight (whose
// status URL this agent never saw), and for an accepted request that named no status URL.
Status follow_resource(Step& s, const std::string& path) {
  while (true) {
    if (auto w = wait(s, s.poll_interval); !w) return w;
    auto r = get_resource(s, path);
    if (!r && s.gone_is_done && r.error().code == ErrorCode::kNotFound) {
      report_state(s, "Deleted");
      return Ok{};
    }
    if (!r) return r.error();
    const std::string state = provisioning_state(r->body);
    report_state(s, state.empty() ? "Unknown" : state);
    if (provisioning_in_flight(state)) continue;
    if (state == "Succeeded" || state.empty()) return Ok{};
    LroStatus failed;
    failed.state = state == "Canceled" ? LroState::kCanceled : LroState::kFailed;
    return operation_failed(s, failed);
  }
}

// Follows an accepted request to its end through Azure-AsyncOperation or Location.
Status follow_lro(Step& s, const ArmResponse& accepted, const std::string& resource_path,
                  std::chrono::milliseconds floor, std::chrono::milliseconds cap) {
  const LroPoll poll = lro_poll_of(accepted.status, accepted.headers);
  if (poll.kind == LroPoll::Kind::kNone) {
    // Done at once (200 with a settled resource), or ARM named no status URL: the resource tells.
    if (!provisioning_in_flight(provisioning_state(accepted.body))) return Ok{};
    return follow_resource(s, resource_path);
  }
  http::Headers last = accepted.headers;
  while (true) {
    if (auto w = wait(s, next_poll_delay(last, s.poll_interval, floor, cap)); !w) return w;
    auto r = s.arm.get_url(poll.url);
    if (!r) {
      if (r.error().code == ErrorCode::kUnavailable) continue;  // transport: the operation goes on; poll again
      return r.error();
    }
    last = r->headers;
    if (transient(r->status)) continue;
    if (poll.kind == LroPoll::Kind::kAsyncOperation) {
      if (r->status == 404) return follow_resource(s, resource_path);  // the status record expired
      if (r->status != 200) return arm_error("GET", poll.url, *r);
      const LroStatus st = parse_lro_status(r->body);
      report_state(s, st.raw_status.empty() ? "InProgress" : st.raw_status, st.percent);
      if (st.state == LroState::kInProgress) continue;
      if (st.state == LroState::kSucceeded) return Ok{};
      return operation_failed(s, st);
    }
    if (r->status == 202) {
      report_state(s, "InProgress");
      continue;
    }
    if (r->status >= 200 && r->status < 300) {
      report_state(s, "Succeeded");
      return Ok{};
    }
    return arm_error("GET", poll.url, *r);
  }
}

using Decide = std::function<Result<UpgradeDecision>(const json& resource)>;  // null: absent (Step::absent_ok)
using Send = std::function<Result<ArmResponse>(const ArmResponse& current)>;

enum class Converged { kAlreadyThere, kSent, kResumed };

class AksDriver final : public UpgradeDriver {
 public:
  explicit AksDriver(AksDriverOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "aks"; }

  UpgradeOutcome upgrade_control_plane(UpgradeContext& ctx, const protocol::UpgradeControlPlane& c) override {
    auto arm = ArmClient::create(options_.arm, *options_.tokens);
    if (!arm) return arm.error();
    const std::string target = model::to_string(c.kubernetes_version);
    Step s = step(ctx, **arm, "the control plane", target);
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    const std::string path = managed_cluster_path(options_.cluster);
    auto done = converge(
        s, path, [&](const json& mc) { return decide_upgrade(managed_cluster_view(mc), target); }, "PUT",
        [&](const ArmResponse& current) {
          return s.arm.call("PUT", path, control_plane_put_body(current.body, target), etag_of(current));
        });
    if (!done) return done.error();
    ctx.emit("control_plane_upgraded", "", "control plane at " + target);
    return outcome_text(*done, "the AKS control plane", target);
  }

  UpgradeOutcome upgrade_node_pool(UpgradeContext& ctx, const protocol::UpgradeNodePool& c) override {
    auto arm = ArmClient::create(options_.arm, *options_.tokens);
    if (!arm) return arm.error();
    const std::string path = agent_pool_path(options_.cluster, c.pool);
    if (!c.kubernetes_version) return node_image(ctx, **arm, c, path);
    const std::string target = model::to_string(*c.kubernetes_version);
    Step s = step(ctx, **arm, "pool " + c.pool, target);
    s.pool = c.pool;
    s.node_version = target;
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    const std::string surge = budget_text(c.max_surge);
    auto done = converge(
        s, path, [&](const json& pool) { return decide_upgrade(agent_pool_view(pool), target); }, "PUT",
        [&](const ArmResponse& current) {
          return s.arm.call("PUT", path, agent_pool_put_body(current.body, target, surge), etag_of(current));
        });
    if (!done) return done.error();
    report_nodes(s);
    std::string out = outcome_text(*done, "AKS pool " + c.pool, target);
    if (!c.node_image_version.empty()) {
      // A version upgrade also moves the pool to AKS's latest node image; say which one it runs now.
      auto after = get_resource(s, path);
      if (!after) return after.error();
      const std::string image = node_image_of(after->body);
      if (image != c.node_image_version)
        out += " (node image " + image + "; " + c.node_image_version + " was requested)";
    }
    return out;
  }

  bool replaces_node_pools() const override { return true; }

  UpgradeOutcome blue_green_node_pool(UpgradeContext& ctx, const protocol::BlueGreenNodePool& c) override {
    if (!ctx.cordon || !ctx.drain || !ctx.pool_nodes) {
      return make_error(ErrorCode::kInvalid,
                        "blue-green pools need the cluster's nodes (cordon, drain and the node cache), and this "
                        "agent has no connection for them",
                        "kind", "unsupported-command");
    }
    auto arm = ArmClient::create(options_.arm, *options_.tokens);
    if (!arm) return arm.error();
    switch (c.phase) {
      case protocol::BlueGreenPhase::kReplace:
        return replace_pool(ctx, **arm, c);
      case protocol::BlueGreenPhase::kRetire:
        return retire_pool(ctx, **arm, c);
      case protocol::BlueGreenPhase::kRestore:
        break;
    }
    return restore_pool(ctx, **arm, c);
  }

 private:
  // Replace: the new pool is created from the old pool's resource at the target (new_agent_pool_body), its nodes
  // come up and (GPU nodes) pass their probe, and only then does the old pool give up its workloads: every old
  // node is cordoned first (so that a pod evicted from one cannot land on another old node), then each is
  // drained. A replace that cannot finish puts things back (abandon_replace). Each part reads before it acts, so
  // a replace sent again after an agent restart follows the create in flight and finds the nodes already moved.
  UpgradeOutcome replace_pool(UpgradeContext& ctx, ArmClient& arm, const protocol::BlueGreenNodePool& c) {
    const std::string old_path = agent_pool_path(options_.cluster, c.pool);
    const std::string new_path = agent_pool_path(options_.cluster, c.new_pool);
    Step s = step(ctx, arm, "pool " + c.pool, "a replacement");
    auto old = get_resource(s, old_path);
    if (!old) return old.error();
    const std::string version =
        c.kubernetes_version ? model::to_string(*c.kubernetes_version) : agent_pool_view(old->body).current;
    s.what = "pool " + c.new_pool;
    s.target = version;
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    s.absent_ok = true;
    s.accepted_text = "AKS accepted the creation of pool " + c.new_pool + " at " + version + " beside " + c.pool;
    ctx.emit("pool_creating", "",
             "creating pool " + c.new_pool + " at " + version + " beside " + c.pool + " (" +
                 std::to_string(old->body.value("/properties/count"_json_pointer, 0)) + " nodes)");
    auto created = converge(
        s, new_path, [&](const json& pool) { return decide_pool_creation(pool, version); }, "PUT",
        [&](const ArmResponse&) { return s.arm.call("PUT", new_path, new_agent_pool_body(old->body, version)); });
    if (!created && created.error().type == "pool-exists") return created.error();  // not ours: left alone
    if (!created) return abandon_replace(ctx, arm, c, created.error());
    s.absent_ok = false;
    auto made = get_resource(s, new_path);
    if (!made) return abandon_replace(ctx, arm, c, made.error());
    const int count = made->body.value("/properties/count"_json_pointer, 0);
    if (auto up = wait_for_nodes(s, c.new_pool, count); !up) return abandon_replace(ctx, arm, c, up.error());

    const std::vector<PoolNode> old_nodes = ctx.pool_nodes(c.pool);
    for (const PoolNode& n : old_nodes) {
      if (auto k = ctx.cordon(n.name, true); !k) return abandon_replace(ctx, arm, c, k.error());
    }
    for (const PoolNode& n : old_nodes) {
      ctx.update([&](protocol::CommandStatus& st) {
        st.message = "AKS: pool " + c.new_pool + " is up; draining node " + n.name + " of pool " + c.pool;
      });
      if (auto d = ctx.drain(n.name); !d) return abandon_replace(ctx, arm, c, d.error());
    }
    ctx.emit("workloads_moved", "", "workloads moved from pool " + c.pool + " to " + c.new_pool);
    std::string out = "AKS pool " + c.pool + " replaced by " + c.new_pool + " at " + version + " (" +
                      std::to_string(count) + " nodes, node image " + node_image_of(made->body) + "); pool " + c.pool +
                      " is cordoned and drained, kept until it is retired";
    if (!c.node_image_version.empty() && node_image_of(made->body) != c.node_image_version) {
      out += " (AKS gives a new pool its version's latest image; " + c.node_image_version + " was requested)";
    }
    return out;
  }

  // AKS ends a create once its nodes are Ready; the node cache shows them a watch event later. A GPU node takes
  // work only once its probe has passed (the agent's admission machine probes every new GPU node), so the old
  // pool keeps its workloads until every new node is admitted; a node quarantined by its probe fails the replace.
  Status wait_for_nodes(Step& s, const std::string& pool, int count) {
    std::set<std::string> created;
    std::set<std::string> admitted;
    while (true) {
      const std::vector<PoolNode> nodes = s.ctx.pool_nodes(pool);
      for (const PoolNode& n : nodes) {
        if (created.insert(n.name).second) {
          s.ctx.emit("node_created", n.name,
                     "node of pool " + pool + " at v" + n.kubelet_version + " / " + n.node_image);
        }
        if (n.admission == model::Admission::kQuarantined) {
          return make_error(ErrorCode::kInternal,
                            "node " + n.name + " of the new pool " + pool + " failed its GPU probe (quarantined)", {},
                            "probe-failed");
        }
        if (n.admission == model::Admission::kAdmitted && admitted.insert(n.name).second && n.gpu) {
          s.ctx.emit("node_admitted", n.name, "its GPU probe passed");
        }
      }
      const auto ready = static_cast<int>(std::count_if(
          nodes.begin(), nodes.end(), [](const PoolNode& n) { return n.admission == model::Admission::kAdmitted; }));
      s.last_state = std::to_string(ready) + " of " + std::to_string(count) + " nodes up and admitted";
      s.ctx.update([&](protocol::CommandStatus& st) {
        st.nodes_total = count;
        st.nodes_done = std::min(ready, count);
        st.message = "AKS: pool " + pool + ": " + s.last_state;
      });
      if (ready >= count && static_cast<int>(nodes.size()) >= count) return Ok{};
      if (auto w = wait(s, s.poll_interval); !w) return w;
    }
  }

  // A replace that cannot finish leaves the cluster as it found it: the old pool's nodes uncordoned, the new pool
  // deleted (AKS drains it first; its pods go back to the old pool). Not when the agent is stopping: the next
  // agent sends the replace again and carries on from where this one was.
  Error abandon_replace(UpgradeContext& ctx, ArmClient& arm, const protocol::BlueGreenNodePool& c, Error why) {
    if (why.type == "agent-stopping") return why;
    std::string undo;
    for (const PoolNode& n : ctx.pool_nodes(c.pool)) {
      if (auto k = ctx.cordon(n.name, false); !k) undo += "; uncordoning " + n.name + " failed: " + k.error().message;
    }
    auto deleted = delete_pool(ctx, arm, c.new_pool);
    if (!deleted) undo += "; deleting pool " + c.new_pool + " failed: " + deleted.error().message;
    why.message += undo.empty() ? "; pool " + c.new_pool + " was deleted and pool " + c.pool + " is as it was"
                                : undo + " (the cluster needs a look)";
    return why;
  }

  // Retire: the old pool, cordoned and drained by Replace, is deleted; not while its replacement is missing
  // (that would leave its workloads nowhere to go).
  UpgradeOutcome retire_pool(UpgradeContext& ctx, ArmClient& arm, const protocol::BlueGreenNodePool& c) {
    Step s = step(ctx, arm, "pool " + c.new_pool, "running");
    auto replacement = get_resource(s, agent_pool_path(options_.cluster, c.new_pool));
    if (!replacement && replacement.error().code == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kInvalid,
                        "AKS has no pool " + c.new_pool + ", so retiring pool " + c.pool +
                            " would leave its workloads nowhere to go; pool " + c.pool + " is kept",
                        "payload.newPool", "no-replacement");
    }
    if (!replacement) return replacement.error();
    auto deleted = delete_pool(ctx, arm, c.pool);
    if (!deleted) return deleted.error();
    return *deleted == Converged::kAlreadyThere ? "AKS pool " + c.pool + " was already deleted"
                                                : "AKS pool " + c.pool + " deleted; " + c.new_pool + " replaces it";
  }

  // Restore (a rollback within the soak): the old pool's nodes are uncordoned first, so that the pods the drain
  // evicts from the new pool have somewhere to go; then the new pool's nodes are cordoned and drained, and the
  // new pool is deleted.
  UpgradeOutcome restore_pool(UpgradeContext& ctx, ArmClient& arm, const protocol::BlueGreenNodePool& c) {
    Step s = step(ctx, arm, "pool " + c.pool, "restored");
    auto old = get_resource(s, agent_pool_path(options_.cluster, c.pool));
    if (!old) return old.error();  // retired already: nothing to go back to
    for (const PoolNode& n : ctx.pool_nodes(c.pool)) {
      if (auto k = ctx.cordon(n.name, false); !k) return k.error();
    }
    const std::vector<PoolNode> new_nodes = ctx.pool_nodes(c.new_pool);
    for (const PoolNode& n : new_nodes) {
      if (auto k = ctx.cordon(n.name, true); !k) return k.error();
    }
    for (const PoolNode& n : new_nodes) {
      if (auto d = ctx.drain(n.name); !d) return d.error();
    }
    ctx.emit("workloads_moved", "", "workloads moved back to pool " + c.pool);
    auto deleted = delete_pool(ctx, arm, c.new_pool);
    if (!deleted) return deleted.error();
    return "AKS pool " + c.pool + " takes its workloads back; pool " + c.new_pool + " deleted";
  }

  Result<Converged> delete_pool(UpgradeContext& ctx, ArmClient& arm, const std::string& pool) {
    const std::string path = agent_pool_path(options_.cluster, pool);
    Step s = step(ctx, arm, "pool " + pool, "deleted");
    s.absent_ok = true;
    s.gone_is_done = true;
    s.accepted_text = "AKS accepted the deletion of pool " + pool;
    ctx.emit("pool_deleting", "", "deleting pool " + pool);
    auto done = converge(
        s, path, [](const json& p) { return decide_pool_deletion(p); }, "DELETE",
        [&](const ArmResponse&) { return s.arm.call("DELETE", path); });
    if (done) ctx.emit("pool_deleted", "", "pool " + pool + " deleted");
    return done;
  }

  Step step(UpgradeContext& ctx, ArmClient& arm, std::string what, std::string target) const {
    return Step{ctx,
                arm,
                std::move(what),
                std::move(target),
                ctx.now() + options_.step_timeout,
                options_.poll_interval,
                {},
                {},
                {},
                {},
                {},
                false,
                false,
                {}};
  }

  static std::string outcome_text(Converged c, const std::string& what, const std::string& target) {
    switch (c) {
      case Converged::kAlreadyThere:
        return what + " is already at " + target;
      case Converged::kResumed:
        return what + " upgraded to " + target + " (an operation already in flight was followed)";
      case Converged::kSent:
        break;
    }
    return what + " upgraded to " + target;
  }

  UpgradeOutcome node_image(UpgradeContext& ctx, ArmClient& arm, const protocol::UpgradeNodePool& c,
                            const std::string& path) {
    const std::string wanted = c.node_image_version;
    Step s = step(ctx, arm, "the node image of pool " + c.pool, wanted.empty() ? "the latest image" : wanted);
    s.pool = c.pool;
    if (ctx.pool_nodes) {
      for (const PoolNode& n : ctx.pool_nodes(c.pool)) s.images_before[n.name] = n.node_image;
    }
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    const std::string post = node_image_upgrade_path(options_.cluster, c.pool);
    auto done = converge(
        s, path, [&](const json& pool) { return decide_node_image_upgrade(pool, wanted); }, "POST",
        [&](const ArmResponse&) { return s.arm.call("POST", post); });
    if (!done) return done.error();
    report_nodes(s);
    auto after = get_resource(s, path);
    if (!after) return after.error();
    const std::string image = node_image_of(after->body);
    if (*done == Converged::kAlreadyThere) return "AKS pool " + c.pool + " already runs node image " + image;
    std::string out = "AKS pool " + c.pool + " upgraded to node image " + image;
    if (!wanted.empty() && image != wanted) {
      // upgradeNodeImageVersion takes AKS's latest image; the API cannot ask for a given one.
      ctx.emit("upgrade_progress", "", "AKS installed node image " + image + ", not the requested " + wanted);
      out += " (AKS's latest; " + wanted + " was requested)";
    }
    return out;
  }

  // The cluster's own auto-upgrade would move it behind the fleet's back (Azure/AKS #5811): a conflict, reported
  // every time; with disable_auto_upgrade the channel is set to none (a PUT followed like any other).
  Status settle_auto_upgrade(Step& s) {
    const std::string path = managed_cluster_path(options_.cluster);
    auto mc = get_resource(s, path);
    if (!mc) return mc.error();
    auto channel = auto_upgrade_channel(mc->body);
    if (!channel) return Ok{};
    const std::string why = "the AKS cluster's auto-upgrade channel is \"" + *channel +
                            "\": AKS would upgrade it on its own and fight the fleet's rollouts (Azure/AKS#5811)";
    if (!options_.disable_auto_upgrade) {
      s.ctx.emit("upgrade_conflict", "", why);
      return make_error(ErrorCode::kConflict,
                        why +
                            "; set it to none (az aks update --auto-upgrade-channel none) or start the agent with "
                            "--aks-disable-auto-upgrade",
                        {}, "auto-upgrade-conflict");
    }
    s.ctx.emit("upgrade_conflict", "",
               why + "; turning it off (upgradeChannel none), as --aks-disable-auto-upgrade asks");
    Step off = s;
    off.what = "the auto-upgrade channel";
    off.target = "none";
    auto done = converge(
        off, path,
        [](const json& c) {
          if (provisioning_in_flight(provisioning_state(c))) return UpgradeDecision::kWaitBusy;
          return auto_upgrade_channel(c) ? UpgradeDecision::kSend : UpgradeDecision::kDone;
        },
        "PUT",
        [&](const ArmResponse& current) {
          return off.arm.call("PUT", path, disable_auto_upgrade_body(current.body), etag_of(current));
        });
    if (!done) return done.error();
    return Ok{};
  }

  // Read, decide, act, until the resource is where the step wants it. An accepted request or a followed
  // operation that succeeds ends the step (the operation's own verdict is the authority); another operation
  // in flight, a 409, a stale etag or a transient failure reads again after a wait.
  Result<Converged> converge(Step& s, const std::string& path, const Decide& decide, const std::string& method,
                             const Send& send) {
    std::string waited_on;
    while (true) {
      auto current = get_resource(s, path);
      if (!current && s.absent_ok && current.error().code == ErrorCode::kNotFound)
        current = ArmResponse{404, {}, nullptr};
      if (!current) return current.error();
      const auto decided = decide(current->body);
      if (!decided) return decided.error();
      const UpgradeDecision d = *decided;
      if (d == UpgradeDecision::kDone) return Converged::kAlreadyThere;
      if (d == UpgradeDecision::kWaitBusy) {
        const std::string state = provisioning_state(current->body);
        if (state != waited_on) {
          waited_on = state;
          s.ctx.emit("upgrade_waiting", "", "AKS: " + s.what + " is busy (" + state + "); waiting for it to finish");
        }
        if (auto w = wait(s, options_.busy_retry); !w) return w.error();
        continue;
      }
      if (d == UpgradeDecision::kFollow) {
        s.ctx.emit("upgrade_resumed", "",
                   "AKS: an operation on " + s.what + " toward " + s.target + " is already in flight; following it");
        if (auto f = follow_resource(s, path); !f) return f.error();
        return Converged::kResumed;
      }
      auto sent = send(*current);
      if (!sent) {
        if (sent.error().code != ErrorCode::kUnavailable) return sent.error();
        // The request may or may not have reached ARM: read again, and the resource says which.
        if (auto w = wait(s, s.poll_interval); !w) return w.error();
        continue;
      }
      const ArmError e = parse_arm_error(sent->body);
      if (sent->status >= 200 && sent->status < 300) {
        s.ctx.emit(
            "upgrade_started", "",
            s.accepted_text.empty() ? "AKS accepted the upgrade of " + s.what + " to " + s.target : s.accepted_text);
        if (auto f = follow_lro(s, *sent, path, options_.poll_floor, options_.poll_cap); !f) return f.error();
        return Converged::kSent;
      }
      if (is_busy_error(sent->status, e)) {
        s.ctx.emit("upgrade_waiting", "",
                   "AKS: another operation is in progress on " + s.what + " (" + e.code + "); sending again later");
        if (auto w = wait(s, options_.busy_retry); !w) return w.error();
        continue;
      }
      if (is_stale_etag(sent->status, e)) {
        // Someone wrote the resource since our read: read it again (after a short wait, so that a writer that
        // keeps winning cannot make this spin).
        if (auto w = wait(s, options_.poll_floor); !w) return w.error();
        continue;
      }
      if (transient(sent->status)) {
        if (auto w = wait(s, next_poll_delay(sent->headers, s.poll_interval, options_.poll_floor, options_.poll_cap));
            !w) {
          return w.error();
        }
        continue;
      }
      return arm_error(method, path, *sent);
    }
  }

  AksDriverOptions options_;
};

}  // namespace

std::unique_ptr<UpgradeDriver> make_aks_driver(AksDriverOptions options) {
  return std::make_unique<AksDriver>(std::move(options));
}

}  // namespace fleet::agent::kube
