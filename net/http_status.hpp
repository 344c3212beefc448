#pragma once
// What an HTTP error status means to a client, as the ErrorCode every client reasons with (fleetctl's exit codes,
// fleet-agent's retry decisions, the kubernetes backend's). One table, so the three cannot drift apart:
//   401 kUnauthenticated, 403 kForbidden, 404 kNotFound, 409 kConflict, 412 kPreconditionFailed, 413 kTooLarge,
//   415 kUnsupportedMedia; 408, 429, 502, 503, 504 kUnavailable (try again later); any other 5xx kInternal;
//   any other status kInvalid (the request itself was wrong).
#include <string>

#include "common/error.hpp"

namespace fleet::http {

ErrorCode error_code_for_status(int status);
// The status's reason phrase ("Not Found"), from Beast's table; "HTTP <n>" for a status it does not know.
std::string reason_phrase(int status);

}  // namespace fleet::http
