#include "rollout/budget.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace fleet;
using fleet::rollout::Budget;
using nlohmann::json;

TEST_CASE("budget: resolve a count or a percent of a scope", "[rollout][budget]") {
  CHECK(Budget{3, false}.resolve(100) == 3);
  CHECK(Budget{3, false}.resolve(1) == 3);  // a count is not capped by the scope; callers cap
  CHECK(Budget{10, true}.resolve(15) == 1);
  CHECK(Budget{50, true}.resolve(5) == 2);
  CHECK(Budget{1, true}.resolve(50) == 0);
  CHECK(Budget{1, true}.resolve_concurrency(50) == 1);
  CHECK(Budget{0, false}.resolve_concurrency(10) == 1);
  CHECK(Budget{0, true}.resolve(10) == 0);
  CHECK(Budget{100, true}.resolve(7) == 7);
  CHECK(Budget{99, true}.resolve(100) == 99);
  CHECK(Budget{33, true}.resolve(10) == 3);
  CHECK(Budget{50, true}.resolve(0) == 0);
  CHECK(Budget{50, true}.resolve_concurrency(0) == 1);
  CHECK(Budget{10, true}.resolve(2'000'000'000) == 200'000'000);  // no overflow on big scopes
  CHECK(Budget{50, true}.resolve_concurrency(20) == 10);
}

TEST_CASE("budget: every accepted form", "[rollout][budget]") {
  auto read = [](const json& j) {
    auto b = rollout::budget_from_json(j, "maxConcurrency");
    REQUIRE(b);
    return *b;
  };
  CHECK(read(json(3)) == Budget{3, false});
  CHECK(read(json(0)) == Budget{0, false});
  CHECK(read(json("3")) == Budget{3, false});
  CHECK(read(json("0")) == Budget{0, false});
  CHECK(read(json("1")) == Budget{1, false});
  CHECK(read(json("50%")) == Budget{50, true});
  CHECK(read(json("0%")) == Budget{0, true});
  CHECK(read(json("100%")) == Budget{100, true});
  CHECK(read(json("007")) == Budget{7, false});
  CHECK(read(json(2147483647)) == Budget{2147483647, false});
  CHECK(read(json::parse("3")) == Budget{3, false});  // parsed: unsigned
}

TEST_CASE("budget: refused forms name the path", "[rollout][budget]") {
  for (const json& bad :
       {json(""),       json("-1"),   json(-1),     json("1.5"),        json(1.5),           json(1.0),
        json("101%"),   json("5 %"),  json(" 5"),   json("5 "),         json("%"),           json("+1"),
        json("1e2"),    json("abc"),  json(true),   json(false),        json(nullptr),       json::array(),
        json::object(), json("50%%"), json("0x10"), json(2147483648LL), json("99999999999"), json("1000%")}) {
    INFO(bad.dump());
    auto b = rollout::budget_from_json(bad, "strategy.stages[1].maxConcurrency");
    REQUIRE_FALSE(b);
    CHECK(b.error().code == ErrorCode::kInvalid);
    CHECK(b.error().type == "invalid-field");
    CHECK(b.error().field == "strategy.stages[1].maxConcurrency");
    CHECK_THAT(b.error().message, Catch::StartsWith("strategy.stages[1].maxConcurrency: "));
  }
  auto percent = rollout::budget_from_json(json("101%"), "x");
  REQUIRE_FALSE(percent);
  CHECK_THAT(percent.error().message, Catch::Contains("0% to 100%"));
  auto boolean = rollout::budget_from_json(json(true), "x");
  REQUIRE_FALSE(boolean);
  CHECK_THAT(boolean.error().message, Catch::Contains("got a boolean"));
  auto negative = rollout::budget_from_json(json(-1), "x");
  REQUIRE_FALSE(negative);
  CHECK_THAT(negative.error().message, Catch::Contains("must not be negative"));
}

TEST_CASE("budget: written as DESIGN writes it, and read back", "[rollout][budget]") {
  CHECK(rollout::to_json(Budget{50, true}) == json("50%"));
  CHECK(rollout::to_json(Budget{3, false}) == json("3"));
  CHECK(rollout::to_json(Budget{0, false}) == json("0"));
  CHECK(rollout::to_string(Budget{50, true}) == "50%");
  CHECK(rollout::to_string(Budget{1, false}) == "1");
  for (Budget b :
       {Budget{0, false}, Budget{1, false}, Budget{64, false}, Budget{0, true}, Budget{10, true}, Budget{100, true}}) {
    auto back = rollout::budget_from_json(rollout::to_json(b), "x");
    REQUIRE(back);
    CHECK(*back == b);
  }
}
