// Unknown heartbeat members are found, with their paths, and nothing the encoders write counts as unknown.
#include <catch2/catch.hpp>

#include "protocol/heartbeat.hpp"
#include "protocol/heartbeat_unknown_fields.hpp"

namespace fleet::protocol {
using nlohmann::json;

namespace {

model::NodeInfo every_field_node(const std::string& name) {
  model::NodeInfo n;
  n.name = name;
  n.pool = "gpu";
  n.kubernetes_version = "1.30.4";
  n.node_image_version = "AKSUbuntu-2204gen2containerd-202410.09.0";
  n.schedulable = false;
  n.admission = model::Admission::kQuarantined;
  n.labels = {{"nvidia.com/gpu.product", "H100"}};
  n.taints = {{"gpu", "true", "NoSchedule"}};
  n.capacity = {96000, 1LL << 40, 8};
  n.allocatable = {95000, 1LL << 39, 8};
  n.allocated = {4000, 1LL << 30, 2};
  model::GpuInfo g;
  g.index = 1;
  g.uuid = "GPU-1";
  g.model = "NVIDIA H100 80GB HBM3";
  g.memory_bytes = 85520809984;
  g.driver_version = "550.54.15";
  g.cuda_version = "12.4";
  g.mig_mode = "enabled";
  g.health = "unhealthy";
  n.gpus = {g};
  return n;
}

}  // namespace

TEST_CASE("heartbeat unknown fields: nothing the encoders write is unknown", "[protocol][heartbeat]") {
  HeartbeatEnvelope full;
  full.agent_version = "0.2.0";
  full.sequence = 1;
  full.full = true;
  full.inventory = model::ClusterInventory{
      "1.30.4", "AKSUbuntu-2204gen2containerd-202410.09.0", {every_field_node("a"), every_field_node("b")}};
  CHECK(unknown_heartbeat_fields(to_json(full)).empty());

  model::ClusterInventory after = *full.inventory;
  after.kubernetes_version = "1.31.1";
  after.node_image_version = "AKSUbuntu-2204gen2containerd-202411.01.0";
  after.nodes.erase(after.nodes.begin());  // a removed
  after.nodes[0].schedulable = true;       // b changed in every member
  after.nodes[0].pool = "gpu2";
  after.nodes[0].labels = {{"x", "y"}};
  after.nodes[0].taints = {};
  after.nodes[0].capacity.cpu_millicores = 1;
  after.nodes[0].allocatable.cpu_millicores = 1;
  after.nodes[0].allocated.cpu_millicores = 1;
  after.nodes[0].gpus[0].health = "healthy";
  after.nodes[0].admission = model::Admission::kAdmitted;
  after.nodes.push_back(every_field_node("c"));  // c added
  HeartbeatEnvelope delta;
  delta.agent_version = "0.2.0";
  delta.sequence = 2;
  delta.delta = diff_inventory(*full.inventory, after);
  const json encoded = to_json(delta);
  REQUIRE(encoded["delta"]["changed"].size() == 1);
  REQUIRE(encoded["delta"]["added"].size() == 1);
  CHECK(unknown_heartbeat_fields(encoded).empty());
}

TEST_CASE("heartbeat unknown fields: found at every level with their paths, free-form maps left alone",
          "[protocol][heartbeat]") {
  const json body = {
      {"agentVersion", "9.0.0"},
      {"sequence", 1},
      {"full", true},
      {"compression", "zstd"},
      {"inventory",
       {{"kubernetesVersion", "1.30.4"},
        {"region", "westeurope"},
        {"nodes",
         {{{"name", "a"}, {"labels", {{"anything.example.com/at-all", "x"}}}, {"conditions", json::array()}},
          {{"name", "b"},
           {"capacity", {{"cpuMillicores", 1}, {"ephemeralStorage", 5}}},
           {"gpus", {{{"uuid", "GPU-1"}, {"eccErrors", 0}}}}}}}}}};
  CHECK(unknown_heartbeat_fields(body) == std::vector<std::string>{"compression", "inventory.nodes[0].conditions",
                                                                   "inventory.nodes[1].capacity.ephemeralStorage",
                                                                   "inventory.nodes[1].gpus[0].eccErrors",
                                                                   "inventory.region"});
  CHECK(unknown_heartbeat_fields(body, 2) == std::vector<std::string>{"compression", "inventory.nodes[0].conditions"});

  json delta = {{"agentVersion", "9"}, {"delta", {{"changed", {{{"name", "a"}, {"temperature", 80}}}}, {"x", 1}}}};
  CHECK(unknown_heartbeat_fields(delta) == std::vector<std::string>{"delta.changed[0].temperature", "delta.x"});
  // Wrong types are the decoder's to refuse, not this one's to report.
  CHECK(unknown_heartbeat_fields(json::array()).empty());
  CHECK(unknown_heartbeat_fields({{"inventory", 5}, {"delta", {{"added", "x"}}}}).empty());
  CHECK(unknown_heartbeat_fields({{std::string(300, 'k'), 1}}) == std::vector<std::string>{std::string(64, 'k')});
}

}  // namespace fleet::protocol
