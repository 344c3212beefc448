#include "fleetd/loops/binding_changes.hpp"

#include <algorithm>

namespace fleet {

namespace {

bool settled(const store::StoredBinding& b) {
  return b.state != "Failed" && b.state != "Deleting" && b.state != "Superseded";
}

// The workload is being deleted: everything goes at once.
void take_away(const store::StoredBinding& b, BindingChanges& changes) {
  if (b.state == "Failed") {
    changes.drop.push_back(b);
  } else if (b.state != "Deleting") {
    changes.remove.push_back(b);
  }
}

// The decision no longer has `b` (the rules in the header).
void move_away(const store::StoredBinding& b, const placement::Decision& decision, const std::set<std::string>& gone,
               BindingChanges& changes) {
  if (b.state == "Failed") {
    changes.drop.push_back(b);
  } else if (b.state == "Deleting" || b.state == "Superseded") {
    return;
  } else if (gone.contains(b.cluster)) {
    if (decision.state == placement::DecisionState::kPlaced) changes.remove.push_back(b);
  } else if (!changes.apply.empty() && (b.state == "Applied" || b.state == "Running")) {
    changes.supersede.push_back(b);
  } else {
    changes.remove.push_back(b);
  }
}

}  // namespace

BindingChanges binding_changes(const std::vector<store::StoredBinding>& current, const placement::Decision& decision,
                               std::int64_t generation, const std::map<std::string, nlohmann::json>& overrides,
                               const std::set<std::string>& gone) {
  BindingChanges changes;
  const nlohmann::json none = nlohmann::json::array();
  for (const placement::ClusterBinding& wanted : decision.bindings) {
    const auto it = std::find_if(current.begin(), current.end(),
                                 [&](const store::StoredBinding& b) { return b.cluster == wanted.cluster; });
    const auto record = overrides.find(wanted.cluster);
    const bool same = it != current.end() && settled(*it) && it->generation == generation &&
                      it->replicas == wanted.replicas && it->nodes == wanted.nodes &&
                      it->overrides == (record == overrides.end() ? none : record->second);
    if (!same) changes.apply.push_back(wanted);
  }
  for (const store::StoredBinding& b : current) {
    const bool kept = std::any_of(decision.bindings.begin(), decision.bindings.end(),
                                  [&](const placement::ClusterBinding& w) { return w.cluster == b.cluster; });
    if (!kept) move_away(b, decision, gone, changes);
  }
  return changes;
}

BindingChanges deletion_changes(const std::vector<store::StoredBinding>& current) {
  BindingChanges changes;
  for (const store::StoredBinding& b : current) take_away(b, changes);
  return changes;
}

std::vector<placement::ClusterBinding> engine_bindings(const std::vector<store::StoredBinding>& current) {
  std::vector<placement::ClusterBinding> out;
  for (const store::StoredBinding& b : current) {
    if (settled(b)) out.push_back({b.cluster, b.replicas, b.nodes});
  }
  return out;
}

}  // namespace fleet
