#include "agents/fleet_spec.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "agents/sim_cluster.hpp"

namespace fleet::agent {
namespace {

using nlohmann::json;

// DESIGN.md §5 "Fleet spec", copied verbatim.
constexpr const char* kDesignExample = R"json(
{
  "seed": 7,
  "timeScale": 100,
  "durations": {"controlPlaneUpgradeSeconds": 600, "nodeUpgradeSeconds": 240, "drainSeconds": 60, "probeSeconds": 15},
  "faults": {"nodeUpgradeFailure": 0.02, "probeFailure": 0.01, "drainTimeout": 0.01, "agentDisconnect": 0.0},
  "clusters": [
    {
      "name": "aks-westeurope-1", "provider": "aks", "region": "westeurope", "updateGroup": "canary",
      "labels": {"env": "prod"}, "taints": [],
      "kubernetesVersion": "1.31.4", "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202510.01.0",
      "pools": [
        {"name": "system", "count": 3, "cpu": 8, "memoryGiB": 32},
        {"name": "gpu", "count": 4, "cpu": 96, "memoryGiB": 1024,
         "gpu": {"model": "NVIDIA H100 80GB HBM3", "count": 8, "memoryGiB": 80, "driverVersion": "550.90.07", "cudaVersion": "12.4"}}
      ]
    }
  ]
}
)json";

Error spec_error(const std::string& text) {
  auto r = parse_fleet_spec_text(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// A minimal valid spec with `patch` merged into the first cluster (or the root when `root` is set).
Error bad_spec(const json& patch, bool root = false) {
  json j = json::parse(kDesignExample);
  if (root) {
    j.merge_patch(patch);
  } else {
    j["clusters"][0].merge_patch(patch);
  }
  return spec_error(j.dump());
}

TEST_CASE("the DESIGN §5 example parses as written", "[agent]") {
  auto spec = parse_fleet_spec_text(kDesignExample);
  REQUIRE(spec.ok());
  CHECK(spec->seed == 7);
  CHECK(spec->time_scale == 100);
  CHECK(spec->durations == Durations{600, 240, 60, 15});
  CHECK(spec->faults == FaultRates{0.02, 0.01, 0.01, 0.0});
  REQUIRE(spec->clusters.size() == 1);
  const ClusterSpec& c = spec->clusters[0];
  CHECK(c.name == "aks-westeurope-1");
  CHECK(c.provider == "aks");
  CHECK(c.region == "westeurope");
  CHECK(c.update_group == "canary");
  CHECK(c.labels == model::Labels{{"env", "prod"}});
  CHECK(c.taints.empty());
  CHECK(c.kubernetes_version == "1.31.4");
  CHECK(c.node_image_version == "AKSUbuntu-2204gen2containerd-202510.01.0");
  REQUIRE(c.pools.size() == 2);
  CHECK(c.pools[0] == make_pool("system", 3, 8, 32));
  CHECK(c.pools[1].name == "gpu");
  CHECK(c.pools[1].count == 4);
  CHECK(c.pools[1].cpu == 96);
  CHECK(c.pools[1].memory_gib == 1024);
  REQUIRE(c.pools[1].gpu.has_value());
  CHECK(*c.pools[1].gpu == GpuSpec{"NVIDIA H100 80GB HBM3", 8, 80, "550.90.07", "12.4"});
  CHECK(parse_fleet_spec(to_json(*spec)).value() == *spec);
}

TEST_CASE("docs/fleet-spec.md: its examples parse", "[agent]") {
  std::ifstream in(FLEET_SPEC_DOC_PATH);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  int examples = 0;
  for (std::size_t at = doc.find("```json\n"); at != std::string::npos; at = doc.find("```json\n", at)) {
    at += 8;
    std::size_t end = doc.find("```", at);
    REQUIRE(end != std::string::npos);
    std::string block = doc.substr(at, end - at);
    INFO(block);
    auto spec = parse_fleet_spec_text(block);
    CHECK(spec.ok());
    ++examples;
    at = end + 3;
  }
  CHECK(examples >= 2);
  // The first one is DESIGN's, verbatim.
  CHECK(doc.find(std::string(kDesignExample).substr(1)) != std::string::npos);
}

TEST_CASE("omitted fields take their defaults", "[agent]") {
  auto spec = parse_fleet_spec_text(R"({"clusters": [{"name": "c1"}, {"name": "c2", "pools": [{"name": "gpu",
      "gpu": {"model": "l40s"}}]}]})");
  REQUIRE(spec.ok());
  CHECK(spec->seed == 1);
  CHECK(spec->time_scale == 1);
  CHECK(spec->durations == Durations{});
  CHECK(spec->durations.control_plane_upgrade_seconds == 600);
  CHECK(spec->faults == FaultRates{});
  const ClusterSpec& c1 = spec->clusters[0];
  CHECK(c1.provider == "aks");
  CHECK(c1.region.empty());
  CHECK(c1.update_group.empty());
  CHECK(c1.kubernetes_version == kDefaultKubernetesVersion);
  CHECK(c1.node_image_version == kDefaultNodeImageVersion);
  REQUIRE(c1.pools.size() == 1);
  CHECK(c1.pools[0] == make_pool("system", 3, 8, 32));
  const PoolSpec& gpu = spec->clusters[1].pools[0];
  CHECK(gpu.count == 1);
  CHECK(gpu.cpu == 8);
  CHECK(gpu.memory_gib == 32);
  REQUIRE(gpu.gpu.has_value());
  CHECK(gpu.gpu->model == "NVIDIA L40S");  // short key expanded
  CHECK(gpu.gpu->count == 1);
  CHECK(gpu.gpu->memory_gib == 48);
  CHECK(gpu.gpu->driver_version == kDefaultDriverVersion);
  CHECK(gpu.gpu->cuda_version == kDefaultCudaVersion);
  CHECK(gpu.initial_admission == model::Admission::kAdmitted);
}

TEST_CASE("unknown fields are tolerated at every level", "[agent]") {
  json j = json::parse(kDesignExample);
  j["comment"] = "extra";
  j["durations"]["coffeeBreakSeconds"] = 5;
  j["faults"]["cosmicRays"] = 0.5;
  j["clusters"][0]["owner"] = "team-a";
  j["clusters"][0]["pools"][1]["vmSize"] = "Standard_ND96isr_H100_v5";
  j["clusters"][0]["pools"][1]["gpu"]["nvlink"] = true;
  auto spec = parse_fleet_spec(j);
  REQUIRE(spec.ok());
  CHECK(*spec == parse_fleet_spec_text(kDesignExample).value());
}

TEST_CASE("extra spec fields: taint strings and initial admission", "[agent]") {
  auto spec = parse_fleet_spec_text(R"({"clusters": [{"name": "c", "taints": ["dedicated=gpu:NoSchedule",
      {"key": "k", "effect": "NoExecute"}], "pools": [{"name": "gpu", "initialAdmission": "pending_probe",
      "gpu": {"model": "h100", "count": 8}}]}]})");
  REQUIRE(spec.ok());
  const ClusterSpec& c = spec->clusters[0];
  REQUIRE(c.taints.size() == 2);
  CHECK(c.taints[0] == model::Taint{"dedicated", "gpu", "NoSchedule"});
  CHECK(c.taints[1] == model::Taint{"k", "", "NoExecute"});
  CHECK(c.pools[0].initial_admission == model::Admission::kPendingProbe);
}

TEST_CASE("bad specs fail with errors that name the field", "[agent]") {
  struct Case {
    json patch;
    bool root;
    std::string field;
    std::string words;
  };
  std::vector<Case> cases = {
      {{{"name", "Bad_Name"}}, false, "clusters[0].name", "DNS-1123"},
      {{{"name", std::string(64, 'a')}}, false, "clusters[0].name", "63"},
      {{{"provider", "gke"}}, false, "clusters[0].provider", "aks"},
      {{{"region", "West Europe"}}, false, "clusters[0].region", "lower-case"},
      {{{"updateGroup", "Wave_1"}}, false, "clusters[0].updateGroup", "DNS-1123"},
      {{{"labels", {{"env", 3}}}}, false, "clusters[0].labels.env", "string"},
      {{{"taints", {"nocolon"}}}, false, "clusters[0].taints[0]", "key=value:Effect"},
      {{{"kubernetesVersion", "1.31 .4"}}, false, "clusters[0].kubernetesVersion", "letters"},
      {{{"pools", json::array()}}, false, "clusters[0].pools", "at least one"},
      {{{"pools", {{{"name", "a"}}, {{"name", "a"}}}}}, false, "clusters[0].pools[1].name", "duplicate"},
      {{{"pools", {{{"name", "a"}, {"count", -1}}}}}, false, "clusters[0].pools[0].count", "from"},
      {{{"pools", {{{"name", "a"}, {"count", 1001}}}}}, false, "clusters[0].pools[0].count", "from"},
      {{{"pools", {{{"name", "a"}, {"count", 2.5}}}}}, false, "clusters[0].pools[0].count", "integer"},
      {{{"pools", {{{"name", "a"}, {"cpu", 0}}}}}, false, "clusters[0].pools[0].cpu", "from"},
      {{{"pools", {{{"name", "a"}, {"memoryGiB", "lots"}}}}}, false, "clusters[0].pools[0].memoryGiB", "number"},
      {{{"pools", {{{"name", "a"}, {"gpu", {{"model", "h100"}, {"count", 17}}}}}}},
       false,
       "clusters[0].pools[0].gpu.count",
       "from"},
      {{{"pools", {{{"name", "a"}, {"gpu", {{"model", "Mystery GPU"}}}}}}},
       false,
       "clusters[0].pools[0].gpu.memoryGiB",
       "does not know"},
      {{{"pools", {{{"name", "a"}, {"gpu", {{"count", 8}}}}}}}, false, "clusters[0].pools[0].gpu.model", "missing"},
      {{{"pools", {{{"name", "a"}, {"initialAdmission", "quarantined"}}}}},
       false,
       "clusters[0].pools[0].initialAdmission",
       "pending_probe"},
      {{{"faults", {{"probeFailure", 1.5}}}}, true, "faults.probeFailure", "between 0 and 1"},
      {{{"faults", {{"drainTimeout", -0.1}}}}, true, "faults.drainTimeout", "between 0 and 1"},
      {{{"timeScale", 0}}, true, "timeScale", "greater than 0"},
      {{{"timeScale", -5}}, true, "timeScale", "between"},
      {{{"durations", {{"drainSeconds", -1}}}}, true, "durations.drainSeconds", "between"},
      {{{"durations", 60}}, true, "durations", "object"},
      {{{"seed", -7}}, true, "seed", "negative"},
      {{{"seed", "seven"}}, true, "seed", "integer"},
      {{{"clusters", nullptr}}, true, "clusters", "missing"},
  };
  for (const Case& c : cases) {
    INFO(c.patch.dump());
    Error e = bad_spec(c.patch, c.root);
    CHECK(e.code == ErrorCode::kInvalid);
    CHECK(e.field == c.field);
    CHECK(e.message.find(c.words) != std::string::npos);
    CHECK(e.message.rfind(c.field, 0) == 0);  // the message starts with the field, for people
  }
  json two = json::parse(kDesignExample);
  two["clusters"].push_back(two["clusters"][0]);
  Error dup = spec_error(two.dump());
  CHECK(dup.field == "clusters[1].name");
  CHECK(dup.message.find("duplicate") != std::string::npos);

  json many = json::parse(kDesignExample);
  many["clusters"][0]["pools"] = json::array();
  for (int i = 0; i < 6; ++i)
    many["clusters"][0]["pools"].push_back({{"name", "p" + std::to_string(i)}, {"count", 1000}});
  CHECK(spec_error(many.dump()).field == "clusters[0].pools");

  CHECK(spec_error("{").code == ErrorCode::kInvalid);
  CHECK(spec_error(R"({"clusters": [], "clusters": []})").message.find("duplicate") != std::string::npos);
  CHECK(spec_error("[]").field == "(root)");
}

TEST_CASE("gpu-mix syntax", "[agent]") {
  auto mix = parse_gpu_mix("h100:8x40%,a100:8x30%,l40s:4x30%");
  REQUIRE(mix.ok());
  CHECK(*mix == std::vector<GpuMixEntry>{{"h100", 8, 40}, {"a100", 8, 30}, {"l40s", 4, 30}});
  CHECK(parse_gpu_mix(" H100:8x10% , l4:1x5% ")->size() == 2);
  CHECK(parse_gpu_mix("")->empty());
  for (const char* bad : {"h100", "h100:8", "h100:8x40", "h100:x40%", "h100:0x40%", "h100:17x40%", "h100:8x101%",
                          "tpu:8x40%", "h100:8x40%,", "h100:8x60%,a100:8x50%", "h100:8xabc%"}) {
    INFO(bad);
    auto r = parse_gpu_mix(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().field == "gpuMix");
  }
  CHECK(parse_gpu_mix("h100:8x60%,a100:8x50%").error().message.find("110") != std::string::npos);
}

TEST_CASE("generate_fleet_spec: shares, providers, groups, validity, determinism", "[agent]") {
  auto spec = generate_fleet_spec(100, "h100:8x40%,a100:8x30%,l40s:4x30%", 42);
  REQUIRE(spec.ok());
  CHECK(spec->seed == 42);
  REQUIRE(spec->clusters.size() == 100);
  std::map<std::string, int> by_model;
  std::map<std::string, int> by_group;
  std::set<std::string> providers;
  std::set<std::string> names;
  for (const ClusterSpec& c : spec->clusters) {
    names.insert(c.name);
    providers.insert(c.provider);
    by_group[c.update_group]++;
    REQUIRE(c.pools.size() == 2);
    CHECK(c.pools[0].name == "system");
    CHECK_FALSE(c.pools[0].gpu.has_value());
    by_model[c.pools[1].gpu ? c.pools[1].gpu->model + "/" + std::to_string(c.pools[1].gpu->count) : "cpu"]++;
  }
  CHECK(names.size() == 100);
  CHECK(providers == std::set<std::string>{"aks", "arc"});
  CHECK(by_model == std::map<std::string, int>{
                        {"NVIDIA H100 80GB HBM3/8", 40}, {"NVIDIA A100-SXM4-80GB/8", 30}, {"NVIDIA L40S/4", 30}});
  CHECK(by_group["canary"] == 10);
  CHECK(by_group["wave1"] == 45);
  CHECK(by_group["wave2"] == 45);
  // What fleet-sim generates is a valid spec, and every cluster simulates into a valid inventory.
  auto reparsed = parse_fleet_spec(to_json(*spec));
  REQUIRE(reparsed.ok());
  CHECK(*reparsed == *spec);
  for (std::size_t i = 0; i < spec->clusters.size(); ++i) {
    CHECK(model::validate_inventory(SimCluster::from_fleet_spec(*spec, i).inventory()).ok());
  }
  CHECK(generate_fleet_spec(100, "h100:8x40%,a100:8x30%,l40s:4x30%", 42).value() == *spec);
  CHECK_FALSE(generate_fleet_spec(100, "h100:8x40%,a100:8x30%,l40s:4x30%", 43).value() == *spec);

  auto small = generate_fleet_spec(7, "h100:8x10%", 1);
  REQUIRE(small.ok());
  int gpu = 0;
  for (const ClusterSpec& c : small->clusters) gpu += c.pools[1].gpu.has_value();
  CHECK(gpu == 1);  // 0.7 rounds to 1 by largest remainder; the other 6 are CPU-only
  CHECK(small->clusters[0].update_group == "canary");

  auto one = generate_fleet_spec(1, "", 1);
  REQUIRE(one.ok());
  CHECK(one->clusters[0].update_group == "canary");
  CHECK(generate_fleet_spec(0, "", 1).error().field == "clusters");
  CHECK(generate_fleet_spec(100, "h100:8x101%", 1).error().field == "gpuMix");
}

}  // namespace
}  // namespace fleet::agent
