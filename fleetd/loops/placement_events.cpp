#include "fleetd/loops/placement_events.hpp"

#include <algorithm>
#include <map>

namespace fleet {

namespace {

// A message names at most this many clusters or nodes, then "and N more": the full lists are in the placement.
constexpr std::size_t kListed = 8;

std::string replicas_text(int replicas) {
  return std::to_string(replicas) + (replicas == 1 ? " replica" : " replicas");
}

std::string nodes_text(const std::vector<placement::NodeShare>& nodes) {
  std::string out;
  for (std::size_t i = 0; i < nodes.size() && i < kListed; ++i) {
    out += (i == 0 ? "" : ", ") + nodes[i].node + " ×" + std::to_string(nodes[i].replicas);
  }
  if (nodes.size() > kListed) out += " and " + std::to_string(nodes.size() - kListed) + " more";
  return out;
}

std::string bindings_text(const std::vector<placement::ClusterBinding>& bindings) {
  std::string out;
  for (std::size_t i = 0; i < bindings.size() && i < kListed; ++i) {
    out += (i == 0 ? "" : ", ") + bindings[i].cluster + " (" + std::to_string(bindings[i].replicas) + ")";
  }
  if (bindings.size() > kListed) out += " and " + std::to_string(bindings.size() - kListed) + " more clusters";
  return out;
}

// "5 clusters not chosen (InsufficientCapacity 3, Taint 2); first gpu-b: <reason>"
std::string rejections_text(const placement::RejectionList& rejected) {
  if (rejected.empty()) return "";
  std::map<std::string, int> by_code;
  for (const placement::Rejection r : rejected) ++by_code[std::string(placement::to_string(r.code))];
  std::vector<std::pair<std::string, int>> codes(by_code.begin(), by_code.end());
  std::stable_sort(codes.begin(), codes.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out =
      std::to_string(rejected.size()) + (rejected.size() == 1 ? " cluster" : " clusters") + " not chosen (";
  for (std::size_t i = 0; i < codes.size(); ++i) {
    out += (i == 0 ? "" : ", ") + codes[i].first + " " + std::to_string(codes[i].second);
  }
  const placement::Rejection first = rejected[0];
  return out + "); first " + first.cluster + ": " + first.reason;
}

const store::StoredBinding* find_binding(const std::vector<store::StoredBinding>& current, const std::string& cluster) {
  const auto it =
      std::find_if(current.begin(), current.end(), [&](const store::StoredBinding& b) { return b.cluster == cluster; });
  return it == current.end() ? nullptr : &*it;
}

// Whether two assignments use the same nodes, however many replicas each holds (a resize is said on its own).
bool same_nodes(const std::vector<placement::NodeShare>& a, const std::vector<placement::NodeShare>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const placement::NodeShare& x, const placement::NodeShare& y) { return x.node == y.node; });
}

// Why a binding is applied again: every difference from the stored one, in the order a person asks about them.
std::string why_applied(const store::StoredBinding* before, const placement::ClusterBinding& now,
                        std::int64_t generation) {
  if (before == nullptr) return "new";
  if (before->state == "Failed") return "chosen again after it failed";
  if (before->state == "Deleting") return "chosen again while it was being removed";
  std::vector<std::string> why;
  if (before->generation != generation) {
    why.push_back("the workload changed (generation " + std::to_string(before->generation) + " → " +
                  std::to_string(generation) + ")");
  }
  if (before->replicas != now.replicas) {
    why.push_back("replicas " + std::to_string(before->replicas) + " → " + std::to_string(now.replicas));
  }
  if (!same_nodes(before->nodes, now.nodes) && !now.nodes.empty()) {
    why.push_back("moved between nodes (was " + nodes_text(before->nodes) + ")");
  }
  if (why.empty()) return "its overrides changed";
  std::string out;
  for (std::size_t i = 0; i < why.size(); ++i) out += (i == 0 ? "" : "; ") + why[i];
  return out;
}

std::string bound_text(const placement::ClusterBinding& b, const std::string& why) {
  std::string out = replicas_text(b.replicas);
  if (!b.nodes.empty()) out += " on " + nodes_text(b.nodes);
  return out + ": " + why;
}

// The decision's reason for not choosing `cluster` now; a cluster the decision never saw (it is being deleted, or
// left the fleet) has none.
std::string why_not_chosen(const placement::RejectionList& rejected, const std::string& cluster) {
  for (const placement::Rejection r : rejected) {
    if (r.cluster == cluster) return std::string(placement::to_string(r.code)) + ": " + r.reason;
  }
  return "no longer chosen";
}

bool changes_anything(const BindingChanges& changes) {
  return !changes.apply.empty() || !changes.remove.empty() || !changes.drop.empty() || !changes.supersede.empty();
}

std::string decided_text(const DecisionContext& context, const placement::Decision& decision) {
  std::string out = std::string(placement::to_string(decision.state)) + ": " + std::to_string(decision.replicas_bound) +
                    " of " + std::to_string(decision.replicas_wanted) + " replicas bound";
  if (!decision.bindings.empty()) out += " on " + bindings_text(decision.bindings);
  if (const std::string rejected = rejections_text(decision.rejected); !rejected.empty()) out += "; " + rejected;
  if (context.previous_generation != context.generation) {
    out = "generation " + std::to_string(context.generation) + ": " + out;
  }
  return out;
}

}  // namespace

std::vector<store::WorkloadEvent> decision_events(const DecisionContext& context, const placement::Decision& decision,
                                                  const std::vector<store::StoredBinding>& current,
                                                  const BindingChanges& changes) {
  std::vector<store::WorkloadEvent> events;
  const bool news = context.previous_generation != context.generation ||
                    context.previous_state != placement::to_string(decision.state) || changes_anything(changes);
  if (!news) return events;
  events.push_back({"Decided", "", decided_text(context, decision)});
  for (const placement::ClusterBinding& b : changes.apply) {
    const std::string why = why_applied(find_binding(current, b.cluster), b, context.generation);
    events.push_back({"Bound", b.cluster, bound_text(b, why)});
  }
  for (const store::StoredBinding& b : changes.remove) {
    events.push_back({"Unbound", b.cluster,
                      "removing " + replicas_text(b.replicas) + ": " + why_not_chosen(decision.rejected, b.cluster)});
  }
  for (const store::StoredBinding& b : changes.drop) {
    events.push_back(
        {"Unbound", b.cluster, "dropped the failed binding: " + why_not_chosen(decision.rejected, b.cluster)});
  }
  for (const store::StoredBinding& b : changes.supersede) {
    events.push_back({"Unbound", b.cluster,
                      "moving " + replicas_text(b.replicas) + " away: " + why_not_chosen(decision.rejected, b.cluster) +
                          "; they keep running here until the new bindings run"});
  }
  return events;
}

store::WorkloadEvent superseded_removal_event(const store::StoredBinding& b) {
  return {"Unbound", b.cluster, "removing " + replicas_text(b.replicas) + ": the bindings that replace them run"};
}

std::vector<store::WorkloadEvent> deletion_events(const BindingChanges& changes) {
  std::vector<store::WorkloadEvent> events;
  for (const store::StoredBinding& b : changes.remove) {
    events.push_back(
        {"Unbound", b.cluster, "removing " + replicas_text(b.replicas) + ": the workload is being deleted"});
  }
  for (const store::StoredBinding& b : changes.drop) {
    events.push_back({"Unbound", b.cluster, "dropped the failed binding: the workload is being deleted"});
  }
  return events;
}

store::WorkloadEvent override_failure_event(const std::string& cluster, std::string_view message) {
  return {"Failed", cluster, "not applied, its overrides failed: " + std::string(message)};
}

store::WorkloadEvent binding_report_event(const std::string& cluster, std::string_view from, bool succeeded,
                                          std::string_view message) {
  const std::string detail = message.empty() ? "" : ": " + std::string(message);
  if (from == "Deleting") {
    if (succeeded) return {"Removed", cluster, "the agent deleted the workload's objects"};
    return {"Failed", cluster, "delete_workload failed" + detail};
  }
  if (succeeded) return {"Applied", cluster, "the agent applied the manifests; waiting for the replicas to run"};
  return {"Failed", cluster, "apply_workload failed" + detail};
}

}  // namespace fleet
