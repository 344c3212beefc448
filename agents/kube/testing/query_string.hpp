#pragma once
// Decoding for the test doubles: a query string or an application/x-www-form-urlencoded body ("a=1&b=x%2Fy") into
// its pairs, and one percent-encoded component ('+' is a space). The Kubernetes and ARM doubles both read them.
#include <map>
#include <string>
#include <string_view>

namespace fleet::agent::kube::testing {

std::string url_decode(std::string_view s);
std::map<std::string, std::string> parse_query_string(std::string_view text);

}  // namespace fleet::agent::kube::testing
