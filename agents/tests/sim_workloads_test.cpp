// The sim's workload accounting (agents/sim_workloads.cpp): apply_workload / delete_workload placements held per
// node in the inventory's `allocated`, and over-commits refused naming the node and the numbers.
#include "agents/sim_cluster.hpp"
#include "agents/testing/start_command.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace fleet::agent {
namespace {

using ::fleet::agent::testing::command_of;
using ::fleet::agent::testing::start_command;
using nlohmann::json;

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

// Two GPU nodes of 8 H100s and one system node; GPU nodes sort first ("aks-gpu-…" < "aks-system-…").
SimCluster make_workload_sim(double probe_failure = 0) {
  ClusterSpec c;
  c.name = "aks-westeurope-1";
  c.pools.push_back(make_pool("system", 1, 8, 32));
  c.pools.push_back(make_pool("gpu", 2, 96, 1024, GpuSpec{"NVIDIA H100 80GB HBM3", 8, 80, "550.90.07", "12.4"}));
  return SimCluster(std::move(c), SimOptions{Durations{}, FaultRates{0, probe_failure, 0, 0}, 7});
}

const json kManifest = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "llama"}}}};

// {"node": name, "replicas": n}, …
json on(std::vector<std::pair<std::string, int>> nodes) {
  json out = json::array();
  for (auto& [node, replicas] : nodes) out.push_back({{"node", node}, {"replicas", replicas}});
  return out;
}

json apply_payload(const std::string& workload, std::int64_t generation, int gpus, const json& nodes,
                   json extra = json::object()) {
  json placement = {{"workload", workload}, {"generation", generation}, {"gpusPerReplica", gpus}, {"nodes", nodes}};
  placement.merge_patch(extra);
  return {{"manifests", {kManifest}}, {"placement", placement}};
}

protocol::CommandStatus started(const Result<StartResult>& r) {
  REQUIRE(r.ok());
  return r->status;
}

json delete_payload(const std::string& workload) {
  return {{"manifests", {kManifest}}, {"placement", {{"workload", workload}}}};
}

std::int64_t allocated_gpus(const SimCluster& sim, const std::string& node) {
  return sim.inventory().find_node(node)->allocated.gpus;
}

TEST_CASE("apply_workload accounts the placement on its nodes, and the inventory reports it", "[agent][sim]") {
  SimCluster sim = make_workload_sim();
  const std::string n0 = sim.inventory().nodes[0].name;
  const std::string n1 = sim.inventory().nodes[1].name;
  const std::string sys = sim.inventory().nodes[2].name;
  auto s = started(start_command(
      sim, "a1", "apply_workload",
      apply_payload("llama", 1, 2, on({{n0, 3}, {n1, 1}}), {{"cpuMillicores", 8000}, {"memoryBytes", 64 * kGiB}}), 5));
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.message == "workload llama generation 1 applied: 4 replicas on 2 nodes (8 GPUs)");
  CHECK(s.nodes_total == 2);
  CHECK(s.nodes_done == 2);
  CHECK(s.finished_at == 5);
  const model::NodeInfo& node0 = *sim.inventory().find_node(n0);
  CHECK(node0.allocated == model::ResourceList{24000, 192 * kGiB, 6});
  CHECK(sim.inventory().find_node(n1)->allocated == model::ResourceList{8000, 64 * kGiB, 2});
  CHECK(sim.inventory().find_node(sys)->allocated == model::ResourceList{});
  REQUIRE(model::validate_inventory(sim.inventory()).ok());
  // What the heartbeat carries.
  CHECK(model::to_json(node0)["allocated"] == json{{"cpuMillicores", 24000}, {"memoryBytes", 192 * kGiB}, {"gpus", 6}});
  auto events = sim.take_events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == "command_started");
  CHECK(events[1].type == "command_succeeded");

  // A second workload shares the nodes; a CPU-only one may use the system node.
  s = started(start_command(sim, "a2", "apply_workload", apply_payload("mistral", 1, 1, on({{n0, 2}, {n1, 6}})), 6));
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(allocated_gpus(sim, n0) == 8);
  CHECK(allocated_gpus(sim, n1) == 8);
  s = started(start_command(sim, "a3", "apply_workload",
                            apply_payload("web", 1, 0, on({{sys, 2}}), {{"cpuMillicores", 1000}}), 7));
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(sim.inventory().find_node(sys)->allocated.cpu_millicores == 2000);

  // Without a placement: manifests only, nothing accounted.
  s = started(start_command(sim, "a4", "apply_workload", {{"manifests", {kManifest}}}, 8));
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.message == "1 manifests applied; no placement, nothing accounted");
  CHECK(allocated_gpus(sim, n0) == 8);
}

TEST_CASE("apply_workload is idempotent by workload: the same placement changes nothing, a new one replaces it",
          "[agent][sim]") {
  SimCluster sim = make_workload_sim();
  const std::string n0 = sim.inventory().nodes[0].name;
  const std::string n1 = sim.inventory().nodes[1].name;
  REQUIRE(started(start_command(sim, "a1", "apply_workload", apply_payload("llama", 1, 4, on({{n0, 2}})), 0)).state ==
          protocol::CommandState::kSucceeded);
  const model::ClusterInventory before = sim.inventory();
  auto again = started(start_command(sim, "a2", "apply_workload", apply_payload("llama", 1, 4, on({{n0, 2}})), 1));
  CHECK(again.state == protocol::CommandState::kSucceeded);
  CHECK(again.message == "workload llama generation 1 is already applied: 2 replicas on 1 nodes (8 GPUs)");
  CHECK(sim.inventory() == before);
  // The same command delivered again is not run again (idempotent by id).
  auto redelivered = start_command(sim, "a2", "apply_workload", apply_payload("llama", 1, 4, on({{n0, 2}})), 2);
  REQUIRE(redelivered.ok());
  CHECK_FALSE(redelivered->started);

  // Generation 2 moves one replica: its own GPUs on n0 count as free for it.
  auto moved =
      started(start_command(sim, "a3", "apply_workload", apply_payload("llama", 2, 4, on({{n0, 1}, {n1, 1}})), 3));
  CHECK(moved.state == protocol::CommandState::kSucceeded);
  CHECK(allocated_gpus(sim, n0) == 4);
  CHECK(allocated_gpus(sim, n1) == 4);
  // A larger shape on the same nodes needs room only for what grows.
  REQUIRE(started(start_command(sim, "a4", "apply_workload", apply_payload("llama", 3, 8, on({{n0, 1}, {n1, 1}})), 4))
              .state == protocol::CommandState::kSucceeded);
  CHECK(allocated_gpus(sim, n0) == 8);

  // An older generation arrives late: refused, nothing rolls back.
  auto stale = start_command(sim, "a5", "apply_workload", apply_payload("llama", 2, 4, on({{n0, 1}})), 5);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == ErrorCode::kConflict);
  CHECK(stale.error().field == "payload.placement.generation");
  CHECK(stale.error().message ==
        "workload llama generation 2 is older than the applied generation 3; a stale apply is not run");
  CHECK(allocated_gpus(sim, n0) == 8);
  // An empty placement keeps the workload (and its generation) but holds nothing.
  REQUIRE(started(start_command(sim, "a6", "apply_workload", apply_payload("llama", 4, 8, json::array()), 6)).state ==
          protocol::CommandState::kSucceeded);
  CHECK(allocated_gpus(sim, n0) == 0);
  CHECK(allocated_gpus(sim, n1) == 0);
}

TEST_CASE("an over-commit fails naming the node and the numbers, and changes nothing", "[agent][sim]") {
  SimCluster sim = make_workload_sim();
  const std::string n0 = sim.inventory().nodes[0].name;
  const std::string n1 = sim.inventory().nodes[1].name;
  const std::string sys = sim.inventory().nodes[2].name;
  REQUIRE(started(start_command(sim, "a1", "apply_workload", apply_payload("llama", 1, 6, on({{n0, 1}})), 0)).state ==
          protocol::CommandState::kSucceeded);
  const model::ClusterInventory before = sim.inventory();
  sim.take_events();

  // fleetd double-books n0: 4 GPUs where 2 are free.
  auto s =
      started(start_command(sim, "b1", "apply_workload", apply_payload("mistral", 1, 4, on({{n0, 1}, {n1, 1}})), 1));
  CHECK(s.state == protocol::CommandState::kFailed);
  CHECK(s.message ==
        "workload mistral generation 1 does not fit; nothing changed: node " + n0 + ": 4 GPUs requested, 2 free");
  CHECK(s.nodes_total == 2);
  CHECK(s.nodes_failed == 1);
  CHECK(sim.inventory() == before);
  auto events = sim.take_events();
  REQUIRE(events.size() == 2);
  CHECK(events[1].type == "command_failed");
  CHECK(events[1].message == s.message);
  // Delivered again, the command answers the same.
  auto redelivered =
      start_command(sim, "b1", "apply_workload", apply_payload("mistral", 1, 4, on({{n0, 1}, {n1, 1}})), 2);
  CHECK(redelivered->status.message == s.message);

  // More than the node has at all, CPU, memory, and several nodes at once.
  s = started(start_command(sim, "b2", "apply_workload", apply_payload("big", 1, 16, on({{n1, 1}})), 3));
  CHECK(s.message ==
        "workload big generation 1 does not fit; nothing changed: node " + n1 + ": 16 GPUs requested, 8 free");
  const std::int64_t sys_cpu = sim.inventory().find_node(sys)->allocatable.cpu_millicores;
  s = started(start_command(sim, "b3", "apply_workload",
                            apply_payload("web", 1, 0, on({{sys, 9}}), {{"cpuMillicores", 1000}}), 4));
  CHECK(s.message == "workload web generation 1 does not fit; nothing changed: node " + sys +
                         ": 9000 CPU millicores requested, " + std::to_string(sys_cpu) + " free");
  const std::int64_t sys_memory = sim.inventory().find_node(sys)->allocatable.memory_bytes;
  s = started(start_command(sim, "b4", "apply_workload",
                            apply_payload("cache", 1, 0, on({{sys, 1}}), {{"memoryBytes", 32 * kGiB}}), 5));
  CHECK(s.message == "workload cache generation 1 does not fit; nothing changed: node " + sys + ": " +
                         std::to_string(32 * kGiB) + " bytes of memory requested, " + std::to_string(sys_memory) +
                         " free");
  s = started(start_command(sim, "b5", "apply_workload", apply_payload("wide", 1, 2, on({{n0, 2}, {n1, 5}})), 6));
  CHECK(s.nodes_failed == 2);
  CHECK(s.message == "workload wide generation 1 does not fit; nothing changed: node " + n0 +
                         ": 4 GPUs requested, 2 free; node " + n1 + ": 10 GPUs requested, 8 free");
  CHECK(sim.inventory() == before);

  // A node that does not exist is refused before anything starts.
  auto missing = start_command(sim, "b6", "apply_workload", apply_payload("x", 1, 1, on({{n0, 1}, {"nope", 1}})), 7);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().field == "payload.placement.nodes[1].node");
}

TEST_CASE("new GPU replicas need a schedulable, admitted node, what runs stays", "[agent][sim]") {
  SimCluster sim = make_workload_sim(1.0);  // every probe fails
  const std::string n0 = sim.inventory().nodes[0].name;
  const std::string n1 = sim.inventory().nodes[1].name;
  REQUIRE(started(start_command(sim, "a1", "apply_workload", apply_payload("llama", 1, 4, on({{n0, 2}})), 0)).state ==
          protocol::CommandState::kSucceeded);

  // n0's probe fails: quarantined, one GPU unhealthy. The 8 GPUs held stay held (over allocatable, within capacity).
  REQUIRE(start_command(sim, "p", "run_probe", {{"nodes", {n0}}}, 0).ok());
  sim.advance(100);
  const model::NodeInfo& node0 = *sim.inventory().find_node(n0);
  REQUIRE(node0.admission == model::Admission::kQuarantined);
  CHECK(node0.allocatable.gpus == 7);
  CHECK(node0.allocated.gpus == 8);
  CHECK(model::validate_inventory(sim.inventory()).ok());
  auto s = started(start_command(sim, "a2", "apply_workload", apply_payload("small", 1, 1, on({{n0, 1}})), 100));
  CHECK(s.message == "workload small generation 1 does not fit; nothing changed: node " + n0 +
                         ": GPUs not admitted (quarantined); it takes no GPU replicas");
  // Shrinking on a quarantined node needs nothing.
  s = started(start_command(sim, "a3", "apply_workload", apply_payload("llama", 2, 4, on({{n0, 1}})), 101));
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(allocated_gpus(sim, n0) == 4);
  // A CPU-only replica does not need admitted GPUs.
  s = started(start_command(sim, "a4", "apply_workload",
                            apply_payload("sidecar", 1, 0, on({{n0, 1}}), {{"cpuMillicores", 500}}), 102));
  CHECK(s.state == protocol::CommandState::kSucceeded);

  // A cordoned cluster takes no new replicas of any kind.
  REQUIRE(start_command(sim, "c", "cordon_cluster", json::object(), 103).ok());
  s = started(start_command(sim, "a5", "apply_workload",
                            apply_payload("web", 1, 0, on({{n1, 1}}), {{"cpuMillicores", 500}}), 104));
  CHECK(s.message ==
        "workload web generation 1 does not fit; nothing changed: node " + n1 + ": cordoned; it takes no new replicas");
}

TEST_CASE("delete_workload releases the workload's allocation", "[agent][sim]") {
  SimCluster sim = make_workload_sim();
  const std::string n0 = sim.inventory().nodes[0].name;
  const model::ClusterInventory empty = sim.inventory();
  REQUIRE(started(start_command(sim, "a1", "apply_workload", apply_payload("llama", 1, 8, on({{n0, 1}})), 0)).state ==
          protocol::CommandState::kSucceeded);
  CHECK(allocated_gpus(sim, n0) == 8);
  auto s = started(start_command(sim, "d1", "delete_workload", delete_payload("llama"), 1));
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.message == "workload llama deleted: released 1 replicas on 1 nodes (8 GPUs)");
  CHECK(sim.inventory() == empty);
  s = started(start_command(sim, "d2", "delete_workload", delete_payload("llama"), 2));
  CHECK(s.state == protocol::CommandState::kSucceeded);
  CHECK(s.message == "workload llama: nothing to delete");
  s = started(start_command(sim, "d3", "delete_workload", {{"manifests", {kManifest}}}, 3));
  CHECK(s.message == "1 manifests deleted; no placement, nothing released");
  // Deleted, a workload may come back at any generation, and the GPUs it gave back are free for another.
  REQUIRE(started(start_command(sim, "a2", "apply_workload", apply_payload("other", 1, 8, on({{n0, 1}})), 4)).state ==
          protocol::CommandState::kSucceeded);
  REQUIRE(started(start_command(sim, "d4", "delete_workload", delete_payload("other"), 5)).state ==
          protocol::CommandState::kSucceeded);
  CHECK(started(start_command(sim, "a3", "apply_workload", apply_payload("llama", 0, 8, on({{n0, 1}})), 6)).state ==
        protocol::CommandState::kSucceeded);
}

TEST_CASE("the objects of a workload's last apply are kept until it is deleted", "[agent][sim]") {
  SimCluster sim = make_workload_sim();
  const std::string n0 = sim.inventory().nodes[0].name;
  CHECK(sim.applied_objects("llama") == nullptr);
  REQUIRE(started(start_command(sim, "a1", "apply_workload", apply_payload("llama", 1, 1, on({{n0, 1}})), 0)).state ==
          protocol::CommandState::kSucceeded);
  REQUIRE(sim.applied_objects("llama") != nullptr);
  CHECK(*sim.applied_objects("llama") == std::vector<json>{kManifest});
  // A new generation with other objects (an override's image, say) replaces them; a refused apply keeps them.
  json eu = apply_payload("llama", 2, 1, on({{n0, 1}}));
  eu["manifests"][0]["spec"] = {{"replicas", 1}};
  REQUIRE(started(start_command(sim, "a2", "apply_workload", eu, 1)).state == protocol::CommandState::kSucceeded);
  CHECK(sim.applied_objects("llama")->at(0)["spec"]["replicas"] == 1);
  json too_big = apply_payload("llama", 3, 8, on({{n0, 2}}));
  too_big["manifests"][0]["spec"] = {{"replicas", 2}};
  CHECK(started(start_command(sim, "a3", "apply_workload", too_big, 2)).state == protocol::CommandState::kFailed);
  CHECK(sim.applied_objects("llama")->at(0)["spec"]["replicas"] == 1);
  REQUIRE(started(start_command(sim, "d1", "delete_workload", delete_payload("llama"), 3)).state ==
          protocol::CommandState::kSucceeded);
  CHECK(sim.applied_objects("llama") == nullptr);
}

TEST_CASE("a node upgrade keeps its allocations, new replicas wait until it is back", "[agent][sim]") {
  SimCluster sim = make_workload_sim();
  const std::string n0 = sim.inventory().nodes[0].name;
  REQUIRE(started(start_command(sim, "a1", "apply_workload", apply_payload("llama", 1, 2, on({{n0, 2}})), 0)).state ==
          protocol::CommandState::kSucceeded);
  REQUIRE(start_command(sim, "u", "upgrade_node_pool",
                        {{"pool", "gpu"}, {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202511.01.0"}}, 0)
              .ok());
  sim.advance(1);  // n0 is draining
  CHECK_FALSE(sim.inventory().find_node(n0)->schedulable);
  CHECK(allocated_gpus(sim, n0) == 4);
  auto s = started(start_command(sim, "a2", "apply_workload", apply_payload("llama", 2, 2, on({{n0, 3}})), 1));
  CHECK(s.state == protocol::CommandState::kFailed);
  while (auto due = sim.next_due()) sim.advance(*due);
  REQUIRE(sim.status("u")->state == protocol::CommandState::kSucceeded);
  CHECK(sim.inventory().find_node(n0)->node_image_version == "AKSUbuntu-2204gen2containerd-202511.01.0");
  CHECK(allocated_gpus(sim, n0) == 4);
  CHECK(model::validate_inventory(sim.inventory()).ok());
  CHECK(started(start_command(sim, "a3", "apply_workload", apply_payload("llama", 2, 2, on({{n0, 3}})), sim.now()))
            .state == protocol::CommandState::kSucceeded);
  CHECK(allocated_gpus(sim, n0) == 6);
}

}  // namespace
}  // namespace fleet::agent
