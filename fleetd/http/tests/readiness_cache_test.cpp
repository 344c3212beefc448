#include <catch2/catch.hpp>

#include "fleetd/http/readiness_cache.hpp"

using fleet::ReadinessCache;
using namespace std::chrono_literals;

TEST_CASE("readiness cache: one check a second, one caller checks while the others get the last answer",
          "[fleetd][readyz]") {
  ReadinessCache cache({1000ms, 5000ms});
  const auto t0 = fleet::Clock::SteadyTime{} + 1h;
  CHECK_FALSE(cache.answer_or_claim(t0));  // nothing known: the first caller checks
  CHECK_FALSE(cache.answer_or_claim(t0));  // and with no answer yet, so does anyone else
  cache.store({true, ""}, t0);
  auto a = cache.answer_or_claim(t0 + 999ms);
  REQUIRE(a);
  CHECK(a->ready);
  CHECK_FALSE(cache.answer_or_claim(t0 + 1000ms));  // stale: this caller checks
  auto meanwhile = cache.answer_or_claim(t0 + 1200ms);
  REQUIRE(meanwhile);  // the others keep the last answer while it runs
  CHECK(meanwhile->ready);
  cache.store({false, "database unreachable"}, t0 + 1300ms);
  auto down = cache.answer_or_claim(t0 + 1400ms);
  REQUIRE(down);
  CHECK_FALSE(down->ready);
  CHECK(down->reason == "database unreachable");
}

TEST_CASE("readiness cache: a check that never reports back holds nobody for longer than max_stale",
          "[fleetd][readyz]") {
  ReadinessCache cache({1000ms, 5000ms});
  const auto t0 = fleet::Clock::SteadyTime{} + 1h;
  CHECK_FALSE(cache.answer_or_claim(t0));
  cache.store({true, ""}, t0);
  CHECK_FALSE(cache.answer_or_claim(t0 + 2s));  // claimed, and never stored
  CHECK(cache.answer_or_claim(t0 + 4s));
  CHECK_FALSE(cache.answer_or_claim(t0 + 5s));  // the last answer is too old to give: check again
}
