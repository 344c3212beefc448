#include <catch2/catch.hpp>

#include <algorithm>

#include "fleetd/http/metrics.hpp"

using namespace fleet;

TEST_CASE("metrics render counters, cumulative histogram buckets and gauges", "[fleetd][metrics]") {
  Metrics m;
  m.set_build_info("1.2.3", "abc");
  m.observe_request("/v1/clusters/{name}", "GET", 200, 0.0007);
  m.observe_request("/v1/clusters/{name}", "GET", 200, 0.02);
  m.observe_request("/v1/clusters/{name}", "GET", 404, 0.0001);
  m.add_gauge("fleetd_db_pool_in_use", "in use", [] { return 3.0; });
  std::string out = m.render();
  REQUIRE(out.find("fleetd_build_info{version=\"1.2.3\",commit=\"abc\"} 1") != std::string::npos);
  REQUIRE(out.find("fleetd_http_requests_total{route=\"/v1/clusters/{name}\",method=\"GET\",status=\"200\"} 2") !=
          std::string::npos);
  REQUIRE(out.find("status=\"404\"} 1") != std::string::npos);
  // 0.0001 and 0.0007 are ≤ 0.001; 0.02 is not.
  REQUIRE(out.find("method=\"GET\",le=\"0.001\"} 2") != std::string::npos);
  REQUIRE(out.find("method=\"GET\",le=\"0.025000000000000001\"} 3") != std::string::npos);
  REQUIRE(out.find("le=\"+Inf\"} 3") != std::string::npos);
  REQUIRE(out.find("fleetd_http_request_duration_seconds_count{route=\"/v1/clusters/{name}\",method=\"GET\"} 3") !=
          std::string::npos);
  REQUIRE(out.find("fleetd_db_pool_in_use 3") != std::string::npos);
}

TEST_CASE("metrics: invented HTTP methods add no label values", "[fleetd][metrics]") {
  Metrics m;
  m.observe_request("unmatched", "BREW", 405, 0.0001);
  const std::string first = m.render();
  const auto before = std::count(first.begin(), first.end(), '\n');
  for (int i = 0; i < 1000; ++i) m.observe_request("unmatched", "X" + std::to_string(i), 405, 0.0001);
  const std::string after = m.render();
  CHECK(std::count(after.begin(), after.end(), '\n') == before);
  CHECK(after.find("fleetd_http_requests_total{route=\"unmatched\",method=\"other\",status=\"405\"} 1001") !=
        std::string::npos);
  CHECK(Metrics::method_label("PATCH") == "PATCH");
  CHECK(Metrics::method_label("get") == "other");  // methods are case-sensitive (RFC 9110)
}
