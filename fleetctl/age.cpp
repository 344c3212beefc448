#include "fleetctl/age.hpp"

#include "common/time_format.hpp"

namespace fleet::ctl {

std::string format_age(std::chrono::system_clock::duration age) {
  using namespace std::chrono;
  const auto s = duration_cast<seconds>(age).count();
  // A creation time slightly in the future is clock skew between client and server, not an error.
  if (s < 0) return "0s";
  if (s < 60) return std::to_string(s) + "s";
  const auto m = s / 60;
  if (m < 60) return std::to_string(m) + "m";
  const auto h = m / 60;
  if (h < 24) return std::to_string(h) + "h";
  const auto d = h / 24;
  if (d < 365) return std::to_string(d) + "d";
  return std::to_string(d / 365) + "y";
}

std::string age_of(const std::string& timestamp, std::chrono::system_clock::time_point now) {
  auto t = parse_timestamp(timestamp);
  if (!t) return "<unknown>";
  return format_age(now - *t);
}

}  // namespace fleet::ctl
