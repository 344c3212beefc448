#pragma once
// Prometheus metrics for fleetd: requests by route, method and status, a latency histogram per route, and
// gauges sampled at scrape time. Text exposition format 0.0.4.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace fleet {

class Metrics {
 public:
  static constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

  void observe_request(const std::string& route, const std::string& method, int status, double seconds);
  // A gauge read when /metrics is rendered (pool in use, connections, …).
  void add_gauge(std::string name, std::string help, std::function<double()> read);
  void set_build_info(std::string version, std::string commit);

  std::string render() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::vector<Gauge> gauges_;
  std::string version_, commit_;
};

}  // namespace fleet
