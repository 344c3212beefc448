#pragma once
// Percent-encoding for the path segments and query values the clients build (fleetctl, fleet-agent's kubernetes
// backend): everything but RFC 3986 unreserved characters is escaped, so a name or a selector can never change
// the shape of the URL it is put into.
#include <string>
#include <string_view>

namespace fleet::http {

std::string url_encode(std::string_view text);

}  // namespace fleet::http
