// fleetctl against a real fleetd: the config fleetd writes, the commands, output formats and exit codes.
#include <catch2/catch.hpp>
#include <fstream>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

TEST_CASE("fleetctl drives the cluster registry with the config fleetd wrote", "[integration][fleetctl]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  const std::string config = (dir.path() / "data" / "fleetctl.json").string();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {fleetctl_binary(), "--config", config});
    return run_command(args);
  };

  auto v = ctl({"version"});
  INFO(v.err);
  REQUIRE(v.exit_code == 0);

  auto created = ctl({"create", "cluster", "aks-weu-1", "--provider", "aks", "--region", "westeurope", "--label",
                      "env=prod", "--taint", "dedicated=ml:NoSchedule", "--update-group", "canary"});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  REQUIRE(ctl({"create", "cluster", "arc-edge-1", "--provider", "arc", "--label", "env=dev"}).exit_code == 0);

  auto table = ctl({"get", "clusters"});
  REQUIRE(table.exit_code == 0);
  REQUIRE(table.out.find("NAME") == 0);
  REQUIRE(table.out.find("aks-weu-1") != std::string::npos);
  REQUIRE(table.out.find("arc-edge-1") != std::string::npos);

  auto filtered = ctl({"get", "clusters", "-l", "env=prod", "-o", "json"});
  REQUIRE(filtered.exit_code == 0);
  auto items = json::parse(filtered.out)["items"];
  REQUIRE(items.size() == 1);
  REQUIRE(items[0]["name"] == "aks-weu-1");

  REQUIRE(ctl({"get", "clusters", "-o", "yaml"}).out.find("name: aks-weu-1") != std::string::npos);
  REQUIRE(ctl({"get", "clusters", "-o", "wide"}).out.find("UPDATE-GROUP") != std::string::npos);
  REQUIRE(ctl({"describe", "cluster", "aks-weu-1"}).out.find("dedicated=ml:NoSchedule") != std::string::npos);

  // label: add, refuse to overwrite without --overwrite, overwrite, remove.
  REQUIRE(ctl({"label", "cluster", "aks-weu-1", "tier=gold"}).exit_code == 0);
  auto no_overwrite = ctl({"label", "cluster", "aks-weu-1", "tier=silver"});
  REQUIRE(no_overwrite.exit_code != 0);
  REQUIRE(ctl({"label", "cluster", "aks-weu-1", "tier=silver", "--overwrite"}).exit_code == 0);
  REQUIRE(ctl({"label", "cluster", "aks-weu-1", "env-"}).exit_code == 0);
  auto labels = fleetd.call_json("GET", "/v1/clusters/aks-weu-1")["labels"];
  REQUIRE(labels == json{{"tier", "silver"}});

  // taint: add one, remove by key.
  REQUIRE(ctl({"taint", "cluster", "aks-weu-1", "gpu=h100:PreferNoSchedule"}).exit_code == 0);
  REQUIRE(ctl({"taint", "cluster", "aks-weu-1", "dedicated-"}).exit_code == 0);
  auto taints = fleetd.call_json("GET", "/v1/clusters/aks-weu-1")["taints"];
  REQUIRE(taints.size() == 1);
  REQUIRE(taints[0]["key"] == "gpu");

  // Exit codes: usage 2, not found 3, conflict 4, auth 5, unreachable 6.
  REQUIRE(ctl({"get", "clusters", "-o", "xml"}).exit_code == 2);
  auto missing = ctl({"get", "cluster", "nope"});
  REQUIRE(missing.exit_code == 3);
  REQUIRE(missing.err.find("not-found") != std::string::npos);
  REQUIRE(ctl({"create", "cluster", "aks-weu-1", "--provider", "aks"}).exit_code == 4);
  REQUIRE(ctl({"--token", "fltd_wrong", "get", "clusters"}).exit_code == 5);
  REQUIRE(ctl({"--server", "http://127.0.0.1:1", "get", "clusters"}).exit_code == 6);
  // Caught by fleetctl itself: a usage error. Caught by the server (422): exit 1 with the field named.
  auto bad_name = ctl({"create", "cluster", "Bad_Name", "--provider", "aks"});
  REQUIRE(bad_name.exit_code == 2);
  REQUIRE(bad_name.err.find("Bad_Name") != std::string::npos);
  const std::string body_file = (dir.path() / "cluster.json").string();
  std::ofstream(body_file) << R"({"name": "from-file", "provider": "aks", "colour": "blue"})";
  auto invalid = ctl({"create", "cluster", "-f", body_file});
  REQUIRE(invalid.exit_code == 1);
  REQUIRE(invalid.err.find("colour") != std::string::npos);

  REQUIRE(ctl({"delete", "cluster", "arc-edge-1"}).exit_code == 0);
  REQUIRE(ctl({"get", "cluster", "arc-edge-1"}).exit_code == 3);
}

TEST_CASE("fleetctl apply creates every kind from one file, then finds it unchanged", "[integration][fleetctl]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  const std::string config = (dir.path() / "data" / "fleetctl.json").string();
  auto apply = [&](const std::string& text) {
    const std::string file = (dir.path() / "fleet.yaml").string();
    std::ofstream(file, std::ios::trunc) << text;
    return run_command({fleetctl_binary(), "--config", config, "apply", "-f", file});
  };
  // What fleetd writes back differs in form (canonical strategies, catalog times and driver versions, filled-in
  // defaults): the second apply must still see every object as unchanged.
  const std::string documents = R"(kind: Cluster
name: gpu-east-1
provider: aks
region: eastus
labels: {env: prod}
taints: [{key: gpu, value: h100, effect: NoSchedule}]
---
kind: Workload
name: llama
manifests:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: llama}}
---
kind: AdmissionPolicy
name: strict
clusterSelector: env=prod
probeTimeoutSeconds: 900
---
kind: RolloutStrategy
name: waves
stages:
  - name: canary
    updateGroups: [canary]
    maxConcurrency: 1
    afterStageWait: 90s
    afterGates: [{type: Approval}]
---
kind: kubernetes
provider: aks
version: v1.36.1
released: 2026-10-01
gpuDriver: {min: 535.104.05}
)";
  auto created = apply(documents);
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  CHECK(created.out ==
        "cluster/gpu-east-1 created\n"
        "workload/llama created\n"
        "admissionpolicy/strict created\n"
        "strategy/waves created\n"
        "version/aks/1.36.1 created\n");

  auto again = apply(documents);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out ==
        "cluster/gpu-east-1 unchanged\n"
        "workload/llama unchanged\n"
        "admissionpolicy/strict unchanged\n"
        "strategy/waves unchanged\n"
        "version/aks/1.36.1 unchanged\n");

  std::string relabeled = documents;
  relabeled.replace(relabeled.find("{env: prod}"), 11, "{env: staging}");
  auto configured = apply(relabeled);
  INFO(configured.err);
  REQUIRE(configured.exit_code == 0);
  CHECK(configured.out.starts_with("cluster/gpu-east-1 configured\nworkload/llama unchanged\n"));
  CHECK(fleetd.call_json("GET", "/v1/clusters/gpu-east-1")["labels"] == json{{"env", "staging"}});

  // A strategy cannot change: an error, and the stored one stays.
  std::string slower = relabeled;
  slower.replace(slower.find("afterStageWait: 90s"), 19, "afterStageWait: 2m");
  auto refused = apply(slower);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("strategy/waves exists and differs in \"stages\"") != std::string::npos);
  CHECK(fleetd.call_json("GET", "/v1/strategies/waves")["stages"][0]["afterStageWait"] == "1m30s");
}
