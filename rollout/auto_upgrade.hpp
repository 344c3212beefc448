#pragma once
// Auto-upgrade profiles (issue #13 item 3): a standing order "keep these clusters on channel C". When the catalog
// gains a release the profile's channel selects, fleetd creates one update run for it (and starts it when the
// profile says so), exactly once per (profile, release), also across replicas and restarts: the loop
// (fleetd/loops/auto_upgrade_loop.hpp) records each release it acted on in the same transaction as the run.
//
// Channels, as AKS names them, each read from the catalog of the profile's provider at `now` (released, not past
// its end of support, not retired):
//   Rapid                    the newest supported patch of the newest supported minor;
//   Stable                   the newest supported patch of the minor before that (N-1);
//   TargetKubernetesVersion  the newest supported patch of the profile's pinned minor ("1.33"): patches only;
//   NodeImage                the newest supported node image of every image line (a NodeImageOnly run).
// A release is named by a key: the Kubernetes version ("1.33.5"), or for NodeImage the newest release day among
// the lines' newest images plus a short digest of the whole set (so two images of one day added minutes apart are
// two releases, and the run name stays readable). The release selected when a profile is created is its baseline:
// it starts no run (the profile acts on what the catalog gains from then on; a run for today's release is created
// by hand).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/version.hpp"
#include "rollout/run_spec.hpp"
#include "rollout/version_catalog.hpp"

namespace fleet::rollout {

enum class UpgradeChannel { kStable, kRapid, kNodeImage, kTargetKubernetesVersion };
std::string_view to_string(UpgradeChannel c);

// Run names are "<profile>-<key>": a profile name leaves room for the longest key.
inline constexpr std::size_t kMaxProfileName = 40;
inline constexpr std::size_t kMaxAutoUpgradeProfiles = 64;

struct AutoUpgradeProfile {
  std::string name;  // DNS-1123 label, at most kMaxProfileName
  UpgradeChannel channel = UpgradeChannel::kStable;
  std::string provider = "aks";     // whose catalog the channel follows; the run's planner skips other clusters' misses
  std::optional<int> target_minor;  // TargetKubernetesVersion: the pinned minor (major 1)
  std::string strategy_ref;         // a stored strategy, frozen into each run when it is created
  NodeImageSelection node_image_selection = NodeImageSelection::kLatest;  // Latest | Consistent
  bool enabled = true;
  bool start_runs = false;           // start each run it creates; otherwise it waits Pending for an operator's :start
  NodeUpgradeSettings node_upgrade;  // each run's nodeUpgrade (surge budgets, blue-green pools)
  bool operator==(const AutoUpgradeProfile&) const = default;
};

// {"name", "channel": "Stable"|"Rapid"|"NodeImage"|"TargetKubernetesVersion", "provider"? ("aks"),
//  "targetKubernetesVersion"? ("1.33"; TargetKubernetesVersion only, and required there), "strategyRef",
//  "nodeImageSelection"? ("Latest"|"Consistent"), "enabled"? (true), "startRuns"? (false), "nodeUpgrade"? (a run
//  spec's: strategy_json.hpp)}. Errors are kInvalid
// and name the member; unknown members are refused.
Result<AutoUpgradeProfile> auto_upgrade_profile_from_json(const nlohmann::json& j);
nlohmann::json to_json(const AutoUpgradeProfile& p);

// The release a profile's channel selects now, and the run that brings the fleet to it.
struct ChannelRelease {
  std::string key;  // "1.33.5" | "img-20251103-1a2b3c"
  Target target;
};
// nullopt when the catalog has nothing for the channel (no supported version of the pinned minor, a single
// supported minor for Stable, no images).
std::optional<ChannelRelease> channel_release(const AutoUpgradeProfile& p, const VersionCatalog& catalog,
                                              TimePoint now);

// "<profile>-<key with dots as dashes>", a DNS-1123 label.
std::string auto_run_name(std::string_view profile, std::string_view key);

// One profile as the loop sees it: the profile and the release keys it has acted on (its baseline included).
struct ProfileRecord {
  AutoUpgradeProfile profile;
  std::vector<std::string> acted_on;
};
// A run to create: the profile, the release and the run's spec (strategyRef still to be resolved by fleetd).
struct DueRun {
  std::string profile;
  std::string key;
  RunSpec spec;
  bool start = false;
};
// The runs due now: for each enabled profile whose channel selects a release it has not acted on, one run. Pure:
// the loop writes each with the key, so a second look (another replica, after a restart) finds it acted on.
std::vector<DueRun> due_runs(const std::vector<ProfileRecord>& profiles, const VersionCatalog& catalog, TimePoint now);

}  // namespace fleet::rollout
