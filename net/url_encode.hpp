#pragma once
// Percent-encoding and query strings for the URLs the clients build (fleetctl, fleet-agent's kubernetes backend),
// by Boost.URL: everything but RFC 3986 unreserved characters is escaped, so a name, a selector or a continue
// token can never change the shape of the URL it is put into ('+' too: Go servers read it as a space).
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace fleet::http {

std::string url_encode(std::string_view text);

// `target` (a path with or without a query) with `params` appended to its query, in order, keys and values
// encoded with url_encode: with_query("/api/v1/pods", {{"fieldSelector", "spec.nodeName=n1"}}) is
// "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1".
std::string with_query(std::string_view target,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> params);

}  // namespace fleet::http
