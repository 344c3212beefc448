#pragma once
// Values in Prometheus' text format. A sample value or bucket bound is the shortest text that reads back as the
// same double (0.005, not printf's 0.0050000000000000001; issue #16). Bucket bounds are label values, so a query
// matching le="0.005" must find them written that way.
#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

namespace fleet {

// Plain decimals where they are short (le="0.0005", not the shorter "5e-04"; a Unix time in full), as Prometheus'
// own Go client writes them; exponents only for the very large or small.
inline std::string prometheus_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buf{};
  if (const auto [end, ec] = std::to_chars(buf.data(), buf.data() + 24, v, std::chars_format::fixed);
      ec == std::errc()) {
    return std::string(buf.data(), end);
  }
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
