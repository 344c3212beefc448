#include <catch2/catch.hpp>

#include "gpu-probe/core/driver_compat.hpp"

using namespace fleet::gpuprobe;

TEST_CASE("gpu-probe driver: version comparison is numeric", "[gpu-probe]") {
  CHECK(*compare_driver_versions("580.65.06", "575.51.03") > 0);
  CHECK(*compare_driver_versions("570.26", "570.26.0") == 0);
  CHECK(*compare_driver_versions("535.9", "535.54.03") < 0);
  CHECK_FALSE(compare_driver_versions("abc", "1.2"));
  CHECK_FALSE(compare_driver_versions("", "1.2"));
}

TEST_CASE("gpu-probe driver: minimum driver per runtime", "[gpu-probe]") {
  CHECK(driver_requirement_for_runtime(13000)->full == "580.65.06");
  CHECK(driver_requirement_for_runtime(12040)->full == "550.54.14");
  CHECK(driver_requirement_for_runtime(12070)->full == "560.28.03");  // 12.7: the newest row not above it
  CHECK(driver_requirement_for_runtime(12080)->minor_compat == "525.60.13");
  CHECK_FALSE(driver_requirement_for_runtime(10020));
  CHECK(cuda_version_string(13000) == "13.0");
  CHECK(cuda_version_string(12080) == "12.8");
}
