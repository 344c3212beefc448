#include "agents/kube/testing/query_string.hpp"

namespace fleet::agent::kube::testing {

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query_string(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view part = text.substr(0, amp);
    auto eq = part.find('=');
    out[url_decode(part.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace fleet::agent::kube::testing
