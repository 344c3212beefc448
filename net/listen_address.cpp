#include "net/listen_address.hpp"

#include <charconv>

namespace fleet::http {

Result<std::pair<std::string, unsigned short>> parse_listen_address(std::string_view text, std::string_view flag) {
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalid, std::string(flag) + " must be HOST:PORT, e.g. 127.0.0.1:8080; got \"" +
                                               std::string(text) + "\"" + why);
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("");
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view digits = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port > 65535) {
    return bad(" (the port is a number from 0 to 65535)");
  }
  return std::make_pair(host, static_cast<unsigned short>(port));
}

}  // namespace fleet::http
