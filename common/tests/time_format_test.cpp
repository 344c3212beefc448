// RFC 3339 timestamps in and out: the forms accepted, and the years system_clock can hold.
#include <catch2/catch.hpp>

#include "common/time_format.hpp"

namespace fleet {

TEST_CASE("timestamps: what format_rfc3339 writes parses back to the same instant", "[time]") {
  for (const char* text : {"2026-11-23T01:02:03.456Z", "1970-01-01T00:00:00.000Z", "2261-12-31T23:59:59.999Z"}) {
    auto t = parse_timestamp(text);
    REQUIRE(t);
    CHECK(format_rfc3339(*t) == text);
  }
  CHECK(parse_timestamp("2026-11-23 01:02:03.456789+00"));
}

TEST_CASE("timestamps: years system_clock cannot hold are refused, not wrapped", "[time]") {
  // Found by fuzzing (fuzz/harnesses/request_bodies_fuzz.cpp): 2424 wrapped to a date in the 1840s.
  CHECK_FALSE(parse_timestamp("2262-04-12T00:00:00Z"));
  CHECK_FALSE(parse_timestamp("2424-09-03T00:00:00Z"));
  CHECK_FALSE(parse_timestamp("9999-12-31T23:59:59Z"));
  CHECK_FALSE(parse_timestamp("1969-12-31T23:59:59Z"));
  CHECK_FALSE(parse_timestamp("-001-01-01T00:00:00Z"));
}

}  // namespace fleet
