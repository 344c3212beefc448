#pragma once
// Prometheus metrics for fleetd: requests by route, method and status, a latency histogram per route, and
// gauges sampled at scrape time. Text exposition format 0.0.4.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/duration_histogram.hpp"

namespace fleet {

class Metrics {
 public:
  static constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

  // `route` is a route template or "unmatched", `status` one the server chose; the method is the client's, so it
  // is counted as one of the methods fleetd serves or "other": no request can add a label value (issue #10).
  void observe_request(const std::string& route, const std::string& method, int status, double seconds);
  static std::string_view method_label(std::string_view method);
  // A gauge read when /metrics is rendered (pool in use, connections, …).
  void add_gauge(std::string name, std::string help, std::function<double()> read);
  // A counter kept elsewhere (a loop's rounds, leases expired), read when /metrics is rendered. Its name ends in
  // _total (Prometheus' convention for values that only grow; rate() and increase() assume it).
  void add_counter(std::string name, std::string help, std::function<double()> read);
  // Latency buckets for one route instead of kLatencyBuckets: the agents' long poll waits up to 55 s by design,
  // so its latency is its wait, and every poll would land in +Inf.
  void set_route_buckets(const std::string& route, std::vector<double> bounds);
  void set_build_info(std::string version, std::string commit);
  // A gauge with one label, read when /metrics is rendered: label value → value.
  void add_gauge_family(std::string name, std::string help, std::string label,
                        std::function<std::map<std::string, std::int64_t>()> read);
  // A gauge with several labels: label values (in `labels`' order) → value.
  using LabelValues = std::vector<std::string>;
  void add_gauge_table(std::string name, std::string help, std::vector<std::string> labels,
                       std::function<std::map<LabelValues, std::int64_t>()> read);
  // The same for a counter (name ending in _total).
  void add_counter_family(std::string name, std::string help, std::string label,
                          std::function<std::map<std::string, std::int64_t>()> read);

  // GPU admission (issue #11): a probe result this replica stored: counted by verdict and by failing check, and its
  // duration observed. Check names come from agents: past kMaxCheckLabels distinct names they count as "other".
  static constexpr std::array<double, 11> kProbeBuckets = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800};
  static constexpr std::size_t kMaxCheckLabels = 64;
  void observe_probe_result(const std::string& verdict, const std::vector<std::string>& failed_checks, double seconds);
  // A GPU node an agent found schedulable before admission guarded it: how long, and how many pods landed on it.
  void observe_unguarded_node(double seconds, int pods);

  // Requests refused for their credential on the API's token routes (issue #10): no Authorization header, one
  // that is not a bearer token, a token the database does not know, and the same answered from the negative cache
  // (no query). Counted as fleetd_auth_failures_total{reason} and fleetd_auth_unknown_cached_total.
  // kThrottled: a request refused with 429 before any lookup, its source having failed too often
  // (fleetd_auth_throttled_total; not a 401).
  enum class AuthFailure { kMissing, kMalformed, kUnknownToken, kUnknownTokenCached, kThrottled };
  void observe_auth_failure(AuthFailure failure);
  // A /readyz that went to the database (the others were answered from the last check): fleetd_readiness_checks_total.
  void observe_readiness_check();
  // A heartbeat accepted with members this fleetd does not read (a newer agent): fleetd_heartbeat_unknown_fields_total.
  void observe_heartbeat_unknown_fields();
  // A heartbeat answered 2xx (fleetd_heartbeats_received_total{outcome}): nothing to write, a delta written, a full
  // inventory written, or the agent asked to send its full inventory (a resync).
  enum class HeartbeatOutcome { kUnchanged, kChanged, kFull, kResync };
  void observe_heartbeat(HeartbeatOutcome outcome);

  // Histograms kept elsewhere (the rollout executor's), read when /metrics is rendered: label value → histogram;
  // an empty label name renders one unlabelled histogram (the map's one entry).
  void add_histogram_family(std::string name, std::string help, std::string label,
                            std::function<std::map<std::string, DurationHistogram>()> read);

  std::string render() const;

 private:
  void render_admission(std::ostream& out) const;  // with mutex_ held
  void render_tables(std::ostream& out) const;     // with mutex_ held
  struct Histogram {
    const std::vector<double>* bounds = nullptr;  // the route's (route_buckets_, never erased) or default_buckets_
    std::vector<std::uint64_t> buckets;           // per bound, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
    const char* type;  // "gauge" or "counter"
  };
  struct GaugeFamily {
    std::string name, help, label;
    std::function<std::map<std::string, std::int64_t>()> read;
    const char* type;
  };
  std::vector<GaugeFamily> families_;
  struct GaugeTable {
    std::string name, help;
    std::vector<std::string> labels;
    std::function<std::map<LabelValues, std::int64_t>()> read;
  };
  std::vector<GaugeTable> tables_;
  struct HistogramFamily {
    std::string name, help, label;
    std::function<std::map<std::string, DurationHistogram>()> read;
  };
  std::vector<HistogramFamily> histogram_families_;
  std::map<std::string, std::uint64_t> probes_by_verdict_;
  std::map<std::string, std::uint64_t> probe_failed_checks_;
  std::array<std::uint64_t, kProbeBuckets.size()> probe_buckets_{};
  std::uint64_t probe_count_ = 0;
  std::array<std::uint64_t, 3> auth_failures_{};  // missing, malformed, unknown (cached ones included)
  std::uint64_t auth_unknown_cached_ = 0;
  std::uint64_t auth_throttled_ = 0;
  std::uint64_t readiness_checks_ = 0;
  std::uint64_t heartbeats_with_unknown_fields_ = 0;
  std::array<std::uint64_t, 4> heartbeats_{};  // by HeartbeatOutcome
  std::uint64_t unguarded_nodes_ = 0;
  std::uint64_t unguarded_pods_ = 0;
  double unguarded_seconds_ = 0;
  double probe_sum_ = 0;
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  const std::vector<double> default_buckets_{kLatencyBuckets.begin(), kLatencyBuckets.end()};
  std::map<std::string, std::vector<double>> route_buckets_;
  std::vector<Gauge> gauges_;
  std::string version_, commit_;
};

}  // namespace fleet
