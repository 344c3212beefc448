// The overrides each binding of a decision gets and the record kept per binding (issue #15 item 2): which
// clusters get which patched manifests, and which bindings the placement loop applies again when overrides change.
// No PostgreSQL.
#include <catch2/catch.hpp>

#include "fleetd/loops/binding_changes.hpp"
#include "fleetd/loops/binding_overrides.hpp"
#include "placement/override_json.hpp"

namespace fleet {
namespace {

using nlohmann::json;

json manifests() {
  return json::parse(R"([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}])");
}

placement::VersionedOverride images(std::int64_t generation, const std::string& eu_image = "web:1-eu") {
  json o = {{"name", "web-images"},
            {"workloads", {"web"}},
            {"rules",
             {{{"clusterSelector", {{"labelSelector", "region=westeurope"}}},
               {"jsonPatches",
                {{{"op", "replace"}, {"path", "/0/spec/template/spec/containers/0/image"}, {"value", eu_image}}}}},
              {{"clusterSelector", {{"labelSelector", "region=eastus"}}},
               {"jsonPatches", {{{"op", "remove"}, {"path", "/0/spec/template/spec/nothing"}}}}}}}};
  return {placement::override_from_json(o).value(), generation};
}

const std::map<std::string, model::Labels> kLabels = {
    {"eu-1", {{"region", "westeurope"}}}, {"us-1", {{"region", "eastus"}}}, {"ap-1", {{"region", "japaneast"}}}};

store::StoredBinding stored(const std::string& cluster, json overrides) {
  store::StoredBinding b;
  b.cluster = cluster;
  b.replicas = 1;
  b.state = "Running";
  b.overrides = std::move(overrides);
  return b;
}

}  // namespace

TEST_CASE("binding overrides: patched where a rule matches, failed where an operation fails, as-is elsewhere",
          "[placement][loop][override]") {
  const std::vector<placement::ClusterBinding> bindings = {{"ap-1", 1, {}}, {"eu-1", 1, {}}, {"us-1", 1, {}}};
  const BindingOverrides b = binding_overrides(manifests(), {images(2)}, bindings, kLabels);

  REQUIRE(b.applied.size() == 1);
  CHECK(b.applied.at("eu-1").manifests[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "web:1-eu");
  REQUIRE(b.failed.size() == 1);
  CHECK(override_failure_message(b.failed.at("us-1")) ==
        "overrides not applied, nothing sent to the cluster: overrides.web-images.rules[1].jsonPatches[0]: remove "
        "/0/spec/template/spec/nothing: key 'nothing' not found");
  CHECK(b.records() == std::map<std::string, json>{
                           {"eu-1", json::parse(R"([{"override": "web-images", "generation": 2, "rules": [0]}])")},
                           {"us-1", json::array()}});

  const BindingOverrides none = binding_overrides(manifests(), {}, bindings, kLabels);
  CHECK(none.applied.empty());
  CHECK(none.failed.empty());
}

TEST_CASE("binding changes: a binding whose applied overrides differ is applied again", "[placement][loop][override]") {
  placement::Decision d;
  d.bindings = {{"ap-1", 1, {}}, {"eu-1", 1, {}}};
  const json v2 = json::parse(R"([{"override": "web-images", "generation": 2, "rules": [0]}])");
  const json v3 = json::parse(R"([{"override": "web-images", "generation": 3, "rules": [0]}])");

  // Records as stored match what the overrides give now: nothing is sent.
  CHECK(binding_changes({stored("ap-1", json::array()), stored("eu-1", v2)}, d, 0, {{"eu-1", v2}}).apply.empty());
  // The override changed (generation 3): only eu-1 is applied again.
  const BindingChanges changed =
      binding_changes({stored("ap-1", json::array()), stored("eu-1", v2)}, d, 0, {{"eu-1", v3}});
  REQUIRE(changed.apply.size() == 1);
  CHECK(changed.apply[0].cluster == "eu-1");
  // The override was deleted: eu-1 goes back to the plain manifests.
  const BindingChanges deleted = binding_changes({stored("ap-1", json::array()), stored("eu-1", v2)}, d, 0, {});
  REQUIRE(deleted.apply.size() == 1);
  CHECK(deleted.apply[0].cluster == "eu-1");
  // A new override that matches ap-1.
  const BindingChanges added =
      binding_changes({stored("ap-1", json::array()), stored("eu-1", v2)}, d, 0, {{"ap-1", v2}, {"eu-1", v2}});
  REQUIRE(added.apply.size() == 1);
  CHECK(added.apply[0].cluster == "ap-1");
}
}  // namespace fleet
