#pragma once
// Turns an HTTP error response (RFC 9457 problem+json, or anything a proxy may send instead) into an Error, and
// any Error into the one line fleetctl prints.
#include <string>

#include "common/error.hpp"
#include "net/http_client.hpp"

namespace fleet::ctl {

// For a response with status >= 400. The Error's `type` is the problem slug ("not-found"), else the problem's
// title, else the HTTP reason phrase, so it is never empty: that is how errors from the server are told apart.
Error error_from_response(const http::ClientResponse& response);

// "Error from server (not-found): cluster \"x\" not found" for server errors (plus ` (field "labels.env")`),
// "error: <message>" for local ones. One line: control characters from the server are replaced.
std::string render_error(const Error& error);

}  // namespace fleet::ctl
