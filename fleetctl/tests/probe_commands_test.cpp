// get probes, describe node and probe / admit / quarantine node against a scripted fake of fleetd's API.
#include <catch2/catch.hpp>

#include "fleetctl/probe_view.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using nlohmann::json;
using testing::Harness;
using testing::json_response;
using testing::problem;
using testing::SeenRequest;

namespace {

json probe(const std::string& node, const std::string& verdict, json failed = json::array()) {
  return {{"id", "7"},
          {"cluster", "aks-1"},
          {"node", node},
          {"probeId", node + ".join.1"},
          {"model", "NVIDIA H100 80GB HBM3"},
          {"trigger", "join"},
          {"gpuUuids", {"GPU-0", "GPU-1"}},
          {"startedAt", "2026-11-23T11:59:00.000Z"},
          {"finishedAt", "2026-11-23T11:59:14.500Z"},
          {"durationSeconds", 14.5},
          {"verdict", verdict},
          {"admitted", verdict == "pass"},
          {"reason", failed.empty() ? "passed" : "failed: " + failed[0].get<std::string>()},
          {"failedChecks", failed},
          {"probeVersion", "0.4.0"}};
}

json check(const std::string& name, const std::string& status, json measured, json fail, json warn,
           const std::string& unit, const std::string& message = "") {
  return {{"name", name},           {"status", status},         {"measured", measured},
          {"unit", unit},           {"comparison", "at-least"}, {"fail_threshold", fail},
          {"warn_threshold", warn}, {"message", message}};
}

json gpu_node(const std::string& admission) {
  return {{"name", "gpu-1"},
          {"pool", "gpu"},
          {"admission", admission},
          {"taints",
           {{{"key", "fleet.io/gpu-unverified"}, {"value", ""}, {"effect", "NoSchedule"}},
            {{"key", "fleet.io/gpu-quarantined"}, {"value", "hbm_bandwidth"}, {"effect", "NoSchedule"}}}},
          {"gpus",
           {{{"index", 0}, {"model", "NVIDIA H100 80GB HBM3"}}, {{"index", 1}, {"model", "NVIDIA H100 80GB HBM3"}}}}};
}

}  // namespace

TEST_CASE("get probes: filters as query parameters, a table newest first", "[fleetctl][probes]") {
  Harness h([](const SeenRequest& req) {
    if (req.target.rfind("/v1/probes?", 0) == 0) {
      return json_response(200,
                           json{{"items", {probe("gpu-1", "fail", {"hbm_bandwidth"}), probe("gpu-0", "pass")}}}.dump());
    }
    return json_response(404, problem("not-found", 404, "no"));
  });
  auto table = h.run_with_server(
      {"get", "probes", "--verdict", "fail", "--cluster", "aks-1", "--since", "2026-11-23T00:00:00Z"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out ==
        "CLUSTER   NODE    VERDICT   TRIGGER   FAILED-CHECKS   DURATION   AGE\n"
        "aks-1     gpu-1   fail      join      hbm_bandwidth   14.5s      45s\n"
        "aks-1     gpu-0   pass      join      <none>          14.5s      45s\n");
  REQUIRE(h.seen().size() == 1);
  CHECK(h.seen()[0].target == "/v1/probes?limit=100&cluster=aks-1&verdict=fail&since=2026-11-23T00%3A00%3A00Z");
  auto wide = h.run_with_server({"get", "probes", "-o", "wide"});
  CHECK_THAT(wide.out, Catch::Contains("AGE   MODEL                   PROBE-ID       REASON\n"));
  CHECK_THAT(wide.out, Catch::Contains("45s   NVIDIA H100 80GB HBM3   gpu-1.join.1   failed: hbm_bandwidth\n"));
  CHECK(h.run_with_server({"get", "probes", "--verdict", "maybe"}).exit_code == 2);
}

TEST_CASE("describe node: admission, the last probe and its checks as a table", "[fleetctl][probes]") {
  json last = probe("gpu-1", "fail", {"hbm_bandwidth"});
  last["report"] = {
      {"verdict", "fail"},
      {"node_checks", {check("pcie_link", "pass", 16, 16, nullptr, "lanes")}},
      {"gpus",
       {{{"index", 0}, {"checks", {check("hbm_bandwidth", "pass", 3050.4, 2680, 3015, "GB/s")}}},
        {{"index", 1},
         {"checks", {check("hbm_bandwidth", "fail", 1900, 2680, 3015, "GB/s", "HBM bandwidth below 2680 GB/s")}}}}}};
  Harness h([&](const SeenRequest& req) {
    if (req.target == "/v1/clusters/aks-1/nodes")
      return json_response(200, json{{"items", {gpu_node("quarantined")}}}.dump());
    if (req.target == "/v1/clusters/aks-1/nodes/gpu-1/probes?limit=1") {
      return json_response(200, json{{"items", {last}}}.dump());
    }
    return json_response(404, problem("not-found", 404, "no"));
  });
  auto out = h.run_with_server({"describe", "node", "aks-1/gpu-1"});
  INFO(out.err);
  REQUIRE(out.exit_code == 0);
  CHECK(out.out ==
        "Name:        gpu-1\n"
        "Cluster:     aks-1\n"
        "Pool:        gpu\n"
        "Admission:   quarantined\n"
        "Taints:      fleet.io/gpu-unverified:NoSchedule, fleet.io/gpu-quarantined=hbm_bandwidth:NoSchedule\n"
        "GPUs:        2x H100 80GB HBM3\n"
        "Last probe:\n"
        "  Verdict:   fail\n"
        "  Reason:    failed: hbm_bandwidth\n"
        "  Trigger:   join\n"
        "  Finished:  2026-11-23T11:59:14.500Z (45s ago)\n"
        "  Duration:  14.5s\n"
        "  Probe:     gpu-1.join.1 (gpu-probe 0.4.0)\n"
        "Checks:\n"
        "GPU    CHECK           STATUS   MEASURED    THRESHOLD                  MESSAGE\n"
        "node   pcie_link       pass     16 lanes    >= 16 lanes\n"
        "0      hbm_bandwidth   pass     3050 GB/s   >= 2680 GB/s (warn 3015)\n"
        "1      hbm_bandwidth   fail     1900 GB/s   >= 2680 GB/s (warn 3015)   HBM bandwidth below 2680 GB/s\n");
  auto as_json = h.run_with_server({"describe", "node", "aks-1/gpu-1", "-o", "json"});
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.out)["lastProbe"]["verdict"] == "fail");
  CHECK(h.run_with_server({"describe", "node", "aks-1/nope"}).exit_code == 3);
  CHECK(h.run_with_server({"describe", "node", "gpu-1"}).exit_code == 2);  // not CLUSTER/NODE
}

TEST_CASE("probe, admit and quarantine node post the custom methods with the reason", "[fleetctl][probes]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "POST") return json_response(202, R"({"id": "cmd-1", "state": "queued"})");
    return json_response(404, problem("not-found", 404, "no"));
  });
  auto p = h.run_with_server({"probe", "node", "aks-1/gpu-1"});
  REQUIRE(p.exit_code == 0);
  CHECK(p.out == "node/gpu-1 probe requested (command cmd-1)\n");
  CHECK(h.seen().back().target == "/v1/clusters/aks-1/nodes/gpu-1:probe");
  CHECK(json::parse(h.seen().back().body) == json::object());
  auto a = h.run_with_server({"admit", "node", "aks-1/gpu-1", "--reason", "vendor replaced the board"});
  REQUIRE(a.exit_code == 0);
  CHECK(h.seen().back().target == "/v1/clusters/aks-1/nodes/gpu-1:admit");
  CHECK(json::parse(h.seen().back().body) == json{{"reason", "vendor replaced the board"}});
  auto q = h.run_with_server({"quarantine", "node", "aks-1/gpu-1", "--reason", "XID 79"});
  REQUIRE(q.exit_code == 0);
  CHECK(q.out == "node/gpu-1 quarantine requested (command cmd-1)\n");
  const auto posts = h.seen().size();
  CHECK(h.run_with_server({"admit", "node", "aks-1/gpu-1"}).exit_code == 2);  // --reason is required
  CHECK(h.run_with_server({"probe", "node", "aks-1/Bad_Node"}).exit_code == 2);
  CHECK(h.seen().size() == posts);
}

TEST_CASE("threshold_text reads each comparison", "[fleetctl][probes]") {
  CHECK(threshold_text(check("x", "pass", 1, 2680, 3015, "GB/s")) == ">= 2680 GB/s (warn 3015)");
  CHECK(threshold_text(check("x", "pass", 1, nullptr, 83, "C")) == "warn >= 83 C");
  CHECK(threshold_text(check("x", "pass", 1, nullptr, nullptr, "")).empty());
  json at_most = check("x", "pass", 0, 0, nullptr, "");
  at_most["comparison"] = "at-most";
  CHECK(threshold_text(at_most) == "<= 0");
}

}  // namespace fleet::ctl
