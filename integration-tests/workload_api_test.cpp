// The workloads API against a real fleetd and PostgreSQL (issue #14 item 1): the DESIGN §7 example as written,
// reads, pages, replace with If-Match (generation bumped only by a change), delete, 422s naming the member,
// Idempotency-Key replays, roles and audit; and fleetctl apply/get/describe/delete on top.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
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

json small(const std::string& name, int replicas = 1) {
  return {{"name", name},
          {"replicas", replicas},
          {"manifests", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "cfg"}}}}}}};
}

// Waits (at most 15 s) until the placement loop has decided on the workload: its first decision changes the state,
// and with it the resourceVersion, which would make a test's If-Match stale at random.
void settle(FleetdProcess& fleetd, const std::string& name) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (fleetd.call_json("GET", "/v1/workloads/" + name)["state"] == "Pending" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

json problem_of(const fleet::http::ClientResponse& r) {
  INFO(r.body);
  return json::parse(r.body);
}

}  // namespace

TEST_CASE("workloads: the DESIGN example as written, reads, replace, delete", "[integration][workloads]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};

  auto created = fleetd.call("POST", "/v1/workloads", kDesignExample);
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.headers["location"] == "/v1/workloads/llama-70b-serve");
  const json w = json::parse(created.body);
  CHECK(created.headers["etag"] == "\"" + w["resourceVersion"].get<std::string>() + "\"");
  CHECK(w["generation"] == 1);
  CHECK(w["replicas"] == 6);
  CHECK(w["resources"] == json::parse(R"({"gpus": 4, "gpuModels": ["NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3"],
                                          "minGpuMemoryGiB": 80, "cpu": 32, "memoryGiB": 256})"));
  CHECK(w["policy"]["type"] == "PickN");
  CHECK(w["policy"]["numberOfClusters"] == 2);
  CHECK(w["policy"]["divideBy"] == "Capacity");
  CHECK(w["policy"]["affinity"]["required"]["labelSelector"] == "env=prod");
  CHECK(w["policy"]["spread"][0] ==
        json::parse(R"({"topologyKey": "region", "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"})"));
  CHECK(w["manifests"] == json::parse(kDesignExample)["manifests"]);
  CHECK(w["createdAt"].is_string());

  auto got = fleetd.call_json("GET", "/v1/workloads/llama-70b-serve");
  CHECK(got["manifests"] == w["manifests"]);
  CHECK(got["policy"] == w["policy"]);
  CHECK(fleetd.call("POST", "/v1/workloads", kDesignExample).status == 409);
  CHECK(fleetd.call("GET", "/v1/workloads/nope").status == 404);

  // Pages by name.
  for (int i = 0; i < 5; ++i)
    fleetd.call_json("POST", "/v1/workloads", small("batch-" + std::to_string(i)).dump(), 201);
  std::vector<std::string> names;
  std::string next;
  for (int i = 0; i < 10; ++i) {
    auto page = fleetd.call_json("GET", "/v1/workloads?limit=2" + (next.empty() ? "" : "&continue=" + next));
    for (const auto& item : page["items"]) names.push_back(item["name"]);
    if (!page.contains("continue")) break;
    next = page["continue"].get<std::string>();
  }
  CHECK(names == std::vector<std::string>{"batch-0", "batch-1", "batch-2", "batch-3", "batch-4", "llama-70b-serve"});

  // Replace: a stale If-Match is 412; the same spec changes nothing; a change bumps generation. What GET returned
  // may be sent back (the server's members are ignored).
  settle(fleetd, "batch-0");
  // Its first decision is its first event (issue #15 item 5): no clusters, so Unplaceable.
  const json events = fleetd.call_json("GET", "/v1/workloads/batch-0/events");
  REQUIRE(events["items"].size() == 1);
  CHECK(events["items"][0]["type"] == "Decided");
  CHECK(events["items"][0]["message"].get<std::string>().rfind("generation 1: Unplaceable: ", 0) == 0);
  CHECK(fleetd.call("GET", "/v1/workloads/nope/events").status == 404);
  auto stale = fleetd.call("PUT", "/v1/workloads/batch-0", small("batch-0", 2).dump(), {{"if-match", "\"1\""}});
  CHECK(stale.status == 412);
  CHECK(problem_of(stale)["type"] == "urn:fleetd:problem:precondition-failed");
  const json before = fleetd.call_json("GET", "/v1/workloads/batch-0");
  auto same = fleetd.call("PUT", "/v1/workloads/batch-0", before.dump());
  REQUIRE(same.status == 200);
  CHECK(json::parse(same.body)["generation"] == 1);
  auto changed = fleetd.call("PUT", "/v1/workloads/batch-0", small("batch-0", 3).dump(),
                             {{"if-match", json::parse(same.body)["resourceVersion"].get<std::string>()}});
  INFO(changed.body);
  REQUIRE(changed.status == 200);
  CHECK(json::parse(changed.body)["generation"] == 2);
  CHECK(json::parse(changed.body)["replicas"] == 3);
  auto renamed = fleetd.call("PUT", "/v1/workloads/batch-0", small("batch-9").dump());
  CHECK(renamed.status == 422);
  CHECK(problem_of(renamed)["field"] == "name");
  CHECK(fleetd.call("PUT", "/v1/workloads/nope", small("nope").dump()).status == 404);

  // Delete: nothing runs it, so it is gone at once.
  auto stale_delete = fleetd.call("DELETE", "/v1/workloads/batch-1", "", {{"if-match", "\"1\""}});
  CHECK(stale_delete.status == 412);
  auto deleted = fleetd.call("DELETE", "/v1/workloads/batch-1");
  INFO(deleted.body);
  REQUIRE(deleted.status == 200);
  CHECK(json::parse(deleted.body)["state"] == "Deleted");
  CHECK(fleetd.call("GET", "/v1/workloads/batch-1").status == 404);
  CHECK(fleetd.call("DELETE", "/v1/workloads/batch-1").status == 404);

  // Every write is audited, the manifests by kind and name only.
  const json audit = fleetd.call_json("GET", "/v1/audit?limit=1000");
  int creates = 0;
  for (const auto& e : audit["items"]) {
    if (e["action"] != "workload.create" || e["objectName"] != "llama-70b-serve") continue;
    ++creates;
    if (e["outcome"] == "success") {
      CHECK(e["detail"]["manifests"] == json::parse(R"([{"kind": "Deployment", "name": "llama"}])"));
    }
  }
  CHECK(creates == 2);  // the 201 and the 409
}

TEST_CASE("workloads: 422s name the member, Idempotency-Key replays, viewers only read", "[integration][workloads]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};

  auto example = json::parse(kDesignExample);
  auto refused = [&](json body, const std::string& field, const std::string& type) {
    auto r = fleetd.call("POST", "/v1/workloads", body.dump());
    INFO(r.body);
    CHECK(r.status == 422);
    const json p = problem_of(r);
    CHECK(p["field"] == field);
    CHECK(p["type"] == "urn:fleetd:problem:" + type);
  };
  {
    json b = example;
    b["policy"].erase("numberOfClusters");
    refused(b, "policy.numberOfClusters", "missing-field");
  }
  {
    json b = example;
    b["manifests"][0].erase("kind");
    refused(b, "manifests[0].kind", "missing-field");
  }
  {
    json b = example;
    b["resources"]["gpus"] = 32;
    refused(b, "resources.gpus", "invalid-field");
  }
  {
    json b = example;
    b["policy"]["affinity"]["required"]["labelSelector"] = "env in (prod";
    refused(b, "policy.affinity.required.labelSelector", "invalid-field");
  }
  {
    json b = example;
    b["policy"]["spread"][0]["skew"] = 1;
    refused(b, "policy.spread[0].skew", "unknown-field");
  }
  auto not_json = fleetd.call("POST", "/v1/workloads", "{");
  CHECK(not_json.status == 400);
  auto huge = small("huge");
  huge["manifests"][0]["data"] = {{"blob", std::string(300 * 1024, 'x')}};
  CHECK(fleetd.call("POST", "/v1/workloads", huge.dump()).status == 413);

  const std::string body = small("idem").dump();
  auto first = fleetd.call("POST", "/v1/workloads", body, {{"idempotency-key", "wl-key-1"}});
  REQUIRE(first.status == 201);
  auto again = fleetd.call("POST", "/v1/workloads", body, {{"idempotency-key", "wl-key-1"}});
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(again.headers["idempotent-replayed"] == "true");
  auto other = fleetd.call("POST", "/v1/workloads", small("idem-2").dump(), {{"idempotency-key", "wl-key-1"}});
  CHECK(other.status == 409);
  CHECK(problem_of(other)["type"] == "urn:fleetd:problem:idempotency-key-reused");
  CHECK(fleetd.call("GET", "/v1/workloads/idem-2").status == 404);

  auto viewer = fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();
  CHECK(fleetd.call("GET", "/v1/workloads", "", {}, viewer).status == 200);
  CHECK(fleetd.call("GET", "/v1/workloads/idem", "", {}, viewer).status == 200);
  CHECK(fleetd.call("POST", "/v1/workloads", small("v").dump(), {}, viewer).status == 403);
  CHECK(fleetd.call("PUT", "/v1/workloads/idem", body, {}, viewer).status == 403);
  CHECK(fleetd.call("DELETE", "/v1/workloads/idem", "", {}, viewer).status == 403);
  CHECK(fleetd.call("GET", "/v1/workloads", "", {}, "").status == 401);
}

TEST_CASE("fleetctl apply creates, configures and leaves unchanged, get, describe, delete",
          "[integration][workloads][fleetctl]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  const std::string config = (dir.path() / "data" / "fleetctl.json").string();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {fleetctl_binary(), "--config", config});
    return run_command(args);
  };
  const auto file = dir.path() / "llama.yaml";
  auto write = [&](int replicas) {
    std::ofstream(file)
        << "name: llama-70b-serve\n"
           "manifests:\n"
           "  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: llama}, spec: {}}\n"
           "replicas: "
        << replicas
        << "\n"
           "resources: {gpus: 4, gpuModels: [\"NVIDIA H100 80GB HBM3\"], minGpuMemoryGiB: 80, cpu: 0.5, "
           "memoryGiB: 256}\n"
           "policy:\n"
           "  type: PickN\n"
           "  numberOfClusters: 2\n"
           "  replicaDivision: Divided\n"
           "  affinity: {required: {labelSelector: env=prod}}\n";
  };
  write(6);
  auto created = ctl({"apply", "-f", file.string()});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  CHECK(created.out == "workload/llama-70b-serve created\n");
  const json stored = fleetd.call_json("GET", "/v1/workloads/llama-70b-serve");
  CHECK(stored["resources"]["cpu"] == 0.5);
  CHECK(stored["replicas"] == 6);
  settle(fleetd, "llama-70b-serve");

  auto unchanged = ctl({"apply", "-f", file.string()});
  INFO(unchanged.err);
  CHECK(unchanged.out == "workload/llama-70b-serve unchanged\n");
  write(8);
  auto configured = ctl({"apply", "-f", file.string()});
  INFO(configured.err);
  CHECK(configured.out == "workload/llama-70b-serve configured\n");
  CHECK(fleetd.call_json("GET", "/v1/workloads/llama-70b-serve")["generation"] == 2);

  // What get -o yaml prints applies back unchanged.
  auto yaml = ctl({"get", "workload", "llama-70b-serve", "-o", "yaml"});
  REQUIRE(yaml.exit_code == 0);
  std::ofstream(dir.path() / "back.yaml") << yaml.out;
  CHECK(ctl({"apply", "-f", (dir.path() / "back.yaml").string()}).out == "workload/llama-70b-serve unchanged\n");

  auto table = ctl({"get", "workloads"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.rfind("NAME              REPLICAS   GPUS/REPLICA   POLICY     STATE", 0) == 0);
  CHECK(table.out.find("llama-70b-serve   8          4              PickN(2)") != std::string::npos);
  auto described = ctl({"describe", "workload", "llama-70b-serve"});
  REQUIRE(described.exit_code == 0);
  CHECK(described.out.find("  Required:        env=prod\n") != std::string::npos);

  std::ofstream(dir.path() / "cluster.yaml") << "name: x\nprovider: aks\n";
  CHECK(ctl({"apply", "-f", (dir.path() / "cluster.yaml").string()}).exit_code == 2);
  auto deleted = ctl({"delete", "workload", "llama-70b-serve"});
  INFO(deleted.err);
  CHECK(deleted.out == "workload/llama-70b-serve deleted\n");
  CHECK(ctl({"get", "workload", "llama-70b-serve"}).exit_code == 3);
}
