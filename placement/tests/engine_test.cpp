// Scores, selection, division, spread, determinism and the ledger, through the engine.
#include <algorithm>
#include <map>
#include <random>

#include <catch2/catch.hpp>

#include "model/label_selector.hpp"
#include "placement/division.hpp"
#include "placement/score_plugins.hpp"
#include "placement/tests/placement_fixtures.hpp"

namespace fleet::placement {

using namespace testing;

TEST_CASE("fragmentation counts what the common shapes cannot use", "[placement][scores]") {
  CHECK(node_fragmentation(8) == 0);
  CHECK(node_fragmentation(0) == 0);
  CHECK(node_fragmentation(4) == Approx(1.0));   // (0 + 0 + 0 + 4) / 4
  CHECK(node_fragmentation(7) == Approx(2.75));  // (0 + 1 + 3 + 7) / 4
  // Taking 1 GPU from a whole node fragments it; taking it from a node with 1 free tidies up.
  CHECK(fragmentation_delta(8, 1) > 0);
  CHECK(fragmentation_delta(1, 1) < 0);
}

TEST_CASE("score plugins decide between feasible clusters", "[placement][scores]") {
  SECTION("fragmentation: a 1-GPU replica goes where a partly used node is, keeping whole nodes whole") {
    PlacementEngine engine(
        Snapshot{{gpu_cluster("a-whole", 2), cluster("b-partial", {gpu_node("x", 8, 7), gpu_node("y")})}});
    const Decision d = engine.place(workload("w", 1, 1, PolicyType::kPickN, 1));
    REQUIRE(d.bindings.size() == 1);
    CHECK(d.bindings[0].cluster == "b-partial");
    CHECK(d.bindings[0].nodes == std::vector<NodeShare>{{"x", 1}});
    CHECK(rejection_for(d, "a-whole")->code == RejectionCode::kNotSelected);
  }
  SECTION("packing: among equal blocks, the busier cluster") {
    PlacementEngine engine(
        Snapshot{{gpu_cluster("a-empty", 2), cluster("b-busy", {gpu_node("x", 8, 8), gpu_node("y")})}});
    const Decision d = engine.place(workload("w", 8, 1, PolicyType::kPickN, 1));
    CHECK(d.bindings.at(0).cluster == "b-busy");
  }
  SECTION("preferred affinity outweighs packing") {
    Snapshot snapshot{{gpu_cluster("a", 1), cluster("b", {gpu_node("x", 8, 4), gpu_node("y")})}};
    snapshot.clusters[0].labels["tier"] = "gold";
    PlacementEngine engine(snapshot);
    Workload w = workload("w", 8, 1, PolicyType::kPickN, 1);
    w.policy.preferred = {{50, {*model::parse_label_selector("tier=gold"), {}}}};
    CHECK(engine.place(w).bindings.at(0).cluster == "a");
  }
  SECTION("cost: the cheaper GPU-hour; an unknown price never wins") {
    Snapshot snapshot{{gpu_cluster("a", 1), gpu_cluster("b", 1), gpu_cluster("c", 1)}};
    snapshot.clusters[0].labels["fleet.io/cost-per-gpu-hour"] = "4.10";
    snapshot.clusters[1].labels["fleet.io/cost-per-gpu-hour"] = "2.95";
    PlacementEngine engine(snapshot);
    CHECK(engine.place(workload("w", 8, 1, PolicyType::kPickN, 1)).bindings.at(0).cluster == "b");
  }
  SECTION("an untolerated PreferNoSchedule taint counts against a cluster") {
    Snapshot snapshot{{gpu_cluster("a", 1), gpu_cluster("b", 1)}};
    snapshot.clusters[0].taints = {{"spot", "", "PreferNoSchedule"}};
    PlacementEngine engine(snapshot);
    CHECK(engine.place(workload("w", 8, 1, PolicyType::kPickN, 1)).bindings.at(0).cluster == "b");
  }
  SECTION("a cluster a rollout has yet to drain scores below packing and fragmentation, not below a binding") {
    Snapshot snapshot{{gpu_cluster("a-empty", 2), cluster("b-busy", {gpu_node("x", 8, 7), gpu_node("y")})}};
    snapshot.clusters[1].upgrade_pending = true;
    PlacementEngine engine(snapshot);
    CHECK(engine.place(workload("w", 1, 1, PolicyType::kPickN, 1)).bindings.at(0).cluster == "a-empty");
    // What already runs there stays until its own pool is drained.
    const Decision kept = engine.place(workload("w", 1, 1, PolicyType::kPickN, 1), {{"b-busy", 1, {{"x", 1}}}});
    CHECK(kept.bindings.at(0).cluster == "b-busy");
  }
  SECTION("current bindings are kept on re-evaluation, on the same nodes") {
    PlacementEngine engine(Snapshot{{gpu_cluster("a", 2), gpu_cluster("b", 2)}});
    Workload w = workload("w", 2, 2, PolicyType::kPickN, 1);
    const std::vector<ClusterBinding> current = {{"b", 2, {{"b-n1", 2}}}};
    // The ledger holds the current binding as used (the snapshot's gpus_used would), so take it first.
    Snapshot busy{{gpu_cluster("a", 2), cluster("b", {gpu_node("b-n0"), gpu_node("b-n1", 8, 4)})}};
    PlacementEngine again(busy);
    const Decision d = again.place(w, current);
    REQUIRE(d.bindings.size() == 1);
    CHECK(d.bindings[0] == current[0]);
  }
}

TEST_CASE("PickN ties break by cluster name", "[placement][selection]") {
  PlacementEngine engine(Snapshot{{gpu_cluster("c", 1), gpu_cluster("a", 1), gpu_cluster("b", 1)}});
  const Decision d = engine.place(workload("w", 8, 1, PolicyType::kPickN, 2));
  REQUIRE(d.bindings.size() == 2);
  CHECK(d.bindings[0].cluster == "a");
  CHECK(d.bindings[1].cluster == "b");
  const std::optional<Rejection> c = rejection_for(d, "c");
  REQUIRE(c.has_value());
  CHECK(c->code == RejectionCode::kNotSelected);
  CHECK(c->reason ==
        "fits 1 replica, score 0; PickN 2 took clusters that fit more replicas or scored higher (the last one taken "
        "fits 1, score 0)");
}

TEST_CASE("PickN ranks by the replicas a cluster holds before its score", "[placement][selection]") {
  // The busier cluster scores higher on packing, but only the emptier one holds all three replicas.
  PlacementEngine engine(
      Snapshot{{cluster("a-busy", {gpu_node("x", 8, 0), gpu_node("y", 8, 8)}), gpu_cluster("b-empty", 3)}});
  const Decision d = engine.place(divided(workload("w", 8, 3, PolicyType::kPickN, 1)));
  REQUIRE(d.bindings.size() == 1);
  CHECK(d.bindings[0].cluster == "b-empty");
  CHECK(d.state == DecisionState::kPlaced);
}

TEST_CASE("Divided places all replicas or none", "[placement][division]") {
  PlacementEngine engine(Snapshot{{gpu_cluster("a", 1), gpu_cluster("b", 1)}});
  const Decision d = engine.place(divided(workload("w", 8, 3, PolicyType::kPickN, 2)));
  CHECK(d.state == DecisionState::kUnplaceable);
  CHECK(d.bindings.empty());
  CHECK(d.replicas_bound == 0);
  REQUIRE(rejection_for(d, "a").has_value());
  CHECK(rejection_for(d, "a")->code == RejectionCode::kInsufficientCapacity);
  CHECK(rejection_for(d, "a")->reason ==
        "the chosen clusters hold only 2 of the 3 replicas (Divided places all replicas or none): 8 GPUs each");
  // Nothing was taken: a workload that fits comes next and gets the GPUs.
  CHECK(engine.place(workload("next", 8, 1, PolicyType::kPickN, 2)).state == DecisionState::kPlaced);
}

TEST_CASE("topology spread", "[placement][selection]") {
  // Three clusters in westeurope rank first (busier), one in eastus.
  Snapshot snapshot{{cluster("we-1", {gpu_node("x", 8, 0), gpu_node("y", 8, 8)}, "westeurope"),
                     cluster("we-2", {gpu_node("x", 8, 0), gpu_node("y", 8, 8)}, "westeurope"),
                     cluster("we-3", {gpu_node("x", 8, 0), gpu_node("y", 8, 8)}, "westeurope"),
                     gpu_cluster("us-1", 2, 0, "eastus")}};
  Workload w = workload("w", 8, 1, PolicyType::kPickN, 3);
  SECTION("DoNotSchedule never breaks maxSkew") {
    w.policy.number_of_clusters = 4;
    w.policy.spread = {{"region", 1, WhenUnsatisfiable::kDoNotSchedule}};
    PlacementEngine engine(snapshot);
    const Decision d = engine.place(w);
    std::vector<std::string> chosen;
    for (const auto& b : d.bindings) chosen.push_back(b.cluster);
    // westeurope 2, eastus 1 is skew 1; a third westeurope cluster would be skew 2.
    CHECK(chosen == std::vector<std::string>{"us-1", "we-1", "we-2"});
    CHECK(d.state == DecisionState::kPartiallyPlaced);
    const std::optional<Rejection> we3 = rejection_for(d, "we-3");
    REQUIRE(we3.has_value());
    CHECK(we3->code == RejectionCode::kSpread);
    CHECK(we3->reason == "spread by region (maxSkew 1): westeurope would have 3 chosen clusters, while eastus has 1");
  }
  SECTION("ScheduleAnyway keeps the spread while it can, then fills") {
    w.policy.number_of_clusters = 4;
    w.policy.spread = {{"region", 1, WhenUnsatisfiable::kScheduleAnyway}};
    PlacementEngine engine(snapshot);
    const Decision d = engine.place(w);
    CHECK(d.bindings.size() == 4);
    CHECK(d.state == DecisionState::kPlaced);
  }
}

TEST_CASE("replica division", "[placement][division]") {
  SECTION("apportion: largest remainder, ties to the better rank, caps redistributed") {
    CHECK(apportion(6, {1, 1}, {10, 10}) == std::vector<int>{3, 3});
    CHECK(apportion(7, {1, 1}, {10, 10}) == std::vector<int>{4, 3});
    CHECK(apportion(7, {1, 1, 1}, {10, 10, 10}) == std::vector<int>{3, 2, 2});
    CHECK(apportion(10, {2, 1, 1}, {10, 10, 10}) == std::vector<int>{5, 3, 2});
    CHECK(apportion(10, {1, 1}, {2, 100}) == std::vector<int>{2, 8});
    CHECK(apportion(10, {1, 0}, {3, 100}) == std::vector<int>{3, 0});  // weight 0 takes nothing
    CHECK(apportion(10, {1, 1}, {3, 4}) == std::vector<int>{3, 4});    // less room than replicas
    CHECK(apportion(0, {1, 1}, {3, 4}) == std::vector<int>{0, 0});
  }
  SECTION("Divided by capacity follows what fits") {
    PlacementEngine engine(Snapshot{{gpu_cluster("a", 3), gpu_cluster("b", 1)}});
    const Decision d = engine.place(divided(workload("w", 8, 4, PolicyType::kPickN, 2)));
    CHECK(binding_for(d, "a")->replicas == 3);
    CHECK(binding_for(d, "b")->replicas == 1);
    CHECK(d.state == DecisionState::kPlaced);
  }
  SECTION("Divided by weights") {
    PlacementEngine engine(Snapshot{{gpu_cluster("a", 4), gpu_cluster("b", 4)}});
    Workload w = divided(workload("w", 8, 6, PolicyType::kPickAll));
    w.policy.divide_by = DivideBy::kWeights;
    w.policy.weights = {{"a", 2}, {"b", 1}};
    const Decision d = engine.place(w);
    CHECK(binding_for(d, "a")->replicas == 4);
    CHECK(binding_for(d, "b")->replicas == 2);
  }
  SECTION("Duplicated: every chosen cluster runs all replicas") {
    PlacementEngine engine(Snapshot{{gpu_cluster("a", 2), gpu_cluster("b", 2)}});
    const Decision d = engine.place(workload("w", 4, 3, PolicyType::kPickAll));
    CHECK(binding_for(d, "a")->replicas == 3);
    CHECK(binding_for(d, "b")->replicas == 3);
    CHECK(d.replicas_wanted == 6);
    CHECK(d.state == DecisionState::kPlaced);
  }
  SECTION("nodes: best fit keeps a whole node for an 8-GPU replica") {
    PlacementEngine engine(Snapshot{{cluster("a", {gpu_node("n0", 8, 4), gpu_node("n1")})}});
    const Decision small = engine.place(workload("small", 4, 1));
    CHECK(small.bindings.at(0).nodes == std::vector<NodeShare>{{"n0", 1}});
    CHECK(engine.place(workload("big", 8, 1)).state == DecisionState::kPlaced);
  }
}

TEST_CASE("the ledger: a burst never over-commits a node", "[placement][ledger]") {
  PlacementEngine engine(Snapshot{{gpu_cluster("a", 2)}});
  int placed = 0;
  for (int i = 0; i < 5; ++i) {
    if (engine.place(workload("w" + std::to_string(i), 4, 1)).state == DecisionState::kPlaced) ++placed;
  }
  CHECK(placed == 4);
  const Snapshot now = engine.current();  // held: a loop over an element of a temporary dangles (found by ASan)
  for (const NodeSnapshot& node : now.clusters[0].nodes) CHECK(node.gpus_used == 8);
  const Decision fifth = engine.place(workload("late", 4, 1));
  CHECK(fifth.state == DecisionState::kUnplaceable);
  CHECK(rejection_for(fifth, "a")->reason == "no replica fits: needs 4 GPUs on one node, largest free block is 0");
  engine.release(workload("w0", 4, 1), {{"a", 1, {{"a-n0", 1}}}});
  CHECK(engine.place(workload("late", 4, 1)).state == DecisionState::kPlaced);
}

TEST_CASE("determinism: the same snapshot, in any order, gives the same decisions", "[placement][determinism]") {
  Snapshot snapshot;
  const std::vector<std::string> regions = {"westeurope", "eastus", "japaneast"};
  for (int c = 0; c < 12; ++c) {
    std::vector<NodeSnapshot> nodes;
    for (int n = 0; n < 6; ++n)
      nodes.push_back(gpu_node("n" + std::to_string(n), 8, (c * 7 + n * 3) % 9 % 8, n % 3 ? kH100 : kA100));
    snapshot.clusters.push_back(cluster("c" + std::to_string(c), nodes, regions[static_cast<std::size_t>(c) % 3]));
  }
  std::vector<Workload> workloads;
  for (int i = 0; i < 40; ++i) {
    Workload w = workload("w" + std::to_string(i), 1 << (i % 4), 1 + i % 3,
                          i % 2 ? PolicyType::kPickN : PolicyType::kPickAll, 1 + i % 3);
    if (i % 5 == 0) w = divided(w);
    if (i % 7 == 0) w.policy.spread = {{"region", 1, WhenUnsatisfiable::kDoNotSchedule}};
    workloads.push_back(w);
  }
  const std::vector<Decision> first = place_batch(snapshot, workloads);
  CHECK(place_batch(snapshot, workloads) == first);
  std::mt19937 rng(42);
  for (int round = 0; round < 3; ++round) {
    Snapshot shuffled = snapshot;
    std::shuffle(shuffled.clusters.begin(), shuffled.clusters.end(), rng);
    for (ClusterSnapshot& c : shuffled.clusters) std::shuffle(c.nodes.begin(), c.nodes.end(), rng);
    CHECK(place_batch(shuffled, workloads) == first);
  }
  // And nothing is over-committed.
  std::map<std::pair<std::string, std::string>, int> used;
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    for (const ClusterBinding& b : first[i].bindings) {
      for (const NodeShare& share : b.nodes)
        used[{b.cluster, share.node}] += share.replicas * workloads[i].resources.gpus;
    }
  }
  for (const ClusterSnapshot& c : snapshot.clusters) {
    for (const NodeSnapshot& n : c.nodes) CHECK(used[{c.name, n.name}] <= n.gpus_healthy - n.gpus_used);
  }
}

}  // namespace fleet::placement
