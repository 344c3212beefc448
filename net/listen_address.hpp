#pragma once
// "HOST:PORT" as the --listen style flags take it ("127.0.0.1:8080", "[::1]:0", "0.0.0.0:9400"); port 0 asks for an
// ephemeral port. Shared by fleetd's --listen and fleet-agent's --health-listen.
#include <string>
#include <string_view>
#include <utility>

#include "common/error.hpp"

namespace fleet::http {

// The host (brackets of an IPv6 literal removed) and the port; an Error naming `flag` for anything else.
Result<std::pair<std::string, unsigned short>> parse_listen_address(std::string_view text, std::string_view flag);

}  // namespace fleet::http
