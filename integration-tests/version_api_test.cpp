// The version catalog API against a real fleetd and PostgreSQL (issue #12 item 1): the shipped catalog is loaded
// at first start and served with filters and pages; only admins add and retire entries, each audited; a duplicate
// is 409, bad input a 422 naming the member; a restart does not load the shipped catalog again.
#include <catch2/catch.hpp>

#include <set>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {

std::set<std::string> versions_of(const json& list) {
  std::set<std::string> out;
  for (const auto& e : list["items"])
    out.insert(e["provider"].get<std::string>() + "/" + e["version"].get<std::string>());
  return out;
}

std::vector<json> audit_entries(FleetdProcess& fleetd, const std::string& action) {
  std::vector<json> out;
  const json audit = fleetd.call_json("GET", "/v1/audit?limit=1000");  // held: the loop reads into it
  for (const auto& e : audit["items"]) {
    if (e["action"] == action) out.push_back(e);
  }
  return out;
}

const json kNewImage = {{"kind", "nodeImage"},
                        {"provider", "aks"},
                        {"version", "AKSUbuntu-2204gen2containerd-202512.01.0"},
                        {"released", "2025-12-01"},
                        {"regions", {"westcentralus"}},
                        {"gpuDriver", {{"min", "535.104.05"}, {"max", "570.195.03"}}},
                        {"notes", "canary"}};

}  // namespace

TEST_CASE("version catalog: the shipped catalog is served with filters and pages", "[integration][versions]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  auto viewer = fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();

  auto all = fleetd.call("GET", "/v1/versions", "", {}, viewer);
  REQUIRE(all.status == 200);
  const json catalog = json::parse(all.body);
  const auto names = versions_of(catalog);
  for (const char* v : {"aks/1.30.14", "aks/1.31.4", "aks/1.32.7", "aks/1.33.5", "aks/1.34.2", "arc/1.30.9",
                        "arc/1.34.0", "aks/AKSUbuntu-2204gen2containerd-202510.01.0"}) {
    CAPTURE(v);
    CHECK(names.count(v) == 1);
  }
  CHECK_FALSE(catalog.contains("continue"));
  const json& first = catalog["items"][0];
  CHECK(first["provider"] == "aks");
  CHECK(first["kind"] == "kubernetes");  // Kubernetes versions first, newest first
  CHECK(first["createdBy"] == "fleetd");
  CHECK(first["resourceVersion"].is_string());

  auto images = fleetd.call_json("GET", "/v1/versions?kind=nodeImage&provider=aks&osFamily=AzureLinux");
  REQUIRE_FALSE(images["items"].empty());
  for (const auto& e : images["items"]) {
    CHECK(e["kind"] == "nodeImage");
    CHECK(e["osFamily"] == "AzureLinux");
  }
  auto arc = fleetd.call_json("GET", "/v1/versions?provider=arc");
  for (const auto& e : arc["items"]) CHECK(e["provider"] == "arc");
  CHECK(fleetd.call_json("GET", "/v1/versions?provider=arc&kind=nodeImage")["items"].empty());

  // Pages: the same entries, in the same order.
  json paged = json::array();
  std::string next;
  for (int i = 0; i < 100; ++i) {
    auto page = fleetd.call_json("GET", "/v1/versions?limit=25" + (next.empty() ? "" : "&continue=" + next));
    for (const auto& e : page["items"]) paged.push_back(e);
    if (!page.contains("continue")) break;
    next = page["continue"].get<std::string>();
  }
  CHECK(paged == catalog["items"]);

  auto one = fleetd.call("GET", "/v1/versions/aks/1.32.7", "", {}, viewer);
  REQUIRE(one.status == 200);
  CHECK(json::parse(one.body)["gpuDriver"]["min"] == "535.161.8");
  CHECK(fleetd.call("GET", "/v1/versions/aks/1.99.0").status == 404);

  for (const char* bad : {"/v1/versions?kind=helm", "/v1/versions?provider=gke", "/v1/versions?includeRetired=yes",
                          "/v1/versions?colour=red", "/v1/versions?limit=0", "/v1/versions?continue=nope"}) {
    CAPTURE(bad);
    auto r = fleetd.call("GET", bad);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["type"] == "urn:fleetd:problem:invalid-query");
  }
  CHECK(fleetd.call("GET", "/v1/versions", "", {}, std::string("")).status == 401);
}

TEST_CASE("version catalog: admins add and retire entries, audited", "[integration][versions]") {
  TempDir dir;
  FleetdProcess fleetd{FleetdOptions(dir.path() / "data")};
  auto viewer = fleetd.call_json("POST", "/v1/tokens", R"({"role": "viewer"})", 201)["token"].get<std::string>();
  auto operator_token =
      fleetd.call_json("POST", "/v1/tokens", R"({"role": "operator"})", 201)["token"].get<std::string>();
  const std::size_t shipped = fleetd.call_json("GET", "/v1/versions?includeRetired=true")["items"].size();

  CHECK(fleetd.call("POST", "/v1/versions", kNewImage.dump(), {}, viewer).status == 403);
  CHECK(fleetd.call("POST", "/v1/versions", kNewImage.dump(), {}, operator_token).status == 403);
  CHECK(fleetd.call("POST", "/v1/versions/aks/1.32.7:retire", "", {}, operator_token).status == 403);

  auto created = fleetd.call("POST", "/v1/versions", kNewImage.dump(), {{"Idempotency-Key", "add-202512"}});
  REQUIRE(created.status == 201);
  CHECK(created.headers["location"] == "/v1/versions/aks/AKSUbuntu-2204gen2containerd-202512.01.0");
  const json entry = json::parse(created.body);
  CHECK(entry["osFamily"] == "Ubuntu");  // from the name
  CHECK(entry["released"] == "2025-12-01T00:00:00.000Z");
  CHECK(entry["gpuDriver"]["max"] == "570.195.3");
  CHECK(entry["createdBy"] != "fleetd");
  // The same key again: the first answer, not a 409.
  auto replay = fleetd.call("POST", "/v1/versions", kNewImage.dump(), {{"Idempotency-Key", "add-202512"}});
  CHECK(replay.status == 201);
  CHECK(replay.body == created.body);
  auto dup = fleetd.call("POST", "/v1/versions", kNewImage.dump());
  CHECK(dup.status == 409);
  CHECK(json::parse(dup.body)["type"] == "urn:fleetd:problem:already-exists");
  // What GET answers may be posted back; only the server's members are ignored.
  json copy = json::parse(fleetd.call("GET", "/v1/versions/aks/1.32.7").body);
  copy["version"] = "1.32.11";
  CHECK(fleetd.call("POST", "/v1/versions", copy.dump()).status == 201);

  // Bad input: 422 problem+json naming the member.
  auto refused = [&](json body, const std::string& field) {
    auto r = fleetd.call("POST", "/v1/versions", body.dump());
    CHECK(r.status == 422);
    CHECK_THAT(r.headers["content-type"], Catch::StartsWith("application/problem+json"));
    CHECK(json::parse(r.body)["field"] == field);
  };
  json bad = kNewImage;
  bad["gpuDriver"]["min"] = "latest";
  refused(bad, "gpuDriver.min");
  bad = kNewImage;
  bad["released"] = "2025-02-30";
  refused(bad, "released");
  bad = kNewImage;
  bad["provider"] = "gke";
  refused(bad, "provider");
  bad = kNewImage;
  bad.erase("kind");
  refused(bad, "kind");
  bad = kNewImage;
  bad["regions"] = {"West Europe"};
  refused(bad, "regions[0]");
  bad = kNewImage;
  bad["colour"] = "red";
  refused(bad, "colour");
  CHECK(fleetd.call("POST", "/v1/versions", "{not json").status == 400);

  // Retire: 200 with the entry, hidden from the default list, shown with includeRetired; twice changes nothing.
  auto retired = fleetd.call("POST", "/v1/versions/aks/1.32.7:retire", R"({"reason": "CVE in kubelet"})",
                             {{"Idempotency-Key", "retire-1"}});
  REQUIRE(retired.status == 200);
  CHECK(json::parse(retired.body)["retired"] == true);
  CHECK(versions_of(fleetd.call_json("GET", "/v1/versions")).count("aks/1.32.7") == 0);
  CHECK(versions_of(fleetd.call_json("GET", "/v1/versions?includeRetired=true")).count("aks/1.32.7") == 1);
  auto again = fleetd.call("POST", "/v1/versions/aks/1.32.7:retire");
  CHECK(again.status == 200);
  CHECK(json::parse(again.body)["resourceVersion"] == json::parse(retired.body)["resourceVersion"]);
  CHECK(fleetd.call("POST", "/v1/versions/aks/1.99.0:retire").status == 404);
  CHECK(fleetd.call("POST", "/v1/versions/aks/1.32.6:retire", R"({"why": "x"})").status == 422);

  auto creates = audit_entries(fleetd, "version.create");
  std::set<std::string> outcomes;
  for (const auto& e : creates) outcomes.insert(e["outcome"].get<std::string>());
  CHECK(outcomes.count("success"));
  CHECK(outcomes.count("already-exists"));
  CHECK(outcomes.count("invalid-field"));
  bool audited_add = false;
  for (const auto& e : creates) {
    if (e["objectName"] == "aks/AKSUbuntu-2204gen2containerd-202512.01.0" && e["outcome"] == "success") {
      audited_add = true;
      CHECK(e["objectKind"] == "version");
      CHECK(e["detail"]["entry"]["notes"] == "canary");
    }
  }
  CHECK(audited_add);
  auto retires = audit_entries(fleetd, "version.retire");
  bool audited_retire = false;
  for (const auto& e : retires) {
    if (e["objectName"] == "aks/1.32.7" && e["detail"]["reason"] == "CVE in kubelet") audited_retire = true;
  }
  CHECK(audited_retire);

  // A restart keeps the table as it is: the shipped catalog is loaded into an empty table only.
  fleetd.terminate();
  fleetd.restart();
  auto after = fleetd.call_json("GET", "/v1/versions?includeRetired=true");
  CHECK(after["items"].size() == shipped + 2);
  CHECK(json::parse(fleetd.call("GET", "/v1/versions/aks/1.32.7").body)["retired"] == true);
}
