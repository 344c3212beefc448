#include "agents/kube/upgrade/aks_driver.hpp"

#include <algorithm>
#include <functional>
#include <map>
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

using Decide = std::function<UpgradeDecision(const json& resource)>;
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

 private:
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
      if (!current) return current.error();
      const UpgradeDecision d = decide(current->body);
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
        s.ctx.emit("upgrade_started", "", "AKS accepted the upgrade of " + s.what + " to " + s.target);
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
