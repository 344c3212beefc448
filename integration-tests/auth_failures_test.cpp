// Issue #10: unauthenticated requests are counted, and a token the database did not know is answered from a
// short negative cache, so a client repeating a random or revoked token costs no database query.
#include <catch2/catch.hpp>
#include <sstream>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;

namespace {

// The value of one series in fleetd's /metrics text; -1 when absent.
double metric(FleetdProcess& fleetd, const std::string& series) {
  std::istringstream text(fleetd.call("GET", "/metrics").body);
  for (std::string line; std::getline(text, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace

TEST_CASE("every 401 is counted by reason, and a repeated unknown token is answered without a query",
          "[integration][auth][security]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  REQUIRE(metric(fleetd, R"(fleetd_auth_failures_total{reason="unknown"})") == 0);

  const std::string unknown = "not-a-token-fleetd-ever-made";
  for (int i = 0; i < 50; ++i) {
    auto r = fleetd.call("GET", "/v1/clusters", "", {}, unknown);
    REQUIRE(r.status == 401);
    CHECK(r.headers["www-authenticate"] == "Bearer error=\"invalid_token\"");
  }
  CHECK(fleetd.call("GET", "/v1/clusters", "", {}, std::string()).status == 401);  // none
  CHECK(fleetd.call("GET", "/v1/clusters", "", {{"authorization", "Basic Zm9v"}}, std::string()).status == 401);

  CHECK(metric(fleetd, R"(fleetd_auth_failures_total{reason="unknown"})") == 50);
  CHECK(metric(fleetd, "fleetd_auth_unknown_cached_total") == 49);  // the first one asked the database
  CHECK(metric(fleetd, R"(fleetd_auth_failures_total{reason="missing"})") == 1);
  CHECK(metric(fleetd, R"(fleetd_auth_failures_total{reason="malformed"})") == 1);

  // A token made after an unknown one was tried is a different token: it works at once.
  const std::string made =
      fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();
  CHECK(fleetd.call("GET", "/v1/clusters", "", {}, made).status == 200);
}
