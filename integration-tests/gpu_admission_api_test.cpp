// fleetd's GPU admission API against a real PostgreSQL (issue #11): probe results arriving with heartbeats (stored
// once, validated, listed with filters, shown on nodes and GPUs, counted in /metrics), admission policies and the
// policy an agent reads, and the operators' probe / admit / quarantine actions (commands to the agent, audited).
#include <catch2/catch.hpp>

#include "agents/fleet_spec.hpp"
#include "agents/sim_cluster.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "protocol/heartbeat_sender.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;
namespace model = fleet::model;
namespace protocol = fleet::protocol;

namespace {

struct RegisteredCluster {
  std::string name;
  std::string credential;
  model::ClusterInventory inventory;
};

RegisteredCluster register_cluster(FleetdProcess& fleetd, const agent::ClusterSpec& c, const json& labels) {
  fleetd.call_json("POST", "/v1/clusters", json{{"name", c.name}, {"provider", c.provider}, {"labels", labels}}.dump(),
                   201);
  auto bootstrap = fleetd.call_json("POST", "/v1/clusters/" + c.name + "/bootstrap-tokens", "", 201)["token"];
  auto reg = fleetd.call("POST", "/v1/agents/register", "", {}, bootstrap.get<std::string>());
  REQUIRE(reg.status == 200);
  return {c.name, json::parse(reg.body)["credential"], agent::initial_inventory(c, 5)};
}

struct OneCluster {
  RegisteredCluster cluster;
  std::string gpu_node, cpu_node;  // one of each
};
// One registered cluster of H100 nodes and its system nodes.
OneCluster one_cluster(FleetdProcess& fleetd) {
  auto spec = agent::generate_fleet_spec(1, "h100:8x100%", 5);
  REQUIRE(spec);
  OneCluster out{register_cluster(fleetd, spec->clusters[0], json::object()), "", ""};
  for (const auto& n : out.cluster.inventory.nodes) (n.gpus.empty() ? out.cpu_node : out.gpu_node) = n.name;
  REQUIRE_FALSE(out.gpu_node.empty());
  REQUIRE_FALSE(out.cpu_node.empty());
  return out;
}

json probe_result(const std::string& id, const std::string& node, const std::string& verdict,
                  const std::string& finished, json failed = json::array()) {
  json r = {{"probeId", id},
            {"node", node},
            {"trigger", "join"},
            {"gpuUuids", {"GPU-a"}},
            {"startedAt", "2026-12-01T10:00:00.000Z"},
            {"finishedAt", finished},
            {"verdict", verdict},
            {"admitted", verdict == "pass"},
            {"reason", failed.empty() ? "passed" : "failed: " + failed[0].get<std::string>()},
            {"failedChecks", failed},
            {"probeVersion", "0.4.0"}};
  r["report"] = {{"verdict", verdict}, {"gpus", json::array()}};
  return r;
}

}  // namespace

TEST_CASE("probe results arrive with heartbeats, once, and are listed, filtered and counted",
          "[integration][admission][probes]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  const auto [cluster, gpu_node, cpu_node] = one_cluster(fleetd);

  protocol::HeartbeatSender sender("0.1.0-itest");
  auto envelope = protocol::to_json(sender.next(cluster.inventory));
  envelope["probeResults"] = {probe_result("p1", gpu_node, "fail", "2026-12-01T10:00:15.000Z", {"hbm_bandwidth"}),
                              probe_result("p2", gpu_node, "pass", "2026-12-01T10:05:00.000Z")};
  const std::string hb_path = "/v1/agents/" + cluster.name + "/heartbeat";
  REQUIRE(fleetd.call("POST", hb_path, envelope.dump(), {}, cluster.credential).status == 200);
  // The same results again (an answer lost on the way back): nothing is stored twice.
  auto again = protocol::to_json(sender.next(cluster.inventory));
  again["probeResults"] = envelope["probeResults"];
  REQUIRE(fleetd.call("POST", hb_path, again.dump(), {}, cluster.credential).status == 200);
  // A result that breaks the contract is refused, naming it, and nothing of that heartbeat is stored.
  auto bad = protocol::to_json(sender.next(cluster.inventory));
  bad["probeResults"] = {probe_result("p3", gpu_node, "fail", "2026-12-01T10:06:00.000Z")};
  bad["probeResults"][0]["admitted"] = true;
  auto refused = fleetd.call("POST", hb_path, bad.dump(), {}, cluster.credential);
  CHECK(refused.status == 422);
  CHECK(json::parse(refused.body)["field"] == "probeResults[0].admitted");
  sender.not_applied();

  auto all = fleetd.call_json("GET", "/v1/probes");
  REQUIRE(all["items"].size() == 2);
  CHECK(all["items"][0]["probeId"] == "p2");  // newest first
  CHECK(all["items"][0]["model"] == "NVIDIA H100 80GB HBM3");
  CHECK(all["items"][1]["durationSeconds"] == 15.0);
  CHECK_FALSE(all["items"][0].contains("report"));
  auto failed = fleetd.call_json("GET", "/v1/probes?verdict=fail&check=hbm_bandwidth&cluster=" + cluster.name);
  REQUIRE(failed["items"].size() == 1);
  CHECK(failed["items"][0]["failedChecks"] == json::array({"hbm_bandwidth"}));
  CHECK(fleetd.call_json("GET", "/v1/probes?since=2026-12-01T10:01:00Z")["items"].size() == 1);
  CHECK(fleetd.call_json("GET", "/v1/probes?model=NVIDIA%20A100")["items"].empty());
  auto page = fleetd.call_json("GET", "/v1/probes?limit=1");
  REQUIRE(page.contains("continue"));
  auto next = fleetd.call_json("GET", "/v1/probes?limit=1&continue=" + page["continue"].get<std::string>());
  REQUIRE(next["items"].size() == 1);
  CHECK(next["items"][0]["probeId"] == "p1");
  CHECK_FALSE(next.contains("continue"));
  CHECK(fleetd.call("GET", "/v1/probes?verdict=maybe").status == 400);  // invalid-query
  CHECK(fleetd.call("GET", "/v1/probes?since=yesterday").status == 400);
  CHECK(fleetd.call("GET", "/v1/probes?colour=red").status == 400);

  auto one = fleetd.call_json("GET", "/v1/probes/" + all["items"][1]["id"].get<std::string>());
  CHECK(one["report"]["verdict"] == "fail");
  CHECK(fleetd.call("GET", "/v1/probes/999999").status == 404);
  CHECK(fleetd.call("GET", "/v1/probes/abc").status == 404);

  auto node_probes = fleetd.call_json("GET", "/v1/clusters/" + cluster.name + "/nodes/" + gpu_node + "/probes");
  REQUIRE(node_probes["items"].size() == 2);
  CHECK(node_probes["items"][0]["report"]["verdict"] == "pass");
  CHECK(fleetd.call("GET", "/v1/clusters/nope/nodes/x/probes").status == 404);

  // Nodes and GPUs show the last probe.
  auto nodes = fleetd.call_json("GET", "/v1/clusters/" + cluster.name + "/nodes");
  for (const auto& n : nodes["items"]) {
    if (n["name"] == gpu_node) CHECK(n["lastProbe"]["verdict"] == "pass");
    if (n["name"] == cpu_node) CHECK(n["lastProbe"].is_null());
  }
  auto gpus = fleetd.call_json("GET", "/v1/gpus?cluster=" + cluster.name);
  int shown = 0;
  for (const auto& g : gpus["items"]) {
    if (g["node"] != gpu_node) {
      CHECK_FALSE(g.contains("lastProbe"));
      continue;
    }
    ++shown;
    CHECK(g["lastProbe"]["finishedAt"] == "2026-12-01T10:05:00.000Z");
    CHECK(g["lastProbe"]["verdict"] == "pass");
  }
  CHECK(shown == 8);

  // A node the agent found schedulable before it was guarded: an audited event and the metrics.
  auto unguarded = protocol::to_json(sender.next(cluster.inventory));
  unguarded["unguardedNodes"] = {{{"node", gpu_node},
                                  {"seenAt", "2026-12-01T10:00:00.000Z"},
                                  {"seconds", 300},
                                  {"pods", 1},
                                  {"podNames", {"default/web-0"}}}};
  REQUIRE(fleetd.call("POST", hb_path, unguarded.dump(), {}, cluster.credential).status == 200);
  bool audited = false;
  const json audit = fleetd.call_json("GET", "/v1/audit?limit=100");
  for (const auto& e : audit["items"]) {
    if (e["action"] != "node.unguarded") continue;
    audited = true;
    CHECK(e["actor"] == "agent:" + cluster.name);
    CHECK(e["objectName"] == cluster.name + "/" + gpu_node);
    CHECK(e["detail"]["seconds"] == 300);
  }
  CHECK(audited);

  auto metrics = fleetd.call("GET", "/metrics", "", {}, std::string(""));
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_probe_results_total{verdict=\"fail\"} 1\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_probe_results_total{verdict=\"pass\"} 1\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_probe_failed_checks_total{check=\"hbm_bandwidth\"} 1\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_probe_duration_seconds_count 2\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_probe_duration_seconds_bucket{le=\"15\"} 1\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_gpu_nodes_unguarded_total 1\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_gpu_unguarded_seconds_total 300\n"));
  CHECK_THAT(metrics.body, Catch::Contains("fleetd_gpu_unguarded_pods_total 1\n"));
}

TEST_CASE("admission policies: CRUD, validation, and the policy an agent reads for its cluster",
          "[integration][admission][policies]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  auto spec = agent::generate_fleet_spec(2, "h100:8x100%", 5);
  REQUIRE(spec);
  auto h100 = register_cluster(fleetd, spec->clusters[0], {{"gpu", "h100"}, {"env", "prod"}});
  auto other = register_cluster(fleetd, spec->clusters[1], {{"env", "dev"}});
  const std::string h100_policy = "/v1/agents/" + h100.name + "/admission-policy";

  auto defaults = json::parse(fleetd.call("GET", h100_policy, "", {}, h100.credential).body);
  CHECK(defaults["policy"].is_null());
  CHECK(defaults["mode"] == "quick");
  CHECK(defaults["reprobeIntervalSeconds"] == 604800);

  auto created = fleetd.call("POST", "/v1/admission-policies",
                             json{{"name", "h100-full"},
                                  {"clusterSelector", "gpu=h100"},
                                  {"priority", 10},
                                  {"mode", "full"},
                                  {"reprobeIntervalSeconds", 86400},
                                  {"maxConcurrentProbes", {{"nodes", 2}, {"percent", 20}}}}
                                 .dump());
  REQUIRE(created.status == 201);
  CHECK(created.headers.at("location") == "/v1/admission-policies/h100-full");
  fleetd.call_json("POST", "/v1/admission-policies", json{{"name", "everyone"}, {"probeTimeoutSeconds", 900}}.dump(),
                   201);
  CHECK(fleetd.call("POST", "/v1/admission-policies", json{{"name", "everyone"}}.dump()).status == 409);
  auto bad_mode = fleetd.call("POST", "/v1/admission-policies", json{{"name", "x"}, {"mode", "slow"}}.dump());
  CHECK(bad_mode.status == 422);
  CHECK(json::parse(bad_mode.body)["field"] == "mode");
  auto bad_selector =
      fleetd.call("POST", "/v1/admission-policies", json{{"name", "x"}, {"clusterSelector", "a in"}}.dump());
  CHECK(bad_selector.status == 422);
  CHECK(fleetd
            .call("POST", "/v1/admission-policies",
                  json{{"name", "x"}, {"thresholds", {{"skus", {{{"key", "h100-sxm"}, {"hbm_gbps", -1}}}}}}}.dump())
            .status == 422);
  CHECK(fleetd.call("POST", "/v1/admission-policies", json{{"name", "Bad_Name"}}.dump()).status == 422);

  // The highest priority among the matching policies applies.
  auto for_h100 = json::parse(fleetd.call("GET", h100_policy, "", {}, h100.credential).body);
  CHECK(for_h100["policy"] == "h100-full");
  CHECK(for_h100["mode"] == "full");
  CHECK(for_h100["maxConcurrentProbes"] == json{{"nodes", 2}, {"percent", 20}});
  auto for_other =
      json::parse(fleetd.call("GET", "/v1/agents/" + other.name + "/admission-policy", "", {}, other.credential).body);
  CHECK(for_other["policy"] == "everyone");
  CHECK(for_other["probeTimeoutSeconds"] == 900);
  CHECK(fleetd.call("GET", h100_policy, "", {}, other.credential).status == 403);  // another cluster's credential
  CHECK(fleetd.call("GET", h100_policy, "", {}, std::string("")).status == 401);

  auto got = fleetd.call("GET", "/v1/admission-policies/h100-full");
  REQUIRE(got.status == 200);
  const std::string etag = got.headers.at("etag");
  auto stale =
      fleetd.call("PUT", "/v1/admission-policies/h100-full", json{{"mode", "quick"}}.dump(), {{"If-Match", "\"1\""}});
  CHECK(stale.status == 412);
  auto replaced = fleetd.call("PUT", "/v1/admission-policies/h100-full",
                              json{{"clusterSelector", "gpu=h100"}, {"priority", 10}, {"mode", "quick"}}.dump(),
                              {{"If-Match", etag}});
  REQUIRE(replaced.status == 200);
  CHECK(json::parse(replaced.body)["mode"] == "quick");
  CHECK(json::parse(replaced.body)["maxConcurrentProbes"]["nodes"] == 1);  // replaced whole, not merged
  CHECK(fleetd.call("PUT", "/v1/admission-policies/h100-full", json{{"name", "other"}}.dump()).status == 422);
  CHECK(fleetd.call_json("GET", "/v1/admission-policies")["items"].size() == 2);
  CHECK(fleetd.call("DELETE", "/v1/admission-policies/h100-full").status == 204);
  CHECK(fleetd.call("DELETE", "/v1/admission-policies/h100-full").status == 404);
  CHECK(json::parse(fleetd.call("GET", h100_policy, "", {}, h100.credential).body)["policy"] == "everyone");

  auto audit = fleetd.call_json("GET", "/v1/audit?limit=100");
  std::set<std::string> actions;
  for (const auto& e : audit["items"]) actions.insert(e["action"].get<std::string>());
  CHECK(actions.count("admission-policy.create"));
  CHECK(actions.count("admission-policy.replace"));
  CHECK(actions.count("admission-policy.delete"));
}

TEST_CASE("probe, admit and quarantine a node: commands to its agent, with the reason, audited",
          "[integration][admission][node-actions]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  const auto [cluster, gpu_node, cpu_node] = one_cluster(fleetd);
  protocol::HeartbeatSender sender("0.1.0-itest");
  REQUIRE(fleetd
              .call("POST", "/v1/agents/" + cluster.name + "/heartbeat",
                    protocol::to_json(sender.next(cluster.inventory)).dump(), {}, cluster.credential)
              .status == 200);
  const std::string node_path = "/v1/clusters/" + cluster.name + "/nodes/";

  auto probe = fleetd.call("POST", node_path + gpu_node + ":probe", "", {{"Idempotency-Key", "probe-once"}});
  REQUIRE(probe.status == 202);
  auto command = json::parse(probe.body);
  // The same key again (a client retry): the first answer, no second command.
  auto retried = fleetd.call("POST", node_path + gpu_node + ":probe", "", {{"Idempotency-Key", "probe-once"}});
  CHECK(retried.status == 202);
  CHECK(json::parse(retried.body)["id"] == command["id"]);
  CHECK(command["kind"] == "run_probe");
  CHECK(command["payload"] == json{{"nodes", {gpu_node}}});
  CHECK(probe.headers.at("location") == "/v1/commands/" + command["id"].get<std::string>());

  auto no_reason = fleetd.call("POST", node_path + gpu_node + ":admit", json::object().dump());
  CHECK(no_reason.status == 422);
  CHECK(json::parse(no_reason.body)["field"] == "reason");
  auto admit = fleetd.call("POST", node_path + gpu_node + ":admit", json{{"reason", "board replaced"}}.dump());
  REQUIRE(admit.status == 202);
  CHECK(json::parse(admit.body)["payload"] ==
        json{{"node", gpu_node}, {"admission", "admitted"}, {"reason", "board replaced"}});
  auto quarantine = fleetd.call("POST", node_path + gpu_node + ":quarantine", json{{"reason", "XID 79"}}.dump());
  REQUIRE(quarantine.status == 202);
  CHECK(json::parse(quarantine.body)["kind"] == "set_node_admission");

  CHECK(fleetd.call("POST", node_path + "no-such-node:probe").status == 404);
  CHECK(fleetd.call("POST", node_path + cpu_node + ":probe").status == 422);  // no GPUs: admitted without a probe
  CHECK(fleetd.call("POST", node_path + gpu_node + ":reboot").status == 404);
  CHECK(fleetd.call("POST", node_path + gpu_node + ":admit", json{{"reason", std::string(2000, 'x')}}.dump()).status ==
        422);

  auto queued = fleetd.call_json("GET", "/v1/clusters/" + cluster.name + "/commands");
  CHECK(queued["items"].size() == 3);
  auto audit = fleetd.call_json("GET", "/v1/audit?limit=100");
  int admits = 0;
  for (const auto& e : audit["items"]) {
    if (e["action"] == "node.admit" && e["outcome"] == "success") {
      ++admits;
      CHECK(e["objectName"] == cluster.name + "/" + gpu_node);
      CHECK(e["detail"]["reason"] == "board replaced");
    }
  }
  CHECK(admits == 1);
}
