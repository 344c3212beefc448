// kubectl habits on every `get` list (issue #16 item 5): -o name, -o jsonpath, --no-headers, --sort-by, get nodes
// of every cluster, get tokens' STATUS, get --watch and describe --watch, as golden output against a scripted fake
// of fleetd.
#include <catch2/catch.hpp>

#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using testing::Harness;
using testing::json_response;
using testing::SeenRequest;

namespace {

nlohmann::json cluster(const std::string& name, const std::string& region) {
  return {{"name", name},
          {"provider", "aks"},
          {"region", region},
          {"state", "ready"},
          {"kubernetesVersion", "1.31.4"},
          {"createdAt", "2026-11-23T11:00:00Z"}};
}

Harness clusters_server() {
  return Harness([](const SeenRequest& req) {
    if (req.target.starts_with("/v1/clusters?")) {
      return json_response(
          200, nlohmann::json{{"items", {cluster("west-2", "westus"), cluster("east-1", "eastus")}}}.dump());
    }
    if (req.target == "/v1/clusters/east-1/nodes") {
      return json_response(200, R"({"items":[{"name":"n1","pool":"gpu","admission":"admitted"}]})");
    }
    if (req.target == "/v1/clusters/west-2/nodes") {
      return json_response(200, R"({"items":[{"name":"n9","pool":"system","admission":"admitted"}]})");
    }
    return json_response(200, R"({"items":[]})");
  });
}

}  // namespace

TEST_CASE("get -o name prints kind/name lines", "[fleetctl][habits]") {
  auto h = clusters_server();
  auto r = h.run_with_server({"get", "clusters", "-o", "name"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "cluster/west-2\ncluster/east-1\n");
}

TEST_CASE("get -o jsonpath renders the list document, and a bad template is a usage error", "[fleetctl][habits]") {
  auto h = clusters_server();
  auto r = h.run_with_server(
      {"get", "clusters", "-o", R"(jsonpath={range .items[*]}{.metadata.name}{"\t"}{.region}{"\n"}{end})"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "west-2\twestus\neast-1\teastus\n");
  auto first = h.run_with_server({"get", "clusters", "-o", "jsonpath={.items[0].name}"});
  CHECK(first.out == "west-2");
  auto bad = h.run_with_server({"get", "clusters", "-o", "jsonpath={.items[0]"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("invalid jsonpath \"{.items[0]\": unclosed { at position 1"));
}

TEST_CASE("get --no-headers and --sort-by", "[fleetctl][habits]") {
  auto h = clusters_server();
  auto r = h.run_with_server({"get", "clusters", "--sort-by", ".metadata.name", "--no-headers"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "east-1   aks        eastus   ready   1.31.4    1h\n"  // the widths still count the header
        "west-2   aks        westus   ready   1.31.4    1h\n");
  auto names = h.run_with_server({"get", "clusters", "--sort-by", "{.region}", "-o", "name"});
  CHECK(names.out == "cluster/east-1\ncluster/west-2\n");
}

TEST_CASE("get nodes without --cluster lists every cluster's nodes with a CLUSTER column", "[fleetctl][habits]") {
  auto h = clusters_server();
  auto r = h.run_with_server({"get", "nodes"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "CLUSTER   NAME   POOL     STATUS   ADMISSION   KUBELET   GPUS\n"
        "west-2    n9     system   Ready    admitted    <none>    0\n"
        "east-1    n1     gpu      Ready    admitted    <none>    0\n");
  auto names = h.run_with_server({"get", "nodes", "-o", "name", "--sort-by", ".name"});
  CHECK(names.out == "node/east-1/n1\nnode/west-2/n9\n");
}

TEST_CASE("get -w prints the table once, then only changed rows, until interrupted", "[fleetctl][habits]") {
  int polls = 0;
  Harness h([&polls](const SeenRequest&) {
    ++polls;
    auto c = cluster("east-1", "eastus");
    if (polls >= 3) c["state"] = "unreachable";
    return json_response(200, nlohmann::json{{"items", {c}}}.dump());
  });
  int sleeps = 0;
  h.env().sleep = [&sleeps](std::chrono::milliseconds d) {
    CHECK(d == std::chrono::milliseconds(2000));
    ++sleeps;
  };
  h.env().interrupted = [&sleeps] { return sleeps >= 3; };
  auto r = h.run_with_server({"get", "clusters", "-w"});
  REQUIRE(r.exit_code == 0);
  CHECK(polls == 3);
  CHECK(r.out ==
        "NAME     PROVIDER   REGION   STATE   VERSION   AGE\n"
        "east-1   aks        eastus   ready   1.31.4    1h\n"
        "east-1   aks        eastus   unreachable   1.31.4    1h\n");
}

TEST_CASE("describe -w prints the description again, whole, only when it changes", "[fleetctl][habits]") {
  int polls = 0;
  Harness h([&polls](const SeenRequest& req) {
    ++polls;
    CHECK(req.target == "/v1/workloads/web/placement");
    nlohmann::json p = {{"workload", "web"},
                        {"state", "Placed"},
                        {"generation", 1},
                        {"decidedGeneration", 1},
                        {"decision", "Placed"},
                        {"replicasWanted", 2},
                        {"replicasBound", 2},
                        {"bindings", {{{"cluster", "east-1"}, {"replicas", 2}, {"state", "Pending"}}}},
                        {"rejected", nlohmann::json::array()}};
    if (polls >= 3) p["bindings"][0]["state"] = "Running";
    return json_response(200, p.dump());
  });
  int sleeps = 0;
  h.env().sleep = [&sleeps](std::chrono::milliseconds) { ++sleeps; };
  h.env().interrupted = [&sleeps] { return sleeps >= 3; };
  auto r = h.run_with_server({"describe", "placement", "web", "-w"});
  REQUIRE(r.exit_code == 0);
  CHECK(polls == 3);
  const std::string head =
      "Workload:        web\n"
      "State:           Placed\n"
      "Decision:        Placed\n"
      "Replicas Bound:  2 of 2\n"
      "Generation:      1 (decided 1)\n"
      "\n"
      "Bindings:\n"
      "CLUSTER   REPLICAS   STATE     NODES\n";
  const std::string tail = "\nNot chosen:\n  <none>\n";
  CHECK(r.out ==
        head + "east-1    2          Pending   -\n" + tail + head + "east-1    2          Running   -\n" + tail);
}

}  // namespace fleet::ctl
