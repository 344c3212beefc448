#include <catch2/catch.hpp>

#include "agents/kube/quantity.hpp"

namespace fleet::agent::kube {

TEST_CASE("quantities: CPU in millicores as MilliValue rounds", "[kube]") {
  CHECK(quantity_milli("96").value() == 96000);
  CHECK(quantity_milli("3860m").value() == 3860);
  CHECK(quantity_milli("0.5").value() == 500);
  CHECK(quantity_milli("1.0005").value() == 1001);  // rounded up, like Quantity.MilliValue()
  CHECK(quantity_milli("100u").value() == 1);
  CHECK(quantity_milli("2k").value() == 2000000);
  CHECK(quantity_milli("0").value() == 0);
}

TEST_CASE("quantities: memory in bytes with binary and decimal suffixes and exponents", "[kube]") {
  CHECK(quantity_value("1056Gi").value() == 1056LL << 30);
  CHECK(quantity_value("1000000Ki").value() == 1024000000LL);
  CHECK(quantity_value("129e6").value() == 129000000LL);
  CHECK(quantity_value("1E3").value() == 1000);
  CHECK(quantity_value("123456789").value() == 123456789LL);
  CHECK(quantity_value("1.5Gi").value() == 1610612736LL);
  CHECK(quantity_value("500M").value() == 500000000LL);
  CHECK(quantity_value("2Ti").value() == 2LL << 40);
  CHECK(quantity_value("1.5").value() == 2);  // Value() rounds up
  CHECK(quantity_value("100m").value() == 1);
  CHECK(quantity_value("8").value() == 8);
  CHECK(quantity_value("-1").value() == -1);
  CHECK(quantity_value("+7").value() == 7);
}

TEST_CASE("quantities: malformed and overflowing input is an error", "[kube]") {
  for (const char* bad : {"", "Gi", "1.2.3", "12Q", "1e", "1ee3", "abc", "1 Gi", "--1", "1e1234"}) {
    INFO(bad);
    auto r = quantity_value(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalid);
    CHECK_THAT(r.error().message, Catch::Contains("invalid quantity"));
  }
  CHECK_FALSE(quantity_value("100Ei").ok());
  CHECK_FALSE(quantity_value("9999999999999999999").ok());
  CHECK(quantity_value("7Ei").value() == 7LL << 60);
}

}  // namespace fleet::agent::kube
