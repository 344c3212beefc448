#include "model/json_read.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace fleet;
using nlohmann::json;

TEST_CASE("json read: unknown fields", "[model][json]") {
  json j = {{"name", "a"}, {"provider", "aks"}, {"weird.key", 1}};
  auto s = model::reject_unknown_fields(j, {"name", "provider"}, "");
  REQUIRE_FALSE(s);
  CHECK(s.error().type == "unknown-field");
  CHECK(s.error().field == "\"weird.key\"");
  CHECK_THAT(s.error().message, Catch::Contains("allowed here: name, provider"));
  CHECK(model::reject_unknown_fields(json{{"name", 1}}, {"name"}, "x"));
  auto nested = model::reject_unknown_fields(json{{"foo", 1}}, {"key"}, "taints[0]");
  REQUIRE_FALSE(nested);
  CHECK(nested.error().field == "taints[0].foo");
}

TEST_CASE("json read: typed members", "[model][json]") {
  json j = json::parse(
      R"({"s": "x", "n": 5, "f": 1.5, "b": true, "z": null, "o": {}, "a": [], "big": 18446744073709551615})");
  CHECK(*model::required_string(j, "s", "") == "x");
  auto missing = model::required_string(j, "nope", "spec");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().type == "missing-field");
  CHECK(missing.error().field == "spec.nope");
  auto wrong = model::required_string(j, "n", "");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().type == "invalid-field");
  CHECK(wrong.error().message == "n: must be a string, got an integer");
  auto null_string = model::optional_string(j, "z", "");
  REQUIRE_FALSE(null_string);
  CHECK(null_string.error().message == "z: must be a string, got null");
  CHECK_FALSE(model::optional_string(j, "absent", "")->has_value());
  CHECK(**model::optional_bool(j, "b", "") == true);
  CHECK_FALSE(model::optional_bool(j, "s", ""));
  CHECK(**model::optional_integer(j, "n", "", 1, 10) == 5);
  CHECK_FALSE(model::optional_integer(j, "n", "", 6, 10));
  CHECK_FALSE(model::optional_integer(j, "n", "", -10, 4));
  CHECK(**model::optional_integer(json{{"m", -3}}, "m", "", -5, 5) == -3);
  CHECK_FALSE(model::optional_integer(json{{"m", -6}}, "m", "", -5, 5));
  CHECK_FALSE(model::optional_integer(j, "f", "", 0, 10));
  CHECK_FALSE(model::optional_integer(j, "big", "", 0, 1000));
  CHECK(*model::optional_object(j, "o", "") != nullptr);
  CHECK(*model::optional_object(j, "absent", "") == nullptr);
  CHECK_FALSE(model::optional_object(j, "a", ""));
  CHECK(*model::optional_array(j, "a", "") != nullptr);
  CHECK_FALSE(model::optional_array(j, "o", ""));
}

TEST_CASE("json read: bounded numbers, uint64, tokens", "[model][json]") {
  json j = {{"x", 2.5}, {"big", 18446744073709551615ULL}, {"neg", -1}, {"v", "1.31.4"}, {"bad", "a b"}};
  CHECK(**model::optional_number(j, "x", "", 0, 3) == 2.5);
  auto over = model::optional_number(j, "x", "spec", 0, 2);
  REQUIRE_FALSE(over);
  CHECK(over.error().field == "spec.x");
  CHECK(**model::optional_uint64(j, "big", "") == 18446744073709551615ULL);
  CHECK_FALSE(model::optional_uint64(j, "neg", ""));
  CHECK(**model::optional_token(j, "v", "", 16) == "1.31.4");
  CHECK_FALSE(model::optional_token(j, "bad", "", 16));
  CHECK_FALSE(model::optional_token(j, "v", "", 3));
  CHECK(model::token_problem("ok-1.2_3+x", 64).empty());
}
