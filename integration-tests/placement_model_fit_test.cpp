// Model fit and cost hints against a real fleetd and fleet-sim (issue #15 item 3): a workload that gives only a
// model (Llama-size 70B at bf16, one replica) on a fleet of L40S 48 GB and H100 80 GB nodes is bound to the H100
// cluster with 2 GPUs per replica (docs/placement.md: the fewest GPUs any model of the fleet holds it on; 4 L40S
// would also hold it), the agent runs it on 2 GPUs, and the placement answer's hints name the shapes and the cost.
// A model that fits nothing made is refused at once. Tagged [contract]: its responses join the OpenAPI check.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleet_sim_process.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;

namespace {

agent::ClusterSpec gpu_cluster(std::string name, std::string model, int gpus, double memory_gib, std::string cost) {
  agent::ClusterSpec c;
  c.name = std::move(name);
  c.region = "westeurope";
  c.update_group = "canary";
  c.labels = {{"env", "prod"}, {"fleet.io/cost-per-gpu-hour", std::move(cost)}};
  agent::GpuSpec gpu;
  gpu.model = std::move(model);
  gpu.count = gpus;
  gpu.memory_gib = memory_gib;
  c.pools.push_back(agent::make_pool("gpu", 2, 96, 1024, gpu));
  return c;
}

json model_workload(const std::string& name, json model) {
  return {{"name", name},
          {"manifests",
           {{{"apiVersion", "apps/v1"},
             {"kind", "Deployment"},
             {"metadata", {{"name", name}}},
             {"spec", {{"template", {{"spec", {{"containers", {{{"name", "vllm"}, {"image", "vllm:1"}}}}}}}}}}}}},
          {"resources", {{"cpu", 8}, {"memoryGiB", 64}, {"model", std::move(model)}}}};
}

}  // namespace

TEST_CASE("model fit: a workload given only a 70B bf16 model lands on 2 H100 GPUs and its hints name the shapes",
          "[integration][placement][fleet-sim][contract]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data", {}, {"--heartbeat-interval", "1"})};
  agent::FleetSpec spec;
  spec.seed = 15;
  spec.time_scale = 2000;
  spec.clusters = {gpu_cluster("l40s-1", "NVIDIA L40S", 4, 48, "1"),
                   gpu_cluster("h100-1", "NVIDIA H100 80GB HBM3", 8, 80, "3.5")};
  const auto spec_path = dir.path() / "fleet.json";
  std::ofstream(spec_path) << agent::to_json(spec).dump();
  const auto sim = start_fleet_sim(fleetd, dir.path(), {"--spec", spec_path.string()});

  const auto ready_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    int ready = 0;
    const json clusters = fleetd.call_json("GET", "/v1/clusters");
    for (const auto& c : clusters["items"]) ready += c["state"] == "ready" ? 1 : 0;
    if (ready == 2) break;
    INFO(clusters.dump());
    INFO([&] {
      std::ifstream log(fleet_sim_log(dir.path()));
      return std::string(std::istreambuf_iterator<char>(log), {});
    }());
    REQUIRE(std::chrono::steady_clock::now() < ready_deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  // Refused at once: 5T parameters at fp32 (20 TB) fit no 16 GPUs made.
  const auto refused = fleetd.call("POST", "/v1/workloads",
                                   model_workload("too-big", {{"parameters", "5T"}, {"precision", "fp32"}}).dump());
  CHECK(refused.status == 422);
  CHECK(json::parse(refused.body).value("field", "") == "resources.model");

  fleetd.call_json("POST", "/v1/workloads",
                   model_workload("llama-70b", {{"parameters", "70B"}, {"precision", "bf16"}}).dump(), 201);
  const json stored = fleetd.call_json("GET", "/v1/workloads/llama-70b");
  CHECK(stored["resources"]["model"]["parameters"] == 70'000'000'000LL);
  CHECK(stored["resources"]["gpus"] == 0);  // the spec keeps what was asked; the placement derives the rest

  json placement;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    placement = fleetd.call_json("GET", "/v1/workloads/llama-70b/placement");
    const json& bindings = placement["bindings"];
    if (placement.contains("decidedGeneration") && bindings.size() == 1 && bindings[0]["state"] == "Running") break;
    INFO(placement.dump());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  INFO(placement.dump(2));
  CHECK(placement["decision"] == "Placed");
  CHECK(placement["bindings"][0]["cluster"] == "h100-1");
  REQUIRE(placement["rejected"].size() == 1);
  CHECK(placement["rejected"][0]["cluster"] == "l40s-1");
  CHECK(placement["rejected"][0]["code"] == "GpuModel");

  const json& hints = placement["hints"];
  CHECK(hints["gpusPerReplica"] == 2);
  const json& fit = hints["modelFit"];
  CHECK(fit["memoryGiB"]["total"] == 136.9);
  CHECK(fit["gpuModels"] == json{"NVIDIA H100 80GB HBM3"});
  CHECK(fit["summary"] == "2×H100 80GB HBM3 (80 GiB), 4×L40S (48 GiB)");
  REQUIRE(fit["shapes"].size() == 2);
  CHECK(fit["shapes"][0]["selected"] == true);
  CHECK(fit["shapes"][1]["gpuModel"] == "NVIDIA L40S");
  CHECK(fit["shapes"][1]["gpusNeeded"] == 4);
  CHECK(fit["shapes"][1]["selected"] == false);
  // 1 replica × 2 GPUs × 3.5 an hour; no other cluster passed the filters, so the alternative is the same.
  CHECK(hints["cost"]["chosen"]["perHour"] == 7);
  CHECK(hints["cost"]["chosen"]["complete"] == true);
  CHECK(hints["cost"]["cheapestAlternative"]["perHour"] == 7);

  // The node the replica runs on has 2 GPUs booked: the agent's inventory agrees with the derived count.
  const json capacity = fleetd.call_json("GET", "/v1/clusters/h100-1/capacity");
  CHECK(capacity["gpus"]["total"].get<int>() - capacity["gpus"]["free"].get<int>() == 2);
}
