#include <catch2/catch.hpp>

#include <string>

#include "api/json_body.hpp"

using namespace fleet;
using namespace fleet::api;
using nlohmann::json;

namespace {
http::Request request(std::string body, std::string content_type = "application/json") {
  http::Request r;
  r.method = "POST";
  r.target = "/v1/clusters";
  if (!content_type.empty()) r.headers["content-type"] = std::move(content_type);
  r.body = std::move(body);
  return r;
}

std::string nested(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}
std::string nested_in_object(int depth) {
  // depth counts the outer object too.
  return "{\"a\":" + nested(depth - 1) + "}";
}
}  // namespace

TEST_CASE("json body: content types", "[api][json]") {
  struct Case {
    std::string content_type;
    bool ok;
  };
  auto c = GENERATE(values<Case>({
      {"application/json", true},
      {"application/json; charset=utf-8", true},
      {"Application/JSON;charset=UTF-8", true},
      {"application/json ; charset=\"utf-8\"", true},
      {"application/merge-patch+json", true},
      {"", false},
      {"text/plain", false},
      {"application/jsonx", false},
      {"application/x-www-form-urlencoded", false},
      {"application/json; charset=latin1", false},
  }));
  CAPTURE(c.content_type);
  auto r = parse_json_body(request("{}", c.content_type), {"application/json", "application/merge-patch+json"});
  CHECK(r.ok() == c.ok);
  if (!r) {
    CHECK(r.error().code == ErrorCode::kUnsupportedMedia);
    CHECK(r.error().type == "unsupported-media-type");
  }
}

TEST_CASE("json body: malformed input", "[api][json]") {
  struct Case {
    std::string body;
    std::string fragment;
  };
  auto c = GENERATE(values<Case>({
      {"", "empty"},
      {" \r\n\t", "empty"},
      {"{\"name\": \"a\"", "at byte"},
      {"{\"name\": \"a\",}", "at byte"},
      {"{\"name\": \"\xff\"}", "at byte 11"},
      {"{\"name\": \"\xc3\"}", "at byte"},
      {"{\"name\": 'a'}", "at byte 10"},
      {"{} {}", "at byte"},
      {"{\"a\": 1, \"a\": 2}", "duplicate member name \"a\""},
      {"{\"a\": {\"b\": 1, \"b\": 1}}", "duplicate member name \"b\""},
      {nested(33), "deeper than 32"},
      {nested_in_object(33), "deeper than 32"},
      {std::string(100000, '['), "deeper than 32"},
      {"{\"a\": 1} // comment", "at byte"},
  }));
  CAPTURE(c.body.substr(0, 40));
  auto r = parse_json_body(request(c.body), {"application/json"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().type == "malformed-json");
  CHECK_THAT(r.error().message, Catch::Contains(c.fragment));
  CHECK(r.error().message.find('\xff') == std::string::npos);  // raw input is not echoed
}

TEST_CASE("json body: depth 32 is fine, duplicate names in sibling objects are fine", "[api][json]") {
  CHECK(parse_json_body(request(nested_in_object(32)), {"application/json"}));
  CHECK(parse_json_body(request(R"({"a": {"x": 1}, "b": {"x": 2}, "x": [{"x": 1}, {"x": 2}]})"), {"application/json"}));
}

TEST_CASE("json body: top level must be an object", "[api][json]") {
  for (std::string body : {"[]", "1", "\"s\"", "null", "true"}) {
    CAPTURE(body);
    auto r = parse_json_body(request(body), {"application/json"});
    REQUIRE_FALSE(r);
    CHECK(r.error().type == "invalid-field");
    CHECK_THAT(r.error().message, Catch::Contains("must be a JSON object"));
  }
}

TEST_CASE("json body: size limit", "[api][json]") {
  std::string body = "{\"a\":\"" + std::string(kMaxBodyBytes, 'x') + "\"}";
  auto r = parse_json_body(request(body), {"application/json"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kTooLarge);
  CHECK(r.error().type == "payload-too-large");
}

TEST_CASE("json body: media_type", "[api][json]") {
  CHECK(media_type(" Application/Merge-Patch+JSON ; charset=utf-8") == "application/merge-patch+json");
  CHECK(media_type("") == "");
}
