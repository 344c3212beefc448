#include "protocol/command.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "protocol/command_report.hpp"

namespace fleet::protocol {
namespace {

using nlohmann::json;

Error refused(std::string_view kind, const json& payload) {
  auto c = parse_command("c1", kind, payload);
  REQUIRE_FALSE(c.ok());
  return c.error();
}

}  // namespace

TEST_CASE("command kinds: one list, by name both ways", "[protocol][command]") {
  for (CommandKind kind : kCommandKinds) CHECK(parse_command_kind(to_string(kind)) == kind);
  CHECK_FALSE(parse_command_kind("reboot"));
  CHECK(command_kinds_text() ==
        "upgrade_control_plane, upgrade_node_pool, run_probe, apply_workload, delete_workload, cordon_cluster, "
        "cordon_node, drain_node, taint_node, set_node_admission");
  auto e = refused("reboot", json::object());
  CHECK(e.field == "kind");
  CHECK_THAT(e.message, Catch::Contains("must be one of upgrade_control_plane"));
}

TEST_CASE("command ids are what fleetd accepts and generates", "[protocol][command]") {
  for (const char* ok : {"a", "cp-1.32", "0f8e2c1a-7d4b-4c57-9a0e-2b6f1c3d4e5f"}) CHECK(validate_command_id(ok));
  for (const char* bad : {"", "-x", "x-", "Bad_ID", "a b", std::string(64, 'a').c_str()}) {
    CAPTURE(bad);
    CHECK(validate_command_id(bad).error().field == "id");
  }
}

TEST_CASE("payloads: every kind parses to its type and round-trips", "[protocol][command]") {
  const std::pair<std::string, json> cases[] = {
      {"upgrade_control_plane", {{"kubernetesVersion", "1.32.7"}}},
      {"upgrade_node_pool",
       {{"pool", "gpu"},
        {"kubernetesVersion", "1.32.7"},
        {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202511.01.0"},
        {"maxSurge", "25%"},
        {"maxUnavailable", 1},
        {"maxFailedNodes", 2}}},
      {"run_probe", {{"nodes", {"n2", "n1", "n1"}}}},
      {"run_probe", json::object()},
      {"apply_workload",
       {{"manifests", {{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "llama"}}}}}}}},
      {"delete_workload",
       {{"manifests",
         {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}, {"namespace", "x"}}}}}}}},
      {"cordon_cluster", {{"cordon", false}}},
      {"cordon_node", {{"node", "aks-gpu-1"}}},
      {"drain_node", {{"node", "aks-gpu-1"}, {"timeoutSeconds", 1.5}, {"gracePeriodSeconds", 30}}},
      {"taint_node",
       {{"node", "n1"}, {"add", {"fleet.io/gpu-unverified=:NoSchedule"}}, {"remove", {"a", "b:NoExecute"}}}},
      {"set_node_admission", {{"node", "n1"}, {"admission", "quarantined"}, {"reason", "GPU 3 fell off the bus"}}},
      {"set_node_admission", {{"node", "n1"}, {"admission", "admitted"}, {"reason", "vendor replaced the board"}}},
  };
  for (const auto& [kind, payload] : cases) {
    CAPTURE(kind, payload.dump());
    auto c = parse_command("c1", kind, payload);
    REQUIRE(c.ok());
    CHECK(to_string(c->kind()) == kind);
    auto again = parse_command("c1", kind, to_json(c->payload));
    REQUIRE(again.ok());
    CHECK(*again == *c);
  }
  auto probe = parse_command("p", "run_probe", {{"nodes", {"n2", "n1", "n1"}}});
  CHECK(std::get<RunProbe>(probe->payload).nodes == std::vector<std::string>{"n1", "n2"});
  auto pool = std::get<UpgradeNodePool>(parse_command("u", "upgrade_node_pool", cases[1].second)->payload);
  CHECK(pool.max_surge.resolve(10, true) == 3);  // 25% of 10, rounded up
  CHECK(pool.max_unavailable.resolve(10, false) == 1);
  CHECK(NodeBudget{25, true}.resolve(10, false) == 2);
  CHECK(std::get<CordonCluster>(parse_command("c", "cordon_cluster", nullptr)->payload).cordon);
}

TEST_CASE("payloads: bad ones are refused naming the member", "[protocol][command]") {
  CHECK(refused("upgrade_control_plane", json::object()).field == "payload.kubernetesVersion");
  CHECK(refused("upgrade_control_plane", {{"kubernetesVersion", "1.32"}}).field == "payload.kubernetesVersion");
  CHECK(refused("upgrade_control_plane", {{"version", "1.32.7"}}).type == "unknown-field");
  CHECK(refused("upgrade_node_pool", json::array()).field == "payload");
  CHECK(refused("upgrade_node_pool", {{"pool", "gpu"}}).field == "payload");  // no version at all
  CHECK(refused("upgrade_node_pool", {{"pool", "Not_A_Pool"}, {"nodeImageVersion", "x"}}).field == "payload.pool");
  const json pool = {{"pool", "gpu"}, {"nodeImageVersion", "x"}};
  auto with = [&](json extra) {
    json p = pool;
    p.merge_patch(extra);
    return p;
  };
  CHECK(refused("upgrade_node_pool", with({{"maxSurge", 0}, {"maxUnavailable", "0%"}})).field ==
        "payload.maxUnavailable");
  CHECK(refused("upgrade_node_pool", with({{"maxSurge", "lots"}})).field == "payload.maxSurge");
  CHECK(refused("upgrade_node_pool", with({{"maxSurge", "120%"}})).field == "payload.maxSurge");
  CHECK(refused("upgrade_node_pool", with({{"maxSurge", -1}})).field == "payload.maxSurge");
  CHECK(refused("upgrade_node_pool", with({{"maxFailedNodes", 1.5}})).field == "payload.maxFailedNodes");
  CHECK(refused("run_probe", {{"nodes", {1}}}).field == "payload.nodes[0]");
  CHECK(refused("run_probe", {{"node", "n1"}}).type == "unknown-field");
  CHECK(refused("apply_workload", json::object()).field == "payload.manifests");
  CHECK(refused("apply_workload", {{"manifests", {{{"kind", "X"}}}}}).field == "payload.manifests[0].apiVersion");
  CHECK(
      refused("apply_workload", {{"manifests", {{{"apiVersion", "v1"}, {"kind", "X"}, {"metadata", json::object()}}}}})
          .field == "payload.manifests[0].metadata.name");
  CHECK(refused("cordon_cluster", {{"cordon", "yes"}}).field == "payload.cordon");
  CHECK(refused("drain_node", json::object()).field == "payload.node");
  CHECK(refused("drain_node", {{"node", "n0"}, {"timeoutSeconds", "soon"}}).field == "payload.timeoutSeconds");
  CHECK(refused("drain_node", {{"node", "n0"}, {"timeoutSeconds", 0}}).field == "payload.timeoutSeconds");
  CHECK(refused("taint_node", {{"node", "n0"}}).field == "payload");
  CHECK(refused("taint_node", {{"node", "n0"}, {"add", {"no-effect"}}}).field == "payload.add[0]");
  CHECK(refused("taint_node", {{"node", "n0"}, {"remove", {json::object()}}}).field == "payload.remove[0].key");
  CHECK(refused("set_node_admission", {{"node", "n0"}, {"admission", "admitted"}}).field == "payload.reason");
  CHECK(refused("set_node_admission", {{"node", "n0"}, {"admission", "probing"}, {"reason", "x"}}).field ==
        "payload.admission");
  CHECK(refused("set_node_admission", {{"node", "n0"}, {"admission", "admitted"}, {"reason", ""}}).field ==
        "payload.reason");
  auto big = refused("apply_workload", {{"blob", std::string(70 * 1024, 'x')}});
  CHECK(big.field == "payload");
  CHECK_THAT(big.message, Catch::Contains("64 KiB"));
}

TEST_CASE("reports: what the agent writes fleetd reads, with the limits", "[protocol][command]") {
  CommandStatus s;
  s.id = "c1";
  s.kind = "run_probe";
  s.state = CommandState::kFailed;
  s.message = "1 of 4 nodes quarantined";
  auto r = report_from_json(to_json(report_for(s)));
  REQUIRE(r.ok());
  CHECK(r->state == CommandState::kFailed);
  CHECK(r->message == s.message);
  CHECK((*r->progress)["kind"] == "run_probe");
  CHECK(report_from_json({{"state", "done"}}).error().field == "state");
  CHECK(report_from_json({{"state", "running"}, {"x", 1}}).error().type == "unknown-field");
  CHECK(report_from_json({{"state", "running"}, {"message", std::string(5000, 'm')}}).error().field == "message");
  CHECK(report_from_json({{"state", "running"}, {"progress", 3}}).error().field == "progress");
  CHECK(report_from_json(json::object()).error().type == "missing-field");
}

}  // namespace fleet::protocol
