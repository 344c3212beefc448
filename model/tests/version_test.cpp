#include "model/version.hpp"

#include <catch2/catch.hpp>

using namespace fleet::model;

TEST_CASE("kubernetes versions parse strictly and compare as numbers", "[model][version]") {
  CHECK(parse_kubernetes_version("1.31.4") == KubernetesVersion{1, 31, 4});
  CHECK(parse_kubernetes_version("v1.32.10") == KubernetesVersion{1, 32, 10});
  for (const char* bad : {"", "1.31", "1.31.4.1", "1.31.x", "1.-1.2", "1.31.4-rc.1", "v", " 1.2.3", "1..2"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_kubernetes_version(bad));
  }
  CHECK(*parse_kubernetes_version("1.9.0") < *parse_kubernetes_version("1.10.0"));  // not string order
  CHECK(to_string(KubernetesVersion{1, 32, 7}) == "1.32.7");
  const KubernetesVersion cp{1, 31, 4};
  CHECK(cp.within_one_minor_of({1, 32, 7}));
  CHECK(cp.within_one_minor_of({1, 31, 9}));
  CHECK_FALSE(cp.within_one_minor_of({1, 33, 0}));
  CHECK_FALSE(cp.within_one_minor_of({2, 0, 0}));
}

TEST_CASE("a version as a cluster reports it: the distribution's suffix names a build of the release",
          "[model][version]") {
  CHECK(parse_reported_kubernetes_version("v1.31.4+k3s1") == KubernetesVersion{1, 31, 4});
  CHECK(parse_reported_kubernetes_version("1.32.7+rke2r1") == KubernetesVersion{1, 32, 7});
  CHECK(parse_reported_kubernetes_version("v1.31.4-eks-a737599") == KubernetesVersion{1, 31, 4});
  CHECK(parse_reported_kubernetes_version("v1.31.4-gke.1256000") == KubernetesVersion{1, 31, 4});
  CHECK(parse_reported_kubernetes_version("1.31.4") == KubernetesVersion{1, 31, 4});
  // A pre-release comes before its release: not read as it. Nor is a suffix without a release before it.
  for (const char* bad : {"1.31.4-rc.1", "1.31.4-alpha.0", "1.31.4+", "1.31+k3s1", "+k3s1", "", "1.31.4-eks"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_reported_kubernetes_version(bad));
  }
  CHECK_FALSE(parse_kubernetes_version("v1.31.4+k3s1"));  // targets and catalog entries stay strict
}

TEST_CASE("the oldest of a pool's reported versions is compared as versions, not as text", "[model][version]") {
  CHECK(oldest_reported({"1.31.10", "1.31.9"}) == "1.31.9");
  CHECK(oldest_reported({"1.32.7+k3s1", "1.31.10+k3s1"}) == "1.31.10+k3s1");
  CHECK(oldest_reported({"garbage", "1.31.4"}) == "1.31.4");
  CHECK(oldest_reported({"garbage"}) == "garbage");
  CHECK(oldest_reported({}).empty());
}
