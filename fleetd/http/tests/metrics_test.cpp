#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>

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
  REQUIRE(out.find("method=\"GET\",le=\"0.025\"} 3") != std::string::npos);  // written as read (issue #16)
  REQUIRE(out.find("le=\"0.0050000") == std::string::npos);
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

TEST_CASE("metrics: counters kept elsewhere are typed counter, gauges gauge", "[fleetd][metrics]") {
  Metrics m;
  m.add_counter("fleetd_command_leases_expired_total", "leases", [] { return 7.0; });
  m.add_gauge("fleetd_command_polls_waiting", "polls", [] { return 2.0; });
  m.add_counter_family("fleetd_rollout_members_finished_total", "members", "result", [] {
    return std::map<std::string, std::int64_t>{{"failed", 1}, {"succeeded", 4}};
  });
  const std::string out = m.render();
  CHECK_THAT(out, Catch::Contains("# TYPE fleetd_command_leases_expired_total counter\n"
                                  "fleetd_command_leases_expired_total 7\n"));
  CHECK_THAT(out, Catch::Contains("# TYPE fleetd_command_polls_waiting gauge\nfleetd_command_polls_waiting 2\n"));
  CHECK_THAT(out, Catch::Contains("# TYPE fleetd_rollout_members_finished_total counter\n"
                                  "fleetd_rollout_members_finished_total{result=\"failed\"} 1\n"
                                  "fleetd_rollout_members_finished_total{result=\"succeeded\"} 4\n"));
}

TEST_CASE("metrics: a route with its own buckets (the long poll) counts its waits in them", "[fleetd][metrics]") {
  Metrics m;
  m.set_route_buckets("/v1/agents/{cluster}/commands", {60, 0.1, 30});  // sorted when set
  m.observe_request("/v1/agents/{cluster}/commands", "GET", 200, 29.5);
  m.observe_request("/v1/agents/{cluster}/commands", "GET", 200, 0.05);
  m.observe_request("/v1/clusters", "GET", 200, 29.5);
  const std::string out = m.render();
  const std::string poll =
      "fleetd_http_request_duration_seconds_bucket{route=\"/v1/agents/{cluster}/commands\",method=\"GET\",";
  CHECK_THAT(out, Catch::Contains(poll + "le=\"0.1\"} 1\n" + poll + "le=\"30\"} 2\n" + poll + "le=\"60\"} 2\n" + poll +
                                  "le=\"+Inf\"} 2\n"));
  // Other routes keep the default buckets, which end at 10 s: 29.5 s is only in +Inf.
  const std::string list = "fleetd_http_request_duration_seconds_bucket{route=\"/v1/clusters\",method=\"GET\",";
  CHECK_THAT(out, Catch::Contains(list + "le=\"10\"} 0\n" + list + "le=\"+Inf\"} 1\n"));
  CHECK(out.find(list + "le=\"30\"") == std::string::npos);
}

TEST_CASE("metrics: the process_* metrics of this process are exported", "[fleetd][metrics]") {
  const std::string out = Metrics().render();
  for (const char* name : {"process_cpu_seconds_total", "process_start_time_seconds", "process_virtual_memory_bytes",
                           "process_resident_memory_bytes", "process_open_fds", "process_max_fds"}) {
    INFO(name);
    CHECK_THAT(out, Catch::Contains(std::string("\n") + name + " "));
  }
  CHECK_THAT(out, Catch::Contains("# TYPE process_cpu_seconds_total counter\n"));
}

TEST_CASE("metrics: a gauge table has one sample per combination of its labels' values", "[fleetd][metrics]") {
  Metrics m;
  m.add_gauge_table("fleetd_clusters", "clusters", {"state", "provider"}, [] {
    return std::map<Metrics::LabelValues, std::int64_t>{
        {{"ready", "aks"}, 3}, {{"ready", "arc"}, 2}, {{"unreachable", "arc"}, 1}, {{"one-value-short"}, 9}};
  });
  const std::string out = m.render();
  CHECK_THAT(out, Catch::Contains("# TYPE fleetd_clusters gauge\n"
                                  "fleetd_clusters{state=\"ready\",provider=\"aks\"} 3\n"
                                  "fleetd_clusters{state=\"ready\",provider=\"arc\"} 2\n"
                                  "fleetd_clusters{state=\"unreachable\",provider=\"arc\"} 1\n"));
  CHECK(out.find("one-value-short") == std::string::npos);
}
