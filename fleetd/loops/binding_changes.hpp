#pragma once
// From a workload's stored bindings and a new decision to what the placement loop writes: pure, so the rules are
// tested without PostgreSQL.
// - A binding the decision keeps as it is (same replicas, same nodes, not Failed or being deleted) is left alone:
//   re-evaluating an unchanged fleet sends nothing.
// - A new or changed binding, or one chosen again after it failed or while it is being deleted, is applied
//   (upsert: Pending, a new revision, an apply_workload command). So is one whose record of applied overrides
//   differs from what the overrides give it now (issue #15 item 2): an override created, changed or deleted. So is
//   one applied for an older generation of the workload: a changed image or manifest reaches every cluster.
// - A binding the decision no longer has (issue #15 item 1, re-placement):
//   - nothing runs there (Failed): its row is dropped;
//   - on a cluster that is gone (unreachable past the liveness grace, or being deleted): deleted there (Deleting,
//     a delete_workload command the agent gets when it is back) once the decision placed every replica elsewhere;
//     while it could not, the binding stays as it is, since its replicas may still run and nothing else can take
//     them;
//   - on a live cluster, while the decision binds replicas anew somewhere (make before break): Superseded, left
//     running until every other binding of the workload runs (the placement loop then deletes it);
//   - otherwise (fewer clusters, nothing new to wait for): deleted on its cluster.
//   A binding already Deleting or Superseded is left as it is.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleetd/store/placement_store.hpp"
#include "placement/decision.hpp"

namespace fleet {

struct BindingChanges {
  std::vector<placement::ClusterBinding> apply;
  std::vector<store::StoredBinding> remove;
  std::vector<store::StoredBinding> drop;
  std::vector<store::StoredBinding> supersede;
};

// `generation`: the workload's, which the decision is for. `overrides`: by cluster, the record of the overrides a
// binding there gets now (fleetd/loops/binding_overrides.hpp); a cluster it does not name gets none ([]). `gone`:
// the clusters that are unreachable or being deleted.
BindingChanges binding_changes(const std::vector<store::StoredBinding>& current, const placement::Decision& decision,
                               std::int64_t generation, const std::map<std::string, nlohmann::json>& overrides = {},
                               const std::set<std::string>& gone = {});

// The workload is being deleted: every binding goes.
BindingChanges deletion_changes(const std::vector<store::StoredBinding>& current);

// What the engine should count as the workload's own today: bindings that run or are about to (not those being
// removed, failed, or superseded by a move).
std::vector<placement::ClusterBinding> engine_bindings(const std::vector<store::StoredBinding>& current);

}  // namespace fleet
