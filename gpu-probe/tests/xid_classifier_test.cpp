#include <catch2/catch.hpp>

#include "gpu-probe/core/xid_classifier.hpp"

using namespace fleet::gpuprobe;

TEST_CASE("gpu-probe xid: classes follow the catalogue", "[gpu-probe]") {
  for (int x : {48, 64, 74, 79, 92, 95, 119, 120, 140}) CHECK(classify_xid(x) == XidClass::kDrain);
  for (int x : {63, 94}) CHECK(classify_xid(x) == XidClass::kResetReprobe);
  for (int x : {13, 31, 43, 45, 54, 55, 58, 62}) CHECK(classify_xid(x) == XidClass::kWarn);
  for (int x : {0, 1, 53, 65, 200}) CHECK(classify_xid(x) == XidClass::kUnknown);
  CHECK(to_string(XidClass::kResetReprobe) == "reset-then-reprobe");
}
