#include "model/inventory.hpp"

#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "model/testing/inventories.hpp"

namespace fleet::model {
namespace {

using nlohmann::json;

json sample_node() {
  return json::parse(R"({
    "name": "aks-gpu-12345678-vmss000000", "pool": "gpu", "kubernetesVersion": "1.31.4",
    "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202510.01.0", "schedulable": true, "admission": "pending_probe",
    "labels": {"kubernetes.azure.com/agentpool": "gpu"},
    "taints": [{"key": "fleet.io/gpu-unverified", "value": "", "effect": "NoSchedule"}],
    "capacity": {"cpuMillicores": 96000, "memoryBytes": 1099511627776, "gpus": 2},
    "allocatable": {"cpuMillicores": 95000, "memoryBytes": 1000000000000, "gpus": 2},
    "gpus": [
      {"index": 1, "uuid": "GPU-00000000-0000-0000-0000-000000000001", "model": "NVIDIA H100 80GB HBM3",
       "memoryBytes": 85899345920, "driverVersion": "550.90.07", "cudaVersion": "12.4"},
      {"index": 0, "uuid": "GPU-00000000-0000-0000-0000-000000000000", "model": "NVIDIA H100 80GB HBM3",
       "memoryBytes": 85899345920, "driverVersion": "550.90.07", "cudaVersion": "12.4", "migMode": "enabled",
       "health": "unhealthy", "futureField": 1}
    ]})");
}

json sample_inventory() {
  json node_b = sample_node();
  json node_a = sample_node();
  node_a["name"] = "aks-gpu-12345678-vmss000001";
  node_a["gpus"][0]["uuid"] = "GPU-00000000-0000-0000-0000-0000000000a1";
  node_a["gpus"][1]["uuid"] = "GPU-00000000-0000-0000-0000-0000000000a0";
  // Listed out of name order on purpose: parsing canonicalizes.
  return {{"kubernetesVersion", "1.31.4"},
          {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202510.01.0"},
          {"nodes", {node_a, node_b}},
          {"extra", "ignored"}};
}

Error parse_error(const json& j) {
  auto r = inventory_from_json(j);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

TEST_CASE("inventory JSON round-trips and is canonical", "[agent]") {
  auto inv = inventory_from_json(sample_inventory());
  REQUIRE(inv.ok());
  REQUIRE(inv->nodes.size() == 2);
  CHECK(inv->nodes[0].name == "aks-gpu-12345678-vmss000000");
  CHECK(inv->nodes[0].gpus[0].index == 0);
  CHECK(inv->nodes[0].gpus[0].mig_mode == "enabled");
  CHECK(inv->nodes[0].gpus[0].health == "unhealthy");
  CHECK(inv->nodes[0].gpus[1].mig_mode == "disabled");  // default
  CHECK(inv->nodes[0].gpus[1].health == "healthy");     // default
  CHECK(inv->nodes[0].admission == Admission::kPendingProbe);
  CHECK(inv->nodes[0].has_taint(kTaintGpuUnverified));
  CHECK(inv->find_node("aks-gpu-12345678-vmss000001") != nullptr);
  CHECK(inv->find_node("nope") == nullptr);
  auto again = inventory_from_json(to_json(*inv));
  REQUIRE(again.ok());
  CHECK(*again == *inv);
  CHECK(validate_inventory(*inv).ok());
}

TEST_CASE("a node's allocation is optional on input and always written", "[agent][inventory]") {
  json j = sample_inventory();
  auto inv = inventory_from_json(j);
  REQUIRE(inv.ok());
  CHECK(inv->nodes[0].allocated == ResourceList{});  // absent: nothing allocated
  CHECK(to_json(inv->nodes[0])["allocated"] == json{{"cpuMillicores", 0}, {"memoryBytes", 0}, {"gpus", 0}});
  // Up to capacity, not allocatable: a GPU that turned unhealthy does not evict what runs on it.
  j["nodes"][1]["allocated"] = {{"cpuMillicores", 96000}, {"memoryBytes", 1099511627776}, {"gpus", 2}};
  inv = inventory_from_json(j);
  REQUIRE(inv.ok());
  CHECK(inv->nodes[0].allocated == ResourceList{96000, 1099511627776, 2});
  auto again = inventory_from_json(to_json(*inv));
  REQUIRE(again.ok());
  CHECK(*again == *inv);
}

TEST_CASE("random inventories round-trip through JSON", "[agent]") {
  SplitMix64 rng(11);
  for (int i = 0; i < 100; ++i) {
    ClusterInventory inv = testing::random_inventory(rng);
    REQUIRE(validate_inventory(inv).ok());
    auto back = inventory_from_json(json::parse(to_json(inv).dump()));
    REQUIRE(back.ok());
    CHECK(*back == inv);
  }
}

TEST_CASE("inventory validation names the field", "[agent]") {
  json j = sample_inventory();
  j["nodes"][1].erase("name");
  CHECK(parse_error(j).field == "nodes[1].name");

  j = sample_inventory();
  j["nodes"][0]["name"] = "Not_A_Name";
  Error e = parse_error(j);
  CHECK(e.field == "nodes[0].name");
  CHECK(e.message.find("DNS-1123") != std::string::npos);

  j = sample_inventory();
  j["nodes"][1]["name"] = j["nodes"][0]["name"];
  e = parse_error(j);
  CHECK(e.field == "nodes[1].name");
  CHECK(e.message.find("duplicate") != std::string::npos);

  j = sample_inventory();
  j["nodes"][0]["admission"] = "maybe";
  CHECK(parse_error(j).field == "nodes[0].admission");

  j = sample_inventory();
  j["nodes"][0]["gpus"][1]["uuid"] = "GPU bad uuid";
  CHECK(parse_error(j).field == "nodes[0].gpus[1].uuid");

  j = sample_inventory();
  j["nodes"][0]["gpus"][0]["index"] = 0;
  CHECK(parse_error(j).field == "nodes[0].gpus[1].index");  // GPUs are sorted by index first

  j = sample_inventory();
  j["nodes"][0]["gpus"][0]["health"] = "meh";
  CHECK(parse_error(j).field == "nodes[0].gpus[0].health");

  j = sample_inventory();
  j["nodes"][0]["capacity"]["gpus"] = 3;
  CHECK(parse_error(j).field == "nodes[0].capacity.gpus");

  j = sample_inventory();
  j["nodes"][0]["allocatable"]["cpuMillicores"] = 97000;
  CHECK(parse_error(j).field == "nodes[0].allocatable");

  j = sample_inventory();
  j["nodes"][0]["allocated"] = {{"cpuMillicores", 1000}, {"memoryBytes", 0}, {"gpus", 3}};
  e = parse_error(j);
  CHECK(e.field == "nodes[0].allocated.gpus");
  CHECK(e.message.find("must not exceed capacity (2; is 3)") != std::string::npos);

  j = sample_inventory();
  j["nodes"][0]["allocated"] = {{"cpuMillicores", 96001}, {"memoryBytes", 0}};
  CHECK(parse_error(j).field == "nodes[0].allocated.cpuMillicores");

  j = sample_inventory();
  j["nodes"][0]["allocated"] = {{"gpus", 1}};
  CHECK(parse_error(j).field == "nodes[0].allocated.cpuMillicores");

  j = sample_inventory();
  j["nodes"][0]["capacity"]["memoryBytes"] = -1;
  CHECK(parse_error(j).field == "nodes[0].capacity.memoryBytes");

  j = sample_inventory();
  j["nodes"][0]["labels"]["bad key!"] = "x";
  CHECK(parse_error(j).field.rfind("nodes[0].labels", 0) == 0);

  j = sample_inventory();
  j["nodes"][0]["taints"][0]["effect"] = "Sometimes";
  CHECK(parse_error(j).field == "nodes[0].taints[0].effect");

  j = sample_inventory();
  j["kubernetesVersion"] = "1.31 4";
  CHECK(parse_error(j).field == "kubernetesVersion");

  j = sample_inventory();
  j["nodes"][0]["kubernetesVersion"] = std::string(kMaxVersionLength + 1, '1');
  CHECK(parse_error(j).field == "nodes[0].kubernetesVersion");

  CHECK(parse_error(json::array()).field == "(root)");
  CHECK(parse_error(json{{"nodeImageVersion", "x"}}).field == "kubernetesVersion");
}

TEST_CASE("inventory size limits", "[agent]") {
  json j = sample_inventory();
  json gpus = json::array();
  for (int i = 0; i < 17; ++i) gpus.push_back(j["nodes"][0]["gpus"][0]);
  j["nodes"][0]["gpus"] = gpus;
  Error e = parse_error(j);
  CHECK(e.field == "nodes[0].gpus");
  CHECK(e.message.find("16") != std::string::npos);

  json big = sample_inventory();
  big["nodes"] = json::array();
  for (std::size_t i = 0; i <= kMaxNodes; ++i) big["nodes"].push_back(json::object());
  e = parse_error(big);
  CHECK(e.field == "nodes");
  CHECK(e.message.find("5000") != std::string::npos);

  ClusterInventory inv = *inventory_from_json(sample_inventory());
  inv.nodes.resize(kMaxNodes + 1, inv.nodes[0]);
  CHECK(validate_inventory(inv).error().field == "nodes");
}

TEST_CASE("taint strings", "[agent]") {
  auto t = parse_taint_string("fleet.io/gpu-unverified=:NoSchedule", "t");
  REQUIRE(t.ok());
  CHECK(t->key == "fleet.io/gpu-unverified");
  CHECK(t->value.empty());
  CHECK(t->effect == "NoSchedule");
  CHECK(format_taint(*t) == "fleet.io/gpu-unverified=:NoSchedule");
  auto kv = parse_taint_string("dedicated=gpu:NoExecute", "t");
  REQUIRE(kv.ok());
  CHECK(kv->value == "gpu");
  CHECK(parse_taint_string("key:PreferNoSchedule", "t").ok());
  CHECK(parse_taint_string("no-effect", "t").error().field == "t");
  CHECK(parse_taint_string("k=v:Never", "t").error().field == "t.effect");
}

TEST_CASE("GPU uuids are deterministic and well-formed", "[agent]") {
  std::regex form("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::string a = make_gpu_uuid(7, "c1", "n1", 0);
  CHECK(std::regex_match(a, form));
  CHECK(a == make_gpu_uuid(7, "c1", "n1", 0));
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    for (int i = 0; i < 16; ++i) {
      std::string u = make_gpu_uuid(seed, "c1", "n1", i);
      CHECK(std::regex_match(u, form));
      seen.insert(u);
    }
  }
  seen.insert(make_gpu_uuid(7, "c2", "n1", 0));
  seen.insert(make_gpu_uuid(7, "c1", "n2", 0));
  CHECK(seen.size() == 4 * 16 + 2);
}

TEST_CASE("admission strings", "[agent]") {
  for (Admission a : {Admission::kPendingProbe, Admission::kAdmitted, Admission::kQuarantined}) {
    CHECK(parse_admission(to_string(a)) == a);
  }
  CHECK_FALSE(parse_admission("Admitted").has_value());
}

}  // namespace
}  // namespace fleet::model
