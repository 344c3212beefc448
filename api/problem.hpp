#pragma once
// The one place where an Error becomes an HTTP response: RFC 9457 problem+json with the stable slugs of
// docs/api.md. Handlers return Errors; they never build error bodies themselves.
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "net/http_types.hpp"

namespace fleet::api {

inline constexpr std::string_view kProblemTypePrefix = "urn:fleetd:problem:";
inline constexpr std::string_view kProblemContentType = "application/problem+json";

// The slug an Error is reported under: e.type when it is one of the documented slugs, else the default for
// e.code (kInvalid → invalid-field, kConflict → already-exists, kTooLarge → payload-too-large, …).
std::string_view problem_slug(const Error& e);
// Fixed per slug, so that clients and dashboards may match on it ("Invalid field").
std::string_view problem_title(std::string_view slug);
// The status of problem_slug(e): kInvalid is 400 for malformed-json / invalid-query / malformed-request and 422
// for invalid-field / unknown-field / missing-field; header-too-large 431, method-not-allowed 405, and so on.
int http_status_for(const Error& e);

// Body {"type", "title", "status", "detail", "instance", "requestId", "field"?}. A 500's detail is generic: the
// message of an internal error may hold internals (SQL, paths) and is for the log, not the client. A 401 carries
// `www-authenticate: Bearer` (RFC 6750 §3).
http::Response problem_response(const Error& e, std::string_view request_id, std::string_view instance);

}  // namespace fleet::api
