#include "agents/kube/commands.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "agents/kube/json_fields.hpp"
#include "agents/kube/manifest_url.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string node_path(const std::string& node) {
  return "/api/v1/nodes/" + node;
}

Status expect_2xx(CommandContext& ctx, std::string_view method, const std::string& path, const std::string& body = {},
                  std::string_view content_type = {}) {
  auto r = ctx.api.call(method, path, body, content_type);
  if (!r) return r.error();
  if (r->status < 200 || r->status >= 300) return api_error(method, path, *r);
  return Ok{};
}

Status set_unschedulable(CommandContext& ctx, const std::string& node, bool cordon) {
  const json patch = {{"spec", {{"unschedulable", cordon}}}};
  return expect_2xx(ctx, "PATCH", node_path(node), patch.dump(), kStrategicMergePatch);
}

Result<std::vector<json>> list_all(CommandContext& ctx, const std::string& path) {
  auto list = ctx.api.list(path, ctx.page_size);
  if (!list) return list.error();
  return (*list)["items"].get<std::vector<json>>();
}

std::string pod_key(const json& pod) {
  const json& md = member(pod, "metadata");
  return str(md, "namespace") + "/" + str(md, "name");
}

Result<std::vector<json>> pods_on(CommandContext& ctx, const std::string& node) {
  return list_all(ctx, http::with_query("/api/v1/pods", {{"fieldSelector", "spec.nodeName=" + node}}));
}

bool taint_matches(const json& t, const model::Taint& pattern) {
  return str(t, "key") == pattern.key && (pattern.effect.empty() || str(t, "effect") == pattern.effect);
}

std::string describe(const model::Taint& t) {
  return t.key + (t.value.empty() ? "" : "=" + t.value) + (t.effect.empty() ? "" : ":" + t.effect);
}

}  // namespace

bool pod_needs_eviction(const json& pod) {
  const json& md = member(pod, "metadata");
  if (member(md, "annotations").is_object() && member(md, "annotations").contains("kubernetes.io/config.mirror")) {
    return false;  // a static pod's mirror: the kubelet owns it, the API cannot evict it
  }
  if (const json& owners = member(md, "ownerReferences"); owners.is_array()) {
    for (const json& o : owners) {
      // DaemonSet pods would come straight back (they tolerate unschedulable); kubectl drain skips them too.
      if (str(o, "kind") == "DaemonSet" && member(o, "controller").is_boolean() && o["controller"].get<bool>()) {
        return false;
      }
    }
  }
  return true;
}

json taints_after(const json& current, const TaintChange& change) {
  json out = json::array();
  if (current.is_array()) {
    for (const json& t : current) {
      const bool removed = std::any_of(change.remove.begin(), change.remove.end(),
                                       [&](const model::Taint& r) { return taint_matches(t, r); });
      const bool replaced = std::any_of(change.add.begin(), change.add.end(), [&](const model::Taint& a) {
        return str(t, "key") == a.key && str(t, "effect") == a.effect;
      });
      if (replaced) {
        // Keep it (and its timeAdded) when it is already exactly what is asked for.
        const bool same = std::any_of(change.add.begin(), change.add.end(), [&](const model::Taint& a) {
          return str(t, "key") == a.key && str(t, "effect") == a.effect && str(t, "value") == a.value;
        });
        if (same) out.push_back(t);
        continue;
      }
      if (!removed) out.push_back(t);
    }
  }
  for (const model::Taint& a : change.add) {
    const bool present = std::any_of(
        out.begin(), out.end(), [&](const json& t) { return str(t, "key") == a.key && str(t, "effect") == a.effect; });
    if (present) continue;
    json t = {{"key", a.key}, {"effect", a.effect}};
    if (!a.value.empty()) t["value"] = a.value;
    out.push_back(std::move(t));
  }
  return out;
}

Outcome run_cordon_node(CommandContext& ctx, const std::string& node, bool cordon) {
  if (auto s = set_unschedulable(ctx, node, cordon); !s) return s.error();
  ctx.update([&](protocol::CommandStatus& st) {
    st.nodes_done = 1;
    st.details[node] = cordon ? "cordoned" : "uncordoned";
  });
  ctx.emit(cordon ? "node_cordoned" : "node_uncordoned", node, "");
  return std::string(cordon ? "cordoned node " : "uncordoned node ") + node;
}

Outcome run_cordon_cluster(CommandContext& ctx, bool cordon) {
  auto nodes = list_all(ctx, "/api/v1/nodes");
  if (!nodes) return nodes.error();
  ctx.update([&](protocol::CommandStatus& st) { st.nodes_total = static_cast<int>(nodes->size()); });
  int changed = 0;
  for (const json& n : *nodes) {
    const std::string name = str(member(n, "metadata"), "name");
    const json& unschedulable = member(member(n, "spec"), "unschedulable");
    const bool is_cordoned = unschedulable.is_boolean() && unschedulable.get<bool>();
    if (is_cordoned != cordon) {
      if (auto s = set_unschedulable(ctx, name, cordon); !s) return s.error();
      ++changed;
      ctx.emit(cordon ? "node_cordoned" : "node_uncordoned", name, "");
    }
    ctx.update([&](protocol::CommandStatus& st) {
      ++st.nodes_done;
      st.details[name] = cordon ? "cordoned" : "uncordoned";
    });
  }
  ctx.emit(cordon ? "cluster_cordoned" : "cluster_uncordoned", "",
           std::to_string(changed) + " of " + std::to_string(nodes->size()) + " nodes changed");
  return std::string(cordon ? "cordoned " : "uncordoned ") + std::to_string(nodes->size()) + " nodes (" +
         std::to_string(changed) + " changed)";
}

Outcome run_drain_node(CommandContext& ctx, const DrainRequest& req) {
  const auto deadline = Clock::now() + req.timeout;
  const std::string seconds = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(req.timeout).count());
  if (auto s = set_unschedulable(ctx, req.node, true); !s) return s.error();
  ctx.emit("node_cordoned", req.node, "cordoned for drain");

  auto pods = pods_on(ctx, req.node);
  if (!pods) return pods.error();
  std::map<std::string, std::string> to_evict;  // pod key → uid
  for (const json& pod : *pods) {
    if (pod_needs_eviction(pod)) to_evict[pod_key(pod)] = str(member(pod, "metadata"), "uid");
  }
  ctx.update([&](protocol::CommandStatus& st) {
    st.details[req.node] = "draining " + std::to_string(to_evict.size()) + " pods";
  });

  auto timed_out = [&](const std::string& why) -> Error {
    std::string message =
        "drain of node " + req.node + " timed out after " + seconds + "s: " + why + "; the node stays cordoned";
    ctx.emit("node_drain_timed_out", req.node, message);
    ctx.update([&](protocol::CommandStatus& st) {
      st.nodes_done = 1;
      st.nodes_failed = 1;
      st.details[req.node] = "drain_timed_out";
    });
    return make_error(ErrorCode::kUnavailable, std::move(message));
  };
  auto stopping = [&] {
    return make_error(ErrorCode::kUnavailable, "drain of node " + req.node + " interrupted: the agent is stopping");
  };

  // Evict in rounds: every pending pod once per round, a pause after a round with refusals.
  std::map<std::string, std::string> pending = to_evict;
  std::map<std::string, std::string> blocked;  // pod key → why, as last refused
  std::set<std::string> evicted;
  while (!pending.empty()) {
    for (auto it = pending.begin(); it != pending.end();) {
      const std::string& key = it->first;
      const auto slash = key.find('/');
      const std::string ns = key.substr(0, slash);
      const std::string name = key.substr(slash + 1);
      const std::string path = "/api/v1/namespaces/" + ns + "/pods/" + name + "/eviction";
      json eviction = {
          {"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
      if (req.grace_period_seconds) eviction["deleteOptions"] = {{"gracePeriodSeconds", *req.grace_period_seconds}};
      auto r = ctx.api.call("POST", path, eviction.dump());
      if (!r) return r.error();
      if (r->status == 200 || r->status == 201) {
        ctx.emit("pod_evicted", req.node, key);
        evicted.insert(key);
        blocked.erase(key);
        it = pending.erase(it);
      } else if (r->status == 404) {
        blocked.erase(key);
        it = pending.erase(it);  // gone already
      } else if (r->status == 429 || r->status == 500) {
        // 429: a PodDisruptionBudget allows no disruption now; 500: the pod matches several budgets. Both can
        // clear (replicas become ready elsewhere), so they are retried until the timeout.
        std::string why = status_message(*r);
        auto [prev, inserted] = blocked.try_emplace(key, why);
        if (inserted || prev->second != why) {
          prev->second = why;
          ctx.emit("eviction_blocked", req.node, key + ": " + why);
        }
        ++it;
      } else {
        return api_error("POST", path, *r);
      }
    }
    if (pending.empty()) break;
    if (Clock::now() + ctx.eviction_retry > deadline) {
      if (blocked.empty()) return timed_out(std::to_string(pending.size()) + " pods not yet evicted");
      const auto& [key, why] = *blocked.begin();
      return timed_out("eviction of pod " + key + " is blocked by a PodDisruptionBudget: " + why);
    }
    if (!ctx.sleep(ctx.eviction_retry)) return stopping();
  }

  // Evicted pods terminate with their grace period; the drain is done when they are gone (or replaced: a pod of
  // the same name with another uid is a new pod, e.g. a StatefulSet's, and not ours to wait for).
  while (true) {
    auto now_on = pods_on(ctx, req.node);
    if (!now_on) return now_on.error();
    std::vector<std::string> remaining;
    for (const json& pod : *now_on) {
      const std::string key = pod_key(pod);
      auto it = to_evict.find(key);
      if (it != to_evict.end() && evicted.count(key) && it->second == str(member(pod, "metadata"), "uid")) {
        remaining.push_back(key);
      }
    }
    if (remaining.empty()) break;
    if (Clock::now() + ctx.pod_poll_interval > deadline) {
      std::string list;
      for (const auto& k : remaining) list += (list.empty() ? "" : ", ") + k;
      return timed_out("evicted pods still terminating: " + list);
    }
    if (!ctx.sleep(ctx.pod_poll_interval)) return stopping();
  }

  const std::string message = "drained node " + req.node + ": " + std::to_string(evicted.size()) + " pods evicted";
  ctx.emit("node_drained", req.node, message);
  ctx.update([&](protocol::CommandStatus& st) {
    st.nodes_done = 1;
    st.details[req.node] = "drained";
  });
  return message;
}

Outcome run_taint_node(CommandContext& ctx, const TaintChange& change) {
  const std::string path = node_path(change.node);
  for (int attempt = 0; attempt <= ctx.conflict_retries; ++attempt) {
    auto node = ctx.api.get(path);
    if (!node) return node.error();
    const json& current = member(member(*node, "spec"), "taints");
    json next = taints_after(current, change);
    if (next == (current.is_array() ? current : json::array())) {
      ctx.update([&](protocol::CommandStatus& st) {
        st.nodes_done = 1;
        st.details[change.node] = "unchanged";
      });
      return "the taints of node " + change.node + " are already as asked";
    }
    // The resourceVersion makes the write conditional: a merge patch replaces the whole taints list, so a write
    // based on a stale read would drop a taint someone else added meanwhile.
    const json patch = {{"metadata", {{"resourceVersion", str(member(*node, "metadata"), "resourceVersion")}}},
                        {"spec", {{"taints", next}}}};
    auto r = ctx.api.call("PATCH", path, patch.dump(), kMergePatch);
    if (!r) return r.error();
    if (r->status == 409) continue;
    if (r->status < 200 || r->status >= 300) return api_error("PATCH", path, *r);
    std::string what;
    for (const model::Taint& t : change.add) what += (what.empty() ? "added " : ", added ") + describe(t);
    for (const model::Taint& t : change.remove) what += (what.empty() ? "removed " : ", removed ") + describe(t);
    ctx.emit("node_tainted", change.node, what);
    ctx.update([&](protocol::CommandStatus& st) {
      st.nodes_done = 1;
      st.details[change.node] = "tainted";
    });
    return "node " + change.node + ": " + what;
  }
  return make_error(ErrorCode::kConflict, "node " + change.node + ": the taints kept changing underneath (" +
                                              std::to_string(ctx.conflict_retries + 1) + " conflicts in a row)");
}

Outcome run_apply(CommandContext& ctx, const std::vector<json>& manifests) {
  for (const json& m : manifests) {
    auto ref = object_ref(m, ctx.default_namespace);
    if (!ref) return ref.error();
    json object = m;
    if (!ref->namespace_.empty()) object["metadata"]["namespace"] = ref->namespace_;
    const std::string path = http::with_query(ref->path, {{"fieldManager", ctx.field_manager}, {"force", "true"}});
    if (auto s = expect_2xx(ctx, "PATCH", path, object.dump(), kApplyPatch); !s) return s.error();
    ctx.emit("manifest_applied", "", ref->display());
    ctx.update([&](protocol::CommandStatus& st) { st.details[ref->display()] = "applied"; });
  }
  return "applied " + std::to_string(manifests.size()) + " manifests";
}

Outcome run_delete(CommandContext& ctx, const std::vector<json>& manifests) {
  int deleted = 0;
  for (auto it = manifests.rbegin(); it != manifests.rend(); ++it) {
    auto ref = object_ref(*it, ctx.default_namespace);
    if (!ref) return ref.error();
    auto r = ctx.api.call("DELETE", ref->path);
    if (!r) return r.error();
    if (r->status == 404) {
      ctx.update([&](protocol::CommandStatus& st) { st.details[ref->display()] = "absent"; });
      continue;
    }
    if (r->status < 200 || r->status >= 300) return api_error("DELETE", ref->path, *r);
    ++deleted;
    ctx.emit("manifest_deleted", "", ref->display());
    ctx.update([&](protocol::CommandStatus& st) { st.details[ref->display()] = "deleted"; });
  }
  return "deleted " + std::to_string(deleted) + " of " + std::to_string(manifests.size()) + " objects";
}

}  // namespace fleet::agent::kube
