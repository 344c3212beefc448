// The small pieces every client shares: what an HTTP status means (one table for fleetctl, fleet-agent and the
// kubernetes backend) and percent-encoding of path segments and query values.
#include <catch2/catch.hpp>

#include "net/http_status.hpp"
#include "net/url_encode.hpp"

namespace fleet::http {

TEST_CASE("HTTP error statuses map to the error codes clients act on", "[net][status]") {
  CHECK(error_code_for_status(400) == ErrorCode::kInvalid);
  CHECK(error_code_for_status(422) == ErrorCode::kInvalid);
  CHECK(error_code_for_status(418) == ErrorCode::kInvalid);
  CHECK(error_code_for_status(401) == ErrorCode::kUnauthenticated);
  CHECK(error_code_for_status(403) == ErrorCode::kForbidden);
  CHECK(error_code_for_status(404) == ErrorCode::kNotFound);
  CHECK(error_code_for_status(409) == ErrorCode::kConflict);
  CHECK(error_code_for_status(412) == ErrorCode::kPreconditionFailed);
  CHECK(error_code_for_status(413) == ErrorCode::kTooLarge);
  CHECK(error_code_for_status(415) == ErrorCode::kUnsupportedMedia);
  // Retry later: the server is busy or a proxy in front of it is.
  for (int s : {408, 429, 502, 503, 504}) CHECK(error_code_for_status(s) == ErrorCode::kUnavailable);
  CHECK(error_code_for_status(500) == ErrorCode::kInternal);
  CHECK(error_code_for_status(599) == ErrorCode::kInternal);
}

TEST_CASE("url_encode keeps unreserved characters and escapes the rest", "[net][url]") {
  CHECK(url_encode("spec.nodeName=aks-gpu-1") == "spec.nodeName%3Daks-gpu-1");
  CHECK(url_encode("a b/c~_") == "a%20b%2Fc~_");
  CHECK(url_encode("") == "");
  CHECK(url_encode("gpu.product in (H100,A100)") == "gpu.product%20in%20%28H100%2CA100%29");
  CHECK(url_encode("\xc3\xa9?&#") == "%C3%A9%3F%26%23");
  CHECK(url_encode("a+b") == "a%2Bb");  // Go servers read a literal '+' in a query as a space
}

TEST_CASE("with_query appends encoded parameters to a path or to its query", "[net][url]") {
  CHECK(with_query("/api/v1/pods", {{"fieldSelector", "spec.nodeName=n1"}}) ==
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1");
  CHECK(with_query("/a?x=1", {{"limit", "500"}, {"continue", "eyJ2+/="}}) == "/a?x=1&limit=500&continue=eyJ2%2B%2F%3D");
  CHECK(with_query("/a", {}) == "/a");
}

TEST_CASE("reason phrases come from one table", "[net][status]") {
  CHECK(reason_phrase(404) == "Not Found");
  CHECK(reason_phrase(503) == "Service Unavailable");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(reason_phrase(299) == "HTTP 299");
  CHECK(reason_phrase(-1) == "HTTP -1");
}

}  // namespace fleet::http
