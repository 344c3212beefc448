// A workload that names a model: its JSON (placement/model_json.hpp), the GPUs and memory derived from the fleet's
// shapes (placement/model_placement.hpp), the engine placing what that derives, and the hints beside the
// decision (placement/placement_hints.hpp, hints_json.hpp).
#include <catch2/catch.hpp>

#include "placement/hints_json.hpp"
#include "placement/model_json.hpp"
#include "placement/model_placement.hpp"
#include "placement/placement_hints.hpp"
#include "placement/tests/placement_fixtures.hpp"
#include "placement/workload_json.hpp"

using namespace fleet;
using namespace fleet::placement;
using namespace fleet::placement::testing;
using nlohmann::json;

namespace {

constexpr const char* kL40S = "NVIDIA L40S";

json with_model(json model, json resources = json::object()) {
  resources["model"] = std::move(model);
  return {{"name", "llama"},
          {"manifests", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}}}},
          {"resources", std::move(resources)}};
}

ClusterSnapshot l40s_cluster(std::string name) {
  std::vector<NodeSnapshot> nodes;
  for (int i = 0; i < 2; ++i) {
    NodeSnapshot n = gpu_node(name + "-n" + std::to_string(i), 4, 0, kL40S);
    n.gpu_memory_bytes = 48 * kGiB;
    nodes.push_back(std::move(n));
  }
  return cluster(std::move(name), std::move(nodes));
}

ClusterSnapshot priced(ClusterSnapshot c, std::string cost) {
  c.labels["fleet.io/cost-per-gpu-hour"] = std::move(cost);
  return c;
}

Workload llama_70b(int replicas = 1) {
  Workload w = workload("llama", 0, replicas);
  ModelSpec m;
  m.parameters = 70'000'000'000;
  m.precision = Precision::kBf16;
  w.resources.model = m;
  return w;
}

}  // namespace

TEST_CASE("model workload: the model member reads and writes back", "[placement][model-fit]") {
  auto doc = workload_from_json(
      with_model({{"parameters", "70B"}, {"precision", "FP8"}, {"contextTokens", 32768}, {"concurrentSequences", 8}}));
  REQUIRE(doc);
  const ReplicaResources& r = doc->workload.resources;
  REQUIRE(r.model);
  CHECK(r.model->parameters == 70'000'000'000);
  CHECK(r.model->precision == Precision::kFp8);
  CHECK(r.model->context_tokens == 32768);
  CHECK(r.model->concurrent_sequences == 8);
  CHECK(r.gpus == 0);
  const json spec = to_json(doc->workload);
  CHECK(spec["resources"]["model"] == json{{"parameters", 70'000'000'000LL},
                                           {"precision", "fp8"},
                                           {"contextTokens", 32768},
                                           {"concurrentSequences", 8}});
  auto again = workload_spec_from_json(spec);
  REQUIRE(again);
  CHECK(*again == doc->workload);

  auto numeric = workload_from_json(with_model({{"parameters", 8e9}, {"layers", 32}, {"kvHeads", 8}, {"headDim", 128}},
                                               {{"gpus", 1}, {"gpuModels", {"NVIDIA L4"}}}));
  REQUIRE(numeric);
  CHECK(numeric->workload.resources.model->architecture == Architecture{32, 8, 128});
  CHECK(numeric->workload.resources.model->precision == Precision::kBf16);
}

TEST_CASE("model workload: bad models are refused with the member named", "[placement][model-fit]") {
  auto field_of = [](json model, json resources = json::object()) {
    auto doc = workload_from_json(with_model(std::move(model), std::move(resources)));
    REQUIRE_FALSE(doc);
    return doc.error().field;
  };
  CHECK(field_of(json::object()) == "resources.model.parameters");
  CHECK(field_of({{"parameters", "70"}}) == "resources.model.parameters");
  CHECK(field_of({{"parameters", 10}}) == "resources.model.parameters");
  CHECK(field_of({{"parameters", "70B"}, {"precision", "fp6"}}) == "resources.model.precision");
  CHECK(field_of({{"parameters", "70B"}, {"contextTokens", 20'000'000}}) == "resources.model.contextTokens");
  CHECK(field_of({{"parameters", "70B"}, {"concurrentSequences", 4}}) == "resources.model.concurrentSequences");
  CHECK(field_of({{"parameters", "70B"}, {"layers", 80}}) == "resources.model");
  CHECK(field_of({{"parameters", "70B"}, {"vocab", 1}}) == "resources.model.vocab");
  CHECK(field_of({{"parameters", "70B"}}, {{"minGpuMemoryGiB", 80}, {"gpus", 2}}) == "resources.minGpuMemoryGiB");
  // Fits nothing made: 5T parameters at fp32 (20 TB), or 405B bf16 on one GPU.
  CHECK(field_of({{"parameters", "5T"}, {"precision", "fp32"}}) == "resources.model");
  auto one_gpu = workload_from_json(with_model({{"parameters", "405B"}}, {{"gpus", 1}}));
  REQUIRE_FALSE(one_gpu);
  CHECK(one_gpu.error().message.find("more than 1 GPUs of 288 GiB") != std::string::npos);
}

TEST_CASE("model workload: 70B bf16 asks 2 H100s on a fleet of H100 and L40S nodes", "[placement][model-fit]") {
  const Snapshot fleet{{l40s_cluster("l40s-1"), gpu_cluster("h100-1", 1)}};
  const std::vector<GpuShape> shapes = fleet_gpu_shapes(fleet);
  REQUIRE(shapes.size() == 2);
  CHECK(shapes[0] == GpuShape{kH100, 80 * kGiB, 8});
  CHECK(shapes[1] == GpuShape{kL40S, 48 * kGiB, 4});

  const std::optional<ModelPlacement> fit = place_model(llama_70b(), shapes);
  REQUIRE(fit);
  CHECK(fit->gpus == 2);
  CHECK(fit->gpu_models == std::vector<std::string>{kH100});
  CHECK(fit->selected == std::vector<std::string>{kH100});
  CHECK(fit->shapes[1].gpus_needed == 4);  // L40S holds it too, on 4
  CHECK(fit->min_gpu_memory_bytes <= 80 * kGiB);
  CHECK(fit->min_gpu_memory_bytes > 48 * kGiB);

  const Workload placed = with_model_resources(llama_70b(), *fit);
  PlacementEngine engine(fleet);
  const Decision decision = engine.place(placed);
  REQUIRE(decision.bindings.size() == 1);
  CHECK(decision.bindings[0].cluster == "h100-1");
  CHECK(rejection_for(decision, "l40s-1")->code == RejectionCode::kGpuModel);

  // With gpus given, the memory per GPU follows: 4 GPUs need 38 GiB each, which L40S has.
  Workload four = llama_70b();
  four.resources.gpus = 4;
  const std::optional<ModelPlacement> given = place_model(four, shapes);
  CHECK(given->gpus == 4);
  CHECK(given->gpu_models.empty());
  CHECK(given->selected == std::vector<std::string>{kH100, kL40S});

  // gpuModels narrows the shapes: L40S only gives 4.
  Workload l40s_only = llama_70b();
  l40s_only.resources.gpu_models = {kL40S};
  CHECK(place_model(l40s_only, shapes)->gpus == 4);
  // Nothing fits (a fleet of L4): the count the largest GPU made would need, and the engine rejects by memory.
  const std::optional<ModelPlacement> none = place_model(llama_70b(), {GpuShape{kL4, 24 * kGiB, 4}});
  CHECK(none->gpus == 1);
  CHECK(none->selected.empty());
  CHECK(none->rule.starts_with("no GPU model of the fleet holds 136.9 GiB on one node"));
}

TEST_CASE("model workload: the hints name the shapes and price the choice and the cheapest alternative",
          "[placement][model-fit]") {
  // The engine prefers "gold" (preferred affinity), which costs more than "cheap"; "unpriced" has no label.
  ClusterSnapshot gold = priced(gpu_cluster("gold", 1), "4.5");
  gold.labels["tier"] = "gold";
  const Snapshot fleet{
      {gold, priced(gpu_cluster("cheap", 1), "2.25"), gpu_cluster("unpriced", 1), priced(l40s_cluster("l40s-1"), "1")}};
  const HintContext context(fleet);
  Workload w = llama_70b(2);
  w.policy.type = PolicyType::kPickN;
  w.policy.number_of_clusters = 1;
  w.policy.preferred.push_back({100, ClusterTerm{*model::parse_label_selector("tier=gold"), {}}});
  const std::optional<ModelPlacement> fit = place_model(w, context.shapes());
  const Workload placed = with_model_resources(w, *fit);
  PlacementEngine engine(fleet);
  const Decision decision = engine.place(placed);
  REQUIRE(decision.bindings.size() == 1);
  REQUIRE(decision.bindings[0].cluster == "gold");

  const PlacementHints hints = placement_hints(context, placed, fit, decision, {});
  CHECK(hints.gpus_per_replica == 2);
  CHECK(hints.chosen.per_hour == Approx(2 * 2 * 4.5));
  CHECK(hints.chosen.complete);
  REQUIRE(hints.alternative);
  CHECK(hints.alternative->per_hour == Approx(2 * 2 * 2.25));
  REQUIRE(hints.alternative->clusters.size() == 1);
  CHECK(hints.alternative->clusters[0].cluster == "cheap");
  CHECK(hints.alternative->complete);

  const json j = to_json(hints);
  CHECK(j["gpusPerReplica"] == 2);
  CHECK(j["cost"]["chosen"]["perHour"] == 18);
  CHECK(j["cost"]["cheapestAlternative"]["perHour"] == 9);
  CHECK(j["modelFit"]["memoryGiB"] == json{{"weights", 130.39}, {"kvCache", 0}, {"overhead", 6.52}, {"total", 136.9}});
  CHECK(j["modelFit"]["summary"] == "2×H100 80GB HBM3 (80 GiB), 4×L40S (48 GiB)");
  CHECK(j["modelFit"]["shapes"][1]["selected"] == false);
  CHECK(j["modelFit"]["architecture"]["name"] == "Llama 3.1 70B");
}

TEST_CASE("model workload: unknown costs are named, and Divided fills the cheapest first", "[placement][model-fit]") {
  // Two replicas of 8 GPUs: "cheap" has one 8-GPU node, "dear" two; "unpriced" is chosen by PickFixed.
  const Snapshot fleet{
      {priced(gpu_cluster("cheap", 1), "2"), priced(gpu_cluster("dear", 2), "3"), gpu_cluster("unpriced", 2)}};
  const HintContext context(fleet);
  Workload w = divided(workload("big", 8, 2));
  PlacementEngine engine(fleet);
  const Decision decision = engine.place(w);
  const PlacementHints hints = placement_hints(context, w, std::nullopt, decision, {});
  REQUIRE(hints.alternative);
  REQUIRE(hints.alternative->clusters.size() == 2);
  CHECK(hints.alternative->clusters[0].cluster == "cheap");
  CHECK(hints.alternative->clusters[0].replicas == 1);
  CHECK(hints.alternative->clusters[1].cluster == "dear");
  CHECK(hints.alternative->per_hour == Approx(8 * 2 + 8 * 3));
  CHECK_FALSE(to_json(hints).contains("modelFit"));

  Workload fixed = w;
  fixed.policy.type = PolicyType::kPickFixed;
  fixed.policy.cluster_names = {"unpriced"};
  PlacementEngine engine2(fleet);
  const Decision chosen = engine2.place(fixed);
  const PlacementHints unknown = placement_hints(context, fixed, std::nullopt, chosen, {});
  CHECK(unknown.chosen.unknown_cost == std::vector<std::string>{"unpriced"});
  CHECK_FALSE(unknown.chosen.complete);
  CHECK(unknown.chosen.per_hour == 0);
  CHECK_FALSE(unknown.alternative);
  CHECK(unknown.note == "no cluster that passed the filters has a fleet.io/cost-per-gpu-hour label");
}
