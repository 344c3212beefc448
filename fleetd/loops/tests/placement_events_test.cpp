// The events a workload's decisions and its agents' reports write (fleetd/loops/placement_events.hpp): which
// rounds write any, and the exact text a person reads. No PostgreSQL.
#include <catch2/catch.hpp>

#include "fleetd/loops/placement_events.hpp"

namespace fleet {
namespace {

store::StoredBinding event_binding(std::string cluster, int replicas, std::vector<placement::NodeShare> nodes,
                                   std::string state = "Running", std::int64_t generation = 1) {
  store::StoredBinding b;
  b.cluster = std::move(cluster);
  b.replicas = replicas;
  b.nodes = std::move(nodes);
  b.state = std::move(state);
  b.generation = generation;
  return b;
}

placement::Decision placed_on(std::vector<placement::ClusterBinding> bindings, int wanted) {
  placement::Decision d;
  d.bindings = std::move(bindings);
  d.replicas_wanted = wanted;
  for (const placement::ClusterBinding& b : d.bindings) d.replicas_bound += b.replicas;
  d.state = d.replicas_bound == wanted ? placement::DecisionState::kPlaced
            : d.replicas_bound == 0    ? placement::DecisionState::kUnplaceable
                                       : placement::DecisionState::kPartiallyPlaced;
  return d;
}

}  // namespace

TEST_CASE("events: a new workload's first decision says where and why not elsewhere", "[placement][events]") {
  placement::Decision d = placed_on({{"gpu-a", 2, {{"n1", 1}, {"n2", 1}}}}, 3);
  d.rejected.push_back({"gpu-b", placement::RejectionCode::kTaint, "taint gpu=reserved:NoSchedule not tolerated"});
  d.rejected.push_back({"gpu-c", placement::RejectionCode::kInsufficientCapacity,
                        "1 of 3 replicas fit: needs 4×H100 on one node, largest free block is 2"});
  d.rejected.push_back({"gpu-d", placement::RejectionCode::kInsufficientCapacity, "0 of 3 replicas fit"});
  const BindingChanges changes = binding_changes({}, d, 1);
  const auto events = decision_events({"Pending", std::nullopt, 1}, d, {}, changes);
  REQUIRE(events.size() == 2);
  CHECK(events[0] ==
        store::WorkloadEvent{"Decided", "",
                             "generation 1: PartiallyPlaced: 2 of 3 replicas bound on gpu-a (2); 3 clusters "
                             "not chosen (InsufficientCapacity 2, Taint 1); first gpu-b: taint "
                             "gpu=reserved:NoSchedule not tolerated"});
  CHECK(events[1] == store::WorkloadEvent{"Bound", "gpu-a", "2 replicas on n1 ×1, n2 ×1: new"});
}

TEST_CASE("events: re-evaluating an unchanged fleet writes nothing", "[placement][events]") {
  const placement::Decision d = placed_on({{"a", 2, {{"n1", 2}}}}, 4);
  const std::vector<store::StoredBinding> current = {event_binding("a", 2, {{"n1", 2}})};
  const BindingChanges changes = binding_changes(current, d, 1);
  CHECK(decision_events({"PartiallyPlaced", 1, 1}, d, current, changes).empty());
  // The same bindings, but the workload's state changed (fewer replicas wanted): that is news.
  const placement::Decision fewer = placed_on({{"a", 2, {{"n1", 2}}}}, 2);
  const auto events = decision_events({"PartiallyPlaced", 1, 1}, fewer, current, binding_changes(current, fewer, 1));
  REQUIRE(events.size() == 1);
  CHECK(events[0].message == "Placed: 2 of 2 replicas bound on a (2)");
}

TEST_CASE("events: a move says what was bound, what was removed, and why", "[placement][events]") {
  placement::Decision d = placed_on({{"b", 2, {{"m1", 2}}}, {"c", 1, {{"k2", 1}}}}, 3);
  d.rejected.push_back({"a", placement::RejectionCode::kClusterState, "cluster is unreachable"});
  const std::vector<store::StoredBinding> current = {event_binding("a", 2, {{"n1", 2}}),
                                                     event_binding("c", 1, {{"k1", 1}}),
                                                     event_binding("d", 1, {{"x", 1}}, "Failed")};
  const auto events = decision_events({"Placed", 1, 1}, d, current, binding_changes(current, d, 1, {}, {"a"}));
  REQUIRE(events.size() == 5);
  CHECK(events[0].type == "Decided");
  CHECK(events[1] == store::WorkloadEvent{"Bound", "b", "2 replicas on m1 ×2: new"});
  CHECK(events[2] == store::WorkloadEvent{"Bound", "c", "1 replica on k2 ×1: moved between nodes (was k1 ×1)"});
  CHECK(events[3] == store::WorkloadEvent{"Unbound", "a", "removing 2 replicas: ClusterState: cluster is unreachable"});
  CHECK(events[4] == store::WorkloadEvent{"Unbound", "d", "dropped the failed binding: no longer chosen"});
}

TEST_CASE("events: a move off a live cluster says the replicas keep running until the new ones run",
          "[placement][events]") {
  placement::Decision d = placed_on({{"b", 2, {{"m1", 2}}}}, 2);
  d.rejected.push_back({"a", placement::RejectionCode::kAffinity, "required affinity zone=b not met"});
  const std::vector<store::StoredBinding> current = {event_binding("a", 2, {{"n1", 2}})};
  const auto events = decision_events({"Placed", 1, 2}, d, current, binding_changes(current, d, 2));
  REQUIRE(events.size() == 3);
  CHECK(events[1] == store::WorkloadEvent{"Bound", "b", "2 replicas on m1 ×2: new"});
  CHECK(events[2] == store::WorkloadEvent{"Unbound", "a",
                                          "moving 2 replicas away: Affinity: required affinity zone=b not met; they "
                                          "keep running here until the new bindings run"});
  CHECK(superseded_removal_event(current[0]) ==
        store::WorkloadEvent{"Unbound", "a", "removing 2 replicas: the bindings that replace them run"});
}

TEST_CASE("events: each reason a binding is applied again", "[placement][events]") {
  const placement::Decision d = placed_on({{"a", 3, {{"n1", 3}}}, {"b", 1, {}}, {"c", 1, {}}, {"e", 1, {}}}, 6);
  const std::vector<store::StoredBinding> current = {
      event_binding("a", 2, {{"n1", 2}}, "Running", 1), event_binding("b", 1, {}, "Failed", 2),
      event_binding("c", 1, {}, "Deleting", 2), event_binding("e", 1, {}, "Running", 2)};
  BindingChanges changes = binding_changes(current, d, 2);
  REQUIRE(changes.apply.size() == 3);     // e is the same generation, replicas and nodes: unchanged
  changes.apply.push_back({"e", 1, {}});  // as if its overrides had changed
  const auto events = decision_events({"Placed", 1, 2}, d, current, changes);
  REQUIRE(events.size() == 5);
  CHECK(events[1].message == "3 replicas on n1 ×3: the workload changed (generation 1 → 2); replicas 2 → 3");
  CHECK(events[2].message == "1 replica: chosen again after it failed");
  CHECK(events[3].message == "1 replica: chosen again while it was being removed");
  CHECK(events[4].message == "1 replica: its overrides changed");
}

TEST_CASE("events: long lists are cut, with how many more", "[placement][events]") {
  std::vector<placement::ClusterBinding> bindings;
  for (int i = 0; i < 10; ++i) bindings.push_back({"c" + std::to_string(i), 1, {}});
  const placement::Decision d = placed_on(bindings, 10);
  const auto events = decision_events({"Placed", 1, 1}, d, {}, binding_changes({}, d, 1));
  REQUIRE(events.size() == 11);
  CHECK(events[0].message ==
        "Placed: 10 of 10 replicas bound on c0 (1), c1 (1), c2 (1), c3 (1), c4 (1), c5 (1), c6 (1), c7 (1) and 2 more "
        "clusters");
}

TEST_CASE("events: deletion, override failures and the agents' reports", "[placement][events]") {
  const std::vector<store::StoredBinding> current = {event_binding("a", 2, {}), event_binding("b", 1, {}, "Failed")};
  const auto gone = deletion_events(deletion_changes(current));
  REQUIRE(gone.size() == 2);
  CHECK(gone[0] == store::WorkloadEvent{"Unbound", "a", "removing 2 replicas: the workload is being deleted"});
  CHECK(gone[1] == store::WorkloadEvent{"Unbound", "b", "dropped the failed binding: the workload is being deleted"});
  CHECK(override_failure_event("a", "override img rule 0: path /spec does not exist") ==
        store::WorkloadEvent{"Failed", "a",
                             "not applied, its overrides failed: override img rule 0: path /spec does "
                             "not exist"});
  CHECK(binding_report_event("a", "Pending", true, "") ==
        store::WorkloadEvent{"Applied", "a", "the agent applied the manifests; waiting for the replicas to run"});
  CHECK(binding_report_event("a", "Pending", false, "admission webhook denied the request") ==
        store::WorkloadEvent{"Failed", "a", "apply_workload failed: admission webhook denied the request"});
  CHECK(binding_report_event("a", "Deleting", true, "") ==
        store::WorkloadEvent{"Removed", "a", "the agent deleted the workload's objects"});
  CHECK(binding_report_event("a", "Deleting", false, "") ==
        store::WorkloadEvent{"Failed", "a", "delete_workload failed"});
}

}  // namespace fleet
