// Every filter plugin, through the engine, with the exact reason a person reads.
#include <catch2/catch.hpp>

#include "model/label_selector.hpp"
#include "placement/tests/placement_fixtures.hpp"

namespace fleet::placement {
namespace {

using namespace testing;

// Places `w` on a fleet of one good cluster ("good") and the cluster under test ("c"); returns c's rejection.
Rejection refused(ClusterSnapshot c, const Workload& w) {
  Snapshot snapshot{{gpu_cluster("good", 2), std::move(c)}};
  PlacementEngine engine(snapshot);
  const Decision decision = engine.place(w);
  const std::optional<Rejection> r = rejection_for(decision, "c");
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("cluster filters refuse with a reason", "[placement][filters]") {
  const Workload w = workload("w", 1, 1);
  SECTION("state") {
    ClusterSnapshot c = gpu_cluster("c", 1);
    c.state = "unreachable";
    const Rejection r = refused(c, w);
    CHECK(r.code == RejectionCode::kClusterState);
    CHECK(r.reason == "cluster is unreachable (missed heartbeats)");
  }
  SECTION("taint") {
    ClusterSnapshot c = gpu_cluster("c", 1);
    c.taints = {{"gpu", "reserved", "NoSchedule"}};
    const Rejection r = refused(c, w);
    CHECK(r.code == RejectionCode::kTaint);
    CHECK(r.reason == "taint gpu=reserved:NoSchedule not tolerated");
    Workload tolerant = w;
    tolerant.policy.tolerations = {{"gpu", Toleration::Op::kEqual, "reserved", "NoSchedule"}};
    PlacementEngine engine(Snapshot{{c}});
    CHECK(engine.place(tolerant).state == DecisionState::kPlaced);
  }
  SECTION("PreferNoSchedule taints do not refuse") {
    ClusterSnapshot c = gpu_cluster("c", 1);
    c.taints = {{"spot", "", "PreferNoSchedule"}};
    PlacementEngine engine(Snapshot{{c}});
    CHECK(engine.place(w).state == DecisionState::kPlaced);
  }
  SECTION("required labels") {
    ClusterSnapshot c = gpu_cluster("c", 1);
    c.labels = {{"env", "staging"}};
    Workload picky = w;
    picky.policy.required = ClusterTerm{*model::parse_label_selector("env=prod"), {}};
    const Rejection r = refused(c, picky);
    CHECK(r.code == RejectionCode::kAffinity);
    CHECK(r.reason == "required affinity: labels do not match env=prod");
  }
  SECTION("required property, with a GPU model") {
    ClusterSnapshot c = gpu_cluster("c", 1, 4);  // 4 of 8 H100s free
    Workload picky = w;
    picky.policy.required = ClusterTerm{{}, {{"freeGpus", kH100, CompareOp::kGe, 8}}};
    const Rejection r = refused(c, picky);
    CHECK(r.code == RejectionCode::kAffinity);
    CHECK(r.reason == "required affinity: freeGpus(NVIDIA H100 80GB HBM3) is 4, needs Ge 8");
  }
  SECTION("required numeric label that is absent") {
    ClusterSnapshot c = gpu_cluster("c", 1);
    Workload picky = w;
    picky.policy.required = ClusterTerm{{}, {{"costPerGpuHour", "", CompareOp::kLt, 3}}};
    Snapshot snapshot{{c}};
    snapshot.clusters[0].labels["fleet.io/cost-per-gpu-hour"] = "2.5";
    snapshot.clusters.push_back(gpu_cluster("d", 1));
    PlacementEngine engine(snapshot);
    const Decision decision = engine.place(picky);
    REQUIRE(rejection_for(decision, "d").has_value());
    CHECK(rejection_for(decision, "d")->reason == "required affinity: property costPerGpuHour is not set");
    CHECK(binding_for(decision, "c") != nullptr);
  }
  SECTION("PickFixed") {
    Workload fixed = w;
    fixed.policy.type = PolicyType::kPickFixed;
    fixed.policy.cluster_names = {"good", "missing"};
    PlacementEngine engine(Snapshot{{gpu_cluster("good", 1), gpu_cluster("c", 1)}});
    const Decision decision = engine.place(fixed);
    CHECK(rejection_for(decision, "c")->code == RejectionCode::kNotInClusterList);
    CHECK(rejection_for(decision, "missing")->code == RejectionCode::kNoSuchCluster);
    CHECK(rejection_for(decision, "missing")->reason == "no such cluster");
    CHECK(decision.state == DecisionState::kPartiallyPlaced);  // one of two named clusters
    CHECK(decision.replicas_wanted == 2);
    CHECK(decision.replicas_bound == 1);
  }
}

TEST_CASE("the node funnel names the most specific cause", "[placement][filters]") {
  const Workload w = workload("w", 4, 1);
  SECTION("no GPUs") {
    const Rejection r = refused(cluster("c", {cpu_node("a"), cpu_node("b")}), w);
    CHECK(r.code == RejectionCode::kNoGpus);
    CHECK(r.reason == "no GPU nodes");
  }
  SECTION("cordoned and draining") {
    NodeSnapshot cordoned = gpu_node("a");
    cordoned.schedulable = false;
    NodeSnapshot draining = gpu_node("b");
    draining.draining = true;
    const Rejection r = refused(cluster("c", {cordoned, draining}), w);
    CHECK(r.code == RejectionCode::kNodesUnavailable);
    CHECK(r.reason == "no available GPU nodes: 1 cordoned, 1 draining for an upgrade");
  }
  SECTION("admission") {
    NodeSnapshot a = gpu_node("a");
    a.admission = model::Admission::kQuarantined;
    NodeSnapshot b = gpu_node("b");
    b.admission = model::Admission::kQuarantined;
    NodeSnapshot p = gpu_node("p");
    p.admission = model::Admission::kPendingProbe;
    const Rejection r = refused(cluster("c", {a, b, p}), w);
    CHECK(r.code == RejectionCode::kNoAdmittedGpus);
    CHECK(r.reason == "no admitted GPUs: 2 nodes quarantined, 1 node pending probe");
  }
  SECTION("model") {
    Workload h100 = w;
    h100.resources.gpu_models = {kA100, kH100};
    const Rejection r = refused(cluster("c", {gpu_node("a", 8, 0, kL4)}), h100);
    CHECK(r.code == RejectionCode::kGpuModel);
    CHECK(r.reason == "no allowed GPU model: needs NVIDIA A100-SXM4-80GB or NVIDIA H100 80GB HBM3, has NVIDIA L4");
  }
  SECTION("memory") {
    Workload big = w;
    big.resources.min_gpu_memory_bytes = 80 * kGiB;
    const Rejection r = refused(cluster("c", {gpu_node("a", 8, 0, kL4)}), big);
    CHECK(r.code == RejectionCode::kGpuMemory);
    CHECK(r.reason == "GPU memory 24 GiB < required 80 GiB");
  }
  SECTION("driver and CUDA") {
    NodeSnapshot old = gpu_node("a");
    old.driver_version = *parse_dotted_version("535.104.12");
    old.cuda_version = *parse_dotted_version("12.2");
    Workload modern = w;
    modern.min_driver_version = parse_dotted_version("550");
    Rejection r = refused(cluster("c", {old}), modern);
    CHECK(r.code == RejectionCode::kDriverVersion);
    CHECK(r.reason == "driver 535.104.12 < required 550");
    modern.min_driver_version.reset();
    modern.min_cuda_version = parse_dotted_version("12.4");
    r = refused(cluster("c", {old}), modern);
    CHECK(r.code == RejectionCode::kCudaVersion);
    CHECK(r.reason == "CUDA 12.2 < required 12.4");
  }
  SECTION("node taint, and the admission taints are never tolerated") {
    NodeSnapshot tainted = gpu_node("a");
    tainted.taints = {{"dedicated", "infra", "NoSchedule"}};
    const Rejection r = refused(cluster("c", {tainted}), w);
    CHECK(r.code == RejectionCode::kNodeTaint);
    CHECK(r.reason == "node taint dedicated=infra:NoSchedule not tolerated on 1 node");
    NodeSnapshot unverified = gpu_node("b");
    unverified.taints = {{"fleet.io/gpu-unverified", "", "NoSchedule"}};
    Workload everything = w;
    everything.policy.tolerations = {{"", Toleration::Op::kExists, "", ""}};
    const Rejection r2 = refused(cluster("c", {unverified}), everything);
    CHECK(r2.code == RejectionCode::kNodeTaint);
  }
  SECTION("node-level fit: eight nodes with one free GPU each do not fit one 8-GPU replica") {
    std::vector<NodeSnapshot> nodes;
    for (int i = 0; i < 8; ++i) nodes.push_back(gpu_node("n" + std::to_string(i), 8, 7));
    Workload eight = workload("w", 8, 1);
    eight.resources.gpu_models = {kH100};
    const Rejection r = refused(cluster("c", nodes), eight);
    CHECK(r.code == RejectionCode::kInsufficientCapacity);
    CHECK(r.reason == "no replica fits: needs 8 GPUs (NVIDIA H100 80GB HBM3) on one node, largest free block is 1");
  }
  SECTION("Duplicated: some replicas fit") {
    Workload four = workload("w", 8, 4);
    const Rejection r = refused(cluster("c", {gpu_node("a"), gpu_node("b"), gpu_node("d"), gpu_node("e", 8, 4)}), four);
    CHECK(r.code == RejectionCode::kInsufficientCapacity);
    CHECK(r.reason == "3 of 4 replicas fit: needs 8 GPUs on one node, the free GPU blocks hold 3");
  }
  SECTION("CPU and memory on the same node") {
    Workload hungry = workload("w", 1, 1);
    hungry.resources.cpu_millicores = 200'000;
    const Rejection r = refused(cluster("c", {gpu_node("a")}), hungry);
    CHECK(r.code == RejectionCode::kInsufficientCapacity);
    CHECK(r.reason == "no replica fits: needs 1 GPU + 200 CPU on one node, CPU or memory runs out first");
  }
}

TEST_CASE("the node funnel asks one node of each group of alike nodes, and tells unlike ones apart",
          "[placement][filters]") {
  // Three H100 nodes that differ only in their driver, an L4 and a tainted H100: five groups, three of them alike
  // but for the version.
  NodeSnapshot old_a = gpu_node("a");
  old_a.driver_version = *parse_dotted_version("535.104.05");
  NodeSnapshot old_b = gpu_node("b");
  old_b.driver_version = *parse_dotted_version("535.104.12");
  NodeSnapshot modern = gpu_node("m");
  NodeSnapshot twin = gpu_node("n");  // alike to m: the same group
  NodeSnapshot l4 = gpu_node("l", 8, 0, kL4);
  NodeSnapshot tainted = gpu_node("t");
  tainted.taints = {{"dedicated", "infra", "NoSchedule"}};
  Workload w = workload("w", 8, 4);
  w.min_driver_version = parse_dotted_version("550");
  Snapshot snapshot{{cluster("c", {old_a, old_b, modern, twin, l4, tainted})}};

  SECTION("only the nodes that pass take replicas: m, n and the L4 (any model will do), not the old drivers or t") {
    PlacementEngine engine(snapshot);
    const Decision d = engine.place(w);
    const Rejection r = *rejection_for(d, "c");
    CHECK(r.code == RejectionCode::kInsufficientCapacity);
    CHECK(r.reason == "3 of 4 replicas fit: needs 8 GPUs on one node, the free GPU blocks hold 3");
  }
  SECTION("a refusal explains every node of the groups it removed") {
    w.min_driver_version = parse_dotted_version("560");
    const Rejection r = refused(cluster("c", {old_a, old_b, modern, l4}), w);
    CHECK(r.code == RejectionCode::kDriverVersion);
    CHECK(r.reason == "driver 550.90.7 < required 560");
  }
  SECTION("an unknown driver and driver 0 are not alike: a minimum of 0 takes only the one that reported") {
    NodeSnapshot unknown = gpu_node("u");
    unknown.driver_version = {};
    NodeSnapshot zero = gpu_node("z");
    zero.driver_version = *parse_dotted_version("0");
    w.min_driver_version = parse_dotted_version("0");
    w.replicas = 1;
    PlacementEngine engine(Snapshot{{cluster("c", {unknown, zero})}});
    const Decision d = engine.place(w);
    REQUIRE(d.bindings.size() == 1);
    REQUIRE(d.bindings[0].nodes.size() == 1);
    CHECK(d.bindings[0].nodes[0].node == "z");
  }
}

TEST_CASE("node fit and assignment visit only nodes with enough free GPUs, kept up to date by each decision",
          "[placement][filters]") {
  // Free: a 4, big 20 (a hand-made node with more GPUs than an inventory may report still counts whole), d 7.
  Snapshot snapshot{{cluster("c", {gpu_node("a", 8, 4), gpu_node("big", 20, 0), gpu_node("d", 8, 1)})}};
  PlacementEngine engine(snapshot);
  const Decision three = engine.place(workload("eight", 8, 3));  // Duplicated: only "big" holds 8s, two of them
  CHECK(rejection_for(three, "c")->reason ==
        "2 of 3 replicas fit: needs 8 GPUs on one node, the free GPU blocks hold 2");

  const Workload sixteen = workload("sixteen", 16, 1);
  const Decision taken = engine.place(sixteen);
  REQUIRE(taken.bindings.size() == 1);
  CHECK(taken.bindings[0].nodes == std::vector<NodeShare>{{"big", 1}});
  // "big" is down to 4: no node has 8 free now, and the largest block is d's 7.
  const Workload eight = workload("eight", 8, 1);
  CHECK(rejection_for(engine.place(eight), "c")->reason ==
        "no replica fits: needs 8 GPUs on one node, largest free block is 7");
  // Giving the 16 back makes room again: the sets follow give as well as take.
  engine.release(sixteen, taken.bindings);
  const Decision again = engine.place(eight);
  REQUIRE(again.bindings.size() == 1);
  CHECK(again.bindings[0].nodes == std::vector<NodeShare>{{"big", 1}});
}

}  // namespace fleet::placement
