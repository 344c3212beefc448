#include "common/expiring_set.hpp"

#include <catch2/catch.hpp>

namespace fleet {

TEST_CASE("expiring set: a key is there for its ttl, then gone", "[common][expiring-set]") {
  ExpiringSet set(std::chrono::seconds(5), 100);
  const Clock::SteadyTime t0{};
  CHECK_FALSE(set.contains("a", t0));
  set.insert("a", t0);
  CHECK(set.contains("a", t0));
  CHECK(set.contains("a", t0 + std::chrono::milliseconds(4999)));
  CHECK_FALSE(set.contains("a", t0 + std::chrono::seconds(5)));
  CHECK(set.size() == 0);  // the expired key was dropped when asked about
  set.insert("a", t0 + std::chrono::seconds(6));
  CHECK(set.contains("a", t0 + std::chrono::seconds(10)));
}

TEST_CASE("expiring set: at its bound a new key empties it, a known key does not", "[common][expiring-set]") {
  ExpiringSet set(std::chrono::seconds(5), 3);
  const Clock::SteadyTime t0{};
  for (const char* k : {"a", "b", "c"}) set.insert(k, t0);
  CHECK(set.size() == 3);
  set.insert("b", t0 + std::chrono::seconds(1));  // renewed in place
  CHECK(set.size() == 3);
  set.insert("d", t0);
  CHECK(set.size() == 1);
  CHECK(set.contains("d", t0));
  CHECK_FALSE(set.contains("a", t0));
}

}  // namespace fleet
