// fleetctl's inventory commands against a real fleetd holding an inventory a heartbeat delivered.
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

TEST_CASE("fleetctl get nodes, get gpus and describe cluster show what the agent reported",
          "[integration][fleetctl][inventory]") {
  TempDir dir;
  const auto data_dir = dir.path() / "data";
  FleetdProcess fleetd{FleetdOptions(data_dir)};
  auto spec = agent::generate_fleet_spec(1, "h100:8x100%", 11);
  REQUIRE(spec);
  const auto& c = spec->clusters[0];
  fleetd.call_json("POST", "/v1/clusters", json{{"name", c.name}, {"provider", c.provider}}.dump(), 201);
  CHECK_FALSE(fleetd.call_json("GET", "/v1/clusters/" + c.name).contains("agentVersion"));
  auto bootstrap = fleetd.call_json("POST", "/v1/clusters/" + c.name + "/bootstrap-tokens", "", 201)["token"];
  auto reg = fleetd.call("POST", "/v1/agents/register", "", {}, bootstrap.get<std::string>());
  REQUIRE(reg.status == 200);
  const std::string credential = json::parse(reg.body)["credential"];

  const model::ClusterInventory inv = agent::initial_inventory(c, 11);
  std::size_t gpus = 0;
  for (const auto& n : inv.nodes) gpus += n.gpus.size();
  REQUIRE(gpus > 0);
  protocol::HeartbeatSender sender("0.1.0-itest");
  auto hb = fleetd.call("POST", "/v1/agents/" + c.name + "/heartbeat", protocol::to_json(sender.next(inv)).dump(), {},
                        credential);
  REQUIRE(hb.status == 200);
  CHECK(fleetd.call_json("GET", "/v1/clusters/" + c.name)["agentVersion"] == "0.1.0-itest");

  const std::string config = (data_dir / "fleetctl.json").string();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {fleetctl_binary(), "--config", config});
    return run_command(args);
  };

  auto nodes = ctl({"get", "nodes", "--cluster", c.name, "-o", "json"});
  INFO(nodes.err);
  REQUIRE(nodes.exit_code == 0);
  CHECK(json::parse(nodes.out)["items"].size() == inv.nodes.size());
  auto table = ctl({"get", "nodes", "--cluster", c.name});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.rfind("NAME", 0) == 0);
  CHECK_THAT(table.out, Catch::Contains(inv.nodes.front().name));
  CHECK(ctl({"get", "nodes", "--cluster", "no-such-cluster"}).exit_code == 3);

  auto all = ctl({"get", "gpus", "--cluster", c.name, "-o", "json"});
  REQUIRE(all.exit_code == 0);
  auto doc = json::parse(all.out);
  CHECK(doc["items"].size() == gpus);
  CHECK(doc["total"] == gpus);
  auto gpu_table = ctl({"get", "gpus", "--health", "healthy"});
  REQUIRE(gpu_table.exit_code == 0);
  CHECK_THAT(gpu_table.out, Catch::Contains("TOTAL"));

  auto described = ctl({"describe", "cluster", c.name});
  INFO(described.out);
  REQUIRE(described.exit_code == 0);
  CHECK(described.err.empty());
  CHECK_THAT(described.out, Catch::Contains("  Agent:"));
  CHECK_THAT(described.out, Catch::Contains("0.1.0-itest"));
  CHECK_THAT(described.out, Catch::Contains("Nodes:             " + std::to_string(inv.nodes.size()) + "\n"));
  CHECK_THAT(described.out, Catch::Contains("GPUs:              " + std::to_string(gpus) + "\n"));
  CHECK_THAT(described.out, Catch::Contains("Node List:"));
}
