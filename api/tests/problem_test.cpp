#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "api/problem.hpp"

using namespace fleet;
using namespace fleet::api;
using nlohmann::json;

TEST_CASE("problem: status mapping", "[api][problem]") {
  struct Case {
    ErrorCode code;
    std::string type;
    int status;
    std::string slug;
  };
  auto c = GENERATE(values<Case>({
      {ErrorCode::kInvalid, "malformed-json", 400, "malformed-json"},
      {ErrorCode::kInvalid, "invalid-query", 400, "invalid-query"},
      {ErrorCode::kInvalid, "malformed-request", 400, "malformed-request"},
      {ErrorCode::kInvalid, "invalid-field", 422, "invalid-field"},
      {ErrorCode::kInvalid, "unknown-field", 422, "unknown-field"},
      {ErrorCode::kInvalid, "missing-field", 422, "missing-field"},
      {ErrorCode::kInvalid, "", 422, "invalid-field"},
      {ErrorCode::kInvalid, "no-such-slug", 422, "invalid-field"},
      {ErrorCode::kInvalid, "method-not-allowed", 405, "method-not-allowed"},
      {ErrorCode::kUnauthenticated, "", 401, "unauthenticated"},
      {ErrorCode::kForbidden, "", 403, "forbidden"},
      {ErrorCode::kNotFound, "", 404, "not-found"},
      {ErrorCode::kConflict, "", 409, "already-exists"},
      {ErrorCode::kConflict, "idempotency-key-reused", 409, "idempotency-key-reused"},
      {ErrorCode::kPreconditionFailed, "", 412, "precondition-failed"},
      {ErrorCode::kPreconditionFailed, "precondition-required", 428, "precondition-required"},
      {ErrorCode::kTooLarge, "", 413, "payload-too-large"},
      {ErrorCode::kTooLarge, "header-too-large", 431, "header-too-large"},
      {ErrorCode::kUnavailable, "too-many-requests", 429, "too-many-requests"},
      {ErrorCode::kUnsupportedMedia, "", 415, "unsupported-media-type"},
      {ErrorCode::kUnavailable, "", 503, "unavailable"},
      {ErrorCode::kInternal, "", 500, "internal"},
  }));
  Error e = make_error(c.code, "m", {}, c.type);
  CAPTURE(c.type, c.status);
  CHECK(http_status_for(e) == c.status);
  CHECK(problem_slug(e) == c.slug);
  http::Response r = problem_response(e, "rid", "/x");
  CHECK(r.status == c.status);
  json body = json::parse(r.body);
  CHECK(body["type"] == "urn:fleetd:problem:" + c.slug);
  CHECK(body["status"] == c.status);
  CHECK(body["title"] == std::string(problem_title(c.slug)));
}

TEST_CASE("problem: body shape", "[api][problem]") {
  Error e = make_error(ErrorCode::kInvalid, "labels.env: label value must be at most 63 characters (is 64)",
                       "labels.env", "invalid-field");
  http::Response r = problem_response(e, "req-1", "/v1/clusters/c1");
  CHECK(r.status == 422);
  CHECK(r.headers.at("content-type") == "application/problem+json");
  json body = json::parse(r.body);
  CHECK(body == json{{"type", "urn:fleetd:problem:invalid-field"},
                     {"title", "Invalid field"},
                     {"status", 422},
                     {"detail", "labels.env: label value must be at most 63 characters (is 64)"},
                     {"instance", "/v1/clusters/c1"},
                     {"requestId", "req-1"},
                     {"field", "labels.env"}});
}

TEST_CASE("problem: field only when set — 500 hides internals — 401 challenges", "[api][problem]") {
  json nf = json::parse(
      problem_response(make_error(ErrorCode::kNotFound, "cluster c1 not found"), "r", "/v1/clusters/c1").body);
  CHECK_FALSE(nf.contains("field"));
  CHECK(nf["detail"] == "cluster c1 not found");

  http::Response internal =
      problem_response(make_error(ErrorCode::kInternal, "pqxx: relation \"clusters\" does not exist"), "r9", "/v1");
  CHECK(internal.status == 500);
  CHECK(internal.body.find("pqxx") == std::string::npos);
  CHECK(json::parse(internal.body)["requestId"] == "r9");

  http::Response unauth = problem_response(make_error(ErrorCode::kUnauthenticated, "no token"), "r", "/v1/clusters");
  CHECK(unauth.headers.at("www-authenticate").rfind("Bearer", 0) == 0);
  CHECK(problem_response(make_error(ErrorCode::kForbidden, "x"), "r", "/").headers.count("www-authenticate") == 0);
}

TEST_CASE("problem: invalid UTF-8 in a message does not throw", "[api][problem]") {
  http::Response r = problem_response(make_error(ErrorCode::kInvalid, "bad \xff byte", "x\xfe"), "r", "/p\xff");
  CHECK(json::parse(r.body)["status"] == 422);
}

TEST_CASE("problem: titles are fixed per slug", "[api][problem]") {
  CHECK(problem_title("malformed-json") == "Malformed JSON");
  CHECK(problem_title("not-found") == "Not found");
  CHECK(problem_title("idempotency-key-reused") == "Idempotency key reused");
  CHECK(problem_title("header-too-large") == "Request header fields too large");
}
