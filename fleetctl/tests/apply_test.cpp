// apply -f for every kind (issue #16 item 5), golden output against a stateful fake of fleetd: objects kept by
// path with resourceVersions, If-Match checked, strategies and catalog entries stored in a canonical form as fleetd
// stores them, so that "unchanged" is tested against what the server really gives back.
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <optional>

#include "fleetctl/document_match.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using nlohmann::json;
using testing::Harness;
using testing::json_response;
using testing::problem;
using testing::RunResult;
using testing::SeenRequest;

namespace {

constexpr const char* kEveryKind = R"(kind: Cluster
name: gpu-east-1
provider: aks
region: eastus
labels: {env: prod}
taints: [{key: gpu, value: h100, effect: NoSchedule}]
---
name: llama
manifests:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: llama}}
replicas: 2
---
kind: AdmissionPolicy
name: strict
clusterSelector: env=prod
mode: full
---
kind: RolloutStrategy
name: waves
stages:
  - name: canary
    updateGroups: [canary]
    maxConcurrency: 1
    afterStageWait: 90s
    afterGates: [{type: Approval}]
---
kind: Rollout
name: k8s-1-32
target: {type: Full, kubernetesVersion: 1.32.7}
strategyRef: waves
---
kind: kubernetes
provider: aks
version: v1.32.7
released: 2025-06-01
gpuDriver: {min: 535.104.05}
)";

// Where fleetd keeps what a POST to `collection` creates.
std::string path_of(const std::string& collection, const json& body) {
  if (collection == "/v1/versions") {
    std::string version = body.value("version", "");
    if (version.starts_with("v")) version.erase(0, 1);
    return collection + "/" + body.value("provider", "") + "/" + version;
  }
  return collection + "/" + body.value("name", "");
}

// What fleetd stores instead of what it was given, for the kinds it keeps canonical (docs/api.md).
json canonical(const std::string& collection, json body) {
  if (collection == "/v1/strategies") {
    for (auto& stage : body["stages"]) {
      stage["maxConcurrency"] = stage["maxConcurrency"].dump();
      stage["afterStageWait"] = "1m30s";
      stage["afterGates"][0]["name"] = stage["name"].get<std::string>() + ".after-1";
    }
    body["failurePolicy"] = {{"maxFailures", "0"}, {"onFailure", "Pause"}};
  } else if (collection == "/v1/rollouts") {
    body["target"]["nodeImageSelection"] = "Latest";
    body["strategy"] = {{"stages", json::array()}};
    body["state"] = "Pending";
  } else if (collection == "/v1/versions") {
    body["version"] = "1.32.7";
    body["released"] = "2025-06-01T00:00:00.000Z";
    body["gpuDriver"]["min"] = "535.104.5";
    body["retired"] = false;
  } else if (collection == "/v1/clusters") {
    body["state"] = "registering";
    if (!body.contains("updateGroup")) body["updateGroup"] = "";
  } else if (collection == "/v1/auto-upgrade-profiles") {
    const json defaults = {
        {"provider", "aks"}, {"nodeImageSelection", "Latest"}, {"enabled", true}, {"startRuns", false}};
    for (const auto& [key, value] : defaults.items()) {
      if (!body.contains(key)) body[key] = value;
    }
    body["status"] = {{"selectedRelease", {{"key", "1.32.7"}}}, {"lastRelease", "1.32.7"}};
  } else if (collection == "/v1/workloads") {
    body["generation"] = 1;
    body["state"] = "Pending";
  }
  return body;
}

std::string collection_of(const std::string& path) {
  if (path.starts_with("/v1/versions/")) return "/v1/versions";
  return path.substr(0, path.rfind('/'));
}

// fleetd's objects in memory, with what each write path does to them.
class FakeFleetd {
 public:
  std::map<std::string, json> objects;
  int stale_writes = 0;  // the next N updates answer 412, as if someone wrote just before
  // Answers instead of the fake when it returns one (a refusal fleetd would make).
  std::function<std::optional<http::ClientResponse>(const SeenRequest&)> refuse;

  void store(const std::string& path, json object) {
    object["resourceVersion"] = std::to_string(++version_);
    object["createdAt"] = "2026-11-23T11:00:00.000Z";
    objects[path] = std::move(object);
  }

  http::ClientResponse handle(const SeenRequest& req) {
    if (refuse) {
      if (auto answer = refuse(req)) return *answer;
    }
    if (req.method == "GET") {
      auto it = objects.find(req.target);
      if (it == objects.end()) return json_response(404, problem("not-found", 404, req.target + " not found"));
      return found(it->second);
    }
    const json body = json::parse(req.body);
    if (req.method == "POST") {
      const std::string path = path_of(req.target, body);
      if (objects.contains(path)) return json_response(409, problem("already-exists", 409, path + " exists"));
      store(path, canonical(req.target, body));
      return json_response(201, objects[path].dump(), etag(objects[path]));
    }
    auto it = objects.find(req.target);
    if (it == objects.end()) return json_response(404, problem("not-found", 404, req.target + " not found"));
    if (stale_writes > 0 ||
        req.headers.at("If-Match") != "\"" + it->second["resourceVersion"].get<std::string>() + "\"") {
      if (stale_writes > 0) --stale_writes;
      it->second["resourceVersion"] = std::to_string(++version_);
      return json_response(412, problem("precondition-failed", 412, "If-Match is stale"));
    }
    json updated = req.method == "PATCH" ? merged(it->second, body) : replaced(req.target, it->second, body);
    store(req.target, std::move(updated));
    return found(objects[req.target]);
  }

 private:
  static http::Headers etag(const json& object) {
    return {{"etag", "\"" + object["resourceVersion"].get<std::string>() + "\""}};
  }
  static http::ClientResponse found(const json& object) { return json_response(200, object.dump(), etag(object)); }

  // JSON merge patch as fleetd applies it to a cluster: labels merge, the rest is replaced.
  static json merged(json object, const json& patch) {
    for (const auto& [key, value] : patch.items()) {
      if (key == "labels") {
        object["labels"].merge_patch(value);
      } else {
        object[key] = value;
      }
    }
    return object;
  }

  // A workload's generation moves only when the spec changed.
  static json replaced(const std::string& path, const json& stored, const json& body) {
    json object = canonical(collection_of(path), body);
    if (object.contains("generation")) {
      json before = stored;
      json after = object;
      for (auto* j : {&before, &after}) {
        for (const char* k : {"generation", "resourceVersion", "createdAt", "state"}) j->erase(k);
      }
      object["generation"] = stored["generation"].get<int>() + (before == after ? 0 : 1);
    }
    return object;
  }

  int version_ = 40;
};

struct Fixture {
  FakeFleetd fleetd;
  Harness h{[this](const SeenRequest& req) -> Result<http::ClientResponse> { return fleetd.handle(req); }};

  RunResult apply(const std::string& text, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"apply", "-f", "-", "--server", "http://fleet.test:8080"};
    args.insert(args.end(), extra.begin(), extra.end());
    return h.run(args, text);
  }
  // "METHOD target" of each request from `from` on.
  std::vector<std::string> requests(std::size_t from = 0) const {
    std::vector<std::string> out;
    for (std::size_t i = from; i < h.seen().size(); ++i) out.push_back(h.seen()[i].method + " " + h.seen()[i].target);
    return out;
  }
};

}  // namespace

TEST_CASE("apply creates every kind from one multi-document YAML, in order", "[fleetctl][apply]") {
  Fixture f;
  auto r = f.apply(kEveryKind);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "cluster/gpu-east-1 created\n"
        "workload/llama created\n"
        "admissionpolicy/strict created\n"
        "strategy/waves created\n"
        "rollout/k8s-1-32 created\n"
        "version/aks/1.32.7 created\n");
  CHECK(r.err.empty());
  CHECK(f.requests() == std::vector<std::string>{
                            "GET /v1/clusters/gpu-east-1",
                            "POST /v1/clusters",
                            "GET /v1/workloads/llama",
                            "POST /v1/workloads",
                            "GET /v1/admission-policies/strict",
                            "POST /v1/admission-policies",
                            "GET /v1/strategies/waves",
                            "POST /v1/strategies",
                            "GET /v1/rollouts/k8s-1-32",
                            "POST /v1/rollouts",
                            "GET /v1/versions/aks/1.32.7",
                            "POST /v1/versions",
                        });
  // fleetd refuses unknown members: "kind" is taken off, except a catalog entry's own.
  const auto sent = [&](std::size_t i) { return json::parse(f.h.seen()[i].body); };
  CHECK(sent(1) == json{{"name", "gpu-east-1"},
                        {"provider", "aks"},
                        {"region", "eastus"},
                        {"labels", {{"env", "prod"}}},
                        {"taints", {{{"key", "gpu"}, {"value", "h100"}, {"effect", "NoSchedule"}}}}});
  CHECK(sent(3)["replicas"] == 2);
  CHECK_FALSE(sent(5).contains("kind"));
  CHECK_FALSE(sent(7).contains("kind"));
  CHECK_FALSE(sent(9).contains("kind"));
  CHECK(sent(11)["kind"] == "kubernetes");
  CHECK(sent(11)["version"] == "v1.32.7");
}

TEST_CASE("apply again: every kind is unchanged and only the workload is written", "[fleetctl][apply]") {
  Fixture f;
  REQUIRE(f.apply(kEveryKind).exit_code == 0);
  const auto before = f.h.seen().size();
  auto again = f.apply(kEveryKind);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out ==
        "cluster/gpu-east-1 unchanged\n"
        "workload/llama unchanged\n"
        "admissionpolicy/strict unchanged\n"
        "strategy/waves unchanged\n"
        "rollout/k8s-1-32 unchanged\n"
        "version/aks/1.32.7 unchanged\n");
  // The workload's PUT is how fleetd says whether it changed (its generation); nothing else is sent.
  CHECK(f.requests(before) == std::vector<std::string>{
                                  "GET /v1/clusters/gpu-east-1",
                                  "GET /v1/workloads/llama",
                                  "PUT /v1/workloads/llama",
                                  "GET /v1/admission-policies/strict",
                                  "GET /v1/strategies/waves",
                                  "GET /v1/rollouts/k8s-1-32",
                                  "GET /v1/versions/aks/1.32.7",
                              });
}

TEST_CASE("apply configures a cluster, a workload and an admission policy with If-Match", "[fleetctl][apply]") {
  Fixture f;
  REQUIRE(f.apply(kEveryKind).exit_code == 0);
  // A label fleetctl label added stays: labels merge.
  f.fleetd.objects["/v1/clusters/gpu-east-1"]["labels"]["owner"] = "sre";
  const auto before = f.h.seen().size();
  auto r = f.apply(R"(kind: Cluster
name: gpu-east-1
provider: aks
labels: {env: prod, tier: gold}
updateGroup: canary
---
name: llama
manifests:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: llama}}
replicas: 3
---
kind: AdmissionPolicy
name: strict
clusterSelector: env=prod
mode: quick
)");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "cluster/gpu-east-1 configured\n"
        "workload/llama configured\n"
        "admissionpolicy/strict configured\n");
  CHECK(f.requests(before) == std::vector<std::string>{
                                  "GET /v1/clusters/gpu-east-1",
                                  "PATCH /v1/clusters/gpu-east-1",
                                  "GET /v1/workloads/llama",
                                  "PUT /v1/workloads/llama",
                                  "GET /v1/admission-policies/strict",
                                  "PUT /v1/admission-policies/strict",
                              });
  const auto& patch = f.h.seen()[before + 1];
  CHECK(patch.headers.at("If-Match") == "\"41\"");
  CHECK(patch.headers.at("Content-Type") == "application/merge-patch+json");
  // Only the members that differ; provider is equal, so it is not sent.
  CHECK(json::parse(patch.body) == json{{"labels", {{"env", "prod"}, {"tier", "gold"}}}, {"updateGroup", "canary"}});
  CHECK(f.fleetd.objects["/v1/clusters/gpu-east-1"]["labels"] ==
        json{{"env", "prod"}, {"tier", "gold"}, {"owner", "sre"}});
  CHECK(f.h.seen()[before + 3].headers.at("If-Match") == "\"42\"");
  CHECK(f.h.seen()[before + 5].headers.at("If-Match") == "\"43\"");
  CHECK(json::parse(f.h.seen()[before + 5].body) ==
        json{{"name", "strict"}, {"clusterSelector", "env=prod"}, {"mode", "quick"}});
}

TEST_CASE("apply: an auto-upgrade profile is created, left alone when it matches, replaced when it does not",
          "[fleetctl][apply]") {
  Fixture f;
  const std::string profile = "kind: AutoUpgradeProfile\nname: stable-prod\nchannel: Stable\nstrategyRef: waves\n";
  auto created = f.apply(profile);
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  CHECK(created.out == "auto-upgrade-profile/stable-prod created\n");
  CHECK(f.fleetd.objects.at("/v1/auto-upgrade-profiles/stable-prod")["enabled"] == true);

  auto before = f.h.seen().size();
  auto again = f.apply(profile);  // fleetd's defaults and status do not count as differences
  CHECK(again.out == "auto-upgrade-profile/stable-prod unchanged\n");
  CHECK(f.requests(before) == std::vector<std::string>{"GET /v1/auto-upgrade-profiles/stable-prod"});

  before = f.h.seen().size();
  auto changed = f.apply(profile + "startRuns: true\n");
  CHECK(changed.out == "auto-upgrade-profile/stable-prod configured\n");
  CHECK(f.requests(before) == std::vector<std::string>{"GET /v1/auto-upgrade-profiles/stable-prod",
                                                       "PUT /v1/auto-upgrade-profiles/stable-prod"});
  CHECK(json::parse(f.h.seen()[before + 1].body) ==
        json{{"name", "stable-prod"}, {"channel", "Stable"}, {"strategyRef", "waves"}, {"startRuns", true}});
  CHECK(f.fleetd.objects.at("/v1/auto-upgrade-profiles/stable-prod")["startRuns"] == true);
}

TEST_CASE("apply refuses to change a strategy, a rollout, a catalog entry or a cluster's provider",
          "[fleetctl][apply]") {
  Fixture f;
  REQUIRE(f.apply(kEveryKind).exit_code == 0);
  auto refused = [&](const std::string& document, const std::string& path) {
    const auto before = f.h.seen().size();
    auto r = f.apply(document);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(f.requests(before) == std::vector<std::string>{"GET " + path});
    return r.err;
  };
  CHECK(refused("{\"kind\": \"RolloutStrategy\", \"name\": \"waves\", \"stages\": [{\"name\": \"all\", "
                "\"labelSelector\": \"\"}]}",
                "/v1/strategies/waves") ==
        "error: strategy/waves exists and differs in \"stages\": strategies cannot be changed: delete it and apply "
        "again, or apply it under a new name (nothing was sent)\n");
  CHECK(refused("kind: Rollout\nname: k8s-1-32\ntarget: {type: Full, kubernetesVersion: 1.33.1}\n"
                "strategyRef: waves\n",
                "/v1/rollouts/k8s-1-32") ==
        "error: rollout/k8s-1-32 exists and differs in \"target\": a rollout freezes its spec when it is created: "
        "apply the change as a new rollout under a new name (nothing was sent)\n");
  CHECK(
      refused("kind: kubernetes\nprovider: aks\nversion: 1.32.7\nreleased: 2025-06-02\n", "/v1/versions/aks/1.32.7") ==
      "error: version/aks/1.32.7 exists and differs in \"released\": catalog entries are added and retired, not "
      "edited: retire it and add the change under a new version (nothing was sent)\n");
  CHECK(refused("kind: Cluster\nname: gpu-east-1\nprovider: arc\nlabels: {env: dev}\n", "/v1/clusters/gpu-east-1") ==
        "error: cluster/gpu-east-1: \"provider\" cannot be changed once the cluster exists (it has \"aks\", the "
        "document \"arc\"); nothing was sent\n");
}

TEST_CASE("apply takes a JSON List, and -o json|yaml prints what fleetd answered", "[fleetctl][apply]") {
  Fixture f;
  const std::string list = R"({"kind": "List", "items": [
    {"kind": "Cluster", "name": "arc-1", "provider": "arc"},
    {"kind": "AdmissionPolicy", "name": "lab", "clusterSelector": ""}]})";
  auto r = f.apply(list);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "cluster/arc-1 created\nadmissionpolicy/lab created\n");

  auto as_json = f.apply(list, {"-o", "json"});
  REQUIRE(as_json.exit_code == 0);
  const auto items = json::parse(as_json.out)["items"];
  REQUIRE(items.size() == 2);
  CHECK(items[0]["name"] == "arc-1");
  CHECK(items[0]["state"] == "registering");
  CHECK(items[1]["resourceVersion"] == "42");

  auto as_yaml = f.apply(R"({"kind": "AdmissionPolicy", "name": "lab", "clusterSelector": ""})", {"-o", "yaml"});
  REQUIRE(as_yaml.exit_code == 0);
  CHECK(as_yaml.out ==
        "clusterSelector: \"\"\n"
        "createdAt: \"2026-11-23T11:00:00.000Z\"\n"
        "name: lab\n"
        "resourceVersion: \"42\"\n");
}

TEST_CASE("apply: an unknown or missing kind is a usage error before anything is sent", "[fleetctl][apply]") {
  Fixture f;
  auto unknown = f.apply("kind: Cluster\nname: a\nprovider: aks\n---\nkind: Deployment\nname: web\n");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.out.empty());
  CHECK(unknown.err ==
        "error: document 2 has kind \"Deployment\": apply takes Cluster, Workload, Override, AdmissionPolicy, "
        "RolloutStrategy, Rollout, AutoUpgradeProfile, or a version catalog entry (kind kubernetes or nodeImage)\n");
  auto nameless = f.apply("kind: RolloutStrategy\nstages: []\n");
  CHECK(nameless.exit_code == 2);
  CHECK(nameless.err == "error: document 1 (RolloutStrategy) has no \"name\"\n");
  auto not_object = f.apply("kind: Cluster\nname: a\nprovider: aks\n---\n- a\n");
  CHECK(not_object.exit_code == 2);
  CHECK(not_object.err == "error: document 2 of stdin is not an object\n");
  CHECK(f.h.seen().empty());
}

TEST_CASE("apply re-reads and retries when a write answers 412", "[fleetctl][apply]") {
  Fixture f;
  REQUIRE(f.apply("kind: Cluster\nname: c1\nprovider: aks\n").exit_code == 0);
  f.fleetd.stale_writes = 1;
  const auto before = f.h.seen().size();
  auto r = f.apply("kind: Cluster\nname: c1\nprovider: aks\ntaints: [{key: gpu, effect: NoSchedule}]\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "cluster/c1 configured\n");
  CHECK(f.requests(before) == std::vector<std::string>{"GET /v1/clusters/c1", "PATCH /v1/clusters/c1",
                                                       "GET /v1/clusters/c1", "PATCH /v1/clusters/c1"});
  CHECK(f.h.seen()[before + 1].headers.at("If-Match") == "\"41\"");
  CHECK(f.h.seen()[before + 3].headers.at("If-Match") == "\"42\"");

  // Bounded: a third 412 in a row is the error.
  f.fleetd.stale_writes = 3;
  auto busy = f.apply("kind: Cluster\nname: c1\nprovider: aks\nregion: westus\n");
  CHECK(busy.exit_code == 4);
  CHECK(busy.err == "Error from server (precondition-failed): If-Match is stale\n");
}

TEST_CASE("apply stops at the first failure, after the lines of the documents before it", "[fleetctl][apply]") {
  Fixture f;
  f.fleetd.refuse = [](const SeenRequest& req) -> std::optional<http::ClientResponse> {
    if (req.method != "POST" || req.target != "/v1/admission-policies") return std::nullopt;
    return json_response(422, problem("invalid-field", 422, "priority: must be from -1000 to 1000", "priority"));
  };
  auto r = f.apply(R"(kind: Cluster
name: ok-1
provider: aks
---
kind: AdmissionPolicy
name: bad
priority: 5000
---
kind: Cluster
name: never
provider: aks
)");
  CHECK(r.exit_code == 1);
  CHECK(r.out == "cluster/ok-1 created\n");
  CHECK(r.err == "Error from server (invalid-field): priority: must be from -1000 to 1000\n");
  CHECK(f.requests() == std::vector<std::string>{"GET /v1/clusters/ok-1", "POST /v1/clusters",
                                                 "GET /v1/admission-policies/bad", "POST /v1/admission-policies"});

  // With -o json the objects applied before the failure are printed, as a list (the file holds several).
  auto as_json =
      f.apply("kind: Cluster\nname: ok-1\nprovider: aks\n---\nkind: AdmissionPolicy\nname: bad\n", {"-o", "json"});
  CHECK(as_json.exit_code == 1);
  const auto items = json::parse(as_json.out)["items"];
  REQUIRE(items.size() == 1);
  CHECK(items[0]["name"] == "ok-1");
}

TEST_CASE("apply -f refuses a file over the size limit", "[fleetctl][apply]") {
  Fixture f;
  std::string big = "kind: Cluster\nname: a\nprovider: aks\nnotes: \"" + std::string(4 << 20, 'x') + "\"\n";
  auto r = f.apply(big);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: stdin is larger than 4 MiB: split it into several files\n");
  CHECK(f.h.seen().empty());
}

TEST_CASE("document_matches: given members only, canonical scalars only where asked", "[fleetctl][apply]") {
  const json stored = {{"name", "w"},           {"afterStageWait", "1m30s"},
                       {"maxConcurrency", "1"}, {"released", "2025-06-01T00:00:00.000Z"},
                       {"min", "535.104.5"},    {"labels", {{"a", "1"}, {"b", "2"}}},
                       {"items", {1, 2}},       {"createdAt", "2026-11-23T11:00:00.000Z"}};
  const auto canonical = ScalarMatch::kCanonical;
  CHECK(document_matches(json{{"name", "w"}, {"labels", {{"a", "1"}}}}, stored, ScalarMatch::kExact));
  CHECK(document_matches(json{{"afterStageWait", "90s"}, {"maxConcurrency", 1}}, stored, canonical));
  CHECK(document_matches(json{{"afterStageWait", 90}, {"released", "2025-06-01"}}, stored, canonical));
  CHECK(document_matches(json{{"min", "535.104.05"}, {"absent", json::array()}}, stored, canonical));
  CHECK_FALSE(document_matches(json{{"afterStageWait", "90s"}}, stored, ScalarMatch::kExact));
  CHECK_FALSE(document_matches(json{{"afterStageWait", "91s"}}, stored, canonical));
  CHECK_FALSE(document_matches(json{{"items", {1}}}, stored, canonical));
  CHECK_FALSE(document_matches(json{{"absent", "x"}}, stored, canonical));
  CHECK_FALSE(document_matches(json{{"labels", {{"a", "2"}}}}, stored, canonical));
  CHECK_FALSE(document_matches(json{{"released", "2025-06-02"}}, stored, canonical));
}

}  // namespace fleet::ctl
