#include "net/process_metrics.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <sstream>
#include <string>

#include "net/prometheus_number.hpp"

using namespace fleet;

namespace {
// A real /proc/PID/stat line (Linux 6.1), its command name changed to one with a space and parentheses.
const std::string kStat =
    "4242 (fleetd (x) y) S 1 4242 4242 0 -1 4194560 2915 0 0 0 250 50 0 0 20 0 9 0 123456 1073741824 5120 "
    "18446744073709551615 1 1 0 0 0 0 0 4096 17925 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}  // namespace

TEST_CASE("process metrics: /proc/PID/stat fields are counted from the name's last parenthesis",
          "[fleetd][metrics][process]") {
  const auto stat = parse_proc_pid_stat(kStat);
  REQUIRE(stat);
  CHECK(stat->utime_ticks == 250);
  CHECK(stat->stime_ticks == 50);
  CHECK(stat->start_ticks == 123456);
  CHECK(stat->virtual_bytes == 1073741824);
  CHECK(stat->resident_pages == 5120);

  const ProcessStats s = to_process_stats(*stat, 100, 4096, 1'764'000'000);
  CHECK(s.cpu_seconds == Approx(3.0));
  CHECK(s.start_time_seconds == Approx(1'764'000'000 + 1234.56));
  CHECK(s.resident_bytes == Approx(5120.0 * 4096));

  CHECK_FALSE(parse_proc_pid_stat(""));
  CHECK_FALSE(parse_proc_pid_stat("4242 (fleetd) S 1 2 3"));                   // too few fields
  CHECK_FALSE(parse_proc_pid_stat("4242 fleetd S 1 4242 4242 0 -1 4194560"));  // no name in parentheses
}

TEST_CASE("process metrics: boot time and the open-files limit", "[fleetd][metrics][process]") {
  CHECK(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1764000000\nprocesses 9\n") == 1'764'000'000u);
  CHECK_FALSE(parse_boot_time("cpu  1 2 3\n"));
  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1048576              1048576              files     \n";
  CHECK(parse_max_open_files(limits) == 1'048'576u);
  CHECK_FALSE(parse_max_open_files("Max open files            unlimited            unlimited            files\n"));
  CHECK_FALSE(parse_max_open_files("Max cpu time unlimited\n"));
}

TEST_CASE("process metrics: rendered in the exposition format, fds only when known", "[fleetd][metrics][process]") {
  ProcessStats s;
  s.cpu_seconds = 3;
  s.start_time_seconds = 1764001234.56;
  s.virtual_bytes = 1073741824;
  s.resident_bytes = 20971520;
  std::ostringstream without;
  render_process_metrics(without, s);
  CHECK(without.str().find("process_open_fds") == std::string::npos);
  CHECK_THAT(without.str(), Catch::Contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3\n"));
  CHECK_THAT(without.str(), Catch::Contains("process_start_time_seconds 1764001234.56\n"));
  CHECK_THAT(without.str(), Catch::Contains("process_resident_memory_bytes 20971520\n"));
  s.open_fds = 12;
  s.max_fds = 1024;
  std::ostringstream with;
  render_process_metrics(with, s);
  CHECK_THAT(with.str(), Catch::Contains("# TYPE process_open_fds gauge\nprocess_open_fds 12\n"));
  CHECK_THAT(with.str(), Catch::Contains("process_max_fds 1024\n"));

  const auto live = read_process_stats();  // this test process, from /proc
  REQUIRE(live);
  CHECK(live->resident_bytes > 0);
  CHECK(live->open_fds.value_or(0) >= 3);  // stdin, stdout, stderr at least
}

TEST_CASE("prometheus numbers: the shortest plain decimal that reads back, exponents only at the extremes",
          "[fleetd][metrics]") {
  CHECK(fleet::prometheus_number(0.0005) == "0.0005");
  CHECK(fleet::prometheus_number(0.005) == "0.005");
  CHECK(fleet::prometheus_number(2.5) == "2.5");
  CHECK(fleet::prometheus_number(30) == "30");
  CHECK(fleet::prometheus_number(1800000010.0) == "1800000010");
  CHECK(fleet::prometheus_number(1e300) == "1e+300");
  CHECK(fleet::prometheus_number(1e-30) == "1e-30");
  CHECK(fleet::prometheus_number(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(fleet::prometheus_number(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}
