#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "placement/manifest_override.hpp"
#include "placement/override_json.hpp"

using namespace fleet;
using namespace fleet::placement;
using nlohmann::json;

namespace {

json deployment() {
  return json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "llama"},
    "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "vllm", "image": "vllm:0.6"}]}}}})");
}

json manifests() {
  return json::array({deployment(), {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "cfg"}}}}});
}

// Two rules: Europe gets another image, everything with a GPU tier gets an env entry.
json example() {
  return json::parse(R"({
    "name": "llama-per-region",
    "workloads": ["llama", "another"],
    "rules": [
      {"clusterSelector": {"labelSelector": "region=westeurope"},
       "jsonPatches": [{"op": "test", "path": "/0/kind", "value": "Deployment"},
                       {"op": "replace", "path": "/0/spec/template/spec/containers/0/image", "value": "vllm:0.7-eu"}]},
      {"clusterSelector": {"labelSelector": "tier"},
       "jsonPatches": [{"op": "add", "path": "/1/data", "value": {"tier": "gold"}}]}
    ]})");
}

Override parsed(const json& j) {
  auto o = override_from_json(j);
  REQUIRE(o);
  return *o;
}

std::string error_of(const json& j) {
  auto o = override_from_json(j);
  REQUIRE_FALSE(o);
  return o.error().field + " | " + o.error().message;
}

json with_patch(const json& patch) {
  json j = example();
  j["rules"][1]["jsonPatches"] = json::array({patch});
  return j;
}

}  // namespace

TEST_CASE("override JSON: the example parses, workloads sorted, and round-trips", "[placement][override]") {
  const Override o = parsed(example());
  CHECK(o.name == "llama-per-region");
  CHECK(o.workloads == std::vector<std::string>{"another", "llama"});
  REQUIRE(o.rules.size() == 2);
  CHECK(model::to_string(o.rules[0].cluster_selector) == "region=westeurope");
  REQUIRE(o.rules[0].patches.size() == 2);
  CHECK(o.rules[0].patches[0].op == PatchOpKind::kTest);
  CHECK(o.rules[0].patches[1].path == "/0/spec/template/spec/containers/0/image");
  CHECK(*o.rules[0].patches[1].value == json("vllm:0.7-eu"));
  CHECK(override_from_json(to_json(o)).value() == o);
  CHECK(to_json(o)["rules"][1] == json::parse(R"({"clusterSelector": {"labelSelector": "tier"},
    "jsonPatches": [{"op": "add", "path": "/1/data", "value": {"tier": "gold"}}]})"));
}

TEST_CASE("override JSON: a rule without a cluster selector selects every cluster", "[placement][override]") {
  json j = example();
  j["rules"][0].erase("clusterSelector");
  CHECK(parsed(j).rules[0].cluster_selector.empty());
  j["rules"][0]["clusterSelector"] = {{"labelSelector", ""}};
  CHECK(parsed(j).rules[0].cluster_selector.empty());
}

TEST_CASE("override JSON: every bad member is named by its path", "[placement][override]") {
  CHECK(error_of(with_patch({{"op", "merge"}, {"path", "/0"}})) ==
        "rules[1].jsonPatches[0].op | rules[1].jsonPatches[0].op: must be add, remove, replace, move, copy or test "
        "(got \"merge\")");
  CHECK(error_of(with_patch({{"op", "add"}, {"path", "0/spec"}, {"value", 1}})) ==
        "rules[1].jsonPatches[0].path | rules[1].jsonPatches[0].path: must be a JSON Pointer: empty or starting "
        "with \"/\"");
  CHECK(error_of(with_patch({{"op", "add"}, {"path", "/a~2b"}, {"value", 1}})) ==
        "rules[1].jsonPatches[0].path | rules[1].jsonPatches[0].path: must be a JSON Pointer: \"~\" at offset 2 is "
        "not \"~0\" or \"~1\"");
  CHECK(error_of(with_patch({{"op", "replace"}, {"path", "/0"}})).starts_with("rules[1].jsonPatches[0].value | "));
  CHECK(error_of(with_patch({{"op", "remove"}, {"path", "/0"}, {"value", 1}})) ==
        "rules[1].jsonPatches[0].value | rules[1].jsonPatches[0].value: only add, replace and test take \"value\"");
  CHECK(error_of(with_patch({{"op", "move"}, {"path", "/0"}})).starts_with("rules[1].jsonPatches[0].from | "));
  CHECK(error_of(with_patch({{"op", "add"}, {"path", "/0"}, {"from", "/1"}, {"value", 1}})) ==
        "rules[1].jsonPatches[0].from | rules[1].jsonPatches[0].from: only move and copy take \"from\"");
  CHECK(error_of(with_patch({{"op", "add"}, {"path", "/0"}, {"value", 1}, {"extra", 1}}))
            .starts_with("rules[1].jsonPatches[0].extra | "));
  json bad_selector = example();
  bad_selector["rules"][0]["clusterSelector"]["labelSelector"] = "region in (";
  CHECK(error_of(bad_selector).starts_with("rules[0].clusterSelector.labelSelector | "));
  json bad_workload = example();
  bad_workload["workloads"][1] = "Not_A_Name";
  CHECK(error_of(bad_workload).starts_with("workloads[1] | "));
  json no_rules = example();
  no_rules.erase("rules");
  CHECK(error_of(no_rules).starts_with("rules | "));
}

TEST_CASE("override JSON: at most 20 rules of 20 operations and 64 KiB", "[placement][override]") {
  json j = example();
  j["rules"] = json::array();
  for (int i = 0; i < 20; ++i) j["rules"].push_back(example()["rules"][1]);
  CHECK(override_from_json(j));
  j["rules"].push_back(example()["rules"][1]);
  CHECK(error_of(j) == "rules | rules: must hold 1 to 20 rules (got 21)");

  json ops = example();
  ops["rules"][0]["jsonPatches"] = json::array();
  for (int i = 0; i < 21; ++i) ops["rules"][0]["jsonPatches"].push_back({{"op", "remove"}, {"path", "/0"}});
  CHECK(error_of(ops) == "rules[0].jsonPatches | rules[0].jsonPatches: must hold 1 to 20 operations (got 21)");
  ops["rules"][0]["jsonPatches"] = json::array();
  CHECK(error_of(ops) == "rules[0].jsonPatches | rules[0].jsonPatches: must hold 1 to 20 operations (got 0)");

  json big = example();
  big["rules"][1]["jsonPatches"][0]["value"] = std::string(70 * 1024, 'x');
  CHECK(error_of(big).starts_with("(root) | (root): at most 64 KiB of compact JSON"));
}

TEST_CASE("overrides: each cluster gets the rules its labels match", "[placement][override]") {
  const std::vector<VersionedOverride> overrides = {{parsed(example()), 3}};

  auto eu = apply_overrides(manifests(), overrides, {{"region", "westeurope"}});
  REQUIRE(eu);
  json want = manifests();
  want[0]["spec"]["template"]["spec"]["containers"][0]["image"] = "vllm:0.7-eu";
  CHECK(eu->manifests == want);
  CHECK(to_json(eu->applied) == json::parse(R"([{"override": "llama-per-region", "generation": 3, "rules": [0]}])"));

  auto both = apply_overrides(manifests(), overrides, {{"region", "westeurope"}, {"tier", "gold"}});
  REQUIRE(both);
  want[1]["data"] = {{"tier", "gold"}};
  CHECK(both->manifests == want);
  CHECK(both->applied == std::vector<AppliedOverride>{{"llama-per-region", 3, {0, 1}}});

  auto us = apply_overrides(manifests(), overrides, {{"region", "eastus"}});
  REQUIRE(us);
  CHECK(us->manifests == manifests());
  CHECK(us->applied.empty());
  CHECK(to_json(us->applied) == json::array());
}

TEST_CASE("overrides: applied in name order, each on what the one before left", "[placement][override]") {
  json first = example();
  first["name"] = "a-replicas";
  first["rules"] = json::parse(R"([{"jsonPatches": [{"op": "replace", "path": "/0/spec/replicas", "value": 4}]}])");
  json second = example();
  second["name"] = "b-copy";
  second["rules"] = json::parse(R"([{"jsonPatches": [{"op": "copy", "from": "/0/spec/replicas",
                                                     "path": "/0/metadata/annotations"}]}])");
  // Given out of order: the result is the same as in name order.
  auto out = apply_overrides(manifests(), {{parsed(second), 1}, {parsed(first), 2}}, {});
  REQUIRE(out);
  CHECK(out->manifests[0]["spec"]["replicas"] == 4);
  CHECK(out->manifests[0]["metadata"]["annotations"] == 4);
  CHECK(out->applied == std::vector<AppliedOverride>{{"a-replicas", 2, {0}}, {"b-copy", 1, {0}}});
}

TEST_CASE("overrides: a failing operation is an error naming the override, rule and operation",
          "[placement][override]") {
  json missing = example();
  missing["rules"][1]["jsonPatches"] =
      json::parse(R"([{"op": "add", "path": "/1/data", "value": {}}, {"op": "remove", "path": "/0/spec/nothing"}])");
  auto out = apply_overrides(manifests(), {{parsed(missing), 1}}, {{"tier", "gold"}});
  REQUIRE_FALSE(out);
  CHECK(out.error().type == "override-failed");
  CHECK(out.error().field == "overrides.llama-per-region.rules[1].jsonPatches[1]");
  CHECK(out.error().message ==
        "overrides.llama-per-region.rules[1].jsonPatches[1]: remove /0/spec/nothing: key 'nothing' not found");

  json test = example();
  test["rules"][0]["jsonPatches"][0]["value"] = "StatefulSet";
  auto tested = apply_overrides(manifests(), {{parsed(test), 1}}, {{"region", "westeurope"}});
  REQUIRE_FALSE(tested);
  CHECK(tested.error().message ==
        "overrides.llama-per-region.rules[0].jsonPatches[0]: test failed: /0/kind is \"Deployment\", not "
        "\"StatefulSet\"");
}

TEST_CASE("overrides: a result apply_workload would refuse is an error", "[placement][override]") {
  json o = example();
  o["rules"] = json::parse(R"([{"jsonPatches": [{"op": "remove", "path": "/0/metadata/name"}]}])");
  auto out = apply_overrides(manifests(), {{parsed(o), 1}}, {});
  REQUIRE_FALSE(out);
  CHECK(out.error().field == "overrides.llama-per-region");
  CHECK(out.error().message.starts_with(
      "overrides.llama-per-region: the patched manifests are not valid: payload.manifests[0].metadata.name"));

  o["rules"] = json::parse(R"([{"jsonPatches": [{"op": "replace", "path": "", "value": []}]}])");
  auto emptied = apply_overrides(manifests(), {{parsed(o), 1}}, {});
  REQUIRE_FALSE(emptied);
  CHECK(emptied.error().message ==
        "overrides.llama-per-region: the patched manifests must be an array of 1 to 100 Kubernetes objects");
}
