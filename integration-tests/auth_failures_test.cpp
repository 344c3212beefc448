// Issue #10: unauthenticated requests are counted, and a token the database did not know is answered from a
// short negative cache, so a client repeating a random or revoked token costs no database query.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "integration-tests/fleetd_process.hpp"
#include "protocol/heartbeat.hpp"

using namespace fleet::itest;

namespace {

// The status of one request sent from `source` (any 127.x.y.z is this machine's loopback), or -1.
int status_from(const std::string& source, const std::string& base_url, const std::string& path,
                const std::string& token, const std::string& method = "GET", const std::string& body = "") {
  const int port = std::stoi(base_url.substr(base_url.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  std::string reply;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + token +
                                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\nConnection: close\r\n\r\n" + body;
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply.size() > 12 && reply.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(reply.substr(9, 3)) : -1;
}

}  // namespace

TEST_CASE("every 401 is counted by reason, and a repeated unknown token is answered without a query",
          "[integration][auth][security]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  REQUIRE(metric_value(fleetd, R"(fleetd_auth_failures_total{reason="unknown"})") == 0);

  const std::string unknown = "not-a-token-fleetd-ever-made";
  for (int i = 0; i < 50; ++i) {
    auto r = fleetd.call("GET", "/v1/clusters", "", {}, unknown);
    REQUIRE(r.status == 401);
    CHECK(r.headers["www-authenticate"] == "Bearer error=\"invalid_token\"");
  }
  CHECK(fleetd.call("GET", "/v1/clusters", "", {}, std::string()).status == 401);  // none
  CHECK(fleetd.call("GET", "/v1/clusters", "", {{"authorization", "Basic Zm9v"}}, std::string()).status == 401);

  CHECK(metric_value(fleetd, R"(fleetd_auth_failures_total{reason="unknown"})") == 50);
  CHECK(metric_value(fleetd, "fleetd_auth_unknown_cached_total") == 49);  // the first one asked the database
  CHECK(metric_value(fleetd, R"(fleetd_auth_failures_total{reason="missing"})") == 1);
  CHECK(metric_value(fleetd, R"(fleetd_auth_failures_total{reason="malformed"})") == 1);

  // A token made after an unknown one was tried is a different token: it works at once.
  const std::string made =
      fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();
  CHECK(fleetd.call("GET", "/v1/clusters", "", {}, made).status == 200);
}

TEST_CASE("an invented agent credential is refused on every agent path without a database worker, a new one works",
          "[integration][auth][security]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  const std::string cred = register_agent(fleetd, "neg-1");
  const std::string heartbeat = "/v1/agents/neg-1/heartbeat";
  const std::string poll = "/v1/agents/neg-1/commands?wait=0s";
  for (int i = 0; i < 20; ++i) {
    CHECK(fleetd.call("POST", heartbeat, R"({"sequence": 1})", {}, std::string("invented")).status == 401);
    CHECK(fleetd.call("GET", poll, "", {}, std::string("invented")).status == 401);
  }
  CHECK(fleetd.call("POST", heartbeat, R"({"sequence": 1})", {}, std::string()).status == 401);  // none at all
  // The real credential is untouched, and one registered after the flood works at once.
  CHECK(fleetd.call("GET", poll, "", {}, cred).status == 200);
  const std::string later = register_agent(fleetd, "neg-2");
  CHECK(fleetd.call("GET", "/v1/agents/neg-2/commands?wait=0s", "", {}, later).status == 200);
  // Registration: an invented bootstrap token is refused every time; an agent credential presented as one is
  // refused too, without making that credential look unknown on the agent paths; a real token still works.
  for (int i = 0; i < 10; ++i) {
    CHECK(fleetd.call("POST", "/v1/agents/register", "", {}, std::string("invented-bootstrap")).status == 401);
  }
  CHECK(fleetd.call("POST", "/v1/agents/register", "", {}, cred).status == 401);
  CHECK(fleetd.call("GET", poll, "", {}, cred).status == 200);
  CHECK_NOTHROW(register_agent(fleetd, "neg-3"));
  // A credential that ended is refused at once and stays refused (it is remembered as unknown).
  REQUIRE(fleetd.call("POST", "/v1/clusters/neg-2/agent:revoke").status == 204);
  for (int i = 0; i < 3; ++i) {
    CHECK(fleetd.call("GET", "/v1/agents/neg-2/commands?wait=0s", "", {}, later).status == 401);
  }
}

TEST_CASE("an address that keeps presenting unknown tokens gets 429, while another address is still served",
          "[integration][auth][security]") {
  TempDir dir;
  FleetdProcess fleetd(
      FleetdOptions(dir.path() / "data", {}, {"--auth-failure-burst", "5", "--auth-failures-per-minute", "6"}));
  const std::string viewer =
      fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();
  CHECK(fleetd.call("GET", "/v1/clusters").status == 200);  // the admin token, now known to this replica

  // A flood of invented tokens from 127.0.0.1: five are looked up (401), then the address must wait.
  for (int i = 0; i < 5; ++i) {
    CHECK(fleetd.call("GET", "/v1/clusters", "", {}, "invented-" + std::to_string(i)).status == 401);
  }
  auto refused = fleetd.call("GET", "/v1/clusters", "", {}, std::string("invented-5"));
  CHECK(refused.status == 429);
  CHECK(refused.body.find("urn:fleetd:problem:too-many-requests") != std::string::npos);
  const int retry_after = std::stoi(refused.headers["retry-after"]);
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 10);  // 6 a minute
  for (int i = 0; i < 50; ++i) {
    REQUIRE(fleetd.call("GET", "/v1/clusters", "", {}, "flood-" + std::to_string(i)).status == 429);
  }
  // Those cost no lookup: the unknown-token count stopped at five.
  CHECK(metric_value(fleetd, R"(fleetd_auth_failures_total{reason="unknown"})") == 5);
  CHECK(metric_value(fleetd, "fleetd_auth_throttled_total") == 51);
  // From the same address a token this replica already accepted still works; one it has not seen waits too.
  CHECK(fleetd.call("GET", "/v1/clusters").status == 200);
  CHECK(fleetd.call("GET", "/v1/clusters", "", {}, viewer).status == 429);

  // Another address is served as usual: a good token, and an unknown one is an ordinary 401.
  CHECK(status_from("127.0.0.2", fleetd.base_url(), "/v1/clusters", viewer) == 200);
  CHECK(status_from("127.0.0.2", fleetd.base_url(), "/v1/clusters", "invented-elsewhere") == 401);
}

TEST_CASE("an address that keeps presenting unknown agent credentials gets 429 on every agent path",
          "[integration][auth][security]") {
  TempDir dir;
  FleetdProcess fleetd(
      FleetdOptions(dir.path() / "data", {}, {"--auth-failure-burst", "5", "--auth-failures-per-minute", "6"}));
  const std::string cred = register_agent(fleetd, "flood-1");
  const std::string heartbeat = "/v1/agents/flood-1/heartbeat";
  const std::string poll = "/v1/agents/flood-1/commands?wait=0s";
  const std::string report = "/v1/agents/flood-1/commands/c-1";
  REQUIRE(fleetd.call("GET", poll, "", {}, cred).status == 200);  // the real agent, now known to this replica

  // Five invented credentials from 127.0.0.1 are looked up (401); after that every path that would look one up
  // answers 429 before it does: heartbeats, polls, command reports and registrations.
  for (int i = 0; i < 5; ++i) {
    CHECK(fleetd.call("POST", heartbeat, R"({"sequence": 1})", {}, "invented-" + std::to_string(i)).status == 401);
  }
  auto refused = fleetd.call("POST", heartbeat, R"({"sequence": 1})", {}, std::string("invented-5"));
  CHECK(refused.status == 429);
  CHECK(refused.body.find("urn:fleetd:problem:too-many-requests") != std::string::npos);
  CHECK(std::stoi(refused.headers["retry-after"]) >= 1);
  CHECK(fleetd.call("GET", poll, "", {}, std::string("invented-6")).status == 429);
  CHECK(fleetd.call("POST", report, R"({"state": "done"})", {}, std::string("invented-7")).status == 429);
  CHECK(fleetd.call("POST", "/v1/agents/register", "", {}, std::string("invented-bootstrap")).status == 429);
  CHECK(metric_value(fleetd, R"(fleetd_auth_failures_total{reason="unknown"})") == 5);
  CHECK(metric_value(fleetd, "fleetd_auth_throttled_total") == 4);
  // The agent this replica knows keeps working from the same address.
  CHECK(fleetd.call("GET", poll, "", {}, cred).status == 200);
  fleet::protocol::HeartbeatEnvelope full;
  full.agent_version = "t";
  full.sequence = 1;
  full.full = true;
  full.inventory = fleet::model::ClusterInventory{};
  full.inventory->kubernetes_version = "1.30.4";
  full.inventory->node_image_version = "AKSUbuntu-2204gen2containerd-202410.09.0";
  auto accepted = fleetd.call("POST", heartbeat, fleet::protocol::to_json(full).dump(), {}, cred);
  INFO(accepted.body);
  CHECK(accepted.status == 200);

  // Another address is served as usual: an unknown credential is an ordinary 401, and an agent registers.
  const std::string base = fleetd.base_url();
  CHECK(status_from("127.0.0.2", base, heartbeat, "invented-elsewhere", "POST", R"({"sequence": 1})") == 401);
  fleetd.call_json("POST", "/v1/clusters", R"({"name": "flood-2", "provider": "aks"})", 201);
  const std::string bootstrap =
      fleetd.call_json("POST", "/v1/clusters/flood-2/bootstrap-tokens", "", 201)["token"].get<std::string>();
  CHECK(status_from("127.0.0.2", base, "/v1/agents/register", bootstrap, "POST") == 200);
}
