#include "common/json_text.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace fleet;

// The HTTP edge's tests (api/tests/json_body_test.cpp) cover the messages in detail; these pin what callers
// without a request (fleetctl reading a file, tests) rely on.
TEST_CASE("json text: any top-level value, with the document limits", "[common][json]") {
  CHECK(parse_json_text("[1, 2]")->is_array());
  CHECK(parse_json_text("\"s\"")->is_string());
  CHECK(parse_json_text(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')));
  auto deep = parse_json_text(std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']'));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().type == "malformed-json");
  auto duplicate = parse_json_text(R"({"a": 1, "a": 1})");
  REQUIRE_FALSE(duplicate);
  CHECK_THAT(duplicate.error().message, Catch::Contains("duplicate member name"));
  auto big = parse_json_text("[" + std::string(100, ' ') + "]", 50);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == ErrorCode::kTooLarge);
  CHECK_FALSE(parse_json_text(""));
}
