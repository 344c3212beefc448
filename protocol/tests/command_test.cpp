#include "protocol/command.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

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
        "cordon_node, drain_node, taint_node, set_node_admission, blue_green_node_pool");
  auto e = refused("reboot", json::object());
  CHECK(e.field == "kind");
  CHECK_THAT(e.message, Catch::Contains("must be one of upgrade_control_plane"));
}

TEST_CASE("command ids are what fleetd accepts and generates", "[protocol][command]") {
  for (const char* ok : {"a", "cp-1.32", "0f8e2c1a-7d4b-4c57-9a0e-2b6f1c3d4e5f"}) CHECK(validate_command_id(ok));
  // Strings, not pointers: a c_str() of a temporary in the list dangles (found by ASan).
  for (const std::string& bad : std::vector<std::string>{"", "-x", "x-", "Bad_ID", "a b", std::string(64, 'a')}) {
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
        {"maxFailedNodes", 2},
        {"notAfter", "2026-12-07T06:00:00Z"}}},
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
      {"blue_green_node_pool",
       {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Replace"}, {"kubernetesVersion", "1.32.7"}}},
      {"blue_green_node_pool", {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Retire"}}},
      {"blue_green_node_pool", {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Restore"}}},
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
  CHECK(refused("upgrade_node_pool", with({{"notAfter", "tomorrow"}})).field == "payload.notAfter");
  CHECK(refused("upgrade_node_pool", with({{"notAfter", 1700000000}})).field == "payload.notAfter");
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
  const json swap = {{"pool", "gpu"}, {"newPool", "gpu2"}, {"phase", "Replace"}, {"nodeImageVersion", "img-2"}};
  auto swap_with = [&](json extra) {
    json p = swap;
    p.merge_patch(extra);
    return p;
  };
  CHECK(refused("blue_green_node_pool", swap_with({{"newPool", "gpu"}})).field == "payload.newPool");
  CHECK(refused("blue_green_node_pool", swap_with({{"newPool", nullptr}})).field == "payload.newPool");
  CHECK(refused("blue_green_node_pool", swap_with({{"phase", "Swap"}})).field == "payload.phase");
  CHECK(refused("blue_green_node_pool", swap_with({{"nodeImageVersion", nullptr}})).field == "payload");
  CHECK(refused("blue_green_node_pool", swap_with({{"phase", "Retire"}})).field == "payload.nodeImageVersion");
  CHECK(refused("blue_green_node_pool", swap_with({{"maxSurge", 1}})).type == "unknown-field");
  auto big = refused("apply_workload", {{"blob", std::string(70 * 1024, 'x')}});
  CHECK(big.field == "payload");
  CHECK_THAT(big.message, Catch::Contains("64 KiB"));
}

TEST_CASE("payloads: apply_workload and delete_workload carry an optional placement", "[protocol][command]") {
  const json manifest = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "llama"}}}};
  const json placement = {{"workload", "llama"},
                          {"generation", 3},
                          {"gpusPerReplica", 4},
                          {"cpuMillicores", 16000},
                          {"memoryBytes", std::int64_t{64} << 30},
                          {"nodes", {{{"node", "n2"}, {"replicas", 1}}, {{"node", "n1"}, {"replicas", 2}}}}};
  auto apply = parse_command("a1", "apply_workload", {{"manifests", {manifest}}, {"placement", placement}});
  REQUIRE(apply.ok());
  const auto& a = std::get<ApplyWorkload>(apply->payload);
  CHECK(a.objects == std::vector<json>{manifest});
  REQUIRE(a.placement.has_value());
  CHECK(a.placement->workload == "llama");
  CHECK(a.placement->generation == 3);
  CHECK(a.placement->gpus_per_replica == 4);
  CHECK(a.placement->cpu_millicores == 16000);
  CHECK(a.placement->memory_bytes == std::int64_t{64} << 30);
  CHECK(a.placement->nodes == std::vector<NodeReplicas>{{"n1", 2}, {"n2", 1}});  // sorted by node
  json canonical = placement;
  canonical["nodes"] = {{{"node", "n1"}, {"replicas", 2}}, {{"node", "n2"}, {"replicas", 1}}};
  CHECK(to_json(apply->payload) == json{{"manifests", {manifest}}, {"placement", canonical}});
  auto again = parse_command("a1", "apply_workload", to_json(apply->payload));
  REQUIRE(again.ok());
  CHECK(*again == *apply);

  // Requests default to 0; an empty node list holds nothing in this cluster.
  auto minimal = parse_command(
      "a2", "apply_workload",
      {{"manifests", {manifest}}, {"placement", {{"workload", "w"}, {"generation", 0}, {"nodes", json::array()}}}});
  REQUIRE(minimal.ok());
  const auto& m = *std::get<ApplyWorkload>(minimal->payload).placement;
  CHECK((m.gpus_per_replica == 0 && m.cpu_millicores == 0 && m.memory_bytes == 0 && m.nodes.empty()));
  // Without a placement the command is what it was: manifests only.
  auto plain = parse_command("a3", "apply_workload", {{"manifests", {manifest}}});
  CHECK_FALSE(std::get<ApplyWorkload>(plain->payload).placement.has_value());
  CHECK(to_json(plain->payload) == json{{"manifests", {manifest}}});
  CHECK_FALSE(*plain == *apply);

  auto del =
      parse_command("d1", "delete_workload", {{"manifests", {manifest}}, {"placement", {{"workload", "llama"}}}});
  REQUIRE(del.ok());
  CHECK(std::get<DeleteWorkload>(del->payload).placement->workload == "llama");
  CHECK(to_json(del->payload) == json{{"manifests", {manifest}}, {"placement", {{"workload", "llama"}}}});
  CHECK(*parse_command("d1", "delete_workload", to_json(del->payload)) == *del);
}

TEST_CASE("payloads: a bad placement is refused naming the member", "[protocol][command]") {
  const json manifest = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}};
  const json good = {
      {"workload", "llama"}, {"generation", 1}, {"gpusPerReplica", 1}, {"nodes", {{{"node", "n1"}, {"replicas", 1}}}}};
  auto apply = [&](const json& patch) {
    json placement = good;
    placement.merge_patch(patch);
    return refused("apply_workload", {{"manifests", {manifest}}, {"placement", placement}});
  };
  CHECK(refused("apply_workload", {{"manifests", {manifest}}, {"placement", "llama"}}).field == "payload.placement");
  CHECK(apply({{"workload", nullptr}}).field == "payload.placement.workload");
  CHECK(apply({{"workload", "Not_A_Name"}}).field == "payload.placement.workload");
  CHECK(apply({{"generation", nullptr}}).field == "payload.placement.generation");
  CHECK(apply({{"generation", -1}}).field == "payload.placement.generation");
  CHECK(apply({{"generation", 1.5}}).field == "payload.placement.generation");
  CHECK(apply({{"gpusPerReplica", 17}}).field == "payload.placement.gpusPerReplica");
  CHECK(apply({{"cpuMillicores", -1}}).field == "payload.placement.cpuMillicores");
  CHECK(apply({{"memoryBytes", "1Gi"}}).field == "payload.placement.memoryBytes");
  CHECK(apply({{"nodes", nullptr}}).field == "payload.placement.nodes");
  CHECK(apply({{"nodes", {"n1"}}}).field == "payload.placement.nodes[0]");
  CHECK(apply({{"nodes", {{{"node", "n1"}}}}}).field == "payload.placement.nodes[0].replicas");
  CHECK(apply({{"nodes", {{{"node", "n1"}, {"replicas", 0}}}}}).field == "payload.placement.nodes[0].replicas");
  CHECK(apply({{"nodes", {{{"node", "n1"}, {"replicas", 10001}}}}}).field == "payload.placement.nodes[0].replicas");
  CHECK(apply({{"nodes", {{{"node", "Bad_Node"}, {"replicas", 1}}}}}).field == "payload.placement.nodes[0].node");
  auto twice = apply({{"nodes", {{{"node", "n1"}, {"replicas", 1}}, {{"node", "n1"}, {"replicas", 2}}}}});
  CHECK(twice.field == "payload.placement.nodes[1].node");
  CHECK_THAT(twice.message, Catch::Contains("listed twice"));
  auto unknown = apply({{"nodes", {{{"node", "n1"}, {"replicas", 1}, {"gpus", 8}}}}});
  CHECK(unknown.type == "unknown-field");
  CHECK(unknown.field == "payload.placement.nodes[0].gpus");
  CHECK(apply({{"replicas", 3}}).field == "payload.placement.replicas");
  json many = json::array();
  for (int i = 0; i < 5001; ++i) many.push_back({{"node", "n" + std::to_string(i)}, {"replicas", 1}});
  json huge = good;
  huge["nodes"] = many;
  // 5,001 nodes are over kMaxPayloadBytes before they are over model::kMaxNodes.
  CHECK(refused("apply_workload", {{"manifests", {manifest}}, {"placement", huge}}).field == "payload");
  // delete_workload's placement names the workload and nothing else.
  CHECK(refused("delete_workload", {{"manifests", {manifest}}, {"placement", good}}).type == "unknown-field");
  CHECK(refused("delete_workload", {{"manifests", {manifest}}, {"placement", json::object()}}).field ==
        "payload.placement.workload");
  // The manifests stay required.
  CHECK(refused("apply_workload", {{"placement", good}}).field == "payload.manifests");
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
