// apply -f, get workloads, describe workload, delete workload, against a scripted fake of fleetd's API.
#include <catch2/catch.hpp>
#include <fstream>

#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using nlohmann::json;
using testing::Harness;
using testing::json_response;
using testing::problem;
using testing::SeenRequest;

namespace {

// The DESIGN §7 example in YAML, as a user writes it.
constexpr const char* kWorkloadYaml = R"(name: llama-70b-serve
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: llama}
    spec: {}
replicas: 6
resources:
  gpus: 4
  gpuModels: ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB"]
  minGpuMemoryGiB: 80
  cpu: 0.5
  memoryGiB: 256
policy:
  type: PickN
  numberOfClusters: 2
  replicaDivision: Divided
  affinity:
    required: {labelSelector: env=prod}
  tolerations: []
  spread: [{topologyKey: region, maxSkew: 1}]
)";

// The object as fleetd returns it (docs/api.md "Workloads").
json stored(const std::string& name, const std::string& state, int generation, const std::string& rv = "41") {
  return {{"name", name},
          {"manifests", {{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "llama"}}}}}},
          {"replicas", 6},
          {"resources",
           {{"gpus", 4},
            {"gpuModels", {"NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3"}},
            {"minGpuMemoryGiB", 80},
            {"cpu", 0.5},
            {"memoryGiB", 256}}},
          {"minDriverVersion", "550.90.7"},
          {"policy",
           {{"type", "PickN"},
            {"numberOfClusters", 2},
            {"replicaDivision", "Divided"},
            {"divideBy", "Capacity"},
            {"affinity",
             {{"required",
               {{"labelSelector", "env=prod"},
                {"properties",
                 {{{"name", "freeGpus"}, {"gpuModel", "NVIDIA H100 80GB HBM3"}, {"operator", "Ge"}, {"value", 8}}}}}},
              {"preferred", {{{"weight", -20}, {"labelSelector", "spot=true"}, {"properties", json::array()}}}}}},
            {"tolerations",
             {{{"key", "gpu"}, {"operator", "Equal"}, {"value", "reserved"}, {"effect", "NoSchedule"}},
              {{"operator", "Exists"}}}},
            {"spread", {{{"topologyKey", "region"}, {"maxSkew", 1}, {"whenUnsatisfiable", "DoNotSchedule"}}}}}},
          {"generation", generation},
          {"resourceVersion", rv},
          {"state", state},
          {"createdAt", "2026-11-23T11:00:00.000Z"},
          {"updatedAt", "2026-11-23T11:30:00.000Z"}};
}

json cpu_only(const std::string& name) {
  return {
      {"name", name},
      {"manifests", json::array()},
      {"replicas", 3},
      {"resources", {{"gpus", 0}, {"gpuModels", json::array()}, {"minGpuMemoryGiB", 0}, {"cpu", 2}, {"memoryGiB", 4}}},
      {"policy",
       {{"type", "PickFixed"},
        {"clusterNames", {"aks-1", "aks-2", "arc-1"}},
        {"replicaDivision", "Duplicated"},
        {"affinity", {{"preferred", json::array()}}},
        {"tolerations", json::array()},
        {"spread", json::array()}}},
      {"generation", 3},
      {"resourceVersion", "7"},
      {"state", "Placed"},
      {"createdAt", "2026-11-21T12:00:00.000Z"},
      {"updatedAt", "2026-11-21T12:00:00.000Z"}};
}

}  // namespace

TEST_CASE("apply -f creates a workload that does not exist, YAML numbers as JSON numbers", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "GET") return json_response(404, problem("not-found", 404, "workload not found"));
    auto body = json::parse(req.body);
    body.update({{"generation", 1}, {"resourceVersion", "41"}, {"state", "Pending"}});
    return json_response(201, body.dump(), {{"etag", "\"41\""}});
  });
  const auto file = h.dir() / "llama.yaml";
  std::ofstream(file) << kWorkloadYaml;
  auto r = h.run_with_server({"apply", "-f", file.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "workload/llama-70b-serve created\n");
  CHECK(r.err.empty());
  REQUIRE(h.seen().size() == 2);
  CHECK(h.seen()[0].method == "GET");
  CHECK(h.seen()[0].target == "/v1/workloads/llama-70b-serve");
  CHECK(h.seen()[1].method == "POST");
  CHECK(h.seen()[1].target == "/v1/workloads");
  const auto sent = json::parse(h.seen()[1].body);
  CHECK(sent["replicas"].is_number_integer());
  CHECK(sent["resources"]["cpu"] == 0.5);
  CHECK(sent["resources"]["minGpuMemoryGiB"].is_number_integer());
  CHECK(sent["policy"]["tolerations"] == json::array());
  CHECK(sent["policy"]["affinity"]["required"]["labelSelector"] == "env=prod");
  CHECK(sent["manifests"][0]["spec"] == json::object());

  auto as_json = h.run_with_server({"apply", "-f", file.string(), "-o", "json"});
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.out)["state"] == "Pending");
}

TEST_CASE("apply -f replaces an existing workload with If-Match: configured or unchanged", "[fleetctl]") {
  int next_generation = 2;
  Harness h([&](const SeenRequest& req) {
    if (req.method == "GET")
      return json_response(200, stored("llama-70b-serve", "Placed", 1).dump(), {{"etag", "\"41\""}});
    return json_response(200, stored("llama-70b-serve", "Placed", next_generation, "42").dump(), {{"etag", "\"42\""}});
  });
  const auto file = h.dir() / "llama.json";
  std::ofstream(file) << stored("llama-70b-serve", "Placed", 1).dump();
  auto configured = h.run_with_server({"apply", "-f", file.string()});
  REQUIRE(configured.exit_code == 0);
  CHECK(configured.out == "workload/llama-70b-serve configured\n");
  REQUIRE(h.seen().size() == 2);
  CHECK(h.seen()[1].method == "PUT");
  CHECK(h.seen()[1].target == "/v1/workloads/llama-70b-serve");
  CHECK(h.seen()[1].headers.at("If-Match") == "\"41\"");

  next_generation = 1;
  auto unchanged = h.run_with_server({"apply", "-f", file.string()});
  REQUIRE(unchanged.exit_code == 0);
  CHECK(unchanged.out == "workload/llama-70b-serve unchanged\n");
}

TEST_CASE("apply -f - reads stdin, what is not a workload is a usage error", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "GET") return json_response(404, problem("not-found", 404, "workload not found"));
    if (json::parse(req.body)["replicas"] == 0) {
      return json_response(422,
                           problem("invalid-field", 422, "replicas: must be an integer from 1 to 10000", "replicas"));
    }
    return json_response(201, req.body);
  });
  auto r = h.run({"apply", "-f", "-", "--server", "http://fleet.test:8080"}, kWorkloadYaml);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "workload/llama-70b-serve created\n");

  auto refused = h.run({"apply", "-f", "-", "--server", "http://fleet.test:8080"},
                       R"({"name": "w", "manifests": [], "replicas": 0})");
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "Error from server (invalid-field): replicas: must be an integer from 1 to 10000\n");

  const std::size_t requests = h.seen().size();
  auto not_workload = h.run({"apply", "-f", "-", "--server", "http://fleet.test:8080"}, "name: x\nprovider: aks\n");
  CHECK(not_workload.exit_code == 2);
  CHECK(not_workload.err ==
        "error: document 1 has no \"kind\": apply takes Cluster, Workload, Override, AdmissionPolicy, "
        "RolloutStrategy, Rollout, AutoUpgradeProfile, or a version catalog entry (kind kubernetes or nodeImage)\n");
  auto not_object = h.run({"apply", "-f", "-", "--server", "http://fleet.test:8080"}, "- a\n- b\n");
  CHECK(not_object.exit_code == 2);
  CHECK(not_object.err == "error: stdin does not hold an object\n");
  auto missing = h.run_with_server({"apply", "-f", (h.dir() / "missing.yaml").string()});
  CHECK(missing.exit_code == 2);
  CHECK(h.seen().size() == requests);
}

TEST_CASE("get workloads: table, wide, json, one by name", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.target == "/v1/workloads/batch") return json_response(200, cpu_only("batch").dump());
    if (req.target == "/v1/workloads/none") return json_response(404, problem("not-found", 404, "workload not found"));
    return json_response(200, json{{"items", {cpu_only("batch"), stored("llama-70b-serve", "Pending", 1)}}}.dump());
  });
  auto table = h.run_with_server({"get", "workloads"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out ==
        "NAME              REPLICAS   GPUS/REPLICA   POLICY         STATE     AGE\n"
        "batch             3          0              PickFixed(3)   Placed    2d\n"
        "llama-70b-serve   6          4              PickN(2)       Pending   1h\n");
  CHECK(h.seen()[0].target == "/v1/workloads?limit=500");

  auto wide = h.run_with_server({"get", "workloads", "-o", "wide"});
  REQUIRE(wide.exit_code == 0);
  CHECK(wide.out ==
        "NAME              REPLICAS   GPUS/REPLICA   POLICY         STATE     AGE   DIVISION              "
        "GPU-MODELS                                    GENERATION\n"
        "batch             3          0              PickFixed(3)   Placed    2d    Duplicated            <none>"
        "                                        3\n"
        "llama-70b-serve   6          4              PickN(2)       Pending   1h    Divided by Capacity   "
        "NVIDIA A100-SXM4-80GB,NVIDIA H100 80GB HBM3   1\n");

  auto as_json = h.run_with_server({"get", "workloads", "-o", "json"});
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.out)["items"].size() == 2);

  auto one = h.run_with_server({"get", "workload", "batch", "-o", "yaml"});
  REQUIRE(one.exit_code == 0);
  CHECK_THAT(one.out, Catch::Contains("name: batch"));
  auto missing = h.run_with_server({"get", "workload", "none"});
  CHECK(missing.exit_code == 3);
  CHECK(h.run_with_server({"get", "workload", "batch", "--limit", "2"}).exit_code == 2);
}

TEST_CASE("describe workload shows the spec, policy and manifests, then the placement and its events", "[fleetctl]") {
  const json placement = json::parse(R"({"workload": "llama-70b-serve", "state": "Placed", "generation": 2,
    "decidedGeneration": 2, "decision": "Placed", "replicasWanted": 6, "replicasBound": 6,
    "bindings": [{"cluster": "aks-westeurope-1", "replicas": 6, "state": "Running", "generation": 2, "nodes": []}],
    "rejected": []})");
  const json events = json::parse(R"J({"items": [
    {"seq": 7, "at": "2026-11-23T11:30:00.000Z", "generation": 2, "type": "Decided",
     "message": "generation 2: Placed: 6 of 6 replicas bound on aks-westeurope-1 (6)"},
    {"seq": 8, "at": "2026-11-23T11:30:00.000Z", "generation": 2, "type": "Bound", "cluster": "aks-westeurope-1",
     "message": "6 replicas: the workload changed (generation 1 → 2)"},
    {"seq": 9, "at": "2026-11-23T11:58:00.000Z", "generation": 2, "type": "Running", "cluster": "aks-westeurope-1",
     "message": "every replica runs on its nodes"}]})J");
  Harness h([&](const SeenRequest& request) {
    if (request.target == "/v1/workloads/llama-70b-serve/placement") return json_response(200, placement.dump());
    if (request.target.rfind("/v1/workloads/llama-70b-serve/events", 0) == 0) {
      return json_response(200, events.dump());
    }
    return json_response(200, stored("llama-70b-serve", "Placed", 2).dump());
  });
  auto r = h.run_with_server({"describe", "workload", "llama-70b-serve"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "Name:              llama-70b-serve\n"
        "State:             Placed\n"
        "Replicas:          6\n"
        "Per Replica:\n"
        "  GPUs:            4\n"
        "  GPU Models:      NVIDIA A100-SXM4-80GB, NVIDIA H100 80GB HBM3\n"
        "  Min GPU Memory:  80 GiB\n"
        "  CPU:             0.5\n"
        "  Memory:          256 GiB\n"
        "Min Driver:        550.90.7\n"
        "Min CUDA:          <none>\n"
        "Policy:            PickN(2)\n"
        "  Division:        Divided by Capacity\n"
        "  Required:        env=prod, freeGpus(NVIDIA H100 80GB HBM3) Ge 8\n"
        "  Preferred:       weight -20: spot=true\n"
        "  Tolerations:     gpu=reserved:NoSchedule\n"
        "                   * (Exists)\n"
        "  Spread:          region maxSkew=1 DoNotSchedule\n"
        "Manifests:         Deployment/llama\n"
        "Generation:        2\n"
        "Resource Version:  41\n"
        "Created:           2026-11-23T11:00:00.000Z (1h ago)\n"
        "Updated:           2026-11-23T11:30:00.000Z (30m ago)\n"
        "\n"
        "Placement:   Placed, 6 of 6 replicas bound (generation 2)\n"
        "  Bindings:  aks-westeurope-1: 6 Running\n"
        "\n"
        "Events:\n"
        "AGE   TYPE      CLUSTER            MESSAGE\n"
        "30m   Decided   -                  generation 2: Placed: 6 of 6 replicas bound on aks-westeurope-1 (6)\n"
        "30m   Bound     aks-westeurope-1   6 replicas: the workload changed (generation 1 → 2)\n"
        "2m    Running   aks-westeurope-1   every replica runs on its nodes\n");
  REQUIRE(h.seen().size() == 3);
  CHECK(h.seen()[0].target == "/v1/workloads/llama-70b-serve");
  CHECK(h.seen()[1].target == "/v1/workloads/llama-70b-serve/placement");
  CHECK(h.seen()[2].target == "/v1/workloads/llama-70b-serve/events?limit=500");
}

TEST_CASE("describe workload shows only the last 20 events, and a placement it cannot read as unavailable",
          "[fleetctl]") {
  json events = {{"items", json::array()}};
  for (int i = 0; i < 25; ++i) {
    events["items"].push_back({{"seq", i + 1},
                               {"at", "2026-11-23T11:59:00.000Z"},
                               {"generation", 1},
                               {"type", "Decided"},
                               {"message", "round " + std::to_string(i)}});
  }
  Harness h([&](const SeenRequest& request) {
    if (request.target == "/v1/workloads/llama-70b-serve/placement") {
      return json_response(503, problem("unavailable", 503, "the database is unavailable"));
    }
    if (request.target.rfind("/v1/workloads/llama-70b-serve/events", 0) == 0) {
      return json_response(200, events.dump());
    }
    return json_response(200, stored("llama-70b-serve", "Placed", 2).dump());
  });
  auto r = h.run_with_server({"describe", "workload", "llama-70b-serve"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Placement:  <unavailable: the database is unavailable>\n"));
  CHECK_THAT(r.out, Catch::Contains("Events (the last 20 of 25):\n"));
  CHECK_THAT(r.out, Catch::Contains("round 5\n"));
  CHECK_THAT(r.out, Catch::Contains("round 24\n"));
  CHECK(r.out.find("round 4\n") == std::string::npos);
}

TEST_CASE("describe placement shows the bindings and why each other cluster was not chosen", "[fleetctl]") {
  const json placement = json::parse(R"({"workload": "llama-70b-serve", "state": "PartiallyPlaced", "generation": 2,
    "decidedGeneration": 2, "decidedAt": "2026-11-23T11:30:00.000Z", "decision": "PartiallyPlaced",
    "replicasWanted": 12, "replicasBound": 6,
    "bindings": [{"cluster": "aks-westeurope-1", "replicas": 6, "state": "Running", "generation": 2,
                  "nodes": [{"node": "gpu-0", "replicas": 2}, {"node": "gpu-1", "replicas": 4}]}],
    "rejected": [{"cluster": "arc-edge-1", "code": "NoAdmittedGpus",
                  "reason": "no admitted GPUs: 2 nodes quarantined"}]})");
  Harness h([&](const SeenRequest&) { return json_response(200, placement.dump()); });
  auto r = h.run_with_server({"describe", "placement", "llama-70b-serve"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "Workload:        llama-70b-serve\n"
        "State:           PartiallyPlaced\n"
        "Decision:        PartiallyPlaced\n"
        "Replicas Bound:  6 of 12\n"
        "Generation:      2 (decided 2)\n"
        "Decided:         2026-11-23T11:30:00.000Z (30m ago)\n"
        "\n"
        "Bindings:\n"
        "CLUSTER            REPLICAS   STATE     NODES\n"
        "aks-westeurope-1   6          Running   gpu-0×2, gpu-1×4\n"
        "\n"
        "Not chosen:\n"
        "CLUSTER      CODE             REASON\n"
        "arc-edge-1   NoAdmittedGpus   no admitted GPUs: 2 nodes quarantined\n");
  CHECK(h.seen()[0].target == "/v1/workloads/llama-70b-serve/placement");
}

TEST_CASE("describe placement shows the model fit and what the placement and the cheapest alternative cost",
          "[fleetctl]") {
  const json placement = json::parse(R"({"workload": "llama", "state": "Placed", "generation": 1,
    "decidedGeneration": 1, "decision": "Placed", "replicasWanted": 2, "replicasBound": 2,
    "bindings": [{"cluster": "gold", "replicas": 2, "state": "Running", "generation": 1,
                  "nodes": [{"node": "gold-n0", "replicas": 2}]}],
    "rejected": [{"cluster": "cheap", "code": "NotSelected", "reason": "PickN chose clusters that scored higher"}],
    "hints": {"gpusPerReplica": 2,
      "modelFit": {"parameters": 70000000000, "precision": "bf16", "gpusPerReplica": 2,
                   "memoryGiB": {"weights": 130.39, "kvCache": 0, "overhead": 6.52, "total": 136.9},
                   "summary": "2×H100 80GB HBM3 (80 GiB), 4×L40S (48 GiB); not L4 (24 GiB): needs 8 GPUs, nodes have at most 4"},
      "cost": {"label": "fleet.io/cost-per-gpu-hour", "note": "",
               "chosen": {"perHour": 18, "replicas": 2, "gpus": 4, "complete": true,
                          "clusters": [{"cluster": "gold", "replicas": 2, "gpus": 4, "costPerGpuHour": 4.5}],
                          "unknownCostClusters": []},
               "cheapestAlternative": {"perHour": 9, "replicas": 2, "gpus": 4, "complete": true,
                          "clusters": [{"cluster": "cheap", "replicas": 2, "gpus": 4, "costPerGpuHour": 2.25}],
                          "unknownCostClusters": []}}}})");
  Harness h([&](const SeenRequest&) { return json_response(200, placement.dump()); });
  auto r = h.run_with_server({"describe", "placement", "llama"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "Workload:        llama\n"
        "State:           Placed\n"
        "Decision:        Placed\n"
        "Replicas Bound:  2 of 2\n"
        "Generation:      1 (decided 1)\n"
        "Model Fit:       136.9 GiB per replica (weights 130.39, KV cache 0, overhead 6.52); 2 GPUs per replica; "
        "fits: 2×H100 80GB HBM3 (80 GiB), 4×L40S (48 GiB); not L4 (24 GiB): needs 8 GPUs, nodes have at most 4\n"
        "Cost:            18/h for 4 GPUs on gold\n"
        "Cheapest:        9/h for 4 GPUs on cheap\n"
        "\n"
        "Bindings:\n"
        "CLUSTER   REPLICAS   STATE     NODES\n"
        "gold      2          Running   gold-n0×2\n"
        "\n"
        "Not chosen:\n"
        "CLUSTER   CODE          REASON\n"
        "cheap     NotSelected   PickN chose clusters that scored higher\n");

  json unpriced = placement;
  unpriced["hints"].erase("modelFit");
  unpriced["hints"]["cost"]["chosen"]["perHour"] = 0;
  unpriced["hints"]["cost"]["chosen"]["unknownCostClusters"] = {"gold"};
  unpriced["hints"]["cost"].erase("cheapestAlternative");
  unpriced["hints"]["cost"]["note"] = "no cluster that passed the filters has a fleet.io/cost-per-gpu-hour label";
  Harness h2([&](const SeenRequest&) { return json_response(200, unpriced.dump()); });
  auto r2 = h2.run_with_server({"describe", "placement", "llama"});
  REQUIRE(r2.exit_code == 0);
  CHECK(
      r2.out.find("Cost:            0/h for 4 GPUs on gold (no cost label: gold)\n"
                  "Cheapest:        - (no cluster that passed the filters has a fleet.io/cost-per-gpu-hour label)\n") !=
      std::string::npos);
  CHECK(r2.out.find("Model Fit") == std::string::npos);
}

TEST_CASE("delete workload: deleted at once, or deletion requested while bindings remain", "[fleetctl]") {
  Harness h([](const SeenRequest& req) {
    if (req.target == "/v1/workloads/idle") return json_response(200, cpu_only("idle").dump());
    if (req.target == "/v1/workloads/busy") return json_response(202, cpu_only("busy").dump());
    return json_response(404, problem("not-found", 404, "workload \\\"x\\\" not found"));
  });
  auto idle = h.run_with_server({"delete", "workload", "idle"});
  REQUIRE(idle.exit_code == 0);
  CHECK(idle.out == "workload/idle deleted\n");
  CHECK(h.seen()[0].method == "DELETE");
  auto busy = h.run_with_server({"delete", "workload", "busy"});
  REQUIRE(busy.exit_code == 0);
  CHECK(busy.out == "workload/busy deletion requested\n");
  auto missing = h.run_with_server({"delete", "workload", "x"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err == "Error from server (not-found): workload \"x\" not found\n");
}

}  // namespace fleet::ctl
