// Raw bytes into the HTTP server's request parser (net/request_parser.hpp: the session's parser, limits and
// conversion), with the limits fleetd serves with: 16 KiB of head, 1 MiB of body, 16 MiB on large-body routes.
#include <cctype>

#include "fuzz/fuzz_target.hpp"
#include "net/request_parser.hpp"

FLEET_FUZZ_HARNESS(http_request) {
  using namespace fleet;
  static const http::ServerLimits limits = [] {
    http::ServerLimits l;
    l.allows_large_body = [](std::string_view method, std::string_view target) {
      return method == "POST" && target.starts_with("/v1/agents/");
    };
    return l;
  }();
  auto parsed = http::parse_request(data, limits);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  const auto& req = parsed->request;
  FUZZ_CHECK(!req.method.empty() && !req.target.empty());
  FUZZ_CHECK(parsed->consumed > 0 && parsed->consumed <= data.size());
  FUZZ_CHECK(req.body.size() <= limits.large_body_bytes);
  for (const auto& [name, value] : req.headers) {
    FUZZ_CHECK(!name.empty());
    for (char c : name) FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)));
    // The parser must not let a field value carry a line break into what handlers (and logs) see.
    FUZZ_CHECK(value.find('\r') == std::string::npos && value.find('\n') == std::string::npos);
  }
}
