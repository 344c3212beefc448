#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "api/cluster_json.hpp"
#include "common/time_format.hpp"

using namespace fleet;
using namespace fleet::api;
using nlohmann::json;

namespace {
struct BadCase {
  std::string body;
  std::string slug;
  std::string field;
};

std::string many_labels(int n) {
  std::string out = "{";
  for (int i = 0; i < n; ++i) out += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  return out + "}";
}

std::string many_taints(int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i)
    out += (i ? ",{\"key\":\"k" : "{\"key\":\"k") + std::to_string(i) + "\",\"effect\":\"NoSchedule\"}";
  return out + "]";
}

std::string with(const std::string& members) {
  return R"({"name": "c1", "provider": "aks", )" + members + "}";
}
}  // namespace

TEST_CASE("cluster create: a full valid body", "[api][cluster]") {
  json body = json::parse(R"({
    "name": "aks-westeurope-1", "provider": "aks", "region": "westeurope",
    "labels": {"env": "prod", "app.kubernetes.io/name": "web", "empty": ""},
    "taints": [{"key": "dedicated", "value": "ml", "effect": "NoSchedule"}, {"key": "gpu", "effect": "NoExecute"}],
    "updateGroup": "canary"
  })");
  auto r = parse_cluster_create(body);
  REQUIRE(r);
  CHECK(r->name == "aks-westeurope-1");
  CHECK(r->provider == "aks");
  CHECK(r->region == "westeurope");
  CHECK(r->labels == model::Labels{{"env", "prod"}, {"app.kubernetes.io/name", "web"}, {"empty", ""}});
  CHECK(r->taints == std::vector<model::Taint>{{"dedicated", "ml", "NoSchedule"}, {"gpu", "", "NoExecute"}});
  CHECK(r->update_group == "canary");
}

TEST_CASE("cluster create: the minimal body", "[api][cluster]") {
  auto r = parse_cluster_create(json::parse(R"({"name": "a", "provider": "arc"})"));
  REQUIRE(r);
  CHECK(r->region.empty());
  CHECK(r->labels.empty());
  CHECK(r->taints.empty());
  CHECK(r->update_group.empty());
  CHECK(parse_cluster_create(json::parse(with(R"("labels": {}, "taints": [], "region": "", "updateGroup": "")"))));
  CHECK(parse_cluster_create(json::parse(with("\"labels\": " + many_labels(64)))));
  CHECK(parse_cluster_create(json::parse(with("\"taints\": " + many_taints(32)))));
}

TEST_CASE("cluster create: bad bodies", "[api][cluster]") {
  auto c = GENERATE(values<BadCase>({
      // name
      {R"({"provider": "aks"})", "missing-field", "name"},
      {R"({"name": 7, "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": null, "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "Upper", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "under_score", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "-leading", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "trailing-", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": ")" + std::string(64, 'a') + R"(", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "d\u00e9j\u00e0", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "a'; drop table clusters;--", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": "a.b", "provider": "aks"})", "invalid-field", "name"},
      {R"({"name": ["a"], "provider": "aks"})", "invalid-field", "name"},
      // provider
      {R"({"name": "c1"})", "missing-field", "provider"},
      {R"({"name": "c1", "provider": "gke"})", "invalid-field", "provider"},
      {R"({"name": "c1", "provider": "AKS"})", "invalid-field", "provider"},
      {R"({"name": "c1", "provider": true})", "invalid-field", "provider"},
      // region, updateGroup
      {with(R"("region": "West Europe")"), "invalid-field", "region"},
      {with(R"("region": null)"), "invalid-field", "region"},
      {with(R"("region": 1)"), "invalid-field", "region"},
      {with(R"("updateGroup": "Canary")"), "invalid-field", "updateGroup"},
      {with(R"("updateGroup": null)"), "invalid-field", "updateGroup"},
      // labels
      {with(R"("labels": [])"), "invalid-field", "labels"},
      {with(R"("labels": null)"), "invalid-field", "labels"},
      {with(R"("labels": {"env": 1})"), "invalid-field", "labels.env"},
      {with(R"("labels": {"env": null})"), "invalid-field", "labels.env"},
      {with(R"("labels": {"env/x/y": "a"})"), "invalid-field", R"(labels."env/x/y")"},
      {with(R"("labels": {"Env.X/x": "a"})"), "invalid-field", R"(labels."Env.X/x")"},
      {with(R"("labels": {"": "a"})"), "invalid-field", R"(labels."")"},
      {with(R"("labels": {"env": "not ok"})"), "invalid-field", "labels.env"},
      {with(R"("labels": {"env": ")" + std::string(64, 'v') + "\"}"), "invalid-field", "labels.env"},
      {with("\"labels\": " + many_labels(65)), "invalid-field", "labels"},
      // taints
      {with(R"("taints": {})"), "invalid-field", "taints"},
      {with(R"("taints": null)"), "invalid-field", "taints"},
      {with(R"("taints": ["gpu"])"), "invalid-field", "taints[0]"},
      {with(R"("taints": [{"effect": "NoSchedule"}])"), "missing-field", "taints[0].key"},
      {with(R"("taints": [{"key": "gpu"}])"), "missing-field", "taints[0].effect"},
      {with(R"("taints": [{"key": "gpu", "effect": "NoScheduleX"}])"), "invalid-field", "taints[0].effect"},
      {with(R"("taints": [{"key": "gpu", "effect": "NoSchedule", "value": 3}])"), "invalid-field", "taints[0].value"},
      {with(R"("taints": [{"key": "gpu", "effect": "NoSchedule", "value": null}])"), "invalid-field",
       "taints[0].value"},
      {with(R"("taints": [{"key": "gpu", "effect": "NoSchedule", "operator": "Equal"}])"), "unknown-field",
       "taints[0].operator"},
      {with(R"("taints": [{"key": "a b", "effect": "NoSchedule"}])"), "invalid-field", "taints[0].key"},
      {with(
           R"("taints": [{"key": "gpu", "effect": "NoSchedule"}, {"key": "gpu", "value": "x", "effect": "NoSchedule"}])"),
       "invalid-field", "taints[1]"},
      {with("\"taints\": " + many_taints(33)), "invalid-field", "taints"},
      // unknown and server-owned
      {with(R"("nmae": "typo")"), "unknown-field", "nmae"},
      {with(R"("state": "ready")"), "unknown-field", "state"},
      {with(R"("resourceVersion": "42")"), "unknown-field", "resourceVersion"},
      {with(R"("id": "7f6c")"), "unknown-field", "id"},
      {with(R"("lastHeartbeat": null)"), "unknown-field", "lastHeartbeat"},
      {with(R"("createdAt": "2026-11-23T01:02:03.456Z")"), "unknown-field", "createdAt"},
      {with(R"("metadata": {"name": "x"})"), "unknown-field", "metadata"},
  }));
  CAPTURE(c.body);
  auto r = parse_cluster_create(json::parse(c.body));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().type == c.slug);
  CHECK(r.error().field == c.field);
  CHECK(r.error().message.rfind(c.field + ": ", 0) == 0);
}

TEST_CASE("cluster create: server-owned fields say why", "[api][cluster]") {
  auto r = parse_cluster_create(json::parse(with(R"("state": "ready")")));
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("set by the server"));
}

TEST_CASE("cluster patch: merge-patch semantics", "[api][cluster]") {
  SECTION("empty patch changes nothing") {
    auto r = parse_cluster_patch(json::object());
    REQUIRE(r);
    CHECK_FALSE(r->clear_labels);
    CHECK_FALSE(r->patch.labels);
    CHECK_FALSE(r->patch.taints);
    CHECK_FALSE(r->patch.region);
    CHECK_FALSE(r->patch.update_group);
  }
  SECTION("labels merge; null removes a key") {
    auto r = parse_cluster_patch(json::parse(R"({"labels": {"env": "prod", "old": null}})"));
    REQUIRE(r);
    CHECK_FALSE(r->clear_labels);
    REQUIRE(r->patch.labels);
    CHECK(*r->patch.labels ==
          std::map<std::string, std::optional<std::string>>{{"env", "prod"}, {"old", std::nullopt}});
  }
  SECTION("labels: null removes all") {
    auto r = parse_cluster_patch(json::parse(R"({"labels": null})"));
    REQUIRE(r);
    CHECK(r->clear_labels);
    REQUIRE(r->patch.labels);
    CHECK(r->patch.labels->empty());
  }
  SECTION("taints replace; null empties; scalars null to empty") {
    auto r = parse_cluster_patch(json::parse(R"({"taints": null, "region": null, "updateGroup": null})"));
    REQUIRE(r);
    REQUIRE(r->patch.taints);
    CHECK(r->patch.taints->empty());
    CHECK(r->patch.region == std::optional<std::string>(""));
    CHECK(r->patch.update_group == std::optional<std::string>(""));
    auto t = parse_cluster_patch(json::parse(
        R"({"taints": [{"key": "gpu", "effect": "NoSchedule"}], "region": "eastus", "updateGroup": "wave-2"})"));
    REQUIRE(t);
    CHECK(*t->patch.taints == std::vector<model::Taint>{{"gpu", "", "NoSchedule"}});
    CHECK(*t->patch.region == "eastus");
    CHECK(*t->patch.update_group == "wave-2");
  }
}

TEST_CASE("cluster patch: bad bodies", "[api][cluster]") {
  auto c = GENERATE(values<BadCase>({
      {R"({"name": "other"})", "invalid-field", "name"},
      {R"({"provider": "arc"})", "invalid-field", "provider"},
      {R"({"state": "cordoned"})", "unknown-field", "state"},
      {R"({"resourceVersion": "1"})", "unknown-field", "resourceVersion"},
      {R"({"lables": {}})", "unknown-field", "lables"},
      {R"({"labels": []})", "invalid-field", "labels"},
      {R"({"labels": "env=prod"})", "invalid-field", "labels"},
      {R"({"labels": {"env": 1}})", "invalid-field", "labels.env"},
      {R"({"labels": {"env": {"a": 1}}})", "invalid-field", "labels.env"},
      {R"({"labels": {"bad key": null}})", "invalid-field", R"(labels."bad key")"},
      {R"({"labels": {"env": "bad value"}})", "invalid-field", "labels.env"},
      {"{\"labels\": " + many_labels(65) + "}", "invalid-field", "labels"},
      {R"({"taints": {}})", "invalid-field", "taints"},
      {R"({"taints": [{"key": "gpu", "effect": "Never"}]})", "invalid-field", "taints[0].effect"},
      {R"({"taints": [{"key": "g", "effect": "NoExecute"}, {"key": "g", "effect": "NoExecute"}]})", "invalid-field",
       "taints[1]"},
      {R"({"region": 5})", "invalid-field", "region"},
      {R"({"region": "EU"})", "invalid-field", "region"},
      {R"({"updateGroup": false})", "invalid-field", "updateGroup"},
      {R"({"updateGroup": "a'; drop table clusters;--"})", "invalid-field", "updateGroup"},
  }));
  CAPTURE(c.body);
  auto r = parse_cluster_patch(json::parse(c.body));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().type == c.slug);
  CHECK(r.error().field == c.field);
}

TEST_CASE("cluster patch: immutable fields say so", "[api][cluster]") {
  auto r = parse_cluster_patch(json::parse(R"({"name": "x"})"));
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("immutable"));
}

TEST_CASE("cluster patch: apply", "[api][cluster]") {
  model::Cluster current;
  current.name = "c1";
  current.labels = {{"env", "dev"}, {"keep", "1"}, {"old", "x"}};
  current.taints = {{"gpu", "", "NoSchedule"}};
  current.region = "westeurope";
  current.update_group = "canary";

  auto apply = [&](const std::string& patch) {
    auto p = parse_cluster_patch(json::parse(patch));
    REQUIRE(p);
    return apply_cluster_patch(current, *p);
  };
  auto merged = apply(R"({"labels": {"env": "prod", "old": null, "missing": null, "new": "y"}})");
  REQUIRE(merged);
  CHECK(merged->labels == model::Labels{{"env", "prod"}, {"keep", "1"}, {"new", "y"}});
  CHECK(merged->taints == current.taints);
  CHECK(merged->region == "westeurope");

  auto cleared = apply(R"({"labels": null, "taints": null, "region": null, "updateGroup": null})");
  REQUIRE(cleared);
  CHECK(cleared->labels.empty());
  CHECK(cleared->taints.empty());
  CHECK(cleared->region.empty());
  CHECK(cleared->update_group.empty());
  CHECK(cleared->name == "c1");

  // 62 new labels on top of 3 existing ones → 65.
  json big = json::object();
  for (int i = 0; i < 62; ++i) big["n" + std::to_string(i)] = "v";
  auto too_many = apply(json{{"labels", big}}.dump());
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().field == "labels");
}

TEST_CASE("cluster to_json", "[api][cluster]") {
  using namespace std::chrono;
  model::Cluster c;
  c.id = "7f6c0a52-3f5e-4b8e-9a55-1d2f3c4b5a69";
  c.name = "aks-westeurope-1";
  c.provider = "aks";
  c.region = "westeurope";
  c.labels = {{"env", "prod"}};
  c.taints = {{"dedicated", "ml", "NoSchedule"}};
  c.update_group = "canary";
  c.resource_version = 42;
  c.created_at = system_clock::time_point(milliseconds(1795309323456));
  c.updated_at = c.created_at + seconds(1);
  json j = to_json(c);
  json want = json::parse(R"({
    "id": "7f6c0a52-3f5e-4b8e-9a55-1d2f3c4b5a69", "name": "aks-westeurope-1", "provider": "aks",
    "region": "westeurope", "labels": {"env": "prod"},
    "taints": [{"key": "dedicated", "value": "ml", "effect": "NoSchedule"}],
    "updateGroup": "canary", "state": "registering", "kubernetesVersion": "", "nodeImageVersion": "",
    "lastHeartbeat": null, "resourceVersion": "42"
  })");
  want["createdAt"] = format_rfc3339(c.created_at);
  want["updatedAt"] = format_rfc3339(c.updated_at);
  CHECK(j == want);
  CHECK(j["createdAt"].get<std::string>().size() == std::string("2026-11-23T01:02:03.456Z").size());

  c.last_heartbeat = c.created_at;
  c.labels.clear();
  c.taints.clear();
  json k = to_json(c);
  CHECK(k["lastHeartbeat"] == format_rfc3339(c.created_at));
  CHECK(k["labels"] == json::object());
  CHECK(k["taints"] == json::array());

  json list = to_list_json({c, c}, std::nullopt);
  CHECK(list["items"].size() == 2);
  CHECK_FALSE(list.contains("continue"));
  CHECK(to_list_json({}, std::string("tok"))["continue"] == "tok");
  CHECK(to_list_json({}, std::nullopt)["items"] == json::array());
}

TEST_CASE("cluster: to_json output parses back as a create body minus server-owned fields", "[api][cluster]") {
  model::Cluster c;
  c.name = "c1";
  c.provider = "arc";
  c.labels = {{"a.b/c", "d"}};
  c.taints = {{"k", "", "NoExecute"}};
  json j = to_json(c);
  for (const char* k : {"id", "state", "kubernetesVersion", "nodeImageVersion", "lastHeartbeat", "resourceVersion",
                        "createdAt", "updatedAt"}) {
    j.erase(k);
  }
  auto back = parse_cluster_create(j);
  REQUIRE(back);
  CHECK(back->labels == c.labels);
  CHECK(back->taints == c.taints);
}

TEST_CASE("cluster to_json: agentVersion once an agent reported one", "[api][cluster]") {
  model::Cluster c;
  c.name = "c1";
  c.provider = "aks";
  CHECK_FALSE(to_json(c).contains("agentVersion"));
  c.agent_version = "0.3.0";
  CHECK(to_json(c)["agentVersion"] == "0.3.0");
  json body = {{"name", "c1"}, {"provider", "aks"}, {"agentVersion", "1"}};
  auto refused = parse_cluster_create(body);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().field == "agentVersion");
}
