// Issue #10: an agent credential that ended (replaced by a re-registration, revoked, or of a cluster deleted and
// created again under its name) is refused at once, and never leases a command or writes inventory or state, not
// even on a replica whose cache still knows it. Before the fix the credential cache kept it for 60 s, and a long
// poll claimed commands after its wait without looking at the credential again.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "agents/fleet_spec.hpp"
#include "agents/sim_cluster.hpp"
#include "fleetd/testing/temp_postgres.hpp"
#include "integration-tests/fleetd_process.hpp"
#include "protocol/heartbeat_sender.hpp"

using namespace fleet::itest;
using nlohmann::json;
namespace agent = fleet::agent;
namespace model = fleet::model;
namespace protocol = fleet::protocol;
using SteadyClock = std::chrono::steady_clock;

namespace {

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

std::string mint_bootstrap(FleetdProcess& fleetd, const std::string& cluster) {
  return fleetd.call_json("POST", "/v1/clusters/" + cluster + "/bootstrap-tokens", "", 201)["token"];
}

std::string register_with(FleetdProcess& fleetd, const std::string& bootstrap) {
  auto reg = fleetd.call("POST", "/v1/agents/register", "", {}, bootstrap);
  INFO(reg.body);
  REQUIRE(reg.status == 200);
  return json::parse(reg.body)["credential"];
}

void create_cluster(FleetdProcess& fleetd, const std::string& name) {
  fleetd.call_json("POST", "/v1/clusters", json{{"name", name}, {"provider", "aks"}}.dump(), 201);
}

// One agent as a test drives it: its credential and the heartbeats it sends, to whichever fleetd it is given.
struct TestAgent {
  TestAgent(std::string cluster_name, std::string cred, model::ClusterInventory inv)
      : cluster(std::move(cluster_name)), credential(std::move(cred)), inventory(std::move(inv)) {}

  fleet::http::ClientResponse heartbeat(FleetdProcess& f) {
    return f.call("POST", "/v1/agents/" + cluster + "/heartbeat", protocol::to_json(sender.next(inventory)).dump(), {},
                  credential);
  }
  int full(FleetdProcess& f) {
    sender.request_full();
    return heartbeat(f).status;
  }
  int delta(FleetdProcess& f) { return heartbeat(f).status; }
  fleet::http::ClientResponse poll(FleetdProcess& f, const std::string& wait = "0") {
    return f.call("GET", "/v1/agents/" + cluster + "/commands?wait=" + wait, "", {}, credential);
  }

  std::string cluster, credential;
  model::ClusterInventory inventory;
  protocol::HeartbeatSender sender{"0.1.0-itest"};
};

model::ClusterInventory inventory_of(const std::string& cluster) {
  auto spec = agent::generate_fleet_spec(1, "h100:8x100%", 7);
  REQUIRE(spec);
  auto inv = agent::initial_inventory(spec->clusters[0], 7);
  REQUIRE(inv.nodes.size() >= 2);
  (void)cluster;
  return inv;
}

// A live agent: its first full inventory and an unchanged delta are stored and cached, and its first poll found
// nothing queued (so the next poll is answered from memory).
TestAgent live_agent(FleetdProcess& fleetd, const std::string& cluster, const std::string& credential) {
  TestAgent a(cluster, credential, inventory_of(cluster));
  REQUIRE(a.full(fleetd) == 200);
  REQUIRE(a.delta(fleetd) == 200);
  auto polled = a.poll(fleetd);
  REQUIRE(polled.status == 200);
  REQUIRE(json::parse(polled.body)["commands"].empty());
  return a;
}

long long count(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  return txn.exec(sql)[0][0].as<long long>();
}

void exec(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  txn.exec(sql);
}

json enqueue(FleetdProcess& fleetd, const std::string& cluster, const std::string& id) {
  return fleetd.call_json("POST", "/v1/clusters/" + cluster + "/commands",
                          json{{"id", id}, {"kind", "cordon_cluster"}}.dump(), 201);
}

std::string command_state(FleetdProcess& fleetd, const std::string& id) {
  return fleetd.call_json("GET", "/v1/commands/" + id)["state"];
}

}  // namespace

TEST_CASE("a re-registered agent's old credential is refused at once: no heartbeat, no poll, no lease",
          "[integration][agents][security]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  create_cluster(fleetd, "cred-1");
  TestAgent old_agent = live_agent(fleetd, "cred-1", register_with(fleetd, mint_bootstrap(fleetd, "cred-1")));

  // A long poll of the old agent is held when the agent registers again.
  fleet::http::ClientOptions options;
  options.base_url = fleetd.base_url();
  options.timeout = std::chrono::seconds(30);
  auto poll_client = fleet::http::Client::create(options);
  REQUIRE(poll_client);
  auto held = std::async(std::launch::async, [&] {
    auto r = (*poll_client)
                 ->request("GET", "/v1/agents/cred-1/commands?wait=20s",
                           {{"authorization", "Bearer " + old_agent.credential}}, "");
    REQUIRE(r);
    return *r;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(held.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);

  const auto replaced_at = SteadyClock::now();
  const std::string new_credential = register_with(fleetd, mint_bootstrap(fleetd, "cred-1"));
  // The held poll wakes on this command after the re-registration: it must not lease it.
  enqueue(fleetd, "cred-1", "after-reregistration");
  auto woken = held.get();
  INFO(woken.body);
  CHECK(woken.status == 401);
  CHECK(command_state(fleetd, "after-reregistration") == "queued");

  // Every path of the old credential is refused at once: an unchanged delta (which the cache answered alone), a
  // full inventory, a poll with nothing new queued, and one with a command waiting.
  CHECK(old_agent.delta(fleetd) == 401);
  CHECK(old_agent.full(fleetd) == 401);
  CHECK(old_agent.poll(fleetd).status == 401);
  enqueue(fleetd, "cred-1", "queued-for-new-agent");
  CHECK(old_agent.poll(fleetd).status == 401);
  CHECK(command_state(fleetd, "queued-for-new-agent") == "queued");

  // The new agent's inventory (one node cordoned) and sequence are what stay stored, whatever the old one sends.
  model::ClusterInventory changed = inventory_of("cred-1");
  changed.nodes[0].schedulable = false;
  TestAgent new_agent("cred-1", new_credential, changed);
  REQUIRE(new_agent.full(fleetd) == 200);
  CHECK(old_agent.full(fleetd) == 401);
  CHECK(old_agent.delta(fleetd) == 401);
  const std::string url = fleetd.database_url();
  CHECK(count(url, "SELECT count(*) FROM nodes WHERE NOT schedulable") == 1);
  CHECK(count(url, "SELECT heartbeat_sequence FROM agents") == 1);
  auto leased = new_agent.poll(fleetd);
  REQUIRE(leased.status == 200);
  CHECK(json::parse(leased.body)["commands"].size() == 2);
  const double took = seconds_since(replaced_at);
  CHECK(took < 10.0);  // all of it, well inside the old 60 s window
}

TEST_CASE("a cluster deleted and created again under its name is out of reach of the old agent's credential",
          "[integration][agents][security]") {
  TempDir dir;
  // Every heartbeat's time is written (within 250 ms): a stale credential would show at once as `ready`.
  FleetdProcess fleetd(
      FleetdOptions(dir.path() / "data", "", {"--heartbeat-interval", "1", "--unreachable-after", "3"}));
  create_cluster(fleetd, "cred-2");
  TestAgent old_agent = live_agent(fleetd, "cred-2", register_with(fleetd, mint_bootstrap(fleetd, "cred-2")));

  REQUIRE(fleetd.call("DELETE", "/v1/clusters/cred-2").status == 204);
  create_cluster(fleetd, "cred-2");
  enqueue(fleetd, "cred-2", "for-the-new-cluster");

  CHECK(old_agent.delta(fleetd) == 401);
  CHECK(old_agent.full(fleetd) == 401);
  CHECK(old_agent.poll(fleetd).status == 401);
  CHECK(old_agent.delta(fleetd) == 401);

  std::this_thread::sleep_for(std::chrono::seconds(1));  // four liveness batches
  auto cluster = fleetd.call_json("GET", "/v1/clusters/cred-2");
  CHECK(cluster["state"] == "registering");
  CHECK(cluster["lastHeartbeat"].is_null());
  CHECK(fleetd.call_json("GET", "/v1/clusters/cred-2/nodes")["items"].empty());
  CHECK(command_state(fleetd, "for-the-new-cluster") == "queued");
}

TEST_CASE(
    "two replicas: a credential ended through one is refused by the other, and writes nothing even while "
    "that one's cache still knows it",
    "[integration][agents][security]") {
  auto pg = fleet::testing::TempPostgres::start();
  REQUIRE(pg);
  const std::string url = (*pg)->connection_url();
  TempDir dir;
  const std::string token = create_admin_token(url);
  // b writes every heartbeat's time (within 250 ms), so a liveness write under a stale credential would show.
  FleetdProcess a(FleetdOptions(dir.path() / "a", url, {}, token));
  FleetdProcess b(
      FleetdOptions(dir.path() / "b", url, {"--heartbeat-interval", "1", "--unreachable-after", "3"}, token));

  create_cluster(a, "cred-3");
  TestAgent first = live_agent(b, "cred-3", register_with(a, mint_bootstrap(a, "cred-3")));

  // Replaced through a: b hears of it from the database and refuses the old credential within moments.
  const auto replaced_at = SteadyClock::now();
  const std::string second_credential = register_with(a, mint_bootstrap(a, "cred-3"));
  int status = 0;
  while (seconds_since(replaced_at) < 10.0) {
    status = first.delta(b);
    if (status == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double refused_after = seconds_since(replaced_at);
  REQUIRE(status == 401);
  CHECK(refused_after < 2.0);
  CHECK(first.poll(b).status == 401);

  // Now a notification that never arrives: b's cache keeps saying yes to the second credential after it ended.
  // Every write still checks the credential in its own transaction.
  exec(url, "DROP TRIGGER agents_credential_notify ON agents");
  TestAgent second = live_agent(b, "cred-3", second_credential);
  const long long sequence = count(url, "SELECT heartbeat_sequence FROM agents");
  register_with(a, mint_bootstrap(a, "cred-3"));
  exec(url, "UPDATE clusters SET state = 'unreachable' WHERE name = 'cred-3'");

  second.delta(b);  // may be acknowledged from b's memory; its liveness write must not count
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(a.call_json("GET", "/v1/clusters/cred-3")["state"] == "unreachable");

  // b's cache still says yes at the door: the inventory write's own check refuses (and b forgets the credential).
  second.inventory.nodes[1].schedulable = false;
  CHECK(second.full(b) == 401);
  enqueue(a, "cred-3", "not-for-the-old-credential");
  auto polled = second.poll(b);
  INFO(polled.body);
  CHECK(polled.status == 401);
  CHECK(command_state(a, "not-for-the-old-credential") == "queued");
  CHECK(count(url, "SELECT heartbeat_sequence FROM agents") == sequence);
  CHECK(count(url, "SELECT count(*) FROM nodes WHERE NOT schedulable") == 0);
}

TEST_CASE("revoking an agent credential or an unused bootstrap token takes effect at once",
          "[integration][agents][security]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  create_cluster(fleetd, "cred-4");
  TestAgent agent = live_agent(fleetd, "cred-4", register_with(fleetd, mint_bootstrap(fleetd, "cred-4")));
  const std::string operator_token =
      fleetd.call_json("POST", "/v1/tokens", R"({"role": "operator"})", 201)["token"].get<std::string>();

  // Admins only.
  REQUIRE(fleetd.call("POST", "/v1/clusters/cred-4/agent:revoke", "", {}, operator_token).status == 403);
  REQUIRE(agent.delta(fleetd) == 200);

  auto revoked = fleetd.call("POST", "/v1/clusters/cred-4/agent:revoke");
  INFO(revoked.body);
  REQUIRE(revoked.status == 204);
  CHECK(agent.delta(fleetd) == 401);
  CHECK(agent.poll(fleetd).status == 401);
  CHECK(agent.full(fleetd) == 401);
  // Nothing left to revoke; no such cluster.
  auto again = fleetd.call("POST", "/v1/clusters/cred-4/agent:revoke");
  CHECK(again.status == 404);
  CHECK(again.headers["content-type"] == "application/problem+json");
  CHECK(fleetd.call("POST", "/v1/clusters/nope/agent:revoke").status == 404);

  // A new bootstrap token registers the agent again; the stored inventory was kept, so a delta follows on.
  TestAgent back("cred-4", register_with(fleetd, mint_bootstrap(fleetd, "cred-4")), agent.inventory);
  REQUIRE(back.full(fleetd) == 200);
  // With an Idempotency-Key a retried revocation gets the first answer.
  const fleet::http::Headers key{{"idempotency-key", "revoke-cred-4"}};
  CHECK(fleetd.call("POST", "/v1/clusters/cred-4/agent:revoke", "", key).status == 204);
  CHECK(fleetd.call("POST", "/v1/clusters/cred-4/agent:revoke", "", key).status == 204);
  CHECK(back.delta(fleetd) == 401);

  // Bootstrap tokens: an unused one revoked never registers; a used, unknown or other cluster's one is not found.
  auto minted = fleetd.call_json("POST", "/v1/clusters/cred-4/bootstrap-tokens", "", 201);
  const std::string id = minted["id"];
  REQUIRE(
      fleetd.call("POST", "/v1/clusters/cred-4/bootstrap-tokens/" + id + ":revoke", "", {}, operator_token).status ==
      403);
  create_cluster(fleetd, "cred-5");
  CHECK(fleetd.call("POST", "/v1/clusters/cred-5/bootstrap-tokens/" + id + ":revoke").status == 404);
  REQUIRE(fleetd.call("POST", "/v1/clusters/cred-4/bootstrap-tokens/" + id + ":revoke").status == 204);
  CHECK(fleetd.call("POST", "/v1/agents/register", "", {}, minted["token"].get<std::string>()).status == 401);
  CHECK(fleetd.call("POST", "/v1/clusters/cred-4/bootstrap-tokens/" + id + ":revoke").status == 404);
  CHECK(fleetd.call("POST", "/v1/clusters/cred-4/bootstrap-tokens/not-a-uuid:revoke").status == 404);
  auto used = fleetd.call_json("POST", "/v1/clusters/cred-4/bootstrap-tokens", "", 201);
  register_with(fleetd, used["token"]);
  CHECK(
      fleetd.call("POST", "/v1/clusters/cred-4/bootstrap-tokens/" + used["id"].get<std::string>() + ":revoke").status ==
      404);

  // Every attempt is audited, refusals included.
  std::map<std::string, int> outcomes;
  const json audit = fleetd.call_json("GET", "/v1/audit?limit=100");
  INFO(audit.dump());
  for (const auto& e : audit["items"]) {
    const std::string action = e["action"];
    if (action == "agent.revoke" || action == "bootstrap-token.revoke") {
      outcomes[action + " " + e["outcome"].get<std::string>()]++;
    }
  }
  CHECK(outcomes["agent.revoke success"] == 2);
  CHECK(outcomes["agent.revoke not-found"] == 2);
  CHECK(outcomes["bootstrap-token.revoke success"] == 1);
  CHECK(outcomes["bootstrap-token.revoke not-found"] == 4);
}
