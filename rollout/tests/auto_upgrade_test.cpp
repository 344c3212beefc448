// Auto-upgrade profiles (issue #13 item 3): what each channel selects from the catalog, the release keys, the runs
// due, and the profile's JSON.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "rollout/auto_upgrade.hpp"
#include "rollout/tests/rollout_fixtures.hpp"

namespace fleet::rollout {
namespace {

using namespace fleet::rollout::testing;
using nlohmann::json;

AutoUpgradeProfile profile(const std::string& name, UpgradeChannel channel, std::optional<int> minor = std::nullopt) {
  AutoUpgradeProfile p;
  p.name = name;
  p.channel = channel;
  p.target_minor = minor;
  p.strategy_ref = "waves";
  return p;
}

std::string key_of(const AutoUpgradeProfile& p, const VersionCatalog& catalog, TimePoint now = test_now()) {
  auto release = channel_release(p, catalog, now);
  return release ? release->key : "(none)";
}

}  // namespace

TEST_CASE("auto-upgrade: each channel selects its release from the provider's supported versions",
          "[rollout][auto-upgrade]") {
  const VersionCatalog catalog = small_catalog();
  // aks on 2026-01-15: 1.30.14, 1.31.11 (1.31.12 retired, 1.31.13 not released), 1.32.7, 1.33.3 supported.
  CHECK(key_of(profile("r", UpgradeChannel::kRapid), catalog) == "1.33.3");
  CHECK(key_of(profile("s", UpgradeChannel::kStable), catalog) == "1.32.7");
  CHECK(key_of(profile("t", UpgradeChannel::kTargetKubernetesVersion, 31), catalog) == "1.31.11");
  CHECK(key_of(profile("t", UpgradeChannel::kTargetKubernetesVersion, 29), catalog) == "(none)");  // out of support
  // Once 1.31.13 is released, the pinned minor's channel moves to it: patches only.
  CHECK(key_of(profile("t", UpgradeChannel::kTargetKubernetesVersion, 31), catalog,
               testing::at("2026-06-02T00:00:00Z")) == "1.31.13");

  AutoUpgradeProfile arc = profile("a", UpgradeChannel::kStable);
  arc.provider = "arc";  // 1.30.5 and 1.32.7 only: N-1 is the older supported minor, whatever its number
  CHECK(key_of(arc, catalog) == "1.30.5");
  arc.provider = "nowhere";
  CHECK(key_of(arc, catalog) == "(none)");

  auto rapid = channel_release(profile("r", UpgradeChannel::kRapid), catalog, test_now());
  REQUIRE(rapid);
  CHECK(rapid->target.type == TargetType::kFull);
  CHECK(rapid->target.kubernetes_version == model::parse_kubernetes_version("1.33.3"));
  CHECK(rapid->target.node_image_selection == NodeImageSelection::kLatest);
  CHECK_FALSE(rapid->target.allow_unsupported);

  // Stable needs two supported minors.
  VersionCatalog one;
  one.entries.push_back(kube("aks", "1.33.3", "2025-09-01T00:00:00Z", "2027-06-01T00:00:00Z"));
  CHECK(key_of(profile("s", UpgradeChannel::kStable), one) == "(none)");
  CHECK(key_of(profile("r", UpgradeChannel::kRapid), one) == "1.33.3");
}

TEST_CASE("auto-upgrade: the NodeImage channel's release is the newest image of every line",
          "[rollout][auto-upgrade]") {
  VersionCatalog catalog = small_catalog();
  AutoUpgradeProfile p = profile("img", UpgradeChannel::kNodeImage);
  p.node_image_selection = NodeImageSelection::kConsistent;
  auto release = channel_release(p, catalog, test_now());
  REQUIRE(release);
  // Ubuntu's newest released image is January 5th's (February's is not out yet), Azure Linux's January 2nd's.
  CHECK_THAT(release->key, Catch::StartsWith("img-20260105-"));
  CHECK(release->key.size() == std::string("img-20260105-").size() + 6);
  CHECK(release->target.type == TargetType::kNodeImageOnly);
  CHECK_FALSE(release->target.kubernetes_version.has_value());
  CHECK(release->target.node_image_selection == NodeImageSelection::kConsistent);
  CHECK(key_of(p, catalog) == release->key);  // the same catalog, the same key

  // A new image of another line on an older day is a new release too; the day names the newest.
  catalog.entries.push_back(image("aks", "AKSAzureLinux-V3gen2-202601.04.0", "2026-01-04T00:00:00Z"));
  const std::string with_azl = key_of(p, catalog);
  CHECK_THAT(with_azl, Catch::StartsWith("img-20260105-"));
  CHECK(with_azl != release->key);
  // February's image counts once it is released.
  CHECK_THAT(key_of(p, catalog, testing::at("2026-02-02T00:00:00Z")), Catch::StartsWith("img-20260201-"));
  // A retired newest image falls back to the one before.
  for (auto& e : catalog.entries) {
    if (e.version == "AKSAzureLinux-V3gen2-202601.04.0") e.retired = true;
  }
  CHECK(key_of(p, catalog) == release->key);
}

TEST_CASE("auto-upgrade: a run is due once per profile and release, named after both", "[rollout][auto-upgrade]") {
  VersionCatalog catalog = small_catalog();
  AutoUpgradeProfile rapid = profile("rapid", UpgradeChannel::kRapid);
  rapid.start_runs = true;
  rapid.node_upgrade.blue_green = BlueGreenSettings{{"gpu"}, Seconds{900}};
  AutoUpgradeProfile off = profile("off", UpgradeChannel::kRapid);
  off.enabled = false;
  std::vector<ProfileRecord> records = {{rapid, {"1.33.3"}}, {off, {}}};
  // The baseline (acted on when the profile was made) starts nothing; a disabled profile never does.
  CHECK(due_runs(records, catalog, test_now()).empty());

  catalog.entries.push_back(kube("aks", "1.33.5", "2026-01-10T00:00:00Z", "2027-06-01T00:00:00Z"));
  auto due = due_runs(records, catalog, test_now());
  REQUIRE(due.size() == 1);
  CHECK(due[0].profile == "rapid");
  CHECK(due[0].key == "1.33.5");
  CHECK(due[0].spec.name == "rapid-1-33-5");
  CHECK(due[0].spec.strategy_ref == "waves");
  CHECK(due[0].spec.target.kubernetes_version == model::parse_kubernetes_version("1.33.5"));
  CHECK(due[0].spec.node_upgrade == rapid.node_upgrade);  // its pools roll as the profile says
  CHECK(due[0].start);

  // Acted on: not due again (another replica's look, or one after a restart).
  records[0].acted_on.push_back("1.33.5");
  CHECK(due_runs(records, catalog, test_now()).empty());
  // Re-enabled, the disabled profile catches up once, with the newest release only.
  records[1].profile.enabled = true;
  due = due_runs(records, catalog, test_now());
  REQUIRE(due.size() == 1);
  CHECK(due[0].spec.name == "off-1-33-5");
  CHECK_FALSE(due[0].start);
}

TEST_CASE("auto-upgrade: a profile's JSON, and what it refuses", "[rollout][auto-upgrade]") {
  const json full = {{"name", "pinned"},
                     {"channel", "TargetKubernetesVersion"},
                     {"provider", "arc"},
                     {"targetKubernetesVersion", "1.33"},
                     {"strategyRef", "waves"},
                     {"nodeImageSelection", "Consistent"},
                     {"enabled", false},
                     {"startRuns", true},
                     {"nodeUpgrade",
                      {{"maxSurge", "25%"},
                       {"maxUnavailable", 0},
                       {"maxFailedNodes", 1},
                       {"blueGreen", {{"pools", {"gpu"}}, {"soak", "30m"}}}}}};
  auto p = auto_upgrade_profile_from_json(full);
  REQUIRE(p);
  CHECK(p->target_minor == 33);
  CHECK(p->provider == "arc");
  CHECK(p->node_image_selection == NodeImageSelection::kConsistent);
  CHECK_FALSE(p->enabled);
  CHECK(p->start_runs);
  CHECK(p->node_upgrade.max_surge == protocol::NodeBudget{25, true});
  CHECK(p->node_upgrade.blue_green->soak == Seconds{1800});
  CHECK(to_json(*p) == full);

  auto minimal = auto_upgrade_profile_from_json({{"name", "s"}, {"channel", "Stable"}, {"strategyRef", "w"}});
  REQUIRE(minimal);
  CHECK(minimal->provider == "aks");
  CHECK(minimal->enabled);
  CHECK_FALSE(minimal->start_runs);
  CHECK(minimal->node_image_selection == NodeImageSelection::kLatest);
  CHECK(minimal->node_upgrade == NodeUpgradeSettings{});

  auto error_of = [](json j) {
    auto r = auto_upgrade_profile_from_json(j);
    return r ? std::string("(accepted)") : r.error().field + ": " + r.error().message;
  };
  const json base = {{"name", "s"}, {"channel", "Stable"}, {"strategyRef", "w"}};
  auto with = [&](const char* key, json value) {
    json j = base;
    j[key] = std::move(value);
    return j;
  };
  CHECK_THAT(error_of(with("channel", "Weekly")), Catch::Contains("channel"));
  CHECK_THAT(error_of(with("channel", "TargetKubernetesVersion")), Catch::Contains("targetKubernetesVersion"));
  CHECK_THAT(error_of(with("targetKubernetesVersion", "1.33")), Catch::Contains("only for channel"));
  json pinned = with("channel", "TargetKubernetesVersion");
  pinned["targetKubernetesVersion"] = "1.33.2";
  CHECK_THAT(error_of(pinned), Catch::Contains("a minor version such as"));
  CHECK_THAT(error_of(with("nodeImageSelection", "Custom")), Catch::Contains("Latest or Consistent"));
  CHECK_THAT(error_of(with("name", std::string(41, 'a'))), Catch::Contains("at most 40"));
  CHECK_THAT(error_of(with("name", "Bad_Name")), Catch::StartsWith("name"));
  CHECK_THAT(error_of(with("schedule", "daily")), Catch::Contains("schedule"));
  CHECK_THAT(error_of(with("nodeUpgrade", {{"blueGreen", {{"soak", "ever"}}}})),
             Catch::StartsWith("nodeUpgrade.blueGreen.soak"));
  json no_strategy = base;
  no_strategy.erase("strategyRef");
  CHECK_THAT(error_of(no_strategy), Catch::Contains("strategyRef"));
}

}  // namespace fleet::rollout
