#pragma once
// Values in Prometheus' text format. A sample value or bucket bound is the shortest text that reads back as the
// same double (0.005, not printf's 0.0050000000000000001; issue #16). Bucket bounds are label values, so a query
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

// A label value in the text format: backslash, quote and newline escaped. Escape even values we chose: the
// format breaks on one stray quote.
inline std::string prometheus_label_value(const std::string& v) {
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

}  // namespace fleet
