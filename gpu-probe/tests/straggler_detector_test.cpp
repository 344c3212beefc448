#include <catch2/catch.hpp>

#include "gpu-probe/core/straggler_detector.hpp"

using namespace fleet::gpuprobe;

TEST_CASE("gpu-probe stragglers: median", "[gpu-probe]") {
  CHECK(median_of({}) == 0);
  CHECK(median_of({3, 1, 2}) == 2);
  CHECK(median_of({4, 1, 3, 2}) == 2.5);
}

TEST_CASE("gpu-probe stragglers: a GPU below the margin is flagged, per model", "[gpu-probe]") {
  std::vector<std::optional<double>> v = {3000, 3010, 2990, 2700, std::nullopt, 800, 820};
  std::vector<std::string> g = {"h100", "h100", "h100", "h100", "h100", "l4", "l4"};
  auto f = detect_stragglers(v, g, 0.08);
  REQUIRE(f.size() == 7);
  CHECK_FALSE(f[0]->straggler);
  CHECK(f[0]->group_size == 4);
  CHECK(f[0]->median == Approx(2995));
  CHECK(f[3]->straggler);  // 2700 < 0.92 * 2995
  CHECK(f[3]->ratio == Approx(2700.0 / 2995));
  CHECK_FALSE(f[4]);             // not measured
  CHECK_FALSE(f[5]->straggler);  // the L4s only compare with each other
  CHECK(f[5]->group_size == 2);
}

TEST_CASE("gpu-probe stragglers: a lone GPU has nothing to compare with", "[gpu-probe]") {
  auto f = detect_stragglers({100.0}, {"h100"}, 0.08);
  CHECK_FALSE(f[0]);
}

TEST_CASE("gpu-probe stragglers: the margin is a strict boundary", "[gpu-probe]") {
  auto f = detect_stragglers({100.0, 100.0, 92.0}, {"x", "x", "x"}, 0.08);
  CHECK_FALSE(f[2]->straggler);  // exactly at (1 - margin) * median
  f = detect_stragglers({100.0, 100.0, 91.9}, {"x", "x", "x"}, 0.08);
  CHECK(f[2]->straggler);
}
