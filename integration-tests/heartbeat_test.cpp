// Inventory heartbeats: a full inventory on connect, deltas after, a resync on a gap; only the agent's own
// cluster; writes follow what changed.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <pqxx/pqxx>

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

std::string register_cluster(FleetdProcess& fleetd, const agent::ClusterSpec& spec) {
  fleetd.call_json("POST", "/v1/clusters", json{{"name", spec.name}, {"provider", spec.provider}}.dump(), 201);
  auto bootstrap = fleetd.call_json("POST", "/v1/clusters/" + spec.name + "/bootstrap-tokens", "", 201)["token"];
  auto reg = fleetd.call("POST", "/v1/agents/register", "", {}, bootstrap.get<std::string>());
  REQUIRE(reg.status == 200);
  return json::parse(reg.body)["credential"];
}

json send(FleetdProcess& f, const std::string& cluster, const std::string& credential, const json& body,
          int expect = 200) {
  auto r = f.call("POST", "/v1/agents/" + cluster + "/heartbeat", body.dump(), {}, credential);
  INFO(r.body);
  REQUIRE(r.status == expect);
  return json::parse(r.body);
}

long long count(const FleetdProcess& fleetd, const std::string& sql) {
  pqxx::connection conn(fleetd.database_url());
  pqxx::nontransaction txn(conn);
  return txn.exec(sql)[0][0].as<long long>();
}

}  // namespace

TEST_CASE("heartbeats store the inventory, apply deltas in order and ask for a resync on a gap",
          "[integration][agents]") {
  TempDir dir;
  const auto data_dir = dir.path() / "data";
  FleetdProcess fleetd{FleetdOptions(data_dir)};
  auto spec = agent::generate_fleet_spec(2, "h100:8x100%", 7);
  REQUIRE(spec);
  const auto& a = spec->clusters[0];
  const auto& b = spec->clusters[1];
  const std::string cred_a = register_cluster(fleetd, a);
  const std::string cred_b = register_cluster(fleetd, b);

  model::ClusterInventory inv = agent::initial_inventory(a, 7);
  std::size_t gpus = 0;
  for (const auto& n : inv.nodes) gpus += n.gpus.size();
  REQUIRE(gpus > 0);
  protocol::HeartbeatSender sender("0.1.0-itest");

  // A delta before any full inventory: resync.
  protocol::HeartbeatEnvelope early = sender.next(inv);  // full, sequence 1
  early.full = false;
  early.delta = protocol::InventoryDelta{};
  early.inventory.reset();
  REQUIRE(send(fleetd, a.name, cred_a, protocol::to_json(early))["resync"] == true);

  sender.request_full();
  auto first = send(fleetd, a.name, cred_a, protocol::to_json(sender.next(inv)));
  REQUIRE(first["resync"] == false);
  REQUIRE(first["nodesChanged"] == inv.nodes.size());
  auto cluster = fleetd.call_json("GET", "/v1/clusters/" + a.name);
  REQUIRE(cluster["state"] == "ready");
  REQUIRE(cluster["kubernetesVersion"] == a.kubernetes_version);
  REQUIRE_FALSE(cluster["lastHeartbeat"].is_null());
  REQUIRE(count(fleetd, "SELECT count(*) FROM nodes") == static_cast<long long>(inv.nodes.size()));
  REQUIRE(count(fleetd, "SELECT count(*) FROM gpus") == static_cast<long long>(gpus));

  // The inventory API reads it back: nodes of the cluster, and the fleet's GPUs with totals, paged.
  REQUIRE(fleetd.call_json("GET", "/v1/clusters/" + a.name + "/nodes")["items"].size() == inv.nodes.size());
  REQUIRE(fleetd.call("GET", "/v1/clusters/nope/nodes").status == 404);
  std::map<std::string, long long> by_model;
  for (const auto& n : inv.nodes) {
    for (const auto& g : n.gpus) by_model[g.model]++;
  }
  auto all = fleetd.call_json("GET", "/v1/gpus?cluster=" + a.name);
  REQUIRE(all["total"] == static_cast<long long>(gpus));
  for (const auto& [model, n] : by_model) REQUIRE(all["totals"][model] == n);
  std::size_t paged = 0;
  std::string cont;
  do {
    auto page = fleetd.call_json("GET", "/v1/gpus?limit=5" + (cont.empty() ? "" : "&continue=" + cont));
    paged += page["items"].size();
    cont = page.contains("continue") ? page["continue"].get<std::string>() : "";
  } while (!cont.empty());
  REQUIRE(paged == gpus);
  REQUIRE(fleetd.call_json("GET", "/v1/gpus?model=none")["total"] == 0);
  REQUIRE(fleetd.call("GET", "/v1/gpus?colour=red").status == 400);
  REQUIRE(fleetd.call("GET", "/v1/gpus?limit=0").status == 400);
  REQUIRE(fleetd.call("GET", "/v1/gpus?continue=abc").status == 400);

  // An unchanged inventory: a delta that writes no node.
  auto same = send(fleetd, a.name, cred_a, protocol::to_json(sender.next(inv)));
  REQUIRE(same["nodesChanged"] == 0);

  // One node cordoned: one node written.
  inv.nodes[0].schedulable = false;
  auto env = sender.next(inv);
  REQUIRE_FALSE(env.full);
  REQUIRE(send(fleetd, a.name, cred_a, protocol::to_json(env))["nodesChanged"] == 1);
  REQUIRE(count(fleetd, "SELECT count(*) FROM nodes WHERE NOT schedulable") == 1);

  // The same delta again (a retry) and a gap both ask for a full resync; nothing changes.
  REQUIRE(send(fleetd, a.name, cred_a, protocol::to_json(env))["resync"] == true);
  env.sequence += 5;
  REQUIRE(send(fleetd, a.name, cred_a, protocol::to_json(env))["resync"] == true);
  sender.request_full();
  REQUIRE(send(fleetd, a.name, cred_a, protocol::to_json(sender.next(inv)))["resync"] == false);

  // Another cluster's credential, no credential, a malformed body.
  auto forbidden = fleetd.call("POST", "/v1/agents/" + a.name + "/heartbeat",
                               protocol::to_json(sender.next(inv)).dump(), {}, cred_b);
  REQUIRE(forbidden.status == 403);
  REQUIRE(fleetd.call("POST", "/v1/agents/" + a.name + "/heartbeat", "{}", {}, std::string("")).status == 401);
  REQUIRE(fleetd.call("POST", "/v1/agents/" + a.name + "/heartbeat", "{\"sequence\": \"x\"}", {}, cred_a).status ==
          422);
  REQUIRE(fleetd.call("POST", "/v1/agents/" + a.name + "/heartbeat", "{", {}, cred_a).status == 400);
  REQUIRE(count(fleetd, "SELECT count(*) FROM nodes") == static_cast<long long>(inv.nodes.size()));

  // Cluster b never sent a heartbeat: still registering, no nodes.
  REQUIRE(fleetd.call_json("GET", "/v1/clusters/" + b.name)["state"] == "registering");
}

TEST_CASE("after a restart of fleetd agents go on with deltas: no resync and no write for unchanged ones",
          "[integration][agents]") {
  TempDir dir;
  const auto data_dir = dir.path() / "data";
  FleetdProcess fleetd{FleetdOptions(data_dir)};
  auto spec = agent::generate_fleet_spec(1, "h100:8x100%", 11);
  REQUIRE(spec);
  const auto& a = spec->clusters[0];
  const std::string cred = register_cluster(fleetd, a);
  model::ClusterInventory inv = agent::initial_inventory(a, 11);
  protocol::HeartbeatSender sender("1.0.0");
  REQUIRE(send(fleetd, a.name, cred, protocol::to_json(sender.next(inv)))["resync"] == false);
  // Unchanged deltas are answered from the cache: the stored sequence stays at the full heartbeat's.
  for (int i = 0; i < 3; ++i)
    REQUIRE(send(fleetd, a.name, cred, protocol::to_json(sender.next(inv)))["resync"] == false);
  REQUIRE(count(fleetd, "SELECT heartbeat_sequence FROM agents") == 1);

  // Rows keep their xmin until written again: the proof that nothing was.
  const long long newest = count(fleetd, "SELECT max(xmin::text::bigint) FROM nodes");
  const std::string rewritten = "SELECT count(*) FROM nodes WHERE xmin::text::bigint > " + std::to_string(newest);

  REQUIRE(fleetd.terminate() == 0);
  fleetd.restart();
  // The warm start cached the inventory before fleetd listened.
  CHECK(fleetd.call("GET", "/metrics").body.find("fleetd_heartbeat_cache_clusters 1") != std::string::npos);
  // Sequence 5 builds on the acknowledged 4; the database has 1 and the same inventory: applied, nothing written.
  auto next = send(fleetd, a.name, cred, protocol::to_json(sender.next(inv)));
  CHECK(next["resync"] == false);
  CHECK(next["sequence"] == 5);
  CHECK(next["commandsPending"] == false);  // no command open: the warm start marked the cluster quiet
  CHECK(count(fleetd, "SELECT heartbeat_sequence FROM agents") == 1);
  CHECK(count(fleetd, rewritten) == 0);
  // And the cache carries on from there: a change is written with its sequence, one node row.
  inv.nodes[0].schedulable = false;
  auto changed = send(fleetd, a.name, cred, protocol::to_json(sender.next(inv)));
  CHECK(changed["nodesChanged"] == 1);
  CHECK(count(fleetd, "SELECT heartbeat_sequence FROM agents") == 6);
  CHECK(count(fleetd, "SELECT count(*) FROM nodes WHERE NOT schedulable") == 1);
  CHECK(count(fleetd, rewritten) == 1);
  REQUIRE(fleetd.call_json("GET", "/v1/clusters/" + a.name)["state"] == "ready");

  // A cluster with an open command is not marked quiet by the warm start.
  fleetd.call_json("POST", "/v1/clusters/" + a.name + "/commands",
                   json{{"id", "warm-1"}, {"kind", "cordon_cluster"}}.dump(), 201);
  REQUIRE(fleetd.terminate() == 0);
  fleetd.restart();
  auto pending = send(fleetd, a.name, cred, protocol::to_json(sender.next(inv)));
  CHECK(pending["resync"] == false);
  CHECK(pending["commandsPending"] == true);
}

TEST_CASE("a large cluster's full inventory fits the heartbeat's own body limit, and nothing larger does",
          "[integration][agents]") {
  TempDir dir;
  const auto data_dir = dir.path() / "data";
  FleetdProcess fleetd{FleetdOptions(data_dir)};
  agent::ClusterSpec big;
  big.name = "aks-large-1";
  big.provider = "aks";
  big.pools.push_back(
      agent::make_pool("gpu", 3000, 96, 1024, agent::GpuSpec{"NVIDIA H100 80GB HBM3", 8, 80, "550.90.07", "12.4"}));
  const std::string cred = register_cluster(fleetd, big);
  model::ClusterInventory inv = agent::initial_inventory(big, 3);
  protocol::HeartbeatSender sender("1.0.0");
  const std::string body = protocol::to_json(sender.next(inv)).dump();
  REQUIRE(body.size() > 1024 * 1024);  // over the limit of every other request
  auto stored = fleetd.call("POST", "/v1/agents/" + big.name + "/heartbeat", body, {}, cred);
  INFO(stored.body);
  REQUIRE(stored.status == 200);
  CHECK(count(fleetd, "SELECT count(*) FROM nodes") == 3000);
  CHECK(count(fleetd, "SELECT count(*) FROM gpus") == 24000);

  // The same size anywhere else is refused before it is read; so is a heartbeat without a credential.
  auto elsewhere = fleetd.call("POST", "/v1/clusters", body);
  CHECK(elsewhere.status == 413);
  CHECK(fleetd.call("POST", "/v1/agents/" + big.name + "/heartbeat", body, {}, std::string("")).status == 413);
  // The large limit is only for the cluster's own agent (#10): any Authorization header used to be enough.
  CHECK(fleetd.call("POST", "/v1/agents/" + big.name + "/heartbeat", body, {{"authorization", "x"}}).status == 413);
  CHECK(fleetd.call("POST", "/v1/agents/" + big.name + "/heartbeat", body, {}, std::string("invented")).status == 413);
  agent::ClusterSpec other = big;
  other.name = "aks-small-2";
  other.pools = {agent::make_pool("cpu", 1, 8, 32, std::nullopt)};
  const std::string other_cred = register_cluster(fleetd, other);
  CHECK(fleetd.call("POST", "/v1/agents/" + big.name + "/heartbeat", body, {}, other_cred).status == 413);
  // Its own agent's full inventory after a restart, the credential read again before the body: accepted.
  REQUIRE(fleetd.terminate() == 0);
  fleetd.restart();
  protocol::HeartbeatSender again("1.0.0");
  auto restarted =
      fleetd.call("POST", "/v1/agents/" + big.name + "/heartbeat", protocol::to_json(again.next(inv)).dump(), {}, cred);
  INFO(restarted.body);
  CHECK(restarted.status == 200);
  // Past the heartbeat's own limit (16 MiB): 413, and the stored inventory is unchanged.
  auto huge =
      fleetd.call("POST", "/v1/agents/" + big.name + "/heartbeat", std::string(17 * 1024 * 1024, ' '), {}, cred);
  CHECK(huge.status == 413);
  CHECK(count(fleetd, "SELECT count(*) FROM nodes") == 3000);
}

TEST_CASE("a heartbeat with fields fleetd does not know is accepted, with a Warning naming them, and counted",
          "[integration][agents]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  auto spec = agent::generate_fleet_spec(1, "h100:8x100%", 3);
  REQUIRE(spec);
  const auto& a = spec->clusters[0];
  const std::string cred = register_cluster(fleetd, a);
  protocol::HeartbeatSender sender("9.0.0-newer");
  json body = protocol::to_json(sender.next(agent::initial_inventory(a, 3)));
  body["compression"] = "zstd";
  body["inventory"]["nodes"][0]["conditions"] = json::array();
  auto r = fleetd.call("POST", "/v1/agents/" + a.name + "/heartbeat", body.dump(), {}, cred);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.headers["warning"] == R"(299 - "unknown fields ignored: compression, inventory.nodes[0].conditions")");
  // A heartbeat without them carries no Warning.
  auto plain = fleetd.call("POST", "/v1/agents/" + a.name + "/heartbeat",
                           protocol::to_json(sender.next(agent::initial_inventory(a, 3))).dump(), {}, cred);
  REQUIRE(plain.status == 200);
  CHECK(plain.headers.count("warning") == 0);
  const std::string metrics = fleetd.call("GET", "/metrics").body;
  CHECK(metrics.find("fleetd_heartbeat_unknown_fields_total 1\n") != std::string::npos);
}
