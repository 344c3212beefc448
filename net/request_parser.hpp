#pragma once
// One request's bytes through the parser a server session uses (Beast's request parser, the session's header and
// body limits, the same read algorithm) into the Request a handler sees. The session reads from its socket with
// the same configuration and conversion (beast_request.hpp); this entry point reads from memory, for the fuzz
// harness and for tests, and keeps Beast out of their headers.
#include <cstddef>
#include <string_view>

#include "common/error.hpp"
#include "net/http_server.hpp"
#include "net/http_types.hpp"

namespace fleet::http {

struct ParsedRequest {
  Request request;
  bool keep_alive = false;
  std::size_t consumed = 0;  // bytes of `bytes` that made up this request (a pipelined next one may follow)
};

// kInvalid with the parser's message for anything the session answers with 400, kTooLarge for 413/431. The body
// limit is the widest a request could get (limits.large_body_bytes when allows_large_body is set): which request
// gets which is decided by the session and its authorizer, not by the parser.
Result<ParsedRequest> parse_request(std::string_view bytes, const ServerLimits& limits);

}  // namespace fleet::http
