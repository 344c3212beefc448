// The placement loop's pure parts: the snapshot from stored rows, the binding changes a decision implies, and the
// manifests sent to a cluster. No PostgreSQL.
#include <catch2/catch.hpp>

#include "fleetd/loops/binding_changes.hpp"
#include "fleetd/loops/workload_manifests.hpp"
#include "fleetd/store/placement_snapshot.hpp"

namespace fleet {
namespace {

model::GpuInfo gpu(int index, std::string model, std::string driver, std::string health = "healthy") {
  model::GpuInfo g;
  g.index = index;
  g.model = std::move(model);
  g.memory_bytes = std::int64_t{80} << 30;
  g.driver_version = std::move(driver);
  g.cuda_version = "12.4";
  g.health = std::move(health);
  return g;
}

store::StoredBinding stored(std::string cluster, int replicas, std::vector<placement::NodeShare> nodes,
                            std::string state = "Running") {
  store::StoredBinding b;
  b.cluster = std::move(cluster);
  b.replicas = replicas;
  b.nodes = std::move(nodes);
  b.state = std::move(state);
  return b;
}

}  // namespace

TEST_CASE("the snapshot counts a node's majority model, its weakest GPU and the larger of two usages",
          "[placement][loop]") {
  model::NodeInfo node;
  node.name = "n1";
  node.pool = "gpu";
  node.gpus = {gpu(0, "NVIDIA H100 80GB HBM3", "550.90.07"), gpu(1, "NVIDIA H100 80GB HBM3", "535.104.12"),
               gpu(2, "NVIDIA H100 80GB HBM3", "550.90.07", "unhealthy"), gpu(3, "NVIDIA L4", "560.1")};
  node.allocatable = {96'000, std::int64_t{1} << 40, 4};
  node.allocated = {8'000, 0, 1};
  const placement::NodeSnapshot n = store::node_snapshot(node, {2, 4'000, 0}, false);
  CHECK(n.gpu_model == "NVIDIA H100 80GB HBM3");
  CHECK(n.gpus_healthy == 2);
  CHECK(n.gpus_unhealthy == 1);
  CHECK(placement::to_string(n.driver_version) == "535.104.12");
  CHECK(n.gpus_used == 2);                // fleetd's bindings say 2, the agent 1
  CHECK(n.cpu_used_millicores == 8'000);  // the agent says more than fleetd's bindings
  store::ClusterWithNodes c;
  c.cluster.name = "a";
  c.nodes = std::make_shared<const std::vector<model::NodeInfo>>(std::vector<model::NodeInfo>{node});
  const placement::Snapshot s = store::build_snapshot({c}, {}, {{"a", "gpu"}});
  CHECK(s.clusters.at(0).nodes.at(0).draining);  // its pool is being upgraded
  CHECK(s.clusters.at(0).nodes.at(0).gpus_used == 1);
}

TEST_CASE("binding changes: unchanged bindings send nothing", "[placement][loop]") {
  placement::Decision d;
  d.bindings = {{"a", 2, {{"n1", 2}}}, {"b", 1, {{"m1", 1}}}, {"c", 1, {{"k1", 1}}}};
  const std::vector<store::StoredBinding> current = {
      stored("a", 2, {{"n1", 2}}),             // same: nothing
      stored("b", 1, {{"m2", 1}}),             // other node: apply
      stored("c", 1, {{"k1", 1}}, "Failed"),   // chosen again after failing: apply
      stored("d", 3, {{"x", 3}}),              // not chosen, runs: superseded until b and c run
      stored("e", 1, {{"y", 1}}, "Failed"),    // not chosen, nothing runs: drop the row
      stored("f", 1, {{"z", 1}}, "Deleting"),  // already being deleted: nothing
      stored("g", 1, {{"w", 1}}, "Pending")};  // not chosen, not applied yet: delete on the cluster
  const BindingChanges changes = binding_changes(current, d, 0);
  REQUIRE(changes.apply.size() == 2);
  CHECK(changes.apply[0].cluster == "b");
  CHECK(changes.apply[1].cluster == "c");
  REQUIRE(changes.supersede.size() == 1);
  CHECK(changes.supersede[0].cluster == "d");
  REQUIRE(changes.remove.size() == 1);
  CHECK(changes.remove[0].cluster == "g");
  REQUIRE(changes.drop.size() == 1);
  CHECK(changes.drop[0].cluster == "e");
  CHECK(engine_bindings(current).size() == 4);  // a, b, d, g: not the failed or deleting ones
  const BindingChanges gone = deletion_changes(current);
  CHECK(gone.remove.size() == 4);
  CHECK(gone.drop.size() == 2);
}

TEST_CASE("binding changes: replicas on a gone cluster move and its binding goes once they are all placed",
          "[placement][loop]") {
  placement::Decision d;
  d.state = placement::DecisionState::kPlaced;
  d.bindings = {{"b", 2, {{"m1", 2}}}};
  const std::vector<store::StoredBinding> current = {stored("a", 2, {{"n1", 2}})};
  const BindingChanges placed = binding_changes(current, d, 0, {}, {"a"});
  REQUIRE(placed.apply.size() == 1);
  REQUIRE(placed.remove.size() == 1);  // not superseded: nothing there answers, the delete waits for its agent
  CHECK(placed.remove[0].cluster == "a");
  CHECK(placed.supersede.empty());

  // Only some replicas found a place: the gone cluster's binding stays, its replicas may still run.
  d.state = placement::DecisionState::kPartiallyPlaced;
  const BindingChanges partial = binding_changes(current, d, 0, {}, {"a"});
  CHECK(partial.apply.size() == 1);
  CHECK(partial.remove.empty());
  CHECK(partial.supersede.empty());
  d.state = placement::DecisionState::kUnplaceable;
  d.bindings.clear();
  const BindingChanges nowhere = binding_changes(current, d, 0, {}, {"a"});
  CHECK(nowhere.apply.empty());
  CHECK(nowhere.remove.empty());
}

TEST_CASE("binding changes: a move off a live cluster is make before break", "[placement][loop]") {
  placement::Decision d;
  d.state = placement::DecisionState::kPlaced;
  d.bindings = {{"b", 2, {{"m1", 2}}}};
  std::vector<store::StoredBinding> current = {stored("a", 2, {{"n1", 2}}, "Applied")};
  const BindingChanges moved = binding_changes(current, d, 0);
  REQUIRE(moved.supersede.size() == 1);
  CHECK(moved.remove.empty());

  // Superseded: left alone until its replacement runs, not the workload's own for the engine; chosen again, applied.
  current[0].state = "Superseded";
  current.push_back(stored("b", 2, {{"m1", 2}}, "Applied"));
  const BindingChanges waiting = binding_changes(current, d, 0);
  CHECK(waiting.apply.empty());
  CHECK(waiting.remove.empty());
  CHECK(waiting.supersede.empty());
  REQUIRE(engine_bindings(current).size() == 1);
  CHECK(engine_bindings(current)[0].cluster == "b");
  d.bindings = {{"a", 2, {{"n1", 2}}}, {"b", 2, {{"m1", 2}}}};
  const BindingChanges back = binding_changes(current, d, 0);
  REQUIRE(back.apply.size() == 1);
  CHECK(back.apply[0].cluster == "a");

  // Fewer clusters and nothing new to wait for: deleted at once.
  d.bindings = {{"b", 2, {{"m1", 2}}}};
  const BindingChanges fewer = binding_changes({stored("a", 2, {{"n1", 2}}), stored("b", 2, {{"m1", 2}})}, d, 0);
  CHECK(fewer.apply.empty());
  REQUIRE(fewer.remove.size() == 1);
  CHECK(fewer.remove[0].cluster == "a");
  // The workload deleted: a superseded binding goes too.
  CHECK(deletion_changes(current).remove.size() == 2);
}

TEST_CASE("binding changes: a workload's new generation is applied everywhere, its re-evaluation nowhere",
          "[placement][loop]") {
  placement::Decision d;
  d.bindings = {{"a", 2, {{"n1", 2}}}, {"b", 1, {{"m1", 1}}}};
  std::vector<store::StoredBinding> current = {stored("a", 2, {{"n1", 2}}), stored("b", 1, {{"m1", 1}})};
  for (store::StoredBinding& b : current) b.generation = 4;
  CHECK(binding_changes(current, d, 4).apply.empty());            // the same generation decided again: nothing to send
  const BindingChanges changed = binding_changes(current, d, 5);  // a new image, say: every cluster gets it
  REQUIRE(changed.apply.size() == 2);
  CHECK(changed.apply[0] == d.bindings[0]);
  CHECK(changed.remove.empty());
}

TEST_CASE("manifests carry the decision to the cluster", "[placement][loop]") {
  placement::Workload w;
  w.name = "llama";
  w.resources.gpus = 4;
  w.policy.tolerations = {{"gpu", placement::Toleration::Op::kEqual, "reserved", "NoSchedule"}};
  const nlohmann::json manifests = nlohmann::json::parse(R"([
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "llama"},
     "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "llama"}, "spec": {}}])");
  const placement::ClusterBinding b{"a", 3, {{"n1", 2}, {"n2", 1}}};
  const nlohmann::json out = render_manifests(manifests, w, 7, b, "NVIDIA-H100-80GB-HBM3");
  const nlohmann::json& deployment = out.at(0);
  CHECK(deployment.at("spec").at("replicas") == 3);
  CHECK(deployment.at("metadata").at("labels") ==
        nlohmann::json({{"fleet.io/workload", "llama"}, {"fleet.io/generation", "7"}}));
  const nlohmann::json& pod = deployment.at("spec").at("template").at("spec");
  CHECK(pod.at("affinity").at("nodeAffinity").at("requiredDuringSchedulingIgnoredDuringExecution") ==
        nlohmann::json::parse(R"({"nodeSelectorTerms": [{"matchExpressions":
          [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1", "n2"]}]}]})"));
  CHECK(pod.at("tolerations") ==
        nlohmann::json::parse(R"([{"key": "gpu", "operator": "Equal", "value": "reserved", "effect": "NoSchedule"}])"));
  CHECK(pod.at("containers").at(0).at("resources").at("limits").at("nvidia.com/gpu") == 4);
  CHECK(pod.at("nodeSelector") == nlohmann::json{{"nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"}});
  CHECK_FALSE(render_manifests(manifests, w, 7, b).at(0).at("spec").at("template").at("spec").contains("nodeSelector"));
  CHECK_FALSE(out.at(1).at("spec").contains("replicas"));  // a Service is not scaled
  CHECK(placement_member(w, 7, b) ==
        nlohmann::json::parse(R"({"workload": "llama", "generation": 7, "gpusPerReplica": 4,
      "cpuMillicores": 0, "memoryBytes": 0, "nodes": [{"node": "n1", "replicas": 2}, {"node": "n2", "replicas": 1}]})"));
}

TEST_CASE("placement shell: KubeRay and KAITO objects are pinned to the bound nodes", "[placement-loop]") {
  placement::Workload w;
  w.name = "serve";
  w.resources.gpus = 2;
  const nlohmann::json manifests = nlohmann::json::parse(R"([
    {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "serve"}, "spec": {"rayClusterConfig": {
      "headGroupSpec": {"template": {"spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray"}]}}},
      "workerGroupSpecs": [{"groupName": "gpu", "replicas": 2,
        "template": {"spec": {"containers": [{"name": "ray-worker", "image": "rayproject/ray"}]}}}]}}},
    {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "batch"}, "spec": {
      "workerGroupSpecs": [{"groupName": "gpu", "template": {"spec": {"containers": [{"name": "w", "image": "x"}]}}}]}},
    {"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace", "metadata": {"name": "phi"},
     "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"apps": "phi"}}},
     "inference": {"preset": {"name": "phi-3.5-mini-instruct"}}}])");
  const placement::ClusterBinding b{"a", 2, {{"n1", 2}}};
  const nlohmann::json out = render_manifests(manifests, w, 3, b, "NVIDIA-H100-80GB-HBM3");
  const nlohmann::json hosts = nlohmann::json::parse(R"({"nodeSelectorTerms": [{"matchExpressions":
      [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]})");
  const nlohmann::json& ray = out.at(0).at("spec").at("rayClusterConfig");
  const nlohmann::json& head = ray.at("headGroupSpec").at("template");
  const nlohmann::json& worker = ray.at("workerGroupSpecs").at(0).at("template");
  CHECK(head.at("spec").at("affinity").at("nodeAffinity").at("requiredDuringSchedulingIgnoredDuringExecution") ==
        hosts);
  CHECK_FALSE(head.at("spec").at("containers").at(0).contains("resources"));  // the head asks for no GPU
  CHECK_FALSE(head.at("spec").contains("nodeSelector"));
  CHECK(worker.at("spec").at("nodeSelector").at("nvidia.com/gpu.product") == "NVIDIA-H100-80GB-HBM3");
  CHECK(worker.at("spec").at("affinity").at("nodeAffinity").at("requiredDuringSchedulingIgnoredDuringExecution") ==
        hosts);
  CHECK(worker.at("spec").at("containers").at(0).at("resources").at("limits").at("nvidia.com/gpu") == 2);
  CHECK(worker.at("metadata").at("labels").at("fleet.io/workload") == "serve");
  CHECK(out.at(1).at("spec").at("workerGroupSpecs").at(0).at("template").at("spec").contains("affinity"));
  CHECK(out.at(2).at("resource").at("preferredNodes") == nlohmann::json::array({"n1"}));
  CHECK(out.at(2).at("metadata").at("labels").at("fleet.io/generation") == "3");
}

}  // namespace fleet
