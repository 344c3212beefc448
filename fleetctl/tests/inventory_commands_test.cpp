// get nodes, get gpus and describe cluster's inventory against a scripted fake of fleetd's API.
#include <catch2/catch.hpp>

#include "fleetctl/inventory_view.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using nlohmann::json;
using testing::Harness;
using testing::json_response;
using testing::problem;
using testing::SeenRequest;

namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;

json gpu(int index, const std::string& model = "NVIDIA H100 80GB HBM3", const std::string& health = "healthy") {
  return {{"index", index},
          {"uuid", "GPU-" + std::to_string(index)},
          {"model", model},
          {"memoryBytes", 80 * kGi},
          {"driverVersion", "550.90.07"},
          {"cudaVersion", "12.4"},
          {"migMode", "disabled"},
          {"health", health}};
}

json node(const std::string& name, const std::string& pool, int gpus, bool schedulable = true,
          const std::string& admission = "admitted") {
  json g = json::array();
  for (int i = 0; i < gpus; ++i)
    g.push_back(gpu(i, "NVIDIA H100 80GB HBM3", i == 0 && !schedulable ? "unhealthy" : "healthy"));
  json taints = json::array();
  if (admission == "quarantined") {
    taints.push_back({{"key", "fleet.io/gpu-quarantined"}, {"value", ""}, {"effect", "NoSchedule"}});
  }
  return {
      {"name", name},
      {"pool", pool},
      {"kubernetesVersion", "1.31.4"},
      {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202510.01.0"},
      {"schedulable", schedulable},
      {"admission", admission},
      {"labels", json::object()},
      {"taints", taints},
      {"capacity", {{"cpuMillicores", gpus ? 96000 : 8000}, {"memoryBytes", (gpus ? 1024 : 32) * kGi}, {"gpus", gpus}}},
      {"allocatable", {{"cpuMillicores", 7800}, {"memoryBytes", 30 * kGi}, {"gpus", gpus}}},
      {"gpus", g}};
}

json gpu_item(const std::string& cluster, const std::string& node_name, int index,
              const std::string& model = "NVIDIA H100 80GB HBM3") {
  json g = gpu(index, model);
  g["cluster"] = cluster;
  g["node"] = node_name;
  g["admission"] = "admitted";
  return g;
}

json ready_cluster_json(const std::string& name) {
  return {{"name", name},
          {"provider", "aks"},
          {"region", "westeurope"},
          {"labels", json::object()},
          {"taints", json::array()},
          {"state", "ready"},
          {"kubernetesVersion", "1.31.4"},
          {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202510.01.0"},
          {"agentVersion", "0.3.0"},
          {"lastHeartbeat", "2026-11-23T11:59:50.000Z"},
          {"resourceVersion", "9"},
          {"createdAt", "2026-11-23T11:00:00.000Z"}};
}

}  // namespace

TEST_CASE("get nodes: table, wide, json and yaml of one cluster's nodes", "[fleetctl][inventory]") {
  Harness h([](const SeenRequest& req) {
    if (req.target == "/v1/clusters/aks-1/nodes") {
      return json_response(
          200,
          json{{"items",
                {node("gpu-0", "gpu", 8), node("gpu-1", "gpu", 8, false, "quarantined"), node("sys-0", "system", 0)}}}
              .dump());
    }
    return json_response(404, problem("not-found", 404, "cluster \\\"nope\\\" not found"));
  });
  auto table = h.run_with_server({"get", "nodes", "--cluster", "aks-1"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out ==
        "NAME    POOL     STATUS               ADMISSION     KUBELET   GPUS\n"
        "gpu-0   gpu      Ready                admitted      1.31.4    8x H100 80GB HBM3\n"
        "gpu-1   gpu      SchedulingDisabled   quarantined   1.31.4    8x H100 80GB HBM3\n"
        "sys-0   system   Ready                admitted      1.31.4    0\n");
  REQUIRE(h.seen().size() == 1);
  CHECK(h.seen()[0].target == "/v1/clusters/aks-1/nodes");  // the endpoint takes no limit

  auto wide = h.run_with_server({"get", "nodes", "--cluster", "aks-1", "-o", "wide"});
  REQUIRE(wide.exit_code == 0);
  CHECK_THAT(wide.out, Catch::StartsWith("NAME    POOL     STATUS               ADMISSION     KUBELET   GPUS"
                                         "                NODE-IMAGE                                 CPU   MEMORY   "
                                         "TAINTS\n"));
  CHECK_THAT(wide.out, Catch::Contains("AKSUbuntu-2204gen2containerd-202510.01.0   96    1Ti      <none>\n"));
  CHECK_THAT(wide.out, Catch::Contains("8     32Gi     <none>\n"));
  CHECK_THAT(wide.out, Catch::Contains("fleet.io/gpu-quarantined:NoSchedule\n"));

  auto as_json = h.run_with_server({"get", "nodes", "--cluster", "aks-1", "-o", "json"});
  REQUIRE(as_json.exit_code == 0);
  auto doc = json::parse(as_json.out);
  REQUIRE(doc["items"].size() == 3);
  CHECK(doc["items"][1]["admission"] == "quarantined");
  auto yaml = h.run_with_server({"get", "nodes", "--cluster", "aks-1", "-o", "yaml"});
  CHECK_THAT(yaml.out, Catch::Contains("name: gpu-0"));

  auto limited = h.run_with_server({"get", "nodes", "--cluster", "aks-1", "--limit", "1", "-o", "json"});
  REQUIRE(limited.exit_code == 0);
  CHECK(json::parse(limited.out)["items"].size() == 1);

  auto missing = h.run_with_server({"get", "nodes", "--cluster", "nope"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err == "Error from server (not-found): cluster \"nope\" not found\n");
}

TEST_CASE("get nodes: usage errors exit 2 before any request, an empty cluster says so", "[fleetctl][inventory]") {
  Harness h([](const SeenRequest&) { return json_response(200, R"({"items": []})"); });
  CHECK(h.run_with_server({"get", "nodes", "--cluster", "Bad_Name"}).exit_code == 2);
  CHECK(h.run_with_server({"get", "nodes", "--cluster", "a", "--limit", "0"}).exit_code == 2);
  CHECK(h.run_with_server({"get", "nodes", "--cluster", "a", "-o", "xml"}).exit_code == 2);
  CHECK(h.seen().empty());
  auto empty = h.run_with_server({"get", "nodes", "--cluster", "a"});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.empty());
  CHECK(empty.err == "No resources found.\n");
}

TEST_CASE("get gpus: filters as query parameters, every page, totals footer", "[fleetctl][inventory]") {
  Harness h([](const SeenRequest& req) {
    const json totals = {{"NVIDIA A100-SXM4-80GB", 1}, {"NVIDIA H100 80GB HBM3", 2}};
    if (req.target.find("continue=") == std::string::npos) {
      return json_response(200, json{{"items", {gpu_item("aks-1", "gpu-0", 0), gpu_item("aks-1", "gpu-0", 1)}},
                                     {"totals", totals},
                                     {"total", 3},
                                     {"continue", "page/2"}}
                                    .dump());
    }
    return json_response(
        200, json{{"items", {gpu_item("arc-2", "n-0", 0, "NVIDIA A100-SXM4-80GB")}}, {"totals", totals}, {"total", 3}}
                 .dump());
  });
  auto table = h.run_with_server({"get", "gpus", "--model", "NVIDIA H100 80GB HBM3", "--health", "healthy",
                                  "--admission", "admitted", "--cluster", "aks-1"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out ==
        "CLUSTER   NODE    INDEX   MODEL                   MEMORY   HEALTH    ADMISSION\n"
        "aks-1     gpu-0   0       NVIDIA H100 80GB HBM3   80Gi     healthy   admitted\n"
        "aks-1     gpu-0   1       NVIDIA H100 80GB HBM3   80Gi     healthy   admitted\n"
        "arc-2     n-0     0       NVIDIA A100-SXM4-80GB   80Gi     healthy   admitted\n"
        "\n"
        "MODEL                   GPUS\n"
        "NVIDIA A100-SXM4-80GB   1\n"
        "NVIDIA H100 80GB HBM3   2\n"
        "TOTAL                   3\n");
  CHECK(table.err.empty());
  REQUIRE(h.seen().size() == 2);
  CHECK(h.seen()[0].target ==
        "/v1/gpus?limit=10000&cluster=aks-1&model=NVIDIA%20H100%2080GB%20HBM3&health=healthy&admission=admitted");
  CHECK(h.seen()[1].target == h.seen()[0].target + "&continue=page%2F2");

  auto wide = h.run_with_server({"get", "gpus", "-o", "wide"});
  REQUIRE(wide.exit_code == 0);
  CHECK_THAT(wide.out, Catch::StartsWith("CLUSTER   NODE    INDEX   MODEL                   MEMORY   HEALTH    "
                                         "ADMISSION   UUID    DRIVER      CUDA   MIG\n"));
  CHECK_THAT(wide.out, Catch::Contains("GPU-1   550.90.07   12.4   disabled\n"));

  auto as_json = h.run_with_server({"get", "gpus", "-o", "json"});
  REQUIRE(as_json.exit_code == 0);
  auto doc = json::parse(as_json.out);
  CHECK(doc["items"].size() == 3);
  CHECK(doc["total"] == 3);
  CHECK(doc["totals"]["NVIDIA H100 80GB HBM3"] == 2);
  CHECK_FALSE(doc.contains("continue"));
  auto yaml = h.run_with_server({"get", "gpus", "-o", "yaml"});
  CHECK_THAT(yaml.out, Catch::Contains("total: 3"));

  const auto before = h.seen().size();
  auto limited = h.run_with_server({"get", "gpus", "--limit", "2"});
  REQUIRE(limited.exit_code == 0);
  REQUIRE(h.seen().size() == before + 1);
  CHECK(h.seen().back().target == "/v1/gpus?limit=2");
  CHECK_THAT(limited.out, Catch::Contains("TOTAL                   3\n"));
  CHECK(limited.err == "showing 2 of 3 GPUs; the totals count all of them\n");
}

TEST_CASE("get gpus: bad filter values are usage errors, an empty result says so", "[fleetctl][inventory]") {
  Harness h([](const SeenRequest&) { return json_response(200, R"({"items": [], "totals": {}, "total": 0})"); });
  CHECK(h.run_with_server({"get", "gpus", "--health", "sick"}).exit_code == 2);
  CHECK(h.run_with_server({"get", "gpus", "--admission", "maybe"}).exit_code == 2);
  CHECK(h.run_with_server({"get", "gpus", "--cluster", "NOT_DNS"}).exit_code == 2);
  CHECK(h.seen().empty());
  auto empty = h.run_with_server({"get", "gpus", "--model", "none"});
  CHECK(empty.exit_code == 0);
  CHECK(empty.err == "No resources found.\n");
  auto empty_json = h.run_with_server({"get", "gpus", "--model", "none", "-o", "json"});
  CHECK(json::parse(empty_json.out)["total"] == 0);

  Harness failing([](const SeenRequest&) { return json_response(403, problem("forbidden", 403, "no")); });
  CHECK(failing.run_with_server({"get", "gpus"}).exit_code == 5);
}

TEST_CASE("describe cluster: versions, agent, heartbeat, pools, GPU health and the node list",
          "[fleetctl][inventory]") {
  std::vector<json> nodes = {node("gpu-0", "gpu", 8), node("gpu-1", "gpu", 8, false, "quarantined"),
                             node("sys-0", "system", 0)};
  Harness h([&](const SeenRequest& req) {
    if (req.target == "/v1/clusters/aks-1") return json_response(200, ready_cluster_json("aks-1").dump());
    if (req.target == "/v1/clusters/aks-1/nodes") return json_response(200, json{{"items", nodes}}.dump());
    return json_response(404, problem("not-found", 404, "nope"));
  });
  auto r = h.run_with_server({"describe", "cluster", "aks-1"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains("  Kubernetes:      1.31.4\n"));
  CHECK_THAT(r.out, Catch::Contains("  Node Image:      AKSUbuntu-2204gen2containerd-202510.01.0\n"));
  CHECK_THAT(r.out, Catch::Contains("  Agent:           0.3.0\n"));
  CHECK_THAT(r.out, Catch::Contains("Last Heartbeat:    2026-11-23T11:59:50.000Z (10s ago)\n"));
  CHECK_THAT(r.out, Catch::Contains("Nodes:             3\n"
                                    "  POOL     NODES   SCHEDULABLE   GPUS\n"
                                    "  gpu      2       1             16\n"
                                    "  system   1       1             0\n"
                                    "  Admission:       admitted 2, quarantined 1\n"));
  CHECK_THAT(r.out, Catch::Contains("GPUs:              16\n"
                                    "  MODEL                   TOTAL   HEALTHY   UNHEALTHY   UNKNOWN\n"
                                    "  NVIDIA H100 80GB HBM3   16      15        1           0\n"));
  CHECK_THAT(r.out,
             Catch::Contains("Node List:\n"
                             "  NAME    POOL     STATUS               ADMISSION     KUBELET   GPUS\n"
                             "  gpu-0   gpu      Ready                admitted      1.31.4    8x H100 80GB HBM3\n"));
  CHECK_THAT(r.out, !Catch::Contains("more:"));

  SECTION("more than 50 nodes: the first 50, then how many more") {
    nodes.clear();
    for (int i = 0; i < 53; ++i) nodes.push_back(node("n-" + std::to_string(100 + i), "gpu", 4));
    auto big = h.run_with_server({"describe", "cluster", "aks-1"});
    REQUIRE(big.exit_code == 0);
    CHECK_THAT(big.out, Catch::Contains("  n-149   gpu"));
    CHECK_THAT(big.out, !Catch::Contains("  n-150   gpu"));
    CHECK_THAT(big.out, Catch::EndsWith("  … and 3 more: fleetctl get nodes --cluster aks-1\n"));
  }
}

TEST_CASE("describe cluster still describes when the nodes cannot be listed", "[fleetctl][inventory]") {
  Harness h([](const SeenRequest& req) {
    if (req.target == "/v1/clusters/a") return json_response(200, ready_cluster_json("a").dump());
    return json_response(503, problem("unavailable", 503, "database down"));
  });
  auto r = h.run_with_server({"describe", "cluster", "a"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("Name:"));
  CHECK(r.err == "warning: cannot list the cluster's nodes: Error from server (unavailable): database down\n");
}

TEST_CASE("inventory formatting helpers", "[fleetctl][inventory]") {
  CHECK(format_binary_bytes(80 * kGi) == "80Gi");
  CHECK(format_binary_bytes(1024 * kGi) == "1Ti");
  CHECK(format_binary_bytes(1536) == "1536");
  CHECK(format_binary_bytes(3 * 1024 * 1024 / 2) == "1536Ki");
  CHECK(format_binary_bytes(0) == "0");
  CHECK(format_binary_bytes(-1).empty());
  CHECK(format_cpu(96000) == "96");
  CHECK(format_cpu(1500) == "1500m");
  json mixed = node("x", "gpu", 0);
  mixed["gpus"] = {gpu(0, "NVIDIA L40S"), gpu(1, "NVIDIA L40S"), gpu(2, "Tesla T4")};
  CHECK(node_gpus_text(mixed) == "2x L40S+1x Tesla T4");
  json counted = node("y", "gpu", 0);
  counted["capacity"]["gpus"] = 4;
  CHECK(node_gpus_text(counted) == "4");
}

}  // namespace fleet::ctl
