#include "rollout/plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "rollout/membership.hpp"

namespace fleet::rollout {

namespace {

using model::KubernetesVersion;

struct Skip {
  SkipReason reason = SkipReason::kNone;
  std::string message;
};

// The newest patch of (major, minor) the run may pass through: supported at `now` unless the run allows
// unsupported targets, never retired.
const CatalogEntry* newest_patch(const VersionCatalog& catalog, const std::string& provider, int major, int minor,
                                 TimePoint now, bool allow_unsupported) {
  const CatalogEntry* best = nullptr;
  for (const auto& e : catalog.entries) {
    if (e.kind != EntryKind::kKubernetes || e.provider != provider || !e.kubernetes || e.retired) continue;
    if (e.kubernetes->major != major || e.kubernetes->minor != minor) continue;
    if (!allow_unsupported && !e.supported_at(now)) continue;
    if (best == nullptr || *best->kubernetes < *e.kubernetes) best = &e;
  }
  return best;
}

std::optional<KubernetesVersion> version_or(const std::string& text, const std::optional<KubernetesVersion>& fallback) {
  if (auto v = model::parse_reported_kubernetes_version(text)) return v;
  return fallback;
}

// A pool's GPU drivers outside `range`: the first, for the message. `only`: that pool's (a node image's range
// is about the nodes that run the image).
std::optional<std::string> driver_outside(const ClusterFacts& cluster, const DriverRange& range,
                                          const PoolFacts* only = nullptr) {
  for (const auto& pool : cluster.pools) {
    if (only != nullptr && pool.name != only->name) continue;
    for (const auto& text : pool.gpu_driver_versions) {
      auto v = parse_driver_version(text);
      if (v && !range.contains(*v)) return "pool " + pool.name + " runs GPU driver " + text;
    }
  }
  return std::nullopt;
}

std::string skip_for_state(const ClusterFacts& c, SkipReason& reason) {
  if (c.state == "deleting") {
    reason = SkipReason::kDeleting;
    return "the cluster is being deleted";
  }
  if (c.stopped) {
    reason = SkipReason::kStopped;
    return "the cluster is stopped (" + std::string(kPowerStateLabel) + ")";
  }
  if (c.state == "registering") {
    reason = SkipReason::kNoAgent;
    return "no agent has reported for the cluster yet";
  }
  if (c.state == "unreachable") {
    reason = SkipReason::kUnreachable;
    return "the cluster's agent is unreachable";
  }
  reason = SkipReason::kNone;
  return {};
}

// The node image each image line gets under Consistent: per (provider, line) the regions of every affected pool.
using FamilyKey = std::pair<std::string, std::string>;

class Planner {
 public:
  explicit Planner(const PlanInput& in) : in_(in), spec_(*in.spec), catalog_(*in.catalog) {}

  Result<Plan> run();

 private:
  Skip member_steps(const ClusterFacts& c, MemberPlan& m);
  Skip control_plane_path(const ClusterFacts& c, const KubernetesVersion& from, const KubernetesVersion& to,
                          std::vector<KubernetesVersion>& hops);
  // The image a pool gets, or "" for unchanged; a skip when the selection cannot give one the run needs.
  Skip pool_image(const ClusterFacts& c, const PoolFacts& pool, std::string& image);
  std::vector<Seconds> step_estimates(const ClusterFacts& c, const std::vector<Step>& steps) const;
  // Where the member's maintenance window stands at `t`; nullopt when it has none.
  std::optional<WindowStatus> window_at(const MemberPlan& m, TimePoint t) const {
    const std::vector<WindowRule>& rules = spec_.strategy.maintenance_windows;
    if (!m.window || *m.window >= rules.size()) return std::nullopt;
    return window_status(rules[*m.window].window, t);
  }
  void stage_estimates(Plan& plan);

  const PlanInput& in_;
  const RunSpec& spec_;
  const VersionCatalog& catalog_;
  std::map<FamilyKey, std::vector<std::string>> consistent_regions_;
};

Skip Planner::control_plane_path(const ClusterFacts& c, const KubernetesVersion& from, const KubernetesVersion& to,
                                 std::vector<KubernetesVersion>& hops) {
  for (int minor = from.minor + 1; minor < to.minor; ++minor) {
    const CatalogEntry* e =
        newest_patch(catalog_, c.provider, to.major, minor, in_.now, spec_.target.allow_unsupported);
    if (e == nullptr) {
      return {SkipReason::kTargetNotInCatalog, "no supported " + std::to_string(to.major) + "." +
                                                   std::to_string(minor) + " patch for " + c.provider +
                                                   " in the catalog to pass through"};
    }
    if (auto why = driver_outside(c, e->gpu_driver)) {
      return {SkipReason::kDriverIncompatible,
              *why + ", outside " + e->version + "'s qualified range " + to_string(e->gpu_driver)};
    }
    hops.push_back(*e->kubernetes);
  }
  if (from < to) hops.push_back(to);
  return {};
}

Skip Planner::pool_image(const ClusterFacts& c, const PoolFacts& pool, std::string& image) {
  image.clear();
  if (spec_.target.type == TargetType::kControlPlaneOnly) return {};
  const std::string family = os_family_of_image(pool.node_image_version);
  const std::string line = image_line(pool.node_image_version);
  const CatalogEntry* chosen = nullptr;
  switch (spec_.target.node_image_selection) {
    case NodeImageSelection::kCustom: {
      chosen = catalog_.node_image(c.provider, spec_.target.custom_node_image);
      if (chosen == nullptr) {
        return {SkipReason::kNoNodeImage,
                "node image " + spec_.target.custom_node_image + " is not in the catalog for " + c.provider};
      }
      if (!line.empty() && image_line(chosen->version) != line) {
        return {SkipReason::kNoNodeImage, "pool " + pool.name + " runs " + line + " images; the pinned image " +
                                              chosen->version +
                                              " is another OS SKU (an image update stays in its line)"};
      }
      if (!chosen->supported_at(in_.now) && !spec_.target.allow_unsupported) {
        return {SkipReason::kTargetUnsupported, "node image " + chosen->version + " is not supported now"};
      }
      break;
    }
    case NodeImageSelection::kLatest:
      chosen = catalog_.newest_node_image(c.provider, family, {c.region}, in_.now, line);
      break;
    case NodeImageSelection::kPrevious: {
      // Rollback: the image the pool ran before the earlier run changed it, older than the one it runs now.
      const auto pin = in_.previous_images.find(c.name + "/" + pool.name);
      if (pin == in_.previous_images.end() || pin->second.from == pool.node_image_version) return {};
      // Changed again since (by hand or another run): going back past that change is not this rollback's call.
      if (pin->second.to != pool.node_image_version) {
        return {SkipReason::kChangedSince, "pool " + pool.name + " runs " + pool.node_image_version + ", not the " +
                                               pin->second.to + " that run " + spec_.target.rollback_of +
                                               " put there; pin an image with nodeImageSelection Custom"};
      }
      const CatalogEntry* previous = catalog_.node_image(c.provider, pin->second.from);
      const std::string what =
          "node image " + pin->second.from + " (pool " + pool.name + "'s before " + spec_.target.rollback_of + ")";
      if (previous == nullptr) return {SkipReason::kNoNodeImage, what + " is not in the catalog for " + c.provider};
      if (previous->retired) return {SkipReason::kTargetUnsupported, what + " is retired: no rollback to it"};
      if (!previous->supported_at(in_.now) && !spec_.target.allow_unsupported) {
        return {SkipReason::kTargetUnsupported, what + " is not supported now (set target.allowUnsupported)"};
      }
      if (!line.empty() && image_line(previous->version) != line) {
        return {SkipReason::kNoNodeImage, what + " is another OS SKU than the pool runs now"};
      }
      if (auto why = driver_outside(c, previous->gpu_driver, &pool)) {
        return {SkipReason::kDriverIncompatible,
                *why + ", outside " + what + "'s qualified range " + to_string(previous->gpu_driver)};
      }
      image = previous->version;
      return {};
    }
    case NodeImageSelection::kConsistent: {
      auto it = consistent_regions_.find({c.provider, line});
      chosen = catalog_.newest_node_image(
          c.provider, family, it == consistent_regions_.end() ? std::vector<std::string>{c.region} : it->second,
          in_.now, line);
      break;
    }
  }
  if (chosen == nullptr) {
    if (spec_.target.type == TargetType::kNodeImageOnly) {
      return {SkipReason::kNoNodeImage, "no " + (family.empty() ? std::string("") : family + " ") + "node image for " +
                                            c.provider + " in " + c.region + " in the catalog"};
    }
    return {};  // Full on a provider without catalogued images: the Kubernetes version only
  }
  if (chosen->version == pool.node_image_version) return {};
  // Never step back to an older image than the pool runs.
  if (const CatalogEntry* current = catalog_.node_image(c.provider, pool.node_image_version);
      current != nullptr && current->released > chosen->released) {
    return {};
  }
  if (auto why = driver_outside(c, chosen->gpu_driver, &pool)) {
    return {SkipReason::kDriverIncompatible,
            *why + ", outside node image " + chosen->version + "'s qualified range " + to_string(chosen->gpu_driver)};
  }
  image = chosen->version;
  return {};
}

Skip Planner::member_steps(const ClusterFacts& c, MemberPlan& m) {
  SkipReason state_reason = SkipReason::kNone;
  std::string state_message = skip_for_state(c, state_reason);
  if (state_reason != SkipReason::kNone) return {state_reason, state_message};

  const auto current = model::parse_reported_kubernetes_version(c.kubernetes_version);
  const bool touches_control_plane = spec_.target.type != TargetType::kNodeImageOnly;
  KubernetesVersion target{};
  if (touches_control_plane) {
    target = *spec_.target.kubernetes_version;
    m.to_version = to_string(target);
    const CatalogEntry* entry = catalog_.kubernetes(c.provider, target);
    if (entry == nullptr) {
      return {SkipReason::kTargetNotInCatalog,
              "Kubernetes " + m.to_version + " is not in the catalog for " + c.provider};
    }
    if (entry->retired) return {SkipReason::kTargetUnsupported, "Kubernetes " + m.to_version + " is retired"};
    if (!entry->supported_at(in_.now) && !spec_.target.allow_unsupported) {
      return {SkipReason::kTargetUnsupported, "Kubernetes " + m.to_version + " for " + c.provider +
                                                  " is outside its support window (set target.allowUnsupported)"};
    }
    if (!current) return {SkipReason::kNoAgent, "the cluster has reported no Kubernetes version"};
    if (target < *current) {
      return {SkipReason::kDowngrade,
              "the control plane runs " + c.kubernetes_version + ", newer than " + m.to_version};
    }
    if (target.major != current->major) {
      return {SkipReason::kTargetNotInCatalog, "a major version change is not an upgrade path"};
    }
    if (auto why = driver_outside(c, entry->gpu_driver)) {
      return {SkipReason::kDriverIncompatible,
              *why + ", outside Kubernetes " + m.to_version + "'s qualified range " + to_string(entry->gpu_driver)};
    }
  } else {
    m.to_version = c.kubernetes_version;
  }

  // Control-plane hops, with pools brought along when a hop would leave them beyond the kubelet skew.
  std::vector<KubernetesVersion> hops;
  if (touches_control_plane) {
    if (Skip s = control_plane_path(c, *current, target, hops); s.reason != SkipReason::kNone) return s;
  }
  std::map<std::string, std::optional<KubernetesVersion>> kubelet;  // per pool, as the steps leave it
  for (const auto& pool : c.pools) {
    auto v = version_or(pool.kubernetes_version, current);
    if (touches_control_plane && v && target < *v) {
      return {SkipReason::kDowngrade,
              "pool " + pool.name + " runs " + pool.kubernetes_version + ", newer than " + m.to_version};
    }
    kubelet[pool.name] = v;
  }
  // Blue-green pools (issue #13 item 4) change name at each step: a later step of the same pool names the pool the
  // earlier one created, and each new name is one the cluster has not got (nor an earlier step made).
  std::map<std::string, std::string> pool_names;  // the pool's name in the spec's facts → its name now
  std::set<std::string> taken;
  for (const auto& pool : c.pools) {
    pool_names[pool.name] = pool.name;
    taken.insert(pool.name);
  }
  const auto& blue_green = spec_.node_upgrade.blue_green;
  auto pool_step = [&](const PoolFacts& pool, std::optional<KubernetesVersion> version, std::string image) {
    Step s;
    s.kind = StepKind::kNodePool;
    s.pool = pool_names[pool.name];
    s.kubernetes_version = version;
    if (!image.empty()) s.from_node_image = pool.node_image_version;
    s.node_image = std::move(image);
    s.nodes = pool.nodes;
    s.gpu_nodes = pool.gpu_nodes;
    if (blue_green && blue_green->applies_to(pool.name) && pool.nodes > 0) {
      s.replacement = replacement_pool_name(s.pool, taken);
      taken.insert(s.replacement);
      pool_names[pool.name] = s.replacement;
    }
    return s;
  };

  std::optional<KubernetesVersion> cp = current;
  for (const auto& hop : hops) {
    for (const auto& pool : c.pools) {
      auto& v = kubelet[pool.name];
      if (!v || !cp || hop.minor - v->minor <= kMaxKubeletSkew) continue;
      if (spec_.target.type == TargetType::kControlPlaneOnly) {
        return {SkipReason::kSkew, "pool " + pool.name + " at " + pool.kubernetes_version + " would be more than " +
                                       std::to_string(kMaxKubeletSkew) + " minors behind " + to_string(hop) +
                                       "; upgrade with target Full"};
      }
      m.steps.push_back(pool_step(pool, cp, ""));
      v = cp;
    }
    Step s;
    s.kind = StepKind::kControlPlane;
    s.kubernetes_version = hop;
    m.steps.push_back(s);
    cp = hop;
  }

  if (spec_.target.type != TargetType::kControlPlaneOnly) {
    for (const auto& pool : c.pools) {
      std::string image;
      if (Skip s = pool_image(c, pool, image); s.reason != SkipReason::kNone) return s;
      std::optional<KubernetesVersion> version;
      const auto& v = kubelet[pool.name];
      if (touches_control_plane && (!v || *v < target)) version = target;
      if (!version && image.empty()) continue;
      m.steps.push_back(pool_step(pool, version, image));
    }
  }
  if (m.steps.empty()) {
    return {SkipReason::kAlreadyAtTarget,
            touches_control_plane ? "already at " + m.to_version + " with current node images"
            : spec_.target.node_image_selection == NodeImageSelection::kPrevious
                ? "nothing to roll back: no pool runs an image that run " + spec_.target.rollback_of + " put there"
                : "every pool already runs the selected node image"};
  }
  return {};
}

std::vector<Seconds> Planner::step_estimates(const ClusterFacts& c, const std::vector<Step>& steps) const {
  const StepDurations& d = in_.history.of(c.provider);
  std::vector<Seconds> out;
  out.reserve(steps.size());
  for (const auto& s : steps) {
    if (s.kind == StepKind::kControlPlane) {
      out.push_back(d.control_plane);
      continue;
    }
    if (!s.replacement.empty()) {  // the new pool's nodes come up together; then the old pool soaks
      out.push_back(d.per_node + spec_.node_upgrade.blue_green->soak);
      continue;
    }
    const int batch = std::max(1, spec_.node_upgrade.max_surge.resolve(s.nodes, true) +
                                      spec_.node_upgrade.max_unavailable.resolve(s.nodes, false));
    const int rounds = (s.nodes + batch - 1) / batch;
    out.push_back(d.per_node * rounds);
  }
  return out;
}

Seconds gate_waits(const std::vector<Gate>& gates, TimePoint at, int& approvals) {
  Seconds total{0};
  for (const auto& g : gates) {
    if (g.type == GateType::kWait) total += g.duration;
    if (g.type == GateType::kApproval) ++approvals;
    if (g.type == GateType::kHealthCheck) total += g.soak;
    if (g.type == GateType::kScheduledStart && g.not_before && *g.not_before > at + total) {
      total = std::chrono::duration_cast<Seconds>(*g.not_before - at);
    }
  }
  return total;
}

void Planner::stage_estimates(Plan& plan) {
  TimePoint at = in_.now;
  for (std::size_t s = 0; s < spec_.strategy.stages.size(); ++s) {
    const StageSpec& stage = spec_.strategy.stages[s];
    StagePlan& sp = plan.stages[s];
    const TimePoint stage_start = at;
    at += gate_waits(stage.before_gates, at, plan.approvals);

    // Simulate the run machine's scheduler over the members that will run.
    std::vector<std::vector<std::size_t>> runnable(stage.groups.size());
    for (std::size_t g = 0; g < stage.groups.size(); ++g) {
      for (std::size_t idx : sp.groups[g].members) {
        if (plan.members[idx].skip == SkipReason::kNone) runnable[g].push_back(idx);
      }
    }
    std::vector<int> limits;
    for (std::size_t g = 0; g < stage.groups.size(); ++g) limits.push_back(sp.groups[g].concurrency);
    // The run machine's stage limit: a percent of all the stage's members, skipped ones included.
    const std::optional<int> stage_limit = sp.concurrency;

    // Group before-gates delay their group.
    std::vector<TimePoint> group_open(stage.groups.size(), at);
    for (std::size_t g = 0; g < stage.groups.size(); ++g) {
      group_open[g] += gate_waits(stage.groups[g].before_gates, at, plan.approvals);
    }
    // Where each member stands: its next step, and whether that step is running. A member whose window closes
    // while a step runs finishes the step, then waits for its window without a slot, as one not yet started does.
    struct Sim {
      std::size_t next = 0;
      bool running = false;
      bool done = false;
    };
    std::vector<std::vector<Sim>> sim(stage.groups.size());
    for (std::size_t g = 0; g < stage.groups.size(); ++g) sim[g].resize(runnable[g].size());
    std::vector<int> running(stage.groups.size(), 0);
    std::multimap<TimePoint, std::pair<std::size_t, std::size_t>> finishing;  // a step's end → (group, position)
    std::vector<TimePoint> group_done(stage.groups.size(), at);
    auto begin_step = [&](std::size_t g, std::size_t k, TimePoint t) {
      const MemberPlan& m = plan.members[runnable[g][k]];
      finishing.emplace(t + m.step_estimates.at(sim[g][k].next), std::make_pair(g, k));
    };
    TimePoint clock = at;
    for (;;) {
      // The steps that ended by now: the member's next step, or its end, or a wait for its window.
      while (!finishing.empty() && finishing.begin()->first <= clock) {
        const auto [t, where] = *finishing.begin();
        finishing.erase(finishing.begin());
        const auto [g, k] = where;
        Sim& x = sim[g][k];
        const MemberPlan& m = plan.members[runnable[g][k]];
        if (++x.next >= m.steps.size()) {
          x.done = true;
          x.running = false;
          --running[g];
          group_done[g] = std::max(group_done[g], t);
        } else if (const std::optional<WindowStatus> w = window_at(m, t); w && !w->open) {
          x.running = false;
          --running[g];
        } else {
          begin_step(g, k, t);
        }
      }
      // As the run machine does: a member whose window is closed when its turn comes waits without a slot, and the
      // next one in the group takes it; it starts (or goes on) once its window is open and a slot is free.
      std::vector<std::vector<std::size_t>> ready(stage.groups.size());  // positions in runnable[g], in order
      std::optional<TimePoint> wake;
      for (std::size_t g = 0; g < stage.groups.size(); ++g) {
        if (group_open[g] > clock) continue;
        for (std::size_t k = 0; k < runnable[g].size(); ++k) {
          if (sim[g][k].running || sim[g][k].done) continue;
          const std::optional<WindowStatus> w = window_at(plan.members[runnable[g][k]], clock);
          if (!w || w->open) {
            ready[g].push_back(k);
          } else if (!wake || w->changes_at < *wake) {
            wake = w->changes_at;
          }
        }
      }
      std::vector<std::size_t> pending(stage.groups.size(), 0);
      for (std::size_t g = 0; g < stage.groups.size(); ++g) pending[g] = ready[g].size();
      std::vector<std::string> batch;
      std::vector<std::size_t> taken(stage.groups.size(), 0);
      for (const auto& slot : select_starts(pending, running, limits, stage_limit)) {
        const std::size_t k = ready[slot.group][taken[slot.group]++];
        Sim& x = sim[slot.group][k];
        if (x.next == 0) batch.push_back(plan.members[runnable[slot.group][k]].cluster);  // resumed: not a start
        x.running = true;
        ++running[slot.group];
        begin_step(slot.group, k, clock);
      }
      if (!batch.empty()) sp.batches.push_back(std::move(batch));
      // The next moment something changes: a step ending, a group opening, or a waiting member's window.
      if (!finishing.empty() && (!wake || finishing.begin()->first < *wake)) wake = finishing.begin()->first;
      for (std::size_t g = 0; g < stage.groups.size(); ++g) {
        const bool left = std::any_of(sim[g].begin(), sim[g].end(), [](const Sim& x) { return !x.done && !x.running; });
        if (group_open[g] > clock && left && (!wake || group_open[g] < *wake)) wake = group_open[g];
      }
      if (!wake) break;  // every window opens within a week, so this is the end of the stage
      clock = std::max(clock, *wake);
    }
    TimePoint end = at;
    for (std::size_t g = 0; g < stage.groups.size(); ++g) {
      TimePoint gd = std::max(group_done[g], group_open[g]);
      gd += gate_waits(stage.groups[g].after_gates, gd, plan.approvals);
      end = std::max(end, gd);
    }
    end += stage.after_stage_wait;
    end += gate_waits(stage.after_gates, end, plan.approvals);
    sp.estimate = std::chrono::duration_cast<Seconds>(end - stage_start);
    at = end;
  }
  plan.estimate = std::chrono::duration_cast<Seconds>(at - in_.now);
}

Result<Plan> Planner::run() {
  const Strategy& strategy = spec_.strategy;
  auto membership = assign_members(strategy, in_.clusters);
  if (!membership) return membership.error();
  if (spec_.target.node_image_selection == NodeImageSelection::kCustom &&
      spec_.target.type != TargetType::kControlPlaneOnly) {
    bool found = false;
    for (const auto& e : catalog_.entries)
      found |= e.kind == EntryKind::kNodeImage && e.version == spec_.target.custom_node_image;
    if (!found) {
      return make_error(ErrorCode::kInvalid, "node image " + spec_.target.custom_node_image + " is not in the catalog",
                        "target.nodeImageVersion");
    }
  }

  // Consistent: the regions of every pool the run may touch, per provider and OS family.
  if (spec_.target.node_image_selection == NodeImageSelection::kConsistent) {
    for (const auto& stage : membership->members) {
      for (const auto& group : stage) {
        for (std::size_t i : group) {
          const ClusterFacts& c = in_.clusters[i];
          SkipReason r = SkipReason::kNone;
          skip_for_state(c, r);
          if (r != SkipReason::kNone) continue;
          for (const auto& pool : c.pools) {
            auto& regions = consistent_regions_[{c.provider, image_line(pool.node_image_version)}];
            if (std::find(regions.begin(), regions.end(), c.region) == regions.end()) regions.push_back(c.region);
          }
        }
      }
    }
    for (auto& [key, regions] : consistent_regions_) std::sort(regions.begin(), regions.end());
  }

  Plan plan;
  plan.made_at = in_.now;
  for (std::size_t s = 0; s < strategy.stages.size(); ++s) {
    const StageSpec& stage = strategy.stages[s];
    StagePlan sp;
    sp.name = stage.name;
    int stage_members = 0;
    for (const auto& group : membership->members[s]) stage_members += static_cast<int>(group.size());
    if (stage.max_concurrency) sp.concurrency = stage.max_concurrency->resolve_concurrency(stage_members);
    for (std::size_t g = 0; g < stage.groups.size(); ++g) {
      GroupPlan gp;
      gp.name = stage.groups[g].name;
      const int size = static_cast<int>(membership->members[s][g].size());
      gp.concurrency = stage.groups[g].max_concurrency ? stage.groups[g].max_concurrency->resolve_concurrency(size)
                                                       : std::max(size, 1);
      for (std::size_t i : membership->members[s][g]) {
        const ClusterFacts& c = in_.clusters[i];
        MemberPlan m;
        m.cluster = c.name;
        m.cluster_id = c.id;
        m.stage = s;
        m.group = g;
        m.from_version = c.kubernetes_version;
        m.window = strategy.window_for(c.labels);
        Skip skip = member_steps(c, m);
        if (skip.reason != SkipReason::kNone) {
          m.steps.clear();
          m.skip = skip.reason;
          m.message = skip.message;
        } else {
          m.step_estimates = step_estimates(c, m.steps);
          for (const Seconds step : m.step_estimates) m.estimate += step;
          m.message = std::to_string(m.steps.size()) + (m.steps.size() == 1 ? " step" : " steps");
        }
        gp.members.push_back(plan.members.size());
        plan.members.push_back(std::move(m));
      }
      sp.groups.push_back(std::move(gp));
    }
    if (stage_members == 0) plan.warnings.push_back("stage " + stage.name + " selects no cluster");
    plan.stages.push_back(std::move(sp));
  }
  for (std::size_t i : membership->unmatched) plan.unmatched.push_back(in_.clusters[i].name);
  stage_estimates(plan);
  if (spec_.target.node_image_selection == NodeImageSelection::kPrevious) {
    plan.warnings.push_back("a rollback of run " + spec_.target.rollback_of +
                            "'s node images: each pool goes back to the image it ran before that run; control planes "
                            "and pools keep their Kubernetes versions (a minor version is never downgraded)");
  }
  if (std::any_of(plan.members.begin(), plan.members.end(), [](const MemberPlan& m) { return m.window.has_value(); })) {
    plan.warnings.push_back(
        "estimates count the waits for maintenance windows: a member whose window closes while a step runs "
        "finishes that step and waits for the window before the next (as the run does)");
  }
  if (!in_.history.defaults.measured) {
    bool any_measured = false;
    for (const auto& [provider, d] : in_.history.by_provider) any_measured |= d.measured;
    if (!any_measured)
      plan.warnings.push_back("estimates use default step durations: no upgrade has been measured yet");
  }
  return plan;
}

}  // namespace

const StepDurations& StepHistory::of(const std::string& provider) const {
  auto it = by_provider.find(provider);
  return it == by_provider.end() ? defaults : it->second;
}

std::string_view to_string(SkipReason r) {
  switch (r) {
    case SkipReason::kNone:
      return "";
    case SkipReason::kAlreadyAtTarget:
      return "AlreadyAtTarget";
    case SkipReason::kUnreachable:
      return "Unreachable";
    case SkipReason::kStopped:
      return "Stopped";
    case SkipReason::kNoAgent:
      return "NoAgent";
    case SkipReason::kDeleting:
      return "Deleting";
    case SkipReason::kTargetNotInCatalog:
      return "TargetNotInCatalog";
    case SkipReason::kTargetUnsupported:
      return "TargetUnsupported";
    case SkipReason::kDriverIncompatible:
      return "DriverIncompatible";
    case SkipReason::kDowngrade:
      return "Downgrade";
    case SkipReason::kNoNodeImage:
      return "NoNodeImage";
    case SkipReason::kSkew:
      return "VersionSkew";
    case SkipReason::kChangedSince:
      return "ChangedSince";
    case SkipReason::kNotInStrategy:
      return "NotInStrategy";
  }
  return "";
}

Result<Plan> make_plan(const PlanInput& input) {
  return Planner(input).run();
}

}  // namespace fleet::rollout
