#include "fleetd/http/metrics.hpp"

#include <cstdio>
#include <sstream>

namespace fleet {
namespace {
// Label values are route templates and methods we chose, but escape anyway: the format breaks on a stray quote.
std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

void Metrics::observe_request(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard lock(mutex_);
  requests_[{route, method, status}]++;
  auto& h = latency_[{route, method}];
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) h.buckets[i]++;
  }
  h.count++;
  h.sum += seconds;
}

void Metrics::add_gauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

void Metrics::set_build_info(std::string version, std::string commit) {
  std::lock_guard lock(mutex_);
  version_ = std::move(version);
  commit_ = std::move(commit);
}

std::string Metrics::render() const {
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
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      out << "fleetd_http_request_duration_seconds_bucket{" << labels << ",le=\"" << num(kLatencyBuckets[i]) << "\"} "
          << h.buckets[i] << "\n";
    }
    out << "fleetd_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count << "\n";
    out << "fleetd_http_request_duration_seconds_sum{" << labels << "} " << num(h.sum) << "\n";
    out << "fleetd_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  for (const auto& g : gauges_) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n"
        << g.name << " " << num(g.read()) << "\n";
  }
  return out.str();
}

}  // namespace fleet
