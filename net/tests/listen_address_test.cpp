// HOST:PORT flags (fleetd --listen, fleet-agent --health-listen).
#include <catch2/catch.hpp>

#include "net/listen_address.hpp"

namespace fleet::http {

TEST_CASE("listen addresses: host and port, IPv6 in brackets, port 0 for an ephemeral one", "[net][listen]") {
  CHECK(parse_listen_address("127.0.0.1:8080", "--listen").value() ==
        std::make_pair(std::string("127.0.0.1"), static_cast<unsigned short>(8080)));
  CHECK(parse_listen_address("[::1]:0", "--listen").value() ==
        std::make_pair(std::string("::1"), static_cast<unsigned short>(0)));
  CHECK(parse_listen_address("0.0.0.0:9400", "--health-listen").value().second == 9400);
}

TEST_CASE("listen addresses: anything else is an error naming the flag", "[net][listen]") {
  for (const char* bad : {"8080", "host:70000", "host:", ":80", "host:8o", "host:-1", "host: 80"}) {
    INFO(bad);
    auto parsed = parse_listen_address(bad, "--health-listen");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalid);
    CHECK(parsed.error().message.find("--health-listen must be HOST:PORT") == 0);
  }
}

}  // namespace fleet::http
