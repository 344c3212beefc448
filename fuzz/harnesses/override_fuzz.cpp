// Overrides (POST/PUT /v1/overrides, issue #15 item 2): the decoder, its round trip (the placement loop reads every
// stored override back), and applying what it accepts to a workload's manifests: RFC 6902 operations with any
// pointer must end in patched manifests or an error value, never a throw.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/round_trip.hpp"
#include "placement/manifest_override.hpp"
#include "placement/override_json.hpp"

FLEET_FUZZ_HARNESS(override) {
  using namespace fleet;
  using nlohmann::json;
  const json body = json::parse(data, nullptr, false);
  if (body.is_discarded()) return;
  auto o = placement::override_from_json(body);
  if (!o) {
    FUZZ_CHECK(!o.error().message.empty());
    return;
  }
  fuzz::check_round_trip(
      o, [](const auto& v) { return placement::to_json(v); },
      [](const json& j) { return placement::override_from_json(j); });
  static const json kManifests = json::parse(R"([{"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"a/b": "c"}}, "spec": {"replicas": 1,
    "template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k~1": "v"}}])");
  for (const model::Labels& labels : {model::Labels{}, model::Labels{{"region", "westeurope"}, {"env", "prod"}}}) {
    auto out = placement::apply_overrides(kManifests, {{*o, 1}}, labels);
    if (!out) {
      FUZZ_CHECK(!out.error().message.empty());
      FUZZ_CHECK(out.error().type == "override-failed");
      continue;
    }
    FUZZ_CHECK(out->manifests.is_array());
    FUZZ_CHECK(placement::any_rule_matches({{*o, 1}}, labels) == !out->applied.empty());
  }
}
