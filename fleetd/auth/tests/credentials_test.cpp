#include <catch2/catch.hpp>
#include <set>

#include "fleetd/auth/credentials.hpp"

using namespace fleet;

TEST_CASE("generated tokens are prefixed, url-safe and distinct", "[fleetd][auth]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto t = generate_token();
    REQUIRE(t.rfind("fltd_", 0) == 0);
    REQUIRE(t.size() == 5 + 43);
    for (char c : t.substr(5)) REQUIRE((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
    REQUIRE(seen.insert(t).second);
  }
}

TEST_CASE("token hash is SHA-256 hex", "[fleetd][auth]") {
  // Known vector: SHA-256("abc").
  REQUIRE(hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  REQUIRE(hash_token("a") != hash_token("b"));
}

TEST_CASE("bearer header parsing", "[fleetd][auth]") {
  REQUIRE(bearer_token("Bearer abc").value() == "abc");
  REQUIRE(bearer_token("bearer   abc  ").value() == "abc");
  REQUIRE_FALSE(bearer_token("Basic abc"));
  REQUIRE_FALSE(bearer_token("Bearer"));
  REQUIRE_FALSE(bearer_token("Bearer "));
  REQUIRE_FALSE(bearer_token("Bearer a b"));
  REQUIRE_FALSE(bearer_token("Bearer \x01"));
  REQUIRE_FALSE(bearer_token("Bearer " + std::string(kMaxTokenLength + 1, 'a')));
  REQUIRE(bearer_token("Bearer " + std::string(kMaxTokenLength, 'a')));
}

TEST_CASE("roles are ordered and round-trip", "[fleetd][auth]") {
  for (auto r : {Role::kViewer, Role::kOperator, Role::kAdmin}) REQUIRE(parse_role(role_name(r)) == r);
  REQUIRE_FALSE(parse_role("root"));
  REQUIRE_FALSE(parse_role("Admin"));
  REQUIRE(static_cast<int>(Role::kViewer) < static_cast<int>(Role::kOperator));
  REQUIRE(static_cast<int>(Role::kOperator) < static_cast<int>(Role::kAdmin));
}
