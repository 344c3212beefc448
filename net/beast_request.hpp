#pragma once
// The two steps a server session and parse_request (request_parser.hpp) share, so that what the fuzz harness
// drives is what the server runs: how a request parser is limited, and how a parsed message becomes a Request.
// Beast types: include from .cpp files of net/ only.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

#include "net/http_server.hpp"
#include "net/http_types.hpp"

namespace fleet::http {

using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// The header limit, and the widest body limit any request may have (the request's own is set once its head is
// read).
void limit_request_parser(BeastRequestParser& parser, const ServerLimits& limits);

// Method, target, lower-cased header names (a repeated field joined with ", ", as RFC 9110 §5.3 allows) and the
// body, moved out of `message`. The connection's details (remote address, request id, time) are the session's.
Request to_request(boost::beast::http::request<boost::beast::http::string_body>& message);

std::string lower_case(std::string_view text);

}  // namespace fleet::http
