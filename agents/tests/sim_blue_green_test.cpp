// The sim's blue-green node pools (agents/sim_blue_green.cpp): Replace makes a parallel pool and moves the
// workloads to it, Retire deletes the old pool, Restore moves them back and deletes the new one.
#include "agents/sim_cluster.hpp"
#include "agents/testing/start_command.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

// A named namespace: the unity build joins this file with sim_cluster_test.cpp, whose helpers have the same names.
namespace fleet::agent::blue_green_test {

using ::fleet::agent::testing::command_of;
using nlohmann::json;

constexpr const char* kImage = "AKSUbuntu-2204gen2containerd-202511.01.0";

// Two GPU nodes of 8 H100s and one system node.
SimCluster make_pool_sim(FaultRates faults = {}) {
  ClusterSpec c;
  c.name = "aks-westeurope-1";
  c.kubernetes_version = "1.32.7";
  c.pools.push_back(make_pool("system", 1, 8, 32));
  c.pools.push_back(make_pool("gpu", 2, 96, 1024, GpuSpec{"NVIDIA H100 80GB HBM3", 8, 80, "550.90.07", "12.4"}));
  return SimCluster(std::move(c), SimOptions{Durations{}, faults, 7});
}

protocol::Command swap(const std::string& id, const std::string& phase) {
  json payload = {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", phase}};
  if (phase == "Replace") payload["nodeImageVersion"] = kImage;
  return command_of(id, "blue_green_node_pool", payload);
}

protocol::CommandStatus run_to_end(SimCluster& sim, const protocol::Command& c) {
  auto r = sim.start(c, sim.now());
  REQUIRE(r.ok());
  while (auto due = sim.next_due()) sim.advance(*due);
  auto s = sim.status(c.id);
  REQUIRE(s.has_value());
  REQUIRE(s->state != protocol::CommandState::kRunning);
  return *s;
}

std::vector<const model::NodeInfo*> pool_nodes(const SimCluster& sim, const std::string& pool) {
  std::vector<const model::NodeInfo*> out;
  for (const auto& n : sim.inventory().nodes) {
    if (n.pool == pool) out.push_back(&n);
  }
  return out;
}

std::int64_t pool_gpus_allocated(const SimCluster& sim, const std::string& pool) {
  std::int64_t total = 0;
  for (const auto* n : pool_nodes(sim, pool)) total += n->allocated.gpus;
  return total;
}

// 8 replicas of one GPU on each of the gpu pool's two nodes.
void place_workload(SimCluster& sim) {
  const auto gpu = pool_nodes(sim, "gpu");
  json nodes = json::array();
  for (const auto* n : gpu) nodes.push_back({{"node", n->name}, {"replicas", 8}});
  json payload = {{"manifests", {{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "llm"}}}}}},
                  {"placement", {{"workload", "llm"}, {"generation", 1}, {"gpusPerReplica", 1}, {"nodes", nodes}}}};
  auto r = sim.start(command_of("w1", "apply_workload", payload), sim.now());
  REQUIRE(r.ok());
  REQUIRE(r->status.state == protocol::CommandState::kSucceeded);
}

int count_type(const std::vector<protocol::CommandEvent>& events, std::string_view type) {
  return static_cast<int>(
      std::count_if(events.begin(), events.end(), [&](const protocol::CommandEvent& e) { return e.type == type; }));
}

TEST_CASE("blue-green Replace makes an admitted pool at the target and moves the workloads to it", "[agent][sim]") {
  SimCluster sim = make_pool_sim();
  place_workload(sim);
  REQUIRE(pool_gpus_allocated(sim, "gpu") == 16);
  sim.take_events();

  auto replaced = run_to_end(sim, swap("bg.1", "Replace"));
  CHECK(replaced.state == protocol::CommandState::kSucceeded);
  CHECK_THAT(replaced.message, Catch::Contains("pool gpu replaced by gpu2"));
  const auto fresh = pool_nodes(sim, "gpu2");
  REQUIRE(fresh.size() == 2);
  for (const auto* n : fresh) {
    CHECK(n->node_image_version == kImage);
    CHECK(n->admission == model::Admission::kAdmitted);  // its probe passed before it took work
    CHECK(n->schedulable);
    CHECK(n->labels.at("kubernetes.azure.com/agentpool") == "gpu2");
    CHECK(n->allocated.gpus == 8);
  }
  for (const auto* n : pool_nodes(sim, "gpu")) {
    CHECK_FALSE(n->schedulable);  // kept for the soak, cordoned and empty
    CHECK(n->allocated.gpus == 0);
  }
  const auto events = sim.take_events();
  CHECK(count_type(events, "node_created") == 2);
  CHECK(count_type(events, "node_drained") == 2);
  CHECK(count_type(events, "workloads_moved") == 1);
  REQUIRE(model::validate_inventory(sim.inventory()).ok());

  SECTION("Retire deletes the old pool") {
    auto retired = run_to_end(sim, swap("bg.2", "Retire"));
    CHECK(retired.state == protocol::CommandState::kSucceeded);
    CHECK(pool_nodes(sim, "gpu").empty());
    CHECK(pool_gpus_allocated(sim, "gpu2") == 16);
    CHECK(sim.inventory().node_image_version != kImage);  // the system pool still runs the old image
    CHECK(count_type(sim.take_events(), "node_deleted") == 2);
  }
  SECTION("Restore moves the workloads back and deletes the new pool") {
    auto restored = run_to_end(sim, swap("bg.2", "Restore"));
    CHECK(restored.state == protocol::CommandState::kSucceeded);
    CHECK(pool_nodes(sim, "gpu2").empty());
    for (const auto* n : pool_nodes(sim, "gpu")) {
      CHECK(n->schedulable);
      CHECK(n->allocated.gpus == 8);
    }
    CHECK(count_type(sim.take_events(), "node_deleted") == 2);
    REQUIRE(model::validate_inventory(sim.inventory()).ok());
    // A workload apply naming the old pool's nodes (what fleetd's placement chose) fits again.
    place_workload(sim);
  }
}

TEST_CASE("blue-green Replace refuses what would break the pool, and Retire an old pool still in use", "[agent][sim]") {
  SimCluster sim = make_pool_sim();
  auto no_pool =
      sim.start(command_of("x1", "blue_green_node_pool",
                           {{"pool", "tpu"}, {"newPool", "tpu2"}, {"phase", "Replace"}, {"nodeImageVersion", kImage}}),
                0);
  REQUIRE_FALSE(no_pool.ok());
  CHECK(no_pool.error().code == ErrorCode::kNotFound);
  auto taken = sim.start(
      command_of("x2", "blue_green_node_pool",
                 {{"pool", "gpu"}, {"newPool", "system"}, {"phase", "Replace"}, {"nodeImageVersion", kImage}}),
      0);
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().field == "payload.newPool");
  auto newer = sim.start(
      command_of("x3", "blue_green_node_pool",
                 {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Replace"}, {"kubernetesVersion", "1.33.1"}}),
      0);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().field == "payload.kubernetesVersion");
  auto retire = sim.start(
      command_of("x4", "blue_green_node_pool", {{"pool", "gpu"}, {"newPool", "system"}, {"phase", "Retire"}}), 0);
  REQUIRE_FALSE(retire.ok());
  CHECK(retire.error().field == "payload.pool");  // still schedulable: no Replace drained it
  CHECK(pool_nodes(sim, "gpu").size() == 2);
}

TEST_CASE("a blue-green Replace whose new node fails its probe deletes the new pool and leaves the old one",
          "[agent][sim]") {
  SimCluster sim = make_pool_sim(FaultRates{0, 1.0, 0, 0});  // every probe fails
  place_workload(sim);
  auto replaced = run_to_end(sim, swap("bg.1", "Replace"));
  CHECK(replaced.state == protocol::CommandState::kFailed);
  CHECK_THAT(replaced.message, Catch::Contains("gpu2 is deleted and pool gpu is unchanged"));
  CHECK(pool_nodes(sim, "gpu2").empty());
  for (const auto* n : pool_nodes(sim, "gpu")) {
    CHECK(n->schedulable);
    CHECK(n->allocated.gpus == 8);
  }
  REQUIRE(model::validate_inventory(sim.inventory()).ok());
}

}  // namespace fleet::agent::blue_green_test
