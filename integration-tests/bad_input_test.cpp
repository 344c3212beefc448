// Every bad input gets the right 4xx with a problem+json body, and changes nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

// Table rows leave out the token for the common (admin) case.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

struct BadCase {
  std::string what;
  std::string method;
  std::string path;
  std::string body;
  fleet::http::Headers headers;
  int status;
  std::string type;                  // expected problem slug; "" = only check the status
  std::optional<std::string> token;  // nullopt = admin
};

// Sends raw bytes and returns the status code of the response (0 when the connection closed without one).
int raw_status(const std::string& base_url, const std::string& bytes) {
  auto hostport = base_url.substr(std::string("http://").size());
  auto colon = hostport.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
  inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  std::string got;
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (got.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(got.substr(9, 3));
}

std::string snapshot(FleetdProcess& f) {
  auto list = f.call_json("GET", "/v1/clusters?limit=1000");
  return list.dump();
}

}  // namespace

TEST_CASE("bad inputs get the right 4xx and leave the data unchanged", "[integration][bad-input]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  REQUIRE(fleetd.call("POST", "/v1/clusters", R"({"name": "existing", "provider": "aks", "labels": {"env": "prod"}})")
              .status == 201);
  auto revoked = fleetd.call_json("POST", "/v1/tokens", R"({"role": "admin"})", 201);
  REQUIRE(fleetd.call("DELETE", "/v1/tokens/" + revoked["id"].get<std::string>()).status == 204);
  const std::string before = snapshot(fleetd);
  const fleet::http::Headers merge = {{"content-type", "application/merge-patch+json"}};

  std::vector<BadCase> cases = {
      {"malformed JSON", "POST", "/v1/clusters", R"({"name": "a",)", {}, 400, "malformed-json"},
      {"truncated body", "POST", "/v1/clusters", R"({"name": "trunc", "provider": "ak)", {}, 400, "malformed-json"},
      {"not an object", "POST", "/v1/clusters", R"(["a"])", {}, 422, "invalid-field"},
      {"name is a number", "POST", "/v1/clusters", R"({"name": 5, "provider": "aks"})", {}, 422, "invalid-field"},
      {"labels is a list",
       "POST",
       "/v1/clusters",
       R"({"name": "a", "provider": "aks", "labels": ["x"]})",
       {},
       422,
       "invalid-field"},
      {"label value a number",
       "POST",
       "/v1/clusters",
       R"({"name": "a", "provider": "aks", "labels": {"k": 1}})",
       {},
       422,
       "invalid-field"},
      {"unknown field",
       "POST",
       "/v1/clusters",
       R"({"name": "a", "provider": "aks", "color": "red"})",
       {},
       422,
       "unknown-field"},
      {"server-owned field",
       "POST",
       "/v1/clusters",
       R"({"name": "a", "provider": "aks", "state": "ready"})",
       {},
       422,
       "unknown-field"},
      {"missing provider", "POST", "/v1/clusters", R"({"name": "a"})", {}, 422, "missing-field"},
      {"bad provider", "POST", "/v1/clusters", R"({"name": "a", "provider": "gke"})", {}, 422, "invalid-field"},
      {"uppercase name", "POST", "/v1/clusters", R"({"name": "Prod", "provider": "aks"})", {}, 422, "invalid-field"},
      {"name too long",
       "POST",
       "/v1/clusters",
       json{{"name", std::string(64, 'a')}, {"provider", "aks"}}.dump(),
       {},
       422,
       "invalid-field"},
      {"SQL in name",
       "POST",
       "/v1/clusters",
       R"({"name": "a'; DROP TABLE clusters;--", "provider": "aks"})",
       {},
       422,
       "invalid-field"},
      {"SQL quote in label value",
       "POST",
       "/v1/clusters",
       R"({"name": "q", "provider": "aks", "labels": {"k": "x' OR '1'='1"}})",
       {},
       422,
       "invalid-field"},
      {"unicode name", "POST", "/v1/clusters", R"({"name": "clüster", "provider": "aks"})", {}, 422, "invalid-field"},
      {"unicode label key",
       "POST",
       "/v1/clusters",
       R"({"name": "u", "provider": "aks", "labels": {"ключ": "v"}})",
       {},
       422,
       "invalid-field"},
      {"bad taint effect",
       "POST",
       "/v1/clusters",
       R"({"name": "t", "provider": "aks", "taints": [{"key": "k", "effect": "Sometimes"}]})",
       {},
       422,
       "invalid-field"},
      {"empty body", "POST", "/v1/clusters", "", {{"content-type", "application/json"}}, 400, "malformed-json"},
      {"wrong content type",
       "POST",
       "/v1/clusters",
       R"({"name": "ct", "provider": "aks"})",
       {{"content-type", "text/plain"}},
       415,
       "unsupported-media-type"},
      {"bad selector", "GET", "/v1/clusters?labelSelector=env%20in%20(prod", "", {}, 400, "invalid-query"},
      {"bad selector operator", "GET", "/v1/clusters?labelSelector=%3Dx", "", {}, 400, "invalid-query"},
      {"bad limit", "GET", "/v1/clusters?limit=0", "", {}, 400, "invalid-query"},
      {"garbage continue", "GET", "/v1/clusters?continue=%%%garbage", "", {}, 400, ""},
      {"patch renames", "PATCH", "/v1/clusters/existing", R"({"name": "other"})", merge, 422, "invalid-field"},
      {"patch bad label", "PATCH", "/v1/clusters/existing", R"({"labels": {"bad key!": "v"}})", merge, 422,
       "invalid-field"},
      {"patch malformed If-Match",
       "PATCH",
       "/v1/clusters/existing",
       R"({"region": "x"})",
       {{"content-type", "application/merge-patch+json"}, {"if-match", "\"abc\""}},
       400,
       "malformed-request"},
      {"patch missing cluster", "PATCH", "/v1/clusters/nope", R"({"region": "x"})", merge, 404, "not-found"},
      {"delete stale If-Match",
       "DELETE",
       "/v1/clusters/existing",
       "",
       {{"if-match", "\"999999\""}},
       412,
       "precondition-failed"},
      {"missing token", "GET", "/v1/clusters", "", {}, 401, "unauthenticated", std::string("")},
      {"garbage token", "GET", "/v1/clusters", "", {}, 401, "unauthenticated", std::string("not a token at all")},
      {"revoked token",
       "DELETE",
       "/v1/clusters/existing",
       "",
       {},
       401,
       "unauthenticated",
       revoked["token"].get<std::string>()},
      {"unknown endpoint", "GET", "/v1/nothing", "", {}, 404, "not-found"},
      {"wrong method", "PUT", "/v1/clusters/existing", "{}", {}, 405, "method-not-allowed"},
  };
  REQUIRE(cases.size() >= 25);
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = fleetd.call(c.method, c.path, c.body, c.headers, c.token);
    CHECK(r.status == c.status);
    if (!c.type.empty()) {
      CHECK(r.headers["content-type"] == "application/problem+json");
      auto p = json::parse(r.body, nullptr, false);
      REQUIRE_FALSE(p.is_discarded());
      CHECK(p["type"] == "urn:fleetd:problem:" + c.type);
      CHECK(p["status"] == c.status);
      CHECK_FALSE(p["detail"].get<std::string>().empty());
      CHECK(p["requestId"] == r.headers["x-request-id"]);
    }
  }

  // Malformed at the HTTP level: the server answers without reaching a handler.
  std::string auth = "Authorization: Bearer " + fleetd.admin_token() + "\r\n";
  CHECK(raw_status(fleetd.base_url(), "GET /v1/clusters HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') +
                                          "\r\n\r\n") == 431);
  CHECK(raw_status(fleetd.base_url(), "POST /v1/clusters HTTP/1.1\r\nHost: x\r\n" + auth +
                                          "Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{") ==
        413);
  int garbage = raw_status(fleetd.base_url(), "THIS IS NOT HTTP\r\n\r\n");
  CHECK((garbage == 400 || garbage == 0));
  // A body shorter than its Content-Length (client gave up): no write happens.
  raw_status(fleetd.base_url(), "POST /v1/clusters HTTP/1.1\r\nHost: x\r\n" + auth +
                                    "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": \"half\"");

  // Nothing changed, and fleetd is still healthy.
  CHECK(snapshot(fleetd) == before);
  CHECK(fleetd.call("GET", "/readyz", "", {}, std::string("")).status == 200);
}

TEST_CASE("invented HTTP methods add nothing to /metrics, a 405 names the allowed methods",
          "[integration][bad-input][metrics]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  auto lines = [&] {
    auto m = fleetd.call("GET", "/metrics", "", {}, std::string(""));
    REQUIRE(m.status == 200);
    return std::count(m.body.begin(), m.body.end(), '\n');
  };
  auto first = fleetd.call("BREW", "/v1/clusters", "", {}, std::string(""));
  CHECK(first.status == 405);
  CHECK(first.headers.at("allow") == "GET, HEAD, POST");
  lines();  // GET /metrics is counted too: its own series exist from here on
  const auto before = lines();
  for (int i = 0; i < 1000; ++i) {
    const auto r = fleetd.call("M" + std::to_string(i * 7919 % 100003), "/v1/clusters", "", {}, std::string(""));
    REQUIRE(r.status == 405);
  }
  CHECK(lines() == before);
}

TEST_CASE("HEAD answers like GET without the body, and never runs the agents' command poll",
          "[integration][bad-input]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  REQUIRE(fleetd.call("POST", "/v1/clusters", R"({"name": "h1", "provider": "aks", "region": "westeurope"})").status ==
          201);
  const auto get = fleetd.call("GET", "/v1/clusters");
  REQUIRE(get.status == 200);
  const auto head = fleetd.call("HEAD", "/v1/clusters");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.headers.at("content-length") == std::to_string(get.body.size()));
  CHECK(head.headers.at("content-type") == get.headers.at("content-type"));
  // Authentication is the GET's: no token, 401.
  CHECK(fleetd.call("HEAD", "/v1/clusters", "", {}, std::string("")).status == 401);
  CHECK(fleetd.call("HEAD", "/readyz", "", {}, std::string("")).status == 200);
  CHECK(fleetd.call("HEAD", "/healthz", "", {}, std::string("")).status == 200);
  // The poll leases commands: a HEAD must not, so it is a 405 that offers GET only.
  const auto poll = fleetd.call("HEAD", "/v1/agents/h1/commands", "", {}, std::string(""));
  CHECK(poll.status == 405);
  CHECK(poll.headers.at("allow") == "GET");
}

TEST_CASE("invalid UTF-8 in a path or a query is a 400 naming it, a long non-ASCII name is refused and audited",
          "[integration][bad-input][utf8]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  // Before: each of these reached PostgreSQL and came back as a 503 with an error-level log line.
  for (const char* path :
       {"/v1/clusters/%FF", "/v1/clusters/%C3%28/nodes", "/v1/commands/%FF", "/v1/probes/%ED%A0%80"}) {
    INFO(path);
    auto r = fleetd.call("GET", path);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["type"] == "urn:fleetd:problem:malformed-request");
    CHECK(json::parse(r.body)["field"] == "path");
  }
  auto q = fleetd.call("GET", "/v1/gpus?model=%FF");
  CHECK(q.status == 400);
  CHECK(json::parse(q.body)["field"] == "model");
  CHECK(fleetd.call("DELETE", "/v1/clusters/%FF").status == 400);

  // A name of 150 two-byte characters (300 bytes): refused (not a DNS label), and the refusal is audited with the
  // name cut between characters.
  std::string name;
  for (int i = 0; i < 150; ++i) name += "\xC3\xA9";
  auto created = fleetd.call("POST", "/v1/clusters", json{{"name", name}, {"provider", "aks"}}.dump());
  CHECK(created.status == 422);
  auto audit = fleetd.call_json("GET", "/v1/audit?limit=10");
  bool audited = false;
  for (const auto& e : audit["items"]) {
    if (e["action"] != "cluster.create") continue;
    audited = true;
    CHECK(e["objectName"].get<std::string>().size() == 252);
  }
  CHECK(audited);
}
