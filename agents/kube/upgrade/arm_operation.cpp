#include "agents/kube/upgrade/arm_operation.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "agents/kube/upgrade/arm_lro.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;
using Ms = std::chrono::milliseconds;

bool transient(int status) {
  return status == 408 || status == 429 || status >= 500;
}

Error timed_out(const ArmStep& s) {
  return make_error(ErrorCode::kUnavailable,
                    s.provider + ": " + s.what + " did not reach " + s.target +
                        " within the step timeout (last state: " + (s.last_state.empty() ? "unknown" : s.last_state) +
                        "); the operation may still be running in Azure, and a later command for the same target "
                        "follows it instead of sending another request",
                    {}, "upgrade-timeout");
}

void report_state(ArmStep& s, const std::string& state, std::optional<int> percent = std::nullopt) {
  report_nodes(s);
  const std::string text = state + (percent ? " " + std::to_string(*percent) + "%" : "");
  if (text == s.last_state) return;
  s.last_state = text;
  s.ctx.emit("upgrade_progress", "", s.provider + ": " + s.what + ": " + text);
  s.ctx.update(
      [&](protocol::CommandStatus& st) { st.message = s.provider + ": " + s.what + " → " + s.target + ": " + text; });
}

Error operation_failed(const ArmStep& s, const LroStatus& st) {
  std::string m = s.provider + ": the operation on " + s.what + " toward " + s.target + " ended " +
                  std::string(to_string(st.state));
  if (!st.error_code.empty()) m += ": " + st.error_code;
  if (!st.error_message.empty()) m += ": " + st.error_message.substr(0, 600);
  return make_error(ErrorCode::kInternal, std::move(m), {}, "upgrade-failed");
}

// Polls the resource itself until its provisioningState settles: for an operation already in flight (whose
// status URL this agent never saw), and for an accepted request that named no status URL.
Status follow_resource(ArmStep& s, const std::string& path) {
  while (true) {
    if (auto w = wait(s, s.polling.poll_interval); !w) return w;
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
Status follow_lro(ArmStep& s, const ArmResponse& accepted, const std::string& resource_path) {
  const Ms floor = s.polling.poll_floor;
  const Ms cap = s.polling.poll_cap;
  const LroPoll poll = lro_poll_of(accepted.status, accepted.headers);
  if (poll.kind == LroPoll::Kind::kNone) {
    // Done at once (200 with a settled resource), or ARM named no status URL: the resource tells.
    if (!provisioning_in_flight(provisioning_state(accepted.body))) return Ok{};
    return follow_resource(s, resource_path);
  }
  http::Headers last = accepted.headers;
  while (true) {
    if (auto w = wait(s, next_poll_delay(last, s.polling.poll_interval, floor, cap)); !w) return w;
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

}  // namespace

ArmStep arm_step(UpgradeContext& ctx, ArmClient& arm, const ArmPolling& polling, std::string provider, std::string what,
                 std::string target, std::chrono::milliseconds step_timeout) {
  return ArmStep{ctx,
                 arm,
                 polling,
                 std::move(provider),
                 std::move(what),
                 std::move(target),
                 ctx.now() + step_timeout,
                 {},
                 {},
                 {},
                 {},
                 {},
                 false,
                 false,
                 {},
                 nullptr};
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

// Sleeps `delay`, or until the deadline; an error when the deadline has passed or the backend is stopping.
Status wait(ArmStep& s, Ms delay) {
  const auto now = s.ctx.now();
  if (now >= s.deadline) return timed_out(s);
  const Ms left = std::chrono::duration_cast<Ms>(s.deadline - now);
  if (!s.ctx.sleep(std::min(delay, left))) {
    return make_error(ErrorCode::kUnavailable,
                      "the agent is stopping; the " + s.provider + " operation on " + s.what +
                          " goes on in Azure and the next agent follows it",
                      {}, "agent-stopping");
  }
  if (s.ctx.now() >= s.deadline) return timed_out(s);
  return Ok{};
}

// Per-node progress from the node cache: a node is upgraded once its kubelet reports the target version (or,
// for a node image, once its image changed).
void report_nodes(ArmStep& s) {
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
      upgraded = true;  // a surge node the provider added: it comes up with the new image
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

// GET with transient failures (transport, 429, 5xx) retried until the deadline.
Result<ArmResponse> get_resource(ArmStep& s, const std::string& path) {
  while (true) {
    auto r = s.arm.call("GET", path);
    if (r && r->status >= 200 && r->status < 300) return r;
    if (r && r->status == 404) {
      return make_error(ErrorCode::kNotFound,
                        s.provider + ": " + s.what + " does not exist: " + arm_error("GET", path, *r).message);
    }
    if (r && !transient(r->status)) return arm_error("GET", path, *r);
    if (!r && r.error().code != ErrorCode::kUnavailable) return r.error();
    if (auto w = wait(s, s.polling.poll_interval); !w) return w.error();
  }
}

Result<Converged> converge(ArmStep& s, const std::string& path, const Decide& decide, const std::string& method,
                           const Send& send) {
  std::string waited_on;
  bool asked = false;
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
        s.ctx.emit("upgrade_waiting", "",
                   s.provider + ": " + s.what + " is busy (" + state + "); waiting for it to finish");
      }
      if (auto w = wait(s, s.polling.busy_retry); !w) return w.error();
      continue;
    }
    if (d == UpgradeDecision::kFollow) {
      s.ctx.emit(
          "upgrade_resumed", "",
          s.provider + ": an operation on " + s.what + " toward " + s.target + " is already in flight; following it");
      if (auto f = follow_resource(s, path); !f) return f.error();
      return Converged::kResumed;
    }
    if (s.before_send && !asked) {
      asked = true;
      auto hold = s.before_send();
      if (!hold) return hold.error();
      if (*hold) return Converged::kHeld;
    }
    auto sent = send(*current);
    if (!sent) {
      if (sent.error().code != ErrorCode::kUnavailable) return sent.error();
      // The request may or may not have reached ARM: read again, and the resource says which.
      if (auto w = wait(s, s.polling.poll_interval); !w) return w.error();
      continue;
    }
    const ArmError e = parse_arm_error(sent->body);
    if (sent->status >= 200 && sent->status < 300) {
      s.ctx.emit("upgrade_started", "",
                 s.accepted_text.empty() ? s.provider + " accepted the upgrade of " + s.what + " to " + s.target
                                         : s.accepted_text);
      if (auto f = follow_lro(s, *sent, path); !f) return f.error();
      return Converged::kSent;
    }
    if (is_busy_error(sent->status, e)) {
      s.ctx.emit(
          "upgrade_waiting", "",
          s.provider + ": another operation is in progress on " + s.what + " (" + e.code + "); sending again later");
      if (auto w = wait(s, s.polling.busy_retry); !w) return w.error();
      continue;
    }
    if (is_stale_etag(sent->status, e)) {
      // Someone wrote the resource since our read: read it again (after a short wait, so that a writer that
      // keeps winning cannot make this spin).
      if (auto w = wait(s, s.polling.poll_floor); !w) return w.error();
      continue;
    }
    if (transient(sent->status)) {
      if (auto w = wait(
              s, next_poll_delay(sent->headers, s.polling.poll_interval, s.polling.poll_floor, s.polling.poll_cap));
          !w) {
        return w.error();
      }
      continue;
    }
    return arm_error(method, path, *sent);
  }
}

}  // namespace fleet::agent::kube
