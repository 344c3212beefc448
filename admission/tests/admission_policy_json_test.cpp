#include "admission/admission_policy_json.hpp"

#include <catch2/catch.hpp>

namespace fleet::admission {
namespace {

using nlohmann::json;

Error refused(const json& j) {
  auto p = admission_policy_from_json(j, "");
  REQUIRE_FALSE(p.ok());
  return p.error();
}

}  // namespace

TEST_CASE("admission policy settings: defaults, round trip, and gpu-probe's own threshold check",
          "[admission][policy]") {
  auto empty = admission_policy_from_json(json::object(), "");
  REQUIRE(empty.ok());
  CHECK(empty->mode == "quick");
  CHECK(empty->reprobe_interval == std::chrono::hours(24 * 7));
  CHECK(empty->max_probing_nodes == 1);
  CHECK(empty->max_probing_percent == 10);
  CHECK(empty->probe_timeout == std::chrono::seconds(600));

  const json full = {{"mode", "full"},
                     {"thresholds", {{"defaults", {{"straggler_margin", 0.08}}}}},
                     {"reprobeIntervalSeconds", 86400},
                     {"maxConcurrentProbes", {{"nodes", 2}, {"percent", 25}}},
                     {"probeTimeoutSeconds", 900},
                     {"busyRetrySeconds", 600}};
  auto p = admission_policy_from_json(full, "");
  REQUIRE(p.ok());
  CHECK(p->mode == "full");
  CHECK(p->reprobe_interval == std::chrono::hours(24));
  CHECK(max_concurrent_probes(*p, 20) == 5);
  CHECK(to_json(*p) == full);
  CHECK(*admission_policy_from_json(to_json(*p), "") == *p);

  CHECK(refused({{"mode", "thorough"}}).field == "mode");
  CHECK(refused({{"reprobeIntervalSeconds", 60}}).field == "reprobeIntervalSeconds");  // under an hour
  CHECK(refused({{"probeTimeoutSeconds", 1}}).field == "probeTimeoutSeconds");
  CHECK(refused({{"busyRetrySeconds", 5}}).field == "busyRetrySeconds");
  CHECK(refused({{"maxConcurrentProbes", {{"nodes", 0}}}}).field == "maxConcurrentProbes.nodes");
  CHECK(refused({{"maxConcurrentProbes", {{"percent", 101}}}}).field == "maxConcurrentProbes.percent");
  CHECK(refused({{"maxConcurrentProbes", {{"all", true}}}}).type == "unknown-field");
  CHECK(refused({{"extra", 1}}).type == "unknown-field");
  // A threshold document gpu-probe would refuse is refused here, with gpu-probe's reason.
  auto bad = refused({{"thresholds", {{"defaults", {{"straggler_margn", 0.1}}}}}});
  CHECK(bad.field == "thresholds");
  CHECK_THAT(bad.message, Catch::Contains("straggler_margn"));
  CHECK(refused({{"thresholds", {{"blob", std::string(20000, 'x')}}}}).field == "thresholds");
}

}  // namespace fleet::admission
