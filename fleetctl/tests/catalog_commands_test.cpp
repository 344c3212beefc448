// get versions against a scripted fake of fleetd's API: filters as query parameters, the table with each entry's
// status at the test clock (2026-11-23), and JSON/YAML output.
#include <catch2/catch.hpp>

#include "fleetctl/catalog_view.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using nlohmann::json;
using testing::Harness;
using testing::json_response;
using testing::problem;
using testing::SeenRequest;

namespace {

json kube(const std::string& provider, const std::string& version, const std::string& released,
          const std::string& end) {
  return {{"kind", "kubernetes"},
          {"provider", provider},
          {"version", version},
          {"released", released},
          {"endOfSupport", end},
          {"regions", json::array()},
          {"gpuDriver", {{"min", "550.90.7"}, {"max", "580.95.5"}}},
          {"retired", false},
          {"notes", "upstream dates"},
          {"resourceVersion", "12"}};
}

json node_image(const std::string& version, const std::string& released, json regions) {
  return {{"kind", "nodeImage"},  {"provider", "aks"},      {"version", version},          {"osFamily", "Ubuntu"},
          {"released", released}, {"regions", regions},     {"gpuDriver", json::object()}, {"retired", false},
          {"notes", ""},          {"resourceVersion", "13"}};
}

std::vector<json> catalog() {
  json retired = kube("aks", "1.32.6", "2025-07-08T00:00:00.000Z", "2026-12-31T00:00:00.000Z");
  retired["retired"] = true;
  json open = kube("arc", "1.35.0", "2025-12-17T00:00:00.000Z", "");
  open.erase("endOfSupport");
  open["gpuDriver"] = {{"min", "570.86.10"}};
  return {kube("aks", "1.34.2", "2025-12-02T00:00:00.000Z", "2026-10-31T00:00:00.000Z"),
          kube("aks", "1.35.0", "2027-03-01T00:00:00.000Z", "2028-02-28T00:00:00.000Z"),
          retired,
          open,
          node_image("AKSUbuntu-2204gen2containerd-202511.03.0", "2025-11-03T00:00:00.000Z", {"eastus2", "westus2"}),
          node_image("AKSUbuntu-2204gen2containerd-202510.01.0", "2025-10-01T00:00:00.000Z", json::array())};
}

}  // namespace

TEST_CASE("get versions: filters as query parameters, a table with each entry's status", "[fleetctl][versions]") {
  const auto entries = catalog();
  Harness h([&](const SeenRequest& req) {
    if (req.target.rfind("/v1/versions?", 0) == 0) return json_response(200, json{{"items", entries}}.dump());
    return json_response(404, problem("not-found", 404, "no"));
  });
  auto table = h.run_with_server({"get", "versions"});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out ==
        "KIND         PROVIDER   VERSION                                    OS-FAMILY   RELEASED     END-OF-SUPPORT   "
        "GPU-DRIVER                 STATUS\n"
        "kubernetes   aks        1.34.2                                     <none>      2025-12-02   2026-10-31       "
        ">= 550.90.7, <= 580.95.5   out-of-support\n"
        "kubernetes   aks        1.35.0                                     <none>      2027-03-01   2028-02-28       "
        ">= 550.90.7, <= 580.95.5   upcoming\n"
        "kubernetes   aks        1.32.6                                     <none>      2025-07-08   2026-12-31       "
        ">= 550.90.7, <= 580.95.5   retired\n"
        "kubernetes   arc        1.35.0                                     <none>      2025-12-17   <none>           "
        ">= 570.86.10               supported\n"
        "nodeImage    aks        AKSUbuntu-2204gen2containerd-202511.03.0   Ubuntu      2025-11-03   <none>           "
        "any                        supported\n"
        "nodeImage    aks        AKSUbuntu-2204gen2containerd-202510.01.0   Ubuntu      2025-10-01   <none>           "
        "any                        supported\n");
  REQUIRE(h.seen().size() == 1);
  CHECK(h.seen()[0].target == "/v1/versions?limit=500");

  auto filtered = h.run_with_server({"get", "versions", "--kind", "nodeImage", "--provider", "aks", "--os-family",
                                     "Azure Linux", "--include-retired"});
  REQUIRE(filtered.exit_code == 0);
  CHECK(h.seen().back().target ==
        "/v1/versions?limit=500&kind=nodeImage&provider=aks&osFamily=Azure%20Linux&includeRetired=true");

  auto wide = h.run_with_server({"get", "versions", "-o", "wide"});
  CHECK_THAT(wide.out, Catch::Contains("STATUS           REGIONS           NOTES\n"));
  CHECK_THAT(wide.out, Catch::Contains("supported        eastus2,westus2\n"));
  CHECK_THAT(wide.out, Catch::Contains("out-of-support   all               upstream dates\n"));

  auto as_json = h.run_with_server({"get", "versions", "-o", "json"});
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.out)["items"].size() == 6);
  auto as_yaml = h.run_with_server({"get", "versions", "-o", "yaml"});
  REQUIRE(as_yaml.exit_code == 0);
  CHECK_THAT(as_yaml.out, Catch::Contains("version: AKSUbuntu-2204gen2containerd-202510.01.0"));

  CHECK(h.run_with_server({"get", "versions", "--kind", "helm"}).exit_code == 2);
  CHECK(h.run_with_server({"get", "versions", "--provider", "gke"}).exit_code == 2);
}

TEST_CASE("get versions: an empty catalog and a server refusal", "[fleetctl][versions]") {
  Harness empty([](const SeenRequest&) { return json_response(200, R"({"items":[]})"); });
  auto none = empty.run_with_server({"get", "versions", "--provider", "arc"});
  CHECK(none.exit_code == 0);
  CHECK(none.out.empty());
  CHECK(none.err == "No resources found.\n");
  Harness refused([](const SeenRequest&) {
    return json_response(400, problem("invalid-query", 400, "kind: must be kubernetes or nodeImage", "kind"));
  });
  auto bad = refused.run_with_server({"get", "versions"});
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.err, Catch::Contains("kind: must be kubernetes or nodeImage"));
}

TEST_CASE("version status and driver range text", "[fleetctl][versions]") {
  const auto now = testing::test_now();
  json e = {{"released", "2025-01-01T00:00:00.000Z"}, {"endOfSupport", "2026-11-23T12:00:00.000Z"}};
  CHECK(version_status(e, now) == "out-of-support");  // ends at the instant
  e["endOfSupport"] = "2026-11-23T12:00:00.001Z";
  CHECK(version_status(e, now) == "supported");
  e["released"] = "2026-11-23T12:00:00.001Z";
  CHECK(version_status(e, now) == "upcoming");
  e["retired"] = true;
  CHECK(version_status(e, now) == "retired");
  CHECK(version_status(json::object(), now) == "supported");
  CHECK(driver_range_text({{"min", "535"}}) == ">= 535");
  CHECK(driver_range_text({{"max", "570.1"}}) == "<= 570.1");
  CHECK(driver_range_text(json::object()) == "any");
  CHECK(driver_range_text(nullptr) == "any");
}

}  // namespace fleet::ctl
