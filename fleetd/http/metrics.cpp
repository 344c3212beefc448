#include "fleetd/http/metrics.hpp"

#include "net/process_metrics.hpp"
#include "net/prometheus_number.hpp"

#include <algorithm>
#include <sstream>

namespace fleet {
namespace {
std::string escape(const std::string& v) {
  return prometheus_label_value(v);
}
std::string num(double v) {
  return prometheus_number(v);
}
}  // namespace

std::string_view Metrics::method_label(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

void Metrics::observe_request(const std::string& route, const std::string& method, int status, double seconds) {
  const std::string label(method_label(method));
  std::lock_guard lock(mutex_);
  requests_[{route, label, status}]++;
  auto& h = latency_[{route, label}];
  if (h.bounds == nullptr) {
    auto own = route_buckets_.find(route);
    h.bounds = own == route_buckets_.end() ? &default_buckets_ : &own->second;
    h.buckets.assign(h.bounds->size(), 0);
  }
  // Counted in the first bucket that holds it; render() sums them up (the exposition's buckets are cumulative).
  const auto at = std::lower_bound(h.bounds->begin(), h.bounds->end(), seconds);
  if (at != h.bounds->end()) h.buckets[static_cast<std::size_t>(at - h.bounds->begin())]++;
  h.count++;
  h.sum += seconds;
}

void Metrics::add_gauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read), "gauge"});
}

void Metrics::add_counter(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read), "counter"});
}

void Metrics::set_route_buckets(const std::string& route, std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  std::lock_guard lock(mutex_);
  // Before any request on the route: a histogram already counting keeps the bounds it was made with.
  route_buckets_.emplace(route, std::move(bounds));
}

void Metrics::set_build_info(std::string version, std::string commit) {
  std::lock_guard lock(mutex_);
  version_ = std::move(version);
  commit_ = std::move(commit);
}

void Metrics::add_gauge_family(std::string name, std::string help, std::string label,
                               std::function<std::map<std::string, std::int64_t>()> read) {
  std::lock_guard lock(mutex_);
  families_.push_back({std::move(name), std::move(help), std::move(label), std::move(read), "gauge"});
}

void Metrics::add_gauge_table(std::string name, std::string help, std::vector<std::string> labels,
                              std::function<std::map<LabelValues, std::int64_t>()> read) {
  std::lock_guard lock(mutex_);
  tables_.push_back({std::move(name), std::move(help), std::move(labels), std::move(read)});
}

void Metrics::add_counter_family(std::string name, std::string help, std::string label,
                                 std::function<std::map<std::string, std::int64_t>()> read) {
  std::lock_guard lock(mutex_);
  families_.push_back({std::move(name), std::move(help), std::move(label), std::move(read), "counter"});
}

void Metrics::observe_probe_result(const std::string& verdict, const std::vector<std::string>& failed_checks,
                                   double seconds) {
  std::lock_guard lock(mutex_);
  probes_by_verdict_[verdict]++;
  for (const std::string& check : failed_checks) {
    const bool known = probe_failed_checks_.count(check) > 0;
    probe_failed_checks_[known || probe_failed_checks_.size() < kMaxCheckLabels ? check : "other"]++;
  }
  for (std::size_t i = 0; i < kProbeBuckets.size(); ++i) {
    if (seconds <= kProbeBuckets[i]) probe_buckets_[i]++;
  }
  probe_count_++;
  probe_sum_ += seconds;
}

void Metrics::observe_unguarded_node(double seconds, int pods) {
  std::lock_guard lock(mutex_);
  unguarded_nodes_++;
  unguarded_pods_ += static_cast<std::uint64_t>(std::max(0, pods));
  unguarded_seconds_ += std::max(0.0, seconds);
}

void Metrics::observe_readiness_check() {
  std::lock_guard lock(mutex_);
  readiness_checks_++;
}

void Metrics::observe_heartbeat_unknown_fields() {
  std::lock_guard lock(mutex_);
  heartbeats_with_unknown_fields_++;
}

void Metrics::observe_heartbeat(HeartbeatOutcome outcome) {
  std::lock_guard lock(mutex_);
  heartbeats_.at(static_cast<std::size_t>(outcome))++;
}

void Metrics::observe_auth_failure(AuthFailure failure) {
  std::lock_guard lock(mutex_);
  switch (failure) {
    case AuthFailure::kMissing:
      auth_failures_[0]++;
      break;
    case AuthFailure::kMalformed:
      auth_failures_[1]++;
      break;
    case AuthFailure::kUnknownTokenCached:
      auth_unknown_cached_++;
      auth_failures_[2]++;
      break;
    case AuthFailure::kUnknownToken:
      auth_failures_[2]++;
      break;
    case AuthFailure::kThrottled:
      auth_throttled_++;
      break;
  }
}

void Metrics::render_admission(std::ostream& out) const {
  out << "# HELP fleetd_gpu_nodes_unguarded_total GPU nodes agents found schedulable before admission guarded them.\n"
      << "# TYPE fleetd_gpu_nodes_unguarded_total counter\n"
      << "fleetd_gpu_nodes_unguarded_total " << unguarded_nodes_ << "\n"
      << "# HELP fleetd_gpu_unguarded_seconds_total Seconds those nodes were schedulable unguarded, summed.\n"
      << "# TYPE fleetd_gpu_unguarded_seconds_total counter\n"
      << "fleetd_gpu_unguarded_seconds_total " << num(unguarded_seconds_) << "\n"
      << "# HELP fleetd_gpu_unguarded_pods_total Workload pods found on those nodes when they were guarded.\n"
      << "# TYPE fleetd_gpu_unguarded_pods_total counter\n"
      << "fleetd_gpu_unguarded_pods_total " << unguarded_pods_ << "\n";
  out << "# HELP fleetd_probe_results_total GPU probe results stored by this replica, by verdict.\n"
      << "# TYPE fleetd_probe_results_total counter\n";
  for (const auto& [verdict, n] : probes_by_verdict_) {
    out << "fleetd_probe_results_total{verdict=\"" << escape(verdict) << "\"} " << n << "\n";
  }
  out << "# HELP fleetd_probe_failed_checks_total Failing checks in the GPU probe results this replica stored.\n"
      << "# TYPE fleetd_probe_failed_checks_total counter\n";
  for (const auto& [check, n] : probe_failed_checks_) {
    out << "fleetd_probe_failed_checks_total{check=\"" << escape(check) << "\"} " << n << "\n";
  }
  out << "# HELP fleetd_probe_duration_seconds GPU probe duration, from its start to its report.\n"
      << "# TYPE fleetd_probe_duration_seconds histogram\n";
  for (std::size_t i = 0; i < kProbeBuckets.size(); ++i) {
    out << "fleetd_probe_duration_seconds_bucket{le=\"" << num(kProbeBuckets[i]) << "\"} " << probe_buckets_[i] << "\n";
  }
  out << "fleetd_probe_duration_seconds_bucket{le=\"+Inf\"} " << probe_count_ << "\n"
      << "fleetd_probe_duration_seconds_sum " << num(probe_sum_) << "\n"
      << "fleetd_probe_duration_seconds_count " << probe_count_ << "\n";
  for (const auto& f : histogram_families_) {
    out << "# HELP " << f.name << " " << f.help << "\n# TYPE " << f.name << " histogram\n";
    for (const auto& [value, h] : f.read()) {
      const std::string label = f.label.empty() ? "" : f.label + "=\"" + escape(value) + "\",";
      const std::string bare = f.label.empty() ? "" : "{" + f.label + "=\"" + escape(value) + "\"}";
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        out << f.name << "_bucket{" << label << "le=\"" << num(h.bounds[i]) << "\"} " << cumulative << "\n";
      }
      out << f.name << "_bucket{" << label << "le=\"+Inf\"} " << h.count << "\n"
          << f.name << "_sum" << bare << " " << num(h.sum) << "\n"
          << f.name << "_count" << bare << " " << h.count << "\n";
    }
  }
  for (const auto& f : families_) {
    out << "# HELP " << f.name << " " << f.help << "\n# TYPE " << f.name << " " << f.type << "\n";
    for (const auto& [value, n] : f.read()) {
      out << f.name << "{" << f.label << "=\"" << escape(value) << "\"} " << n << "\n";
    }
  }
}

void Metrics::render_tables(std::ostream& out) const {
  for (const auto& t : tables_) {
    out << "# HELP " << t.name << " " << t.help << "\n# TYPE " << t.name << " gauge\n";
    for (const auto& [values, n] : t.read()) {
      if (values.size() != t.labels.size()) continue;  // a reader's bug: no sample rather than a malformed one
      out << t.name << "{";
      for (std::size_t i = 0; i < values.size(); ++i) {
        out << (i ? "," : "") << t.labels[i] << "=\"" << escape(values[i]) << "\"";
      }
      out << "} " << n << "\n";
    }
  }
}

void Metrics::add_histogram_family(std::string name, std::string help, std::string label,
                                   std::function<std::map<std::string, DurationHistogram>()> read) {
  std::lock_guard lock(mutex_);
  histogram_families_.push_back({std::move(name), std::move(help), std::move(label), std::move(read)});
}

std::string Metrics::render() const {
  // /proc is read before the lock: requests being counted need not wait for a scrape's file reads.
  const auto process = read_process_stats();
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP fleetd_build_info Build information.\n# TYPE fleetd_build_info gauge\n"
      << "fleetd_build_info{version=\"" << escape(version_) << "\",commit=\"" << escape(commit_) << "\"} 1\n";
  out << "# HELP fleetd_http_requests_total HTTP requests by route template, method and status.\n"
      << "# TYPE fleetd_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out << "fleetd_http_requests_total{route=\"" << escape(route) << "\",method=\"" << escape(method) << "\",status=\""
        << status << "\"} " << count << "\n";
  }
  out << "# HELP fleetd_http_request_duration_seconds HTTP request latency, from parsed request to response.\n"
      << "# TYPE fleetd_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    std::string labels = "route=\"" + escape(key.first) + "\",method=\"" + escape(key.second) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds->size(); ++i) {
      cumulative += h.buckets[i];
      out << "fleetd_http_request_duration_seconds_bucket{" << labels << ",le=\"" << num((*h.bounds)[i]) << "\"} "
          << cumulative << "\n";
    }
    out << "fleetd_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count << "\n";
    out << "fleetd_http_request_duration_seconds_sum{" << labels << "} " << num(h.sum) << "\n";
    out << "fleetd_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  for (const auto& g : gauges_) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " " << g.type << "\n"
        << g.name << " " << num(g.read()) << "\n";
  }
  render_admission(out);
  render_tables(out);
  out << "# HELP fleetd_auth_failures_total API requests refused with 401 for their bearer token, by reason.\n"
      << "# TYPE fleetd_auth_failures_total counter\n";
  const std::array<const char*, 3> reasons = {"missing", "malformed", "unknown"};
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    out << "fleetd_auth_failures_total{reason=\"" << reasons[i] << "\"} " << auth_failures_[i] << "\n";
  }
  out << "# HELP fleetd_auth_unknown_cached_total 401s for a token already found unknown, answered without a "
         "database query.\n"
      << "# TYPE fleetd_auth_unknown_cached_total counter\n"
      << "fleetd_auth_unknown_cached_total " << auth_unknown_cached_ << "\n"
      << "# HELP fleetd_auth_throttled_total API requests refused with 429 because their source's tokens kept "
         "failing.\n"
      << "# TYPE fleetd_auth_throttled_total counter\n"
      << "fleetd_auth_throttled_total " << auth_throttled_ << "\n"
      << "# HELP fleetd_readiness_checks_total /readyz probes that checked the database (the others reused the "
         "last answer, at most 1 s old).\n"
      << "# TYPE fleetd_readiness_checks_total counter\n"
      << "fleetd_readiness_checks_total " << readiness_checks_ << "\n"
      << "# HELP fleetd_heartbeat_unknown_fields_total Heartbeats accepted with members this fleetd does not read "
         "(an agent newer than fleetd); the answer's Warning header names them.\n"
      << "# TYPE fleetd_heartbeat_unknown_fields_total counter\n"
      << "fleetd_heartbeat_unknown_fields_total " << heartbeats_with_unknown_fields_ << "\n"
      << "# HELP fleetd_heartbeats_received_total Agent heartbeats answered, by outcome: unchanged (nothing to "
         "write), changed (a delta written), full (a full inventory written), resync (the agent was asked for its "
         "full inventory).\n"
      << "# TYPE fleetd_heartbeats_received_total counter\n";
  const std::array<const char*, 4> outcomes = {"unchanged", "changed", "full", "resync"};
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    out << "fleetd_heartbeats_received_total{outcome=\"" << outcomes[i] << "\"} " << heartbeats_[i] << "\n";
  }
  if (process) render_process_metrics(out, *process);
  return out.str();
}

}  // namespace fleet
