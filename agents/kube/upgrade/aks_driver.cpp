#include "agents/kube/upgrade/aks_driver.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "agents/kube/upgrade/aks_maintenance.hpp"
#include "agents/kube/upgrade/arm_operation.hpp"
#include "common/time_format.hpp"
#include "model/version.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

std::string budget_text(const protocol::NodeBudget& b) {
  return std::to_string(b.value) + (b.percent ? "%" : "");
}

std::string node_image_of(const json& agent_pool) {
  return agent_pool.is_object() ? agent_pool.value("/properties/nodeImageVersion"_json_pointer, std::string())
                                : std::string();
}

class AksDriver final : public UpgradeDriver {
 public:
  explicit AksDriver(AksDriverOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "aks"; }

  UpgradeOutcome upgrade_control_plane(UpgradeContext& ctx, const protocol::UpgradeControlPlane& c) override {
    auto arm = ArmClient::create(options_.arm, *options_.tokens);
    if (!arm) return arm.error();
    const std::string target = model::to_string(c.kubernetes_version);
    ArmStep s = step(ctx, **arm, "the control plane", target);
    const std::string path = managed_cluster_path(options_.cluster);
    const Decide decide = [&](const json& mc) { return decide_upgrade(managed_cluster_view(mc), target); };
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    std::string held;
    s.before_send = [&] { return planned_maintenance_closed(s, kAksUpgradeSchedule, held); };
    auto done = converge(s, path, decide, "PUT", [&](const ArmResponse& current) {
      return s.arm.call("PUT", path, control_plane_put_body(current.body, target), etag_of(current));
    });
    if (!done) return done.error();
    if (*done == Converged::kHeld) return held;
    ctx.emit("control_plane_upgraded", "", "control plane at " + target);
    return outcome_text(*done, "the AKS control plane", target);
  }

  UpgradeOutcome upgrade_node_pool(UpgradeContext& ctx, const protocol::UpgradeNodePool& c) override {
    auto arm = ArmClient::create(options_.arm, *options_.tokens);
    if (!arm) return arm.error();
    const std::string path = agent_pool_path(options_.cluster, c.pool);
    if (!c.kubernetes_version) return node_image(ctx, **arm, c, path);
    const std::string target = model::to_string(*c.kubernetes_version);
    ArmStep s = step(ctx, **arm, "pool " + c.pool, target);
    s.pool = c.pool;
    s.node_version = target;
    const Decide decide = [&](const json& pool) { return decide_upgrade(agent_pool_view(pool), target); };
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    std::string held;
    s.before_send = [&] { return planned_maintenance_closed(s, kAksUpgradeSchedule, held); };
    const std::string surge = budget_text(c.max_surge);
    auto done = converge(s, path, decide, "PUT", [&](const ArmResponse& current) {
      return s.arm.call("PUT", path, agent_pool_put_body(current.body, target, surge), etag_of(current));
    });
    if (!done) return done.error();
    if (*done == Converged::kHeld) return held;
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
    ArmStep s = step(ctx, arm, "pool " + c.pool, "a replacement");
    auto old = get_resource(s, old_path);
    if (!old) return old.error();
    const std::string version =
        c.kubernetes_version ? model::to_string(*c.kubernetes_version) : agent_pool_view(old->body).current;
    s.what = "pool " + c.new_pool;
    s.target = version;
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    s.absent_ok = true;
    std::string held;
    // pool_creating only once the create is about to go: not for a pool already there or being created (a
    // resume), nor for a create the planned maintenance window holds back.
    s.before_send = [&]() -> Result<bool> {
      auto closed = planned_maintenance_closed(s, kAksUpgradeSchedule, held);
      if (closed && !*closed) {
        ctx.emit("pool_creating", "",
                 "creating pool " + c.new_pool + " at " + version + " beside " + c.pool + " (" +
                     std::to_string(old->body.value("/properties/count"_json_pointer, 0)) + " nodes)");
      }
      return closed;
    };
    s.accepted_text = "AKS accepted the creation of pool " + c.new_pool + " at " + version + " beside " + c.pool;
    auto created = converge(
        s, new_path, [&](const json& pool) { return decide_pool_creation(pool, version); }, "PUT",
        [&](const ArmResponse&) { return s.arm.call("PUT", new_path, new_agent_pool_body(old->body, version)); });
    if (!created && created.error().type == "pool-exists") return created.error();  // not ours: left alone
    if (!created) return abandon_replace(ctx, arm, c, created.error());
    if (*created == Converged::kHeld) return held;  // nothing was created
    s.absent_ok = false;
    s.before_send = nullptr;
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
  Status wait_for_nodes(ArmStep& s, const std::string& pool, int count) {
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
      if (auto w = wait(s, s.polling.poll_interval); !w) return w;
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
    ArmStep s = step(ctx, arm, "pool " + c.new_pool, "running");
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
    ArmStep s = step(ctx, arm, "pool " + c.pool, "restored");
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
    ArmStep s = step(ctx, arm, "pool " + pool, "deleted");
    s.absent_ok = true;
    s.gone_is_done = true;
    s.accepted_text = "AKS accepted the deletion of pool " + pool;
    // Said only for a DELETE about to go, and for a deletion that happened: not for a pool already gone.
    s.before_send = [&]() -> Result<bool> {
      ctx.emit("pool_deleting", "", "deleting pool " + pool);
      return false;
    };
    auto done = converge(
        s, path, [](const json& p) { return decide_pool_deletion(p); }, "DELETE",
        [&](const ArmResponse&) { return s.arm.call("DELETE", path); });
    if (done && *done != Converged::kAlreadyThere) ctx.emit("pool_deleted", "", "pool " + pool + " deleted");
    return done;
  }

  ArmStep step(UpgradeContext& ctx, ArmClient& arm, std::string what, std::string target) const {
    return arm_step(ctx, arm, options_.polling, "AKS", std::move(what), std::move(target), options_.step_timeout);
  }

  static std::string outcome_text(Converged c, const std::string& what, const std::string& target) {
    switch (c) {
      case Converged::kAlreadyThere:
        return what + " is already at " + target;
      case Converged::kResumed:
        return what + " upgraded to " + target + " (an operation already in flight was followed)";
      case Converged::kSent:
      case Converged::kHeld:  // the callers return the hold's message first
        break;
    }
    return what + " upgraded to " + target;
  }

  UpgradeOutcome node_image(UpgradeContext& ctx, ArmClient& arm, const protocol::UpgradeNodePool& c,
                            const std::string& path) {
    const std::string wanted = c.node_image_version;
    ArmStep s = step(ctx, arm, "the node image of pool " + c.pool, wanted.empty() ? "the latest image" : wanted);
    s.pool = c.pool;
    if (ctx.pool_nodes) {
      for (const PoolNode& n : ctx.pool_nodes(c.pool)) s.images_before[n.name] = n.node_image;
    }
    const Decide decide = [&](const json& pool) { return decide_node_image_upgrade(pool, wanted); };
    if (auto a = settle_auto_upgrade(s); !a) return a.error();
    std::string held;
    s.before_send = [&] { return planned_maintenance_closed(s, kAksNodeOsSchedule, held); };
    const std::string post = node_image_upgrade_path(options_.cluster, c.pool);
    auto done = converge(s, path, decide, "POST", [&](const ArmResponse&) { return s.arm.call("POST", post); });
    if (!done) return done.error();
    if (*done == Converged::kHeld) return held;
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

  // AKS planned maintenance (aks_maintenance.hpp), asked by converge() just before it would send the upgrade: one
  // already in flight or done is never held back (an agent restart follows it whatever the hour), and a cluster
  // without the configuration has no window. Closed: true, the command's status stopped with notBefore (the
  // window's opening) and `held` the message it ends with.
  Result<bool> planned_maintenance_closed(ArmStep& s, const char* config, std::string& held) {
    if (!options_.honor_planned_maintenance) return false;
    auto configuration = get_resource(s, maintenance_configuration_path(options_.cluster, config));
    if (!configuration && configuration.error().code == ErrorCode::kNotFound) return false;
    if (!configuration) return configuration.error();
    auto window = parse_aks_maintenance_window(configuration->body);
    const auto now = s.ctx.wall_now ? s.ctx.wall_now() : std::chrono::system_clock::now();
    auto status = window ? aks_window_status(*window, now) : Result<AksWindowStatus>(window.error());
    if (!status) {
      return make_error(ErrorCode::kInvalid,
                        "AKS planned maintenance " + std::string(config) + ": " + status.error().message +
                            "; nothing was sent (start the agent with --aks-ignore-planned-maintenance to upgrade "
                            "regardless)",
                        {}, status.error().type);
    }
    const std::string what = "AKS planned maintenance " + std::string(config) + " (" + window->text + ")";
    if (status->open) {
      s.ctx.emit("upgrade_progress", "", what + " is open until " + format_rfc3339(status->changes_at));
      return false;
    }
    held = what + " is closed until " + format_rfc3339(status->changes_at) + "; nothing was sent";
    s.ctx.emit("maintenance_window_closed", "", held);
    s.ctx.update([&](protocol::CommandStatus& st) {
      st.stopped = true;
      st.not_before = status->changes_at;
    });
    return true;
  }

  // The cluster's own auto-upgrade would move it behind the fleet's back (Azure/AKS #5811): a conflict, reported
  // every time; with disable_auto_upgrade the channel is set to none (a PUT followed like any other).
  Status settle_auto_upgrade(ArmStep& s) {
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
    ArmStep off = s;
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

  AksDriverOptions options_;
};

}  // namespace

std::unique_ptr<UpgradeDriver> make_aks_driver(AksDriverOptions options) {
  return std::make_unique<AksDriver>(std::move(options));
}

}  // namespace fleet::agent::kube
