#pragma once
// A sample value or bucket bound in Prometheus' text format: the shortest text that reads back as the same
// double (0.005, not printf's 0.0050000000000000001; issue #16). Bucket bounds are label values, so a query
// matching le="0.005" must find them written that way.
#include <array>
#include <charconv>
#include <string>
#include <system_error>

namespace fleet {

inline std::string prometheus_number(double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc() ? std::string(buf.data(), end) : std::string("NaN");
}

}  // namespace fleet
