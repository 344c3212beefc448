#include <catch2/catch.hpp>

#include "fleetd/http/auth_failure_limiter.hpp"

using fleet::AuthFailureLimiter;
using namespace std::chrono_literals;

TEST_CASE("auth failure limiter: a source past its burst waits, another source does not", "[fleetd][auth-limit]") {
  AuthFailureLimiter limiter({/*burst=*/3, /*per_minute=*/6, /*max_sources=*/100});
  const auto t0 = fleet::Clock::SteadyTime{} + 1h;
  CHECK_FALSE(limiter.refused("10.0.0.1", t0));
  CHECK(limiter.sources() == 0);  // asking makes no entry: only failures do
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(limiter.refused("10.0.0.1", t0));
    limiter.failed("10.0.0.1", t0);
  }
  auto wait = limiter.refused("10.0.0.1", t0);
  REQUIRE(wait);
  CHECK(*wait == 10s);  // 6 a minute: one every 10 s
  CHECK_FALSE(limiter.refused("10.0.0.2", t0));
  CHECK(limiter.refused("10.0.0.1", t0 + 9s));
  CHECK_FALSE(limiter.refused("10.0.0.1", t0 + 10s));
  limiter.failed("10.0.0.1", t0 + 10s);
  CHECK(*limiter.refused("10.0.0.1", t0 + 12s) == 8s);
  // Earned back up to the burst, no further.
  for (int i = 0; i < 3; ++i) limiter.failed("10.0.0.1", t0 + 1h);
  CHECK(limiter.refused("10.0.0.1", t0 + 1h));
}

TEST_CASE("auth failure limiter: off with a burst of 0, and the table stays bounded", "[fleetd][auth-limit]") {
  AuthFailureLimiter off({0, 60, 100});
  const auto t0 = fleet::Clock::SteadyTime{} + 1h;
  for (int i = 0; i < 1000; ++i) off.failed("10.0.0.1", t0);
  CHECK_FALSE(off.refused("10.0.0.1", t0));
  CHECK(off.sources() == 0);

  AuthFailureLimiter small({2, 60, 10});
  for (int i = 0; i < 25; ++i) small.failed("10.0.1." + std::to_string(i), t0);
  CHECK(small.sources() <= 10);
}

TEST_CASE("auth failure limiter: a source is the address without its port", "[fleetd][auth-limit]") {
  CHECK(AuthFailureLimiter::source_of("127.0.0.1:53422") == "127.0.0.1");
  CHECK(AuthFailureLimiter::source_of("[::1]:8080") == "::1");
  CHECK(AuthFailureLimiter::source_of("[fe80::1%eth0]:1") == "fe80::1%eth0");
  CHECK(AuthFailureLimiter::source_of("::1") == "::1");
  CHECK(AuthFailureLimiter::source_of("10.1.2.3") == "10.1.2.3");
  CHECK(AuthFailureLimiter::source_of("") == "");
}
