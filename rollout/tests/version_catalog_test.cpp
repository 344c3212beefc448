// The version catalog (issue #12 item 1): the shipped file, the JSON form and every way it is refused, driver
// ranges, and the lookups the planner makes.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "common/time_format.hpp"
#include "rollout/shipped_catalog.hpp"
#include "rollout/version_catalog.hpp"

namespace fleet::rollout {
using nlohmann::json;

namespace {

TimePoint at(const char* text) {
  return *parse_timestamp(text);
}

json image_json(const std::string& version, const std::string& released, json regions = json::array()) {
  return {
      {"kind", "nodeImage"}, {"provider", "aks"}, {"version", version}, {"released", released}, {"regions", regions}};
}

json kube(const std::string& version) {
  return {{"kind", "kubernetes"},
          {"provider", "aks"},
          {"version", version},
          {"released", "2025-08-05"},
          {"endOfSupport", "2026-03-31T00:00:00Z"},
          {"gpuDriver", {{"min", "535.161.08"}, {"max", "575.64.05"}}},
          {"notes", "test"}};
}

// The error's field for `entry` with `key` set to `value` (or erased when value is discarded).
Error refusal(json entry, const std::string& key, const json& value) {
  if (value.is_discarded()) {
    entry.erase(key);
  } else {
    entry[key] = value;
  }
  auto parsed = catalog_entry_from_json(entry, "entries[0]");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == ErrorCode::kInvalid);
  return parsed.error();
}

}  // namespace

TEST_CASE("version catalog: the shipped file parses and covers 1.30-1.34 with patches", "[version_catalog]") {
  auto catalog = catalog_from_json(json::parse(shipped_catalog_json()));
  INFO((catalog ? "" : catalog.error().message));
  REQUIRE(catalog);
  for (const char* provider : {"aks", "arc"}) {
    for (int minor = 30; minor <= 34; ++minor) {
      std::set<int> patches;
      for (const auto& e : catalog->entries) {
        if (e.kind == EntryKind::kKubernetes && e.provider == provider && e.kubernetes->minor == minor) {
          patches.insert(e.kubernetes->patch);
          CHECK(e.end_of_support.has_value());
          CHECK(e.gpu_driver.min.has_value());
          CHECK_FALSE(e.notes.empty());
        }
      }
      CAPTURE(provider, minor);
      CHECK(patches.size() >= 2);
    }
  }
  // What DESIGN §5's fleet spec example and the demo fleet use.
  CHECK(catalog->kubernetes("aks", {1, 31, 4}) != nullptr);
  CHECK(catalog->kubernetes("aks", {1, 32, 7}) != nullptr);
  CHECK(catalog->kubernetes("arc", {1, 30, 9}) != nullptr);
  const CatalogEntry* img = catalog->node_image("aks", "AKSUbuntu-2204gen2containerd-202510.01.0");
  REQUIRE(img != nullptr);
  CHECK(img->os_family == "Ubuntu");
  CHECK(img->regions.empty());
  std::set<std::string> families;
  for (const auto& e : catalog->entries) {
    if (e.kind == EntryKind::kNodeImage) families.insert(e.os_family);
  }
  CHECK(families == std::set<std::string>{"AzureLinux", "Ubuntu"});
  // The sim's default driver is qualified for the versions the examples upgrade to.
  CHECK(catalog->kubernetes("aks", {1, 32, 7})->gpu_driver.contains(*parse_driver_version("550.90.07")));
  // Consistent and Latest differ: the newest Ubuntu image has rolled out to a few regions only.
  const TimePoint now = at("2026-12-01T00:00:00Z");
  const CatalogEntry* latest = catalog->newest_node_image("aks", "Ubuntu", {"eastus2"}, now);
  const CatalogEntry* consistent = catalog->newest_node_image("aks", "Ubuntu", {"eastus2", "japaneast"}, now);
  REQUIRE(latest != nullptr);
  REQUIRE(consistent != nullptr);
  CHECK(latest->released > consistent->released);
  CHECK(consistent->regions.empty());
  // The file is what to_json writes back.
  CHECK(catalog_from_json(to_json(*catalog)).value().entries == catalog->entries);
}

TEST_CASE("version catalog: an entry round-trips and reads both date forms", "[version_catalog]") {
  auto e = catalog_entry_from_json(kube("v1.32.7"), "");
  REQUIRE(e);
  CHECK(e->version == "1.32.7");  // stored without the "v"
  CHECK(e->kubernetes == model::KubernetesVersion{1, 32, 7});
  CHECK(e->released == at("2025-08-05T00:00:00Z"));
  CHECK(e->end_of_support == at("2026-03-31T00:00:00Z"));
  CHECK(e->os_family.empty());
  const json out = to_json(*e);
  CHECK(out["released"] == "2025-08-05T00:00:00.000Z");
  CHECK(out["gpuDriver"] == json{{"min", "535.161.8"}, {"max", "575.64.5"}});
  CHECK_FALSE(out.contains("osFamily"));
  CHECK(catalog_entry_from_json(out, "").value() == *e);

  auto img = catalog_entry_from_json(
      image_json("AKSAzureLinux-V3gen2-202510.19.0", "2025-10-19T08:30:00.250Z", {"westeurope", "eastus"}), "");
  REQUIRE(img);
  CHECK(img->os_family == "AzureLinux");  // implied by the name
  CHECK(img->regions == std::vector<std::string>{"westeurope", "eastus"});
  CHECK_FALSE(img->end_of_support);
  CHECK(img->gpu_driver == DriverRange{});
  CHECK_FALSE(img->retired);
  CHECK(catalog_entry_from_json(to_json(*img), "").value() == *img);
  json explicit_family = image_json("custom-rhel-9.4", "2025-01-01");
  explicit_family["osFamily"] = "RHEL";
  explicit_family["retired"] = true;
  auto custom = catalog_entry_from_json(explicit_family, "");
  REQUIRE(custom);
  CHECK(custom->os_family == "RHEL");
  CHECK(custom->retired);
}

TEST_CASE("version catalog: every refusal names its member", "[version_catalog]") {
  const json k = kube("1.32.7");
  const json discard = json(json::value_t::discarded);
  CHECK(refusal(k, "kind", discard).field == "entries[0].kind");
  CHECK(refusal(k, "kind", "helm").field == "entries[0].kind");
  CHECK(refusal(k, "kind", 3).field == "entries[0].kind");
  CHECK(refusal(k, "provider", discard).field == "entries[0].provider");
  CHECK(refusal(k, "provider", "gke").field == "entries[0].provider");
  CHECK(refusal(k, "version", discard).field == "entries[0].version");
  CHECK(refusal(k, "version", "1.32").field == "entries[0].version");
  CHECK(refusal(k, "version", "1.32.7-rc.1").field == "entries[0].version");
  CHECK(refusal(k, "version", std::string(129, '1')).field == "entries[0].version");
  CHECK(refusal(image_json("x", "2025-01-01"), "version", "has space").field == "entries[0].version");
  CHECK(refusal(k, "osFamily", "Ubuntu").field == "entries[0].osFamily");
  CHECK(refusal(image_json("nodash", "2025-01-01"), "osFamily", discard).field == "entries[0].osFamily");
  CHECK(refusal(image_json("AKSUbuntu-1", "2025-01-01"), "osFamily", "bad family").field == "entries[0].osFamily");
  CHECK(refusal(k, "released", discard).type == "missing-field");
  CHECK(refusal(k, "released", "yesterday").field == "entries[0].released");
  CHECK(refusal(k, "released", "2025-02-30").field == "entries[0].released");
  CHECK(refusal(k, "released", "2025-13-01").field == "entries[0].released");
  CHECK(refusal(k, "released", "2025-01-01T25:00:00Z").field == "entries[0].released");
  CHECK(refusal(k, "released", "2025-01-01T10:00:00+02:00").field == "entries[0].released");
  // Found by the request_bodies fuzz harness: a year past 2261 wrapped system_clock into the past, so the entry
  // passed "endOfSupport after released" and then could not be read back.
  CHECK(refusal(k, "released", "2424-09-03").field == "entries[0].released");
  CHECK(refusal(k, "released", "2424-09-03T00:00:00Z").field == "entries[0].released");
  CHECK(refusal(k, "endOfSupport", "9999-12-31").field == "entries[0].endOfSupport");
  CHECK(refusal(k, "released", 20250101).field == "entries[0].released");
  CHECK(refusal(k, "endOfSupport", "2025-08-05").field == "entries[0].endOfSupport");  // not after released
  CHECK(refusal(k, "endOfSupport", "soon").field == "entries[0].endOfSupport");
  CHECK(refusal(k, "regions", "westeurope").field == "entries[0].regions");
  CHECK(refusal(k, "regions", json::array({"westeurope", 1})).field == "entries[0].regions[1]");
  CHECK(refusal(k, "regions", json::array({""})).field == "entries[0].regions[0]");
  CHECK(refusal(k, "regions", json::array({"West Europe"})).field == "entries[0].regions[0]");
  CHECK(refusal(k, "regions", json::array({"eastus", "eastus"})).field == "entries[0].regions[1]");
  json many = json::array();
  for (int i = 0; i < 65; ++i) many.push_back("r" + std::to_string(i));
  CHECK(refusal(k, "regions", many).field == "entries[0].regions");
  CHECK(refusal(k, "gpuDriver", "550").field == "entries[0].gpuDriver");
  CHECK(refusal(k, "gpuDriver", {{"min", "550.x"}}).field == "entries[0].gpuDriver.min");
  CHECK(refusal(k, "gpuDriver", {{"max", 550}}).field == "entries[0].gpuDriver.max");
  CHECK(refusal(k, "gpuDriver", {{"min", "560"}, {"max", "550.90.07"}}).field == "entries[0].gpuDriver.max");
  CHECK(refusal(k, "gpuDriver", {{"minimum", "550"}}).type == "unknown-field");
  CHECK(refusal(k, "retired", "yes").field == "entries[0].retired");
  CHECK(refusal(k, "notes", std::string(1025, 'n')).field == "entries[0].notes");
  CHECK(refusal(k, "notes", json::array()).field == "entries[0].notes");
  const Error unknown = refusal(k, "colour", "red");
  CHECK(unknown.field == "entries[0].colour");
  CHECK(unknown.type == "unknown-field");
  auto not_object = catalog_entry_from_json(json::array(), "");
  REQUIRE_FALSE(not_object);
  CHECK(not_object.error().field == "(root)");

  // The catalog: its shape, a bad entry by index, a duplicate, the size limit.
  CHECK(catalog_from_json(json::array()).error().field == "(root)");
  CHECK(catalog_from_json(json::object()).error().type == "missing-field");
  CHECK(catalog_from_json({{"entries", {}}, {"extra", 1}}).error().type == "unknown-field");
  CHECK(catalog_from_json({{"entries", json::object()}}).error().field == "entries");
  CHECK(catalog_from_json({{"entries", {kube("1.32.7"), kube("1.32")}}}).error().field == "entries[1].version");
  auto dup = catalog_from_json({{"entries", {kube("1.32.7"), kube("v1.32.7")}}});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().field == "entries[1].version");
  CHECK(catalog_from_json({{"entries", {kube("1.32.7"), image_json("AKSUbuntu-1", "2025-01-01")}}, {"notes", "n"}}));
  json big = json::array();
  for (std::size_t i = 0; i <= kMaxCatalogEntries; ++i) big.push_back(json::object());
  CHECK(catalog_from_json({{"entries", big}}).error().field == "entries");
}

TEST_CASE("version catalog: driver versions compare as numbers and ranges are inclusive", "[version_catalog]") {
  CHECK(parse_driver_version("550.90.07") == DriverVersion{550, 90, 7});
  CHECK(parse_driver_version("535") == DriverVersion{535, 0, 0});
  CHECK(parse_driver_version("570.124") == DriverVersion{570, 124, 0});
  for (const char* bad : {"", "550.", ".90", "550..7", "550.90.07.1", "r550", "550.90.x", "-1", "5500000", "550 .1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_driver_version(bad));
  }
  CHECK(*parse_driver_version("550.100") > *parse_driver_version("550.90.07"));  // not text order
  CHECK(*parse_driver_version("535.0.0") == *parse_driver_version("535"));
  CHECK(to_string(DriverVersion{550, 90, 7}) == "550.90.7");

  const DriverRange range{DriverVersion{535, 104, 5}, DriverVersion{570, 0, 0}};
  CHECK(range.contains({535, 104, 5}));
  CHECK(range.contains({570, 0, 0}));
  CHECK(range.contains({550, 90, 7}));
  CHECK_FALSE(range.contains({535, 104, 4}));
  CHECK_FALSE(range.contains({570, 0, 1}));
  CHECK(DriverRange{}.contains({1, 0, 0}));
  CHECK(DriverRange{DriverVersion{550, 0, 0}, std::nullopt}.contains({999, 0, 0}));
  CHECK(to_string(range) == ">= 535.104.5, <= 570.0.0");
  CHECK(to_string(DriverRange{DriverVersion{550, 0, 0}, std::nullopt}) == ">= 550.0.0");
  CHECK(to_string(DriverRange{std::nullopt, DriverVersion{550, 0, 0}}) == "<= 550.0.0");
  CHECK(to_string(DriverRange{}) == "any");
}

TEST_CASE("version catalog: the newest node image available in every region", "[version_catalog]") {
  json entries =
      json::array({image_json("AKSUbuntu-2204gen2containerd-202509.15.0", "2025-09-15"),
                   image_json("AKSUbuntu-2204gen2containerd-202510.01.0", "2025-10-01"),
                   image_json("AKSUbuntu-2204gen2containerd-202510.19.0", "2025-10-19", {"eastus", "westeurope"}),
                   image_json("AKSUbuntu-2204gen2containerd-202511.03.0", "2025-11-03", {"eastus"}),
                   image_json("AKSUbuntu-2204gen2containerd-202512.01.0", "2025-12-01"),
                   image_json("AKSAzureLinux-V3gen2-202511.20.0", "2025-11-20")});
  entries[4]["retired"] = true;
  json arc = image_json("AKSUbuntu-2204gen2containerd-202512.02.0", "2025-12-02");
  arc["provider"] = "arc";
  entries.push_back(arc);
  auto catalog = catalog_from_json({{"entries", entries}});
  REQUIRE(catalog);
  const TimePoint now = at("2025-12-10T00:00:00Z");
  auto newest = [&](std::vector<std::string> regions, TimePoint when) {
    const CatalogEntry* e = catalog->newest_node_image("aks", "Ubuntu", regions, when);
    return e ? e->version : std::string("none");
  };
  CHECK(newest({}, now) == "AKSUbuntu-2204gen2containerd-202511.03.0");  // no constraint; the retired one is skipped
  CHECK(newest({"eastus"}, now) == "AKSUbuntu-2204gen2containerd-202511.03.0");  // Latest for an eastus pool
  CHECK(newest({"eastus", "westeurope"}, now) == "AKSUbuntu-2204gen2containerd-202510.19.0");
  CHECK(newest({"eastus", "japaneast"}, now) == "AKSUbuntu-2204gen2containerd-202510.01.0");    // Consistent
  CHECK(newest({}, at("2025-10-10T00:00:00Z")) == "AKSUbuntu-2204gen2containerd-202510.01.0");  // not yet released
  CHECK(newest({}, at("2025-01-01T00:00:00Z")) == "none");
  CHECK(catalog->newest_node_image("aks", "AzureLinux", {}, now)->version == "AKSAzureLinux-V3gen2-202511.20.0");
  CHECK(catalog->newest_node_image("aks", "Windows", {}, now) == nullptr);
  CHECK(catalog->newest_node_image("arc", "Ubuntu", {}, now)->provider == "arc");
  // Same day: the version text breaks the tie.
  auto tie = catalog_from_json(
      {{"entries", {image_json("AKSUbuntu-a", "2025-01-01"), image_json("AKSUbuntu-b", "2025-01-01")}}});
  CHECK(tie->newest_node_image("aks", "Ubuntu", {}, now)->version == "AKSUbuntu-b");

  CHECK(catalog->node_image("aks", "AKSAzureLinux-V3gen2-202511.20.0") != nullptr);
  CHECK(catalog->node_image("arc", "AKSAzureLinux-V3gen2-202511.20.0") == nullptr);
  CHECK(catalog->kubernetes("aks", {1, 32, 7}) == nullptr);
  CHECK(catalog->entries[3].available_in("eastus"));
  CHECK_FALSE(catalog->entries[3].available_in("westeurope"));
  CHECK(catalog->entries[0].available_in("anywhere"));
}

TEST_CASE("version catalog: the OS family a node image name implies", "[version_catalog]") {
  CHECK(os_family_of_image("AKSUbuntu-2204gen2containerd-202510.01.0") == "Ubuntu");
  CHECK(os_family_of_image("AKSUbuntu-2404gen2containerd-202510.01.0") == "Ubuntu");
  CHECK(os_family_of_image("AKSAzureLinux-V3gen2-202510.01.0") == "AzureLinux");
  CHECK(os_family_of_image("AKSCBLMariner-V2gen2-202404.01.0") == "AzureLinux");
  CHECK(os_family_of_image("AKSWindows-2022-containerd-20348.2700.241015") == "Windows");
  CHECK(os_family_of_image("rhel-9.4") == "rhel");
  CHECK(os_family_of_image("flatcar") == "");
  CHECK(os_family_of_image("") == "");
}

TEST_CASE("version catalog: supported between release and end of support, never when retired", "[version_catalog]") {
  auto e = catalog_entry_from_json(kube("1.32.7"), "").value();
  CHECK_FALSE(e.supported_at(at("2025-08-04T23:59:59Z")));
  CHECK(e.supported_at(at("2025-08-05T00:00:00Z")));
  CHECK(e.supported_at(at("2026-03-30T23:59:59Z")));
  CHECK_FALSE(e.supported_at(at("2026-03-31T00:00:00Z")));
  e.end_of_support.reset();
  CHECK(e.supported_at(at("2099-01-01T00:00:00Z")));
  e.retired = true;
  CHECK_FALSE(e.supported_at(at("2025-09-01T00:00:00Z")));
}

}  // namespace fleet::rollout
