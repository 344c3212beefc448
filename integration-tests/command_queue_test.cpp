// The agent command queue: long polls that wake on an enqueue, leases that expire and re-deliver, idempotent
// creates and reports, per-cluster credentials, and no command lost or finished twice across a kill -9.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The agent's side: its own connection, so a held poll does not block the operator's calls.
struct Agent {
  Agent(const std::string& base_url, std::string cluster_name, std::string cred)
      : cluster(std::move(cluster_name)), credential(std::move(cred)) {
    fleet::http::ClientOptions options;
    options.base_url = base_url;
    options.timeout = std::chrono::milliseconds(70000);  // longer than the longest poll
    auto c = fleet::http::Client::create(options);
    REQUIRE(c);
    client = std::move(*c);
  }
  fleet::http::ClientResponse request(const std::string& method, const std::string& path,
                                      const std::string& body = "") {
    fleet::http::Headers h{{"authorization", "Bearer " + credential}};
    if (!body.empty()) h["content-type"] = "application/json";
    auto r = client->request(method, path, h, body);
    REQUIRE(r);
    return std::move(*r);
  }
  json poll(const std::string& query) {
    auto r = request("GET", "/v1/agents/" + cluster + "/commands?" + query);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  json report(const std::string& id, const json& body, int expect = 200) {
    auto r = request("POST", "/v1/agents/" + cluster + "/commands/" + id, body.dump());
    INFO(r.body);
    REQUIRE(r.status == expect);
    return json::parse(r.body);
  }
  std::string cluster, credential;
  std::unique_ptr<fleet::http::Client> client;
};

json enqueue(FleetdProcess& fleetd, const std::string& cluster, const json& body, int expect = 201) {
  return fleetd.call_json("POST", "/v1/clusters/" + cluster + "/commands", body.dump(), expect);
}

}  // namespace

TEST_CASE("a command long poll wakes within a second of an enqueue and ends empty when the wait is over",
          "[integration][commands]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  Agent agent(fleetd.base_url(), "poll-1", register_agent(fleetd, "poll-1"));

  // Nothing queued: the poll is held for the whole wait and answers an empty list.
  auto start = Clock::now();
  auto empty = agent.poll("wait=2s");
  double waited = seconds_since(start);
  REQUIRE(empty["commands"].empty());
  REQUIRE(empty["leaseSeconds"] == 60);
  CHECK(waited >= 1.9);
  CHECK(waited < 3.0);
  start = Clock::now();
  REQUIRE(agent.poll("wait=500ms")["commands"].empty());
  CHECK(seconds_since(start) >= 0.45);
  REQUIRE(agent.poll("wait=0")["commands"].empty());

  // A held poll wakes when an operator enqueues (through LISTEN/NOTIFY).
  for (int round = 0; round < 3; ++round) {
    auto held = std::async(std::launch::async, [&] {
      auto got = agent.poll("wait=20s");
      return std::make_pair(got, Clock::now());  // the answer's time, taken after it arrived
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    REQUIRE(held.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);  // still held
    auto enqueued_at = Clock::now();
    auto created =
        enqueue(fleetd, "poll-1", {{"kind", "run_probe"}, {"payload", {{"nodes", {"n-" + std::to_string(round)}}}}});
    auto [got, answered_at] = held.get();
    double latency = std::chrono::duration<double>(answered_at - enqueued_at).count();
    std::cerr << "long-poll wake latency (enqueue request sent -> poll answered): " << latency * 1000 << " ms\n";
    CHECK(latency < 1.0);
    REQUIRE(got["commands"].size() == 1);
    const auto& c = got["commands"][0];
    REQUIRE(c["id"] == created["id"]);
    REQUIRE(c["kind"] == "run_probe");
    REQUIRE(c["payload"]["nodes"][0] == "n-" + std::to_string(round));
    REQUIRE(c["attempt"] == 1);
    REQUIRE(c["leaseExpiresAt"].is_string());
    REQUIRE(created["state"] == "queued");
    REQUIRE(fleetd.call_json("GET", "/v1/commands/" + c["id"].get<std::string>())["state"] == "leased");
  }

  // Queued commands come back at once, oldest first, at most `limit`.
  for (int i = 0; i < 3; ++i)
    enqueue(fleetd, "poll-1", {{"id", "batch-" + std::to_string(i)}, {"kind", "cordon_cluster"}});
  start = Clock::now();
  auto two = agent.poll("wait=30s&limit=2");
  CHECK(seconds_since(start) < 1.0);
  REQUIRE(two["commands"].size() == 2);
  REQUIRE(two["commands"][0]["id"] == "batch-0");
  REQUIRE(two["commands"][1]["id"] == "batch-1");
  REQUIRE(agent.poll("wait=30")["commands"][0]["id"] == "batch-2");

  // Bad query parameters.
  for (std::string q : {"wait=56s", "wait=abc", "wait=-1", "wait=1m", "limit=0", "limit=101", "colour=red"}) {
    auto r = agent.request("GET", "/v1/agents/poll-1/commands?" + q);
    INFO(q << " " << r.body);
    REQUIRE(r.status == 400);
    REQUIRE(r.headers["content-type"] == "application/problem+json");
  }

  // The gauge of held polls is back to zero, and SIGTERM ends a held poll cleanly.
  auto held =
      std::async(std::launch::async, [&] { return agent.request("GET", "/v1/agents/poll-1/commands?wait=50s"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto metrics = fleetd.call("GET", "/metrics").body;
  REQUIRE(metrics.find("fleetd_command_polls_waiting 1") != std::string::npos);
  start = Clock::now();
  REQUIRE(fleetd.terminate() == 0);
  CHECK(seconds_since(start) < 10.0);
  auto answered = held.get();
  REQUIRE(answered.status == 200);
  REQUIRE(json::parse(answered.body)["commands"].empty());
}

TEST_CASE("command leases expire and re-deliver, reports extend and finish them, duplicates are harmless",
          "[integration][commands]") {
  TempDir dir;
  FleetdProcess fleetd(
      FleetdOptions(dir.path() / "data", "", {"--command-lease-seconds", "2", "--command-max-attempts", "3"}));
  Agent agent(fleetd.base_url(), "lease-1", register_agent(fleetd, "lease-1"));

  enqueue(
      fleetd, "lease-1",
      {{"id", "up-1"}, {"kind", "upgrade_node_pool"}, {"payload", {{"pool", "gpu"}, {"kubernetesVersion", "1.32.7"}}}});
  auto first = agent.poll("wait=5s");
  REQUIRE(first["leaseSeconds"] == 2);
  REQUIRE(first["commands"][0]["attempt"] == 1);

  // No report: the lease passes and a held poll gets it again, attempt 2.
  auto start = Clock::now();
  auto again = agent.poll("wait=10s");
  double redelivery = seconds_since(start);
  std::cerr << "lease re-delivery after a 2 s lease: " << redelivery << " s after the poll started\n";
  REQUIRE(again["commands"].size() == 1);
  REQUIRE(again["commands"][0]["id"] == "up-1");
  REQUIRE(again["commands"][0]["attempt"] == 2);
  CHECK(redelivery < 4.0);

  // Running reports keep it leased past the original lease.
  for (int i = 0; i < 4; ++i) {
    auto r = agent.report("up-1", {{"state", "running"}, {"progress", {{"step", i}}}});
    REQUIRE(r["state"] == "running");
    REQUIRE(r["duplicate"] == false);
    REQUIRE(r["leaseExpiresAt"].is_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(900));
  }
  agent.report("up-1", {{"state", "running"}});
  REQUIRE(agent.poll("wait=1s")["commands"].empty());
  REQUIRE(fleetd.call_json("GET", "/v1/commands/up-1")["attempts"] == 2);

  auto done =
      agent.report("up-1", {{"state", "succeeded"}, {"message", "pool gpu at 1.32.7"}, {"progress", {{"step", 9}}}});
  REQUIRE(done["state"] == "succeeded");
  REQUIRE(done["duplicate"] == false);
  REQUIRE(done["finishedAt"].is_string());
  REQUIRE(done["leaseExpiresAt"].is_null());
  REQUIRE(done["progress"]["step"] == 9);
  // A retried final report (even a contradicting one) changes nothing.
  auto dup = agent.report("up-1", {{"state", "failed"}, {"message", "late"}});
  REQUIRE(dup["duplicate"] == true);
  REQUIRE(dup["state"] == "succeeded");
  REQUIRE(dup["message"] == "pool gpu at 1.32.7");
  REQUIRE(dup["updatedAt"] == done["updatedAt"]);
  REQUIRE(agent.report("up-1", {{"state", "running"}})["duplicate"] == true);

  // A command whose lease passed while its agent was cut off: the agent's late final report still finishes it.
  enqueue(fleetd, "lease-1", {{"id", "probe-1"}, {"kind", "run_probe"}});
  REQUIRE(agent.poll("wait=5s")["commands"][0]["id"] == "probe-1");
  for (int i = 0; i < 50 && fleetd.call_json("GET", "/v1/commands/probe-1")["state"] != "queued"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(fleetd.call_json("GET", "/v1/commands/probe-1")["state"] == "queued");
  auto late = agent.report("probe-1", {{"state", "succeeded"}});
  REQUIRE(late["state"] == "succeeded");
  REQUIRE(late["duplicate"] == false);

  // Never reported: after max attempts (3) the command fails.
  enqueue(fleetd, "lease-1", {{"id", "drain-1"}, {"kind", "drain_node"}, {"payload", {{"node", "n1"}}}});
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto got = agent.poll("wait=10s");
    REQUIRE(got["commands"].size() == 1);
    REQUIRE(got["commands"][0]["attempt"] == attempt);
  }
  json failed;
  for (int i = 0; i < 60; ++i) {
    failed = fleetd.call_json("GET", "/v1/commands/drain-1");
    if (failed["state"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(failed["state"] == "failed");
  REQUIRE(failed["message"] == "lease expired 3 times");
  REQUIRE(failed["attempts"] == 3);
  REQUIRE(agent.poll("wait=0")["commands"].empty());
  REQUIRE(fleetd.call("GET", "/metrics").body.find("fleetd_command_lease_failures_total 1") != std::string::npos);

  // Bad reports.
  REQUIRE(agent.report("drain-1", {{"state", "done"}}, 422)["type"] == "urn:fleetd:problem:invalid-field");
  agent.report("drain-1", json::object(), 422);
  agent.report("drain-1", {{"state", "running"}, {"colour", "red"}}, 422);
  agent.report("drain-1", {{"state", "running"}, {"progress", "50%"}}, 422);
  agent.report("drain-1", {{"state", "running"}, {"message", std::string(5000, 'x')}}, 422);
  agent.report("nope", {{"state", "running"}}, 404);
}

TEST_CASE("command creation is idempotent by id, validated, audited and listed", "[integration][commands]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  const std::string cred_a = register_agent(fleetd, "cmd-a");
  const std::string cred_b = register_agent(fleetd, "cmd-b");

  json body = {{"id", "cp-1.32"},
               {"kind", "upgrade_node_pool"},
               {"payload", {{"pool", "gpu"}, {"kubernetesVersion", "1.32.7"}}}};
  auto created = enqueue(fleetd, "cmd-a", body);
  REQUIRE(created["id"] == "cp-1.32");
  REQUIRE(created["cluster"] == "cmd-a");
  REQUIRE(created["state"] == "queued");
  REQUIRE(created["attempts"] == 0);
  REQUIRE(created["leaseExpiresAt"].is_null());
  REQUIRE(created["finishedAt"].is_null());
  REQUIRE(created["progress"].is_null());
  REQUIRE(created["createdBy"].get<std::string>().rfind("token:", 0) == 0);
  // The same command again (keys in another order): 200 and the stored one.
  json reordered = {{"payload", {{"kubernetesVersion", "1.32.7"}, {"pool", "gpu"}}},
                    {"kind", "upgrade_node_pool"},
                    {"id", "cp-1.32"}};
  REQUIRE(enqueue(fleetd, "cmd-a", reordered, 200) == created);
  // Anything different under that id: 409.
  body["payload"]["kubernetesVersion"] = "1.33.0";
  REQUIRE(fleetd.call("POST", "/v1/clusters/cmd-a/commands", body.dump()).status == 409);
  REQUIRE(fleetd.call("POST", "/v1/clusters/cmd-b/commands", reordered.dump()).status == 409);
  REQUIRE(fleetd.call("POST", "/v1/clusters/cmd-a/commands", json{{"id", "cp-1.32"}, {"kind", "run_probe"}}.dump())
              .status == 409);

  // Without an id: a generated uuid; with an Idempotency-Key the retry returns the same command.
  auto r1 = fleetd.call("POST", "/v1/clusters/cmd-a/commands", R"({"kind": "run_probe"})", {{"idempotency-key", "k1"}});
  REQUIRE(r1.status == 201);
  auto generated = json::parse(r1.body)["id"].get<std::string>();
  REQUIRE(generated.size() == 36);
  auto r2 = fleetd.call("POST", "/v1/clusters/cmd-a/commands", R"({"kind": "run_probe"})", {{"idempotency-key", "k1"}});
  REQUIRE(r2.status == 201);
  REQUIRE(r2.headers["idempotent-replayed"] == "true");
  REQUIRE(json::parse(r2.body)["id"] == generated);

  // Validation.
  auto expect = [&](const std::string& cluster, const std::string& b, int status) {
    auto r = fleetd.call("POST", "/v1/clusters/" + cluster + "/commands", b);
    INFO(b << " -> " << r.body);
    REQUIRE(r.status == status);
    if (status >= 400) REQUIRE(r.headers["content-type"] == "application/problem+json");
  };
  expect("nope", R"({"kind": "run_probe"})", 404);
  expect("cmd-a", R"({"kind": "reboot"})", 422);
  expect("cmd-a", R"({"payload": {}})", 422);
  expect("cmd-a", R"({"kind": "run_probe", "id": "Bad_ID"})", 422);
  expect("cmd-a", R"({"kind": "run_probe", "id": "-x"})", 422);
  expect("cmd-a", R"({"kind": "run_probe", "id": ""})", 422);
  expect("cmd-a", R"({"kind": "run_probe", "payload": []})", 422);
  expect("cmd-a", R"({"kind": "run_probe", "colour": "red"})", 422);
  expect("cmd-a", R"({"kind": "run_probe")", 400);
  expect("cmd-a", json{{"kind", "apply_workload"}, {"payload", {{"blob", std::string(70 * 1024, 'x')}}}}.dump(), 422);
  // Payloads are checked at queue time as the agent will read them (protocol/command_payloads.hpp): a bad one is a
  // 422 naming the member, never an agent-side failure later.
  auto refused_field = [&](const json& b) {
    auto r = fleetd.call("POST", "/v1/clusters/cmd-a/commands", b.dump());
    INFO(b.dump() << " -> " << r.body);
    REQUIRE(r.status == 422);
    return json::parse(r.body).value("field", "");
  };
  CHECK(refused_field({{"kind", "upgrade_control_plane"}}) == "payload.kubernetesVersion");
  CHECK(refused_field({{"kind", "upgrade_control_plane"}, {"payload", {{"kubernetesVersion", "1.32"}}}}) ==
        "payload.kubernetesVersion");
  CHECK(refused_field({{"kind", "upgrade_node_pool"}, {"payload", {{"pool", "gpu"}}}}) == "payload");
  CHECK(refused_field({{"kind", "drain_node"}, {"payload", {{"node", "n1"}, {"timeoutSeconds", "soon"}}}}) ==
        "payload.timeoutSeconds");
  CHECK(refused_field({{"kind", "run_probe"}, {"payload", {{"node", "n1"}}}}) == "payload.node");
  CHECK(refused_field({{"kind", "apply_workload"}, {"payload", {{"manifests", json::array()}}}}) ==
        "payload.manifests");
  // Every kind of the protocol can be queued, the kubernetes backend's cordon_node and taint_node included.
  expect("cmd-a", R"({"kind": "cordon_node", "payload": {"node": "n1"}})", 201);
  expect("cmd-a", R"({"kind": "taint_node", "payload": {"node": "n1", "remove": ["fleet.io/gpu-unverified"]}})", 201);
  auto viewer = fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();
  REQUIRE(fleetd.call("POST", "/v1/clusters/cmd-a/commands", R"({"kind": "run_probe"})", {}, viewer).status == 403);
  REQUIRE(fleetd.call("POST", "/v1/clusters/cmd-a/commands", R"({"kind": "run_probe"})", {}, std::string("")).status ==
          401);

  // Reads: one command, a cluster's list newest first with a state filter and keyset pages.
  REQUIRE(fleetd.call("GET", "/v1/commands/cp-1.32", "", {}, viewer).status == 200);
  REQUIRE(fleetd.call("GET", "/v1/commands/nope").status == 404);
  for (int i = 0; i < 3; ++i)
    enqueue(fleetd, "cmd-a", {{"id", "list-" + std::to_string(i)}, {"kind", "cordon_cluster"}});
  std::vector<std::string> ids;
  std::string cont;
  do {
    auto page =
        fleetd.call_json("GET", "/v1/clusters/cmd-a/commands?limit=2" + (cont.empty() ? "" : "&continue=" + cont));
    REQUIRE(page["items"].size() <= 2);
    for (const auto& c : page["items"]) ids.push_back(c["id"]);
    cont = page.contains("continue") ? page["continue"].get<std::string>() : "";
  } while (!cont.empty());
  REQUIRE(ids.size() == 7);  // cp-1.32, the generated one, cordon_node, taint_node and list-0..2
  REQUIRE(ids[0] == "list-2");
  REQUIRE(ids[6] == "cp-1.32");
  REQUIRE(fleetd.call_json("GET", "/v1/clusters/cmd-a/commands?state=queued")["items"].size() == 7);
  REQUIRE(fleetd.call_json("GET", "/v1/clusters/cmd-a/commands?state=succeeded")["items"].empty());
  REQUIRE(fleetd.call_json("GET", "/v1/clusters/cmd-b/commands")["items"].empty());
  REQUIRE(fleetd.call("GET", "/v1/clusters/nope/commands").status == 404);
  REQUIRE(fleetd.call("GET", "/v1/clusters/cmd-a/commands?state=done").status == 400);
  REQUIRE(fleetd.call("GET", "/v1/clusters/cmd-a/commands?continue=xyz").status == 400);

  // An agent acts only as its own cluster: another cluster's credential is refused, a command of another cluster
  // is not found, and no credential is 401.
  Agent a(fleetd.base_url(), "cmd-a", cred_a);
  Agent b_as_a(fleetd.base_url(), "cmd-a", cred_b);
  Agent b(fleetd.base_url(), "cmd-b", cred_b);
  REQUIRE(b_as_a.request("GET", "/v1/agents/cmd-a/commands?wait=0").status == 403);
  REQUIRE(b_as_a.request("POST", "/v1/agents/cmd-a/commands/cp-1.32", R"({"state": "succeeded"})").status == 403);
  REQUIRE(b.request("POST", "/v1/agents/cmd-b/commands/cp-1.32", R"({"state": "succeeded"})").status == 404);
  REQUIRE(b.poll("wait=0")["commands"].empty());
  Agent anonymous(fleetd.base_url(), "cmd-a", "");
  auto no_cred = anonymous.client->request("GET", "/v1/agents/cmd-a/commands?wait=0");
  REQUIRE(no_cred->status == 401);
  REQUIRE(anonymous.client
              ->request("POST", "/v1/agents/cmd-a/commands/cp-1.32", {{"content-type", "application/json"}},
                        R"({"state": "succeeded"})")
              ->status == 401);
  Agent unknown(fleetd.base_url(), "cmd-a", "fltd_not-a-credential");
  REQUIRE(unknown.request("GET", "/v1/agents/cmd-a/commands?wait=0").status == 401);
  REQUIRE(fleetd.call_json("GET", "/v1/commands/cp-1.32")["state"] == "queued");  // untouched by all that
  REQUIRE(a.poll("wait=0&limit=100")["commands"].size() == 7);

  // Every create attempt is in the audit log.
  auto audit = fleetd.call_json("GET", "/v1/audit?limit=1000");
  int creates = 0;
  for (const auto& e : audit["items"]) creates += e["action"] == "command.create" ? 1 : 0;
  REQUIRE(creates >= 18);
}

TEST_CASE("kill -9 with commands queued and leased: none lost, each finishes once", "[integration][commands]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data", "", {"--command-lease-seconds", "3"}));
  const std::string cred = register_agent(fleetd, "crash-1");
  enqueue(
      fleetd, "crash-1",
      {{"id", "leased-1"}, {"kind", "upgrade_node_pool"}, {"payload", {{"pool", "gpu"}, {"nodeImageVersion", "x"}}}});
  enqueue(fleetd, "crash-1", {{"id", "queued-1"}, {"kind", "run_probe"}});
  {
    Agent agent(fleetd.base_url(), "crash-1", cred);
    auto got = agent.poll("wait=5s&limit=1");
    REQUIRE(got["commands"][0]["id"] == "leased-1");
  }
  fleetd.kill9();
  fleetd.restart();

  Agent agent(fleetd.base_url(), "crash-1", cred);
  std::map<std::string, int> attempt_of;
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (attempt_of.size() < 2 && Clock::now() < deadline) {
    const auto got = agent.poll("wait=10s");  // a named value: a range-for over a temporary's member would dangle
    // The first delivery of each counts: one not yet reported comes back again once its lease passes too.
    for (const auto& c : got["commands"]) attempt_of.emplace(c["id"].get<std::string>(), c["attempt"].get<int>());
  }
  REQUIRE(attempt_of.size() == 2);
  REQUIRE(attempt_of["queued-1"] == 1);
  REQUIRE(attempt_of["leased-1"] == 2);  // re-delivered only after its lease passed

  // The agent finishes each; its retried final reports are duplicates; nothing is delivered again.
  for (const std::string id : {"leased-1", "queued-1"}) {
    REQUIRE(agent.report(id, {{"state", "succeeded"}})["duplicate"] == false);
    REQUIRE(agent.report(id, {{"state", "succeeded"}})["duplicate"] == true);
  }
  REQUIRE(agent.poll("wait=4s")["commands"].empty());  // longer than a lease: nothing comes back
  int finished = 0;
  const auto audit = fleetd.call_json("GET", "/v1/audit?limit=1000");  // kept: the loop below references into it
  for (const auto& e : audit["items"]) {
    finished += e["action"] == "command.succeeded" ? 1 : 0;
  }
  REQUIRE(finished == 2);
  for (const std::string id : {"leased-1", "queued-1"}) {
    REQUIRE(fleetd.call_json("GET", "/v1/commands/" + id)["state"] == "succeeded");
  }
}

TEST_CASE("polls woken together are claimed together: each gets its own cluster's commands once, within its limit",
          "[integration][commands]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  constexpr int kAgents = 12;
  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 0; i < kAgents; ++i) {
    const std::string name = "wake-" + std::to_string(i);
    agents.push_back(std::make_unique<Agent>(fleetd.base_url(), name, register_agent(fleetd, name)));
  }
  // The last agent polls its own cluster with the first one's credential: the batch's lookup does not confirm it,
  // and its claim alone refuses it.
  agents.back()->credential = agents.front()->credential;
  // Every poll parked first (nothing queued), then three commands for each cluster, queued back to back so that
  // the polls wake while each other's claims wait for a worker. Even polls ask for at most two.
  std::vector<std::future<fleet::http::ClientResponse>> held;
  for (int i = 0; i < kAgents; ++i) {
    const std::string query = std::string("wait=20s") + (i % 2 == 0 ? "&limit=2" : "");
    held.push_back(std::async(std::launch::async, [&agents, i, query] {
      return agents[i]->request("GET", "/v1/agents/" + agents[i]->cluster + "/commands?" + query);
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < kAgents; ++i) {
      const std::string name = "wake-" + std::to_string(i);
      enqueue(fleetd, name, {{"id", name + "-" + std::to_string(k)}, {"kind", "cordon_cluster"}});
    }
  }
  std::map<std::string, int> deliveries;
  for (int i = 0; i < kAgents; ++i) {
    auto r = held[i].get();
    INFO(agents[i]->cluster << ": " << r.body);
    if (i == kAgents - 1) {
      REQUIRE(r.status == 403);
      continue;
    }
    REQUIRE(r.status == 200);
    auto got = json::parse(r.body)["commands"];
    REQUIRE(!got.empty());
    CHECK(got.size() <= (i % 2 == 0 ? 2U : 10U));
    for (const auto& c : got) {
      const std::string id = c["id"];
      CHECK(id.rfind(agents[i]->cluster + "-", 0) == 0);  // its own cluster's, no other
      CHECK(c["attempt"] == 1);
      deliveries[id]++;
    }
  }
  // What the woken polls left is delivered to the next ones, in order; nothing twice.
  for (int i = 0; i + 1 < kAgents; ++i) {
    for (;;) {
      auto got = agents[i]->poll("wait=0")["commands"];
      if (got.empty()) break;
      for (const auto& c : got) deliveries[c["id"].get<std::string>()]++;
    }
  }
  CHECK(deliveries.size() == static_cast<std::size_t>(3 * (kAgents - 1)));
  for (const auto& [id, n] : deliveries) {
    INFO(id);
    CHECK(n == 1);
  }
  // The refused agent's commands were not leased to anyone.
  for (int k = 0; k < 3; ++k) {
    const std::string id = "wake-" + std::to_string(kAgents - 1) + "-" + std::to_string(k);
    CHECK(fleetd.call_json("GET", "/v1/commands/" + id)["state"] == "queued");
  }
}

TEST_CASE("reports sent together are written together: each answered for its own command, each outcome audited once",
          "[integration][commands]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  constexpr int kAgents = 10;
  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 0; i < kAgents; ++i) {
    const std::string name = "rep-" + std::to_string(i);
    agents.push_back(std::make_unique<Agent>(fleetd.base_url(), name, register_agent(fleetd, name)));
    for (int k = 0; k < 3; ++k) {
      enqueue(fleetd, name, {{"id", name + "-" + std::to_string(k)}, {"kind", "cordon_cluster"}});
    }
    REQUIRE(agents.back()->poll("wait=0")["commands"].size() == 3);
  }
  // The last agent reports with the first one's credential: the batch's lookup does not confirm it.
  const std::string own_credential = agents.back()->credential;
  agents.back()->credential = agents.front()->credential;
  struct Sent {
    int agent;
    std::string id;
    json body;
  };
  std::vector<Sent> sent;
  for (int i = 0; i < kAgents; ++i) {
    const std::string name = agents[i]->cluster;
    sent.push_back({i, name + "-0", {{"state", "succeeded"}, {"message", "done " + name}}});
    sent.push_back({i, name + "-1", {{"state", "running"}, {"progress", {{"percent", 40 + i}}}}});
    sent.push_back({i, name + "-2", {{"state", "failed"}, {"message", "broke " + name}}});
  }
  sent.push_back({0, "rep-1-1", {{"state", "succeeded"}}});  // another cluster's command: not found
  // The same outcome four times in all (an agent's retries send the same body): one writes it, and each of the others
  // (in a later batch: one id a batch, so some wait for the first's lock) is answered as a duplicate with the state
  // the first wrote. Which of the four writes is up to the scheduler, so they must not differ in what is stored.
  for (int k = 0; k < 3; ++k) sent.push_back({0, "rep-0-0", {{"state", "succeeded"}, {"message", "done rep-0"}}});
  // All at once, so that they queue behind one another and go in batches; a client each (a client is one
  // connection, used by one thread at a time).
  std::vector<std::unique_ptr<Agent>> senders;
  for (const auto& s : sent) {
    senders.push_back(
        std::make_unique<Agent>(fleetd.base_url(), agents[s.agent]->cluster, agents[s.agent]->credential));
  }
  std::vector<std::future<fleet::http::ClientResponse>> answers;
  for (std::size_t n = 0; n < sent.size(); ++n) {
    answers.push_back(std::async(std::launch::async, [sender = senders[n].get(), &s = sent[n]] {
      return sender->request("POST", "/v1/agents/" + sender->cluster + "/commands/" + s.id, s.body.dump());
    }));
  }
  int duplicates_of_rep_0_0 = 0;
  for (std::size_t n = 0; n < sent.size(); ++n) {
    auto r = answers[n].get();
    const Sent& s = sent[n];
    INFO(s.id << " by " << agents[s.agent]->cluster << ": " << r.body);
    if (s.agent == kAgents - 1) {
      CHECK(r.status == 403);
      continue;
    }
    if (s.id == "rep-1-1" && s.agent == 0) {
      CHECK(r.status == 404);
      continue;
    }
    REQUIRE(r.status == 200);
    const json out = json::parse(r.body);
    CHECK(out["id"] == s.id);
    CHECK(out["state"] == s.body["state"]);
    if (s.id == "rep-0-0") {
      duplicates_of_rep_0_0 += out["duplicate"] == true ? 1 : 0;
    } else {
      CHECK(out["duplicate"] == false);
    }
  }
  CHECK(duplicates_of_rep_0_0 == 3);
  // What is stored is what each agent said about its own commands; the refused agent's are untouched.
  for (int i = 0; i < kAgents; ++i) {
    const std::string name = agents[i]->cluster;
    const json c0 = fleetd.call_json("GET", "/v1/commands/" + name + "-0");
    const json c1 = fleetd.call_json("GET", "/v1/commands/" + name + "-1");
    const json c2 = fleetd.call_json("GET", "/v1/commands/" + name + "-2");
    INFO(name);
    if (i == kAgents - 1) {
      CHECK(c0["state"] == "leased");
      CHECK(c1["state"] == "leased");
      CHECK(c2["state"] == "leased");
      continue;
    }
    CHECK(c0["state"] == "succeeded");
    CHECK(c0["message"] == "done " + name);
    CHECK(c1["state"] == "running");
    CHECK(c1["progress"]["percent"] == 40 + i);
    CHECK(c2["state"] == "failed");
    CHECK(c2["message"] == "broke " + name);
  }
  // One audit entry per outcome written, by the agent of the command's cluster; none for progress or duplicates.
  std::map<std::string, int> audited;
  const auto audit = fleetd.call_json("GET", "/v1/audit?limit=1000");
  for (const auto& e : audit["items"]) {
    const std::string action = e["action"];
    if (action != "command.succeeded" && action != "command.failed") continue;
    const std::string id = e["objectName"];
    audited[id]++;
    CHECK(e["actor"] == "agent:" + id.substr(0, id.rfind('-')));
    CHECK(e["detail"]["cluster"] == id.substr(0, id.rfind('-')));
    CHECK(e["detail"]["kind"] == "cordon_cluster");
  }
  CHECK(audited.size() == static_cast<std::size_t>(2 * (kAgents - 1)));
  for (const auto& [id, n] : audited) {
    INFO(id);
    CHECK(n == 1);
  }
  // The refused agent, with its own credential again, is let through.
  agents.back()->credential = own_credential;
  CHECK(agents.back()->report("rep-9-0", {{"state", "succeeded"}})["duplicate"] == false);

  // A report that waits for another transaction's lock on its command is answered with what that one wrote (here a
  // write straight to the database stands in for a report in another batch), not with its statement's older view.
  enqueue(fleetd, "rep-1", {{"id", "rep-1-late"}, {"kind", "cordon_cluster"}});
  // Not wait=0: rep-1's queue was left empty by its last claim, and until the enqueue's NOTIFY reaches this replica
  // (milliseconds) a poll that will not wait is answered from that. A waiting poll is woken by it.
  REQUIRE(agents[1]->poll("wait=10s")["commands"].size() == 1);
  pqxx::connection conn(fleetd.database_url());
  pqxx::work other(conn);
  other.exec("UPDATE agent_commands SET state = 'succeeded', finished_at = now() WHERE id = 'rep-1-late'");
  auto waiting = std::async(std::launch::async, [agent = agents[1].get()] {
    return agent->request("POST", "/v1/agents/rep-1/commands/rep-1-late", R"({"state":"failed"})");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  other.commit();
  const auto late = waiting.get();
  INFO(late.body);
  REQUIRE(late.status == 200);
  CHECK(json::parse(late.body)["duplicate"] == true);
  CHECK(json::parse(late.body)["state"] == "succeeded");
}
