#include "placement/workload_json.hpp"
#include "placement/tests/placement_fixtures.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace fleet;
using namespace fleet::placement;
using fleet::placement::testing::kGiB;
using nlohmann::json;

namespace {

// The POST /v1/workloads body of DESIGN §7, verbatim.
constexpr const char* kDesignExample = R"({
  "name": "llama-70b-serve",
  "manifests": [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "llama"}, "spec": {}}],
  "replicas": 6,
  "resources": {"gpus": 4, "gpuModels": ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB"], "minGpuMemoryGiB": 80,
                "cpu": 32, "memoryGiB": 256},
  "policy": {"type": "PickN", "numberOfClusters": 2, "replicaDivision": "Divided",
             "affinity": {"required": {"labelSelector": "env=prod"}},
             "tolerations": [], "spread": [{"topologyKey": "region", "maxSkew": 1}]}
})";

json minimal() {
  return {{"name", "w"}, {"manifests", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}}}}};
}

// Every member of the grammar set to something other than its default.
json everything() {
  return json::parse(R"J({
    "name": "train-1",
    "manifests": [{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t", "namespace": "ml"}}],
    "replicas": 12,
    "resources": {"gpus": 8, "gpuModels": ["NVIDIA H100 80GB HBM3"], "minGpuMemoryGiB": 79.5, "cpu": 0.5,
                  "memoryGiB": 0.25},
    "minDriverVersion": "550.90.7",
    "minCudaVersion": "12.4",
    "policy": {
      "type": "PickFixed",
      "clusterNames": ["aks-1", "aks-2"],
      "replicaDivision": "Divided",
      "divideBy": "Weights",
      "weights": {"aks-1": 3, "aks-2": 0},
      "affinity": {
        "required": {"labelSelector": "env=prod,tier in (gold,silver)",
                     "properties": [{"name": "freeGpus", "gpuModel": "NVIDIA H100 80GB HBM3", "operator": "Ge",
                                     "value": 16},
                                    {"name": "fleet.io/cost-per-gpu-hour", "operator": "Lt", "value": 2.75}]},
        "preferred": [{"weight": -20, "labelSelector": "spot=true", "properties": []},
                      {"weight": 50, "labelSelector": "",
                       "properties": [{"name": "nodeCount", "operator": "Gt", "value": 10}]}]},
      "tolerations": [{"key": "gpu", "operator": "Equal", "value": "reserved", "effect": "NoSchedule"},
                      {"operator": "Exists"},
                      {"key": "maintenance", "operator": "Exists", "effect": "NoExecute"}],
      "spread": [{"topologyKey": "region", "maxSkew": 2, "whenUnsatisfiable": "ScheduleAnyway"},
                 {"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}]
    }
  })J");
}

void check_error(const json& body, const std::string& field, const std::string& type = "invalid-field",
                 const std::string& contains = "") {
  INFO(body.dump());
  auto r = workload_from_json(body);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().field == field);
  CHECK(r.error().type == type);
  CHECK_THAT(r.error().message, Catch::StartsWith(field + ": "));
  if (!contains.empty()) CHECK_THAT(r.error().message, Catch::Contains(contains));
}

// minimal() with `patch` merged in (RFC 7386: null removes).
json with(const json& patch, json base = minimal()) {
  base.merge_patch(patch);
  return base;
}

}  // namespace

TEST_CASE("the DESIGN §7 example parses as written", "[workload_json]") {
  auto doc = workload_from_json(json::parse(kDesignExample));
  REQUIRE(doc);
  const Workload& w = doc->workload;
  CHECK(w.name == "llama-70b-serve");
  CHECK(w.replicas == 6);
  CHECK(w.resources.gpus == 4);
  CHECK(w.resources.gpu_models == std::vector<std::string>{"NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3"});
  CHECK(w.resources.min_gpu_memory_bytes == 80 * kGiB);
  CHECK(w.resources.cpu_millicores == 32'000);
  CHECK(w.resources.memory_bytes == 256 * kGiB);
  CHECK_FALSE(w.min_driver_version);
  CHECK(w.policy.type == PolicyType::kPickN);
  CHECK(w.policy.number_of_clusters == 2);
  CHECK(w.policy.division == ReplicaDivision::kDivided);
  CHECK(w.policy.divide_by == DivideBy::kCapacity);
  REQUIRE(w.policy.required);
  REQUIRE(w.policy.required->labels.requirements.size() == 1);
  CHECK(w.policy.required->labels.requirements[0].key == "env");
  CHECK(w.policy.tolerations.empty());
  REQUIRE(w.policy.spread.size() == 1);
  CHECK(w.policy.spread[0].topology_key == "region");
  CHECK(w.policy.spread[0].max_skew == 1);
  CHECK(w.policy.spread[0].when_unsatisfiable == WhenUnsatisfiable::kDoNotSchedule);
  CHECK(doc->manifests == json::parse(kDesignExample)["manifests"]);
}

TEST_CASE("to_json writes every member and reads back equal", "[workload_json]") {
  for (const json& body : {json::parse(kDesignExample), everything(), minimal()}) {
    INFO(body.dump());
    auto doc = workload_from_json(body);
    REQUIRE(doc);
    const json written = to_json(*doc);
    auto again = workload_from_json(written);
    REQUIRE(again);
    CHECK(*again == *doc);
    CHECK(to_json(*again) == written);
    // The stored spec (without manifests) reads back on its own.
    const json spec = to_json(doc->workload);
    CHECK_FALSE(spec.contains("manifests"));
    auto stored = workload_spec_from_json(spec);
    REQUIRE(stored);
    CHECK(*stored == doc->workload);
  }
  // Everything set: the written form is the input in canonical order (numbers as written, models sorted).
  auto doc = workload_from_json(everything());
  REQUIRE(doc);
  CHECK(to_json(*doc) == everything());
  CHECK(doc->workload.resources.cpu_millicores == 500);
  CHECK(doc->workload.resources.memory_bytes == kGiB / 4);
  CHECK(doc->workload.policy.weights == std::map<std::string, int>{{"aks-1", 3}, {"aks-2", 0}});
  REQUIRE(doc->workload.min_driver_version);
  CHECK(to_string(*doc->workload.min_driver_version) == "550.90.7");
}

TEST_CASE("defaults: one replica, no resources, PickAll Duplicated", "[workload_json]") {
  auto doc = workload_from_json(minimal());
  REQUIRE(doc);
  const Workload& w = doc->workload;
  CHECK(w.replicas == 1);
  CHECK(w.resources == ReplicaResources{});
  CHECK(w.policy == Policy{});
  CHECK(to_json(w) == json::parse(R"({
    "name": "w", "replicas": 1,
    "resources": {"gpus": 0, "gpuModels": [], "minGpuMemoryGiB": 0, "cpu": 0, "memoryGiB": 0},
    "policy": {"type": "PickAll", "replicaDivision": "Duplicated", "affinity": {"preferred": []},
               "tolerations": [], "spread": []}})"));
  auto divided = workload_from_json(with({{"policy", {{"replicaDivision", "Divided"}}}}));
  REQUIRE(divided);
  CHECK(divided->workload.policy.divide_by == DivideBy::kCapacity);
  auto exists = workload_from_json(with({{"policy", {{"tolerations", {{{"key", "k"}, {"operator", "Exists"}}}}}}}));
  REQUIRE(exists);
  CHECK(exists->workload.policy.tolerations[0].effect.empty());
  auto equal = workload_from_json(with({{"policy", {{"tolerations", {{{"key", "k"}, {"value", "v"}}}}}}}));
  REQUIRE(equal);
  CHECK(equal->workload.policy.tolerations[0].op == Toleration::Op::kEqual);
}

TEST_CASE("cluster names and GPU models are kept sorted and unique", "[workload_json]") {
  auto doc = workload_from_json(with({{"resources", {{"gpus", 1}, {"gpuModels", {"b", "a", "b"}}}},
                                      {"policy", {{"type", "PickFixed"}, {"clusterNames", {"c-2", "c-1", "c-2"}}}}}));
  REQUIRE(doc);
  CHECK(doc->workload.resources.gpu_models == std::vector<std::string>{"a", "b"});
  CHECK(doc->workload.policy.cluster_names == std::vector<std::string>{"c-1", "c-2"});
}

TEST_CASE("errors name the member by its JSON path", "[workload_json]") {
  SECTION("the root") {
    check_error(json::array(), "(root)", "invalid-field", "must be an object");
    check_error(with({{"kind", "Workload"}}), "kind", "unknown-field", "allowed here");
    check_error(with({{"name", nullptr}}), "name", "missing-field");
    check_error(with({{"name", "Bad_Name"}}), "name");
    check_error(with({{"replicas", 0}}), "replicas", "invalid-field", "from 1 to 10000");
    check_error(with({{"replicas", 1.5}}), "replicas");
    check_error(with({{"minDriverVersion", "550.x"}, {"resources", {{"gpus", 1}}}}), "minDriverVersion",
                "invalid-field", "dot-separated");
    check_error(with({{"minCudaVersion", "12.4"}}), "minCudaVersion", "invalid-field", "resources.gpus");
  }
  SECTION("manifests") {
    check_error(with({{"manifests", nullptr}}), "manifests", "missing-field");
    check_error(with({{"manifests", json::array()}}), "manifests", "invalid-field", "at least one");
    check_error(with({{"manifests", "x"}}), "manifests", "invalid-field", "an array");
    check_error(with({{"manifests", {{{"kind", "Pod"}, {"metadata", {{"name", "p"}}}}}}}), "manifests[0].apiVersion",
                "missing-field");
    check_error(with({{"manifests", {{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "P!"}}}}}}}),
                "manifests[0].metadata.name");
    check_error(with({{"manifests", json::array({1})}}), "manifests[0]");
    json many = json::array();
    for (int i = 0; i < 101; ++i) many.push_back(minimal()["manifests"][0]);
    check_error(with({{"manifests", many}}), "manifests", "invalid-field", "at most 100");
    json big = minimal()["manifests"];
    big[0]["data"] = {{"blob", std::string(kMaxManifestBytes, 'x')}};
    check_error(with({{"manifests", big}}), "manifests", "invalid-field", "KiB");
  }
  SECTION("resources") {
    check_error(with({{"resources", {{"gpu", 1}}}}), "resources.gpu", "unknown-field");
    check_error(with({{"resources", {{"gpus", 17}}}}), "resources.gpus", "invalid-field", "from 0 to 16");
    check_error(with({{"resources", {{"gpus", 1}, {"gpuModels", {1}}}}}), "resources.gpuModels[0]");
    check_error(with({{"resources", {{"gpus", 1}, {"gpuModels", {""}}}}}), "resources.gpuModels[0]");
    check_error(with({{"resources", {{"gpuModels", {"a"}}}}}), "resources.gpuModels", "invalid-field",
                "resources.gpus");
    check_error(with({{"resources", {{"minGpuMemoryGiB", 80}}}}), "resources.minGpuMemoryGiB");
    check_error(with({{"resources", {{"cpu", -1}}}}), "resources.cpu", "invalid-field", "between");
    check_error(with({{"resources", {{"cpu", 0.0005}}}}), "resources.cpu", "invalid-field", "millicores");
    check_error(with({{"resources", {{"memoryGiB", "1Gi"}}}}), "resources.memoryGiB", "invalid-field", "a number");
  }
  SECTION("policy: selection and division") {
    check_error(with({{"policy", {{"type", "PickSome"}}}}), "policy.type", "invalid-field",
                "PickAll, PickN, PickFixed");
    check_error(with({{"policy", {{"type", "PickN"}}}}), "policy.numberOfClusters", "missing-field");
    check_error(with({{"policy", {{"type", "PickN"}, {"numberOfClusters", 1001}}}}), "policy.numberOfClusters");
    check_error(with({{"policy", {{"numberOfClusters", 2}}}}), "policy.numberOfClusters", "invalid-field", "PickN");
    check_error(with({{"policy", {{"type", "PickFixed"}}}}), "policy.clusterNames", "missing-field");
    check_error(with({{"policy", {{"type", "PickFixed"}, {"clusterNames", json::array()}}}}), "policy.clusterNames");
    check_error(with({{"policy", {{"type", "PickFixed"}, {"clusterNames", {"ok", "Not_OK"}}}}}),
                "policy.clusterNames[1]");
    check_error(with({{"policy", {{"clusterNames", {"a"}}}}}), "policy.clusterNames", "invalid-field", "PickFixed");
    check_error(with({{"policy", {{"replicaDivision", "Split"}}}}), "policy.replicaDivision");
    check_error(with({{"policy", {{"divideBy", "Capacity"}}}}), "policy.divideBy", "invalid-field", "Divided");
    check_error(with({{"policy", {{"replicaDivision", "Divided"}, {"weights", {{"a", 1}}}}}}), "policy.weights",
                "invalid-field", "Weights");
    check_error(
        with({{"policy", {{"replicaDivision", "Divided"}, {"divideBy", "Weights"}, {"weights", {{"a", 1001}}}}}}),
        "policy.weights.a");
    check_error(with({{"policy", {{"replicaDivision", "Divided"}, {"divideBy", "Weights"}, {"weights", {{"A", 1}}}}}}),
                "policy.weights.A");
    check_error(with({{"policy", {{"spreads", json::array()}}}}), "policy.spreads", "unknown-field");
  }
  SECTION("policy: affinity") {
    auto required = [](json term) { return with({{"policy", {{"affinity", {{"required", std::move(term)}}}}}}); };
    check_error(with({{"policy", {{"affinity", {{"requiredTerms", json::object()}}}}}}),
                "policy.affinity.requiredTerms", "unknown-field");
    check_error(required({{"labelSelector", "env in (a"}}), "policy.affinity.required.labelSelector");
    check_error(required({{"weight", 1}}), "policy.affinity.required.weight", "unknown-field");
    check_error(required({{"properties", {{{"name", "free gpus"}, {"operator", "Ge"}, {"value", 1}}}}}),
                "policy.affinity.required.properties[0].name", "invalid-field", "costPerGpuHour");
    check_error(
        required({{"properties", {{{"name", "nodeCount"}, {"gpuModel", "x"}, {"operator", "Ge"}, {"value", 1}}}}}),
        "policy.affinity.required.properties[0].gpuModel", "invalid-field", "applies only");
    check_error(required({{"properties", {{{"name", "freeGpus"}, {"value", 1}}}}}),
                "policy.affinity.required.properties[0].operator", "missing-field");
    check_error(required({{"properties", {{{"name", "freeGpus"}, {"operator", ">="}, {"value", 1}}}}}),
                "policy.affinity.required.properties[0].operator", "invalid-field", "Gt, Ge, Eq, Ne, Lt, Le");
    check_error(required({{"properties", {{{"name", "freeGpus"}, {"operator", "Ge"}}}}}),
                "policy.affinity.required.properties[0].value", "missing-field");
    check_error(required({{"properties", {{{"name", "freeGpus"}, {"operator", "Ge"}, {"value", "8"}}}}}),
                "policy.affinity.required.properties[0].value");
    auto preferred = [](json term) {
      return with({{"policy", {{"affinity", {{"preferred", json::array({std::move(term)})}}}}}});
    };
    check_error(preferred({{"labelSelector", "a=b"}}), "policy.affinity.preferred[0].weight", "missing-field");
    check_error(preferred({{"weight", 0}}), "policy.affinity.preferred[0].weight", "invalid-field", "not be 0");
    check_error(preferred({{"weight", 101}}), "policy.affinity.preferred[0].weight");
    check_error(preferred({{"weight", 1}, {"labelSelector", "!!"}}), "policy.affinity.preferred[0].labelSelector");
  }
  SECTION("policy: tolerations and spread") {
    auto toleration = [](json t) { return with({{"policy", {{"tolerations", json::array({std::move(t)})}}}}); };
    check_error(toleration({{"key", "k"}, {"operator", "Exists"}, {"value", "v"}}), "policy.tolerations[0].value",
                "invalid-field", "Exists");
    check_error(toleration({{"value", "v"}}), "policy.tolerations[0].key", "invalid-field", "Exists");
    check_error(toleration({{"key", "k"}, {"operator", "In"}}), "policy.tolerations[0].operator");
    check_error(toleration({{"key", "k"}, {"effect", "NoRun"}}), "policy.tolerations[0].effect", "invalid-field",
                "NoSchedule");
    check_error(toleration({{"key", "k"}, {"tolerationSeconds", 5}}), "policy.tolerations[0].tolerationSeconds",
                "unknown-field");
    auto spread = [](json s) { return with({{"policy", {{"spread", json::array({std::move(s)})}}}}); };
    check_error(spread({{"maxSkew", 1}}), "policy.spread[0].topologyKey", "missing-field");
    check_error(spread({{"topologyKey", "region"}, {"maxSkew", 0}}), "policy.spread[0].maxSkew");
    check_error(spread({{"topologyKey", "region"}, {"whenUnsatisfiable", "Never"}}),
                "policy.spread[0].whenUnsatisfiable", "invalid-field", "ScheduleAnyway");
    json five = json::array();
    for (int i = 0; i < 5; ++i) five.push_back({{"topologyKey", "region"}});
    check_error(with({{"policy", {{"spread", five}}}}), "policy.spread", "invalid-field", "at most 4");
  }
}

TEST_CASE("the stored spec refuses manifests", "[workload_json]") {
  auto r = workload_spec_from_json(minimal());
  REQUIRE_FALSE(r);
  CHECK(r.error().field == "manifests");
  CHECK(r.error().type == "unknown-field");
}
