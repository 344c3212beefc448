#include "rollout/auto_upgrade.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>

#include "model/json_read.hpp"
#include "model/names.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet::rollout {
namespace {

using nlohmann::json;

constexpr UpgradeChannel kChannels[] = {UpgradeChannel::kStable, UpgradeChannel::kRapid, UpgradeChannel::kNodeImage,
                                        UpgradeChannel::kTargetKubernetesVersion};

// "1.33" → 33 (major 1 only: Kubernetes has had no other).
std::optional<int> parse_minor(std::string_view text) {
  if (!text.starts_with("1.")) return std::nullopt;
  text.remove_prefix(2);
  int minor = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), minor);
  if (ec != std::errc{} || end != text.data() + text.size() || minor < 0 || minor > 999) return std::nullopt;
  return minor;
}

// FNV-1a: a digest that is the same on every replica and build (std::hash promises neither).
std::uint32_t fnv1a(std::string_view text) {
  std::uint32_t h = 2166136261U;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619U;
  }
  return h;
}

std::string day_of(TimePoint t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char out[40];  // room for any int, as the compiler checks; 8 characters in practice
  std::snprintf(out, sizeof out, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return out;
}

// The newest supported patch per minor of the provider's Kubernetes versions.
std::map<int, model::KubernetesVersion> newest_patches(const VersionCatalog& catalog, std::string_view provider,
                                                       TimePoint now) {
  std::map<int, model::KubernetesVersion> out;
  for (const CatalogEntry& e : catalog.entries) {
    if (e.kind != EntryKind::kKubernetes || e.provider != provider || !e.kubernetes || !e.supported_at(now)) continue;
    auto [it, first] = out.try_emplace(e.kubernetes->minor, *e.kubernetes);
    if (!first && it->second < *e.kubernetes) it->second = *e.kubernetes;
  }
  return out;
}

std::optional<ChannelRelease> kubernetes_release(const AutoUpgradeProfile& p, const VersionCatalog& catalog,
                                                 TimePoint now) {
  const auto patches = newest_patches(catalog, p.provider, now);
  if (patches.empty()) return std::nullopt;
  std::optional<model::KubernetesVersion> v;
  switch (p.channel) {
    case UpgradeChannel::kRapid:
      v = patches.rbegin()->second;
      break;
    case UpgradeChannel::kStable:
      if (patches.size() < 2) return std::nullopt;  // no N-1 supported
      v = std::next(patches.rbegin())->second;
      break;
    case UpgradeChannel::kTargetKubernetesVersion: {
      auto it = p.target_minor ? patches.find(*p.target_minor) : patches.end();
      if (it == patches.end()) return std::nullopt;
      v = it->second;
      break;
    }
    case UpgradeChannel::kNodeImage:
      return std::nullopt;
  }
  ChannelRelease out;
  out.key = model::to_string(*v);
  out.target.type = TargetType::kFull;
  out.target.kubernetes_version = v;
  out.target.node_image_selection = p.node_image_selection;
  return out;
}

std::optional<ChannelRelease> node_image_release(const AutoUpgradeProfile& p, const VersionCatalog& catalog,
                                                 TimePoint now) {
  std::map<std::string, const CatalogEntry*> newest;  // image line → its newest supported image
  for (const CatalogEntry& e : catalog.entries) {
    if (e.kind != EntryKind::kNodeImage || e.provider != p.provider || !e.supported_at(now)) continue;
    const CatalogEntry*& n = newest[image_line(e.version)];
    if (n == nullptr || n->released < e.released || (n->released == e.released && n->version < e.version)) n = &e;
  }
  if (newest.empty()) return std::nullopt;
  std::string all;
  TimePoint latest{};
  for (const auto& [line, e] : newest) {
    all += e->version + "\n";
    latest = std::max(latest, e->released);
  }
  char digest[16];  // 6 hex digits
  std::snprintf(digest, sizeof digest, "%06x", static_cast<unsigned>(fnv1a(all) & 0xffffffU));
  ChannelRelease out;
  out.key = "img-" + day_of(latest) + "-" + digest;
  out.target.type = TargetType::kNodeImageOnly;
  out.target.node_image_selection = p.node_image_selection;
  return out;
}

}  // namespace

std::string_view to_string(UpgradeChannel c) {
  switch (c) {
    case UpgradeChannel::kStable:
      return "Stable";
    case UpgradeChannel::kRapid:
      return "Rapid";
    case UpgradeChannel::kNodeImage:
      return "NodeImage";
    case UpgradeChannel::kTargetKubernetesVersion:
      return "TargetKubernetesVersion";
  }
  return "Unknown";
}

Result<AutoUpgradeProfile> auto_upgrade_profile_from_json(const json& j) {
  if (!j.is_object()) return model::wrong_type("(root)", "an object", j);
  if (auto s = model::reject_unknown_fields(j,
                                            {"name", "channel", "provider", "targetKubernetesVersion", "strategyRef",
                                             "nodeImageSelection", "enabled", "startRuns", "nodeUpgrade"},
                                            "");
      !s) {
    return s.error();
  }
  AutoUpgradeProfile p;
  auto name = model::required_string(j, "name", "");
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_label(*name, "name"); !s) return s.error();
  if (name->size() > kMaxProfileName) {
    return model::invalid_field(
        "name", "at most " + std::to_string(kMaxProfileName) + " characters (its runs are named <profile>-<release>)");
  }
  p.name = *name;

  auto channel = model::required_string(j, "channel", "");
  if (!channel) return channel.error();
  const auto* c = std::find_if(std::begin(kChannels), std::end(kChannels),
                               [&](UpgradeChannel ch) { return to_string(ch) == *channel; });
  if (c == std::end(kChannels)) {
    return model::invalid_field(
        "channel", "must be Stable, Rapid, NodeImage or TargetKubernetesVersion (is \"" + *channel + "\")");
  }
  p.channel = *c;

  auto provider = model::optional_string(j, "provider", "");
  if (!provider) return provider.error();
  if (*provider) {
    if (auto s = model::validate_dns1123_label(**provider, "provider"); !s) return s.error();
    p.provider = **provider;
  }

  auto minor = model::optional_string(j, "targetKubernetesVersion", "");
  if (!minor) return minor.error();
  if (p.channel == UpgradeChannel::kTargetKubernetesVersion) {
    if (!*minor) return model::missing_field("targetKubernetesVersion");
    p.target_minor = parse_minor(**minor);
    if (!p.target_minor) {
      return model::invalid_field("targetKubernetesVersion",
                                  "must be a minor version such as \"1.33\" (is \"" + **minor + "\")");
    }
  } else if (*minor) {
    return model::invalid_field("targetKubernetesVersion", "is only for channel TargetKubernetesVersion");
  }

  auto strategy = model::required_string(j, "strategyRef", "");
  if (!strategy) return strategy.error();
  if (auto s = model::validate_dns1123_label(*strategy, "strategyRef"); !s) return s.error();
  p.strategy_ref = *strategy;

  auto selection = model::optional_string(j, "nodeImageSelection", "");
  if (!selection) return selection.error();
  if (*selection) {
    if (**selection == "Latest") {
      p.node_image_selection = NodeImageSelection::kLatest;
    } else if (**selection == "Consistent") {
      p.node_image_selection = NodeImageSelection::kConsistent;
    } else {
      return model::invalid_field("nodeImageSelection", "must be Latest or Consistent (is \"" + **selection + "\")");
    }
  }
  auto enabled = model::optional_bool(j, "enabled", "");
  if (!enabled) return enabled.error();
  p.enabled = enabled->value_or(true);
  auto start = model::optional_bool(j, "startRuns", "");
  if (!start) return start.error();
  p.start_runs = start->value_or(false);
  auto nodes = node_upgrade_from_json(j, "");
  if (!nodes) return nodes.error();
  p.node_upgrade = std::move(*nodes);
  return p;
}

json to_json(const AutoUpgradeProfile& p) {
  json out = {{"name", p.name},
              {"channel", to_string(p.channel)},
              {"provider", p.provider},
              {"strategyRef", p.strategy_ref},
              {"nodeImageSelection", to_string(p.node_image_selection)},
              {"enabled", p.enabled},
              {"startRuns", p.start_runs},
              {"nodeUpgrade", to_json(p.node_upgrade)}};
  if (p.target_minor) out["targetKubernetesVersion"] = "1." + std::to_string(*p.target_minor);
  return out;
}

std::optional<ChannelRelease> channel_release(const AutoUpgradeProfile& p, const VersionCatalog& catalog,
                                              TimePoint now) {
  return p.channel == UpgradeChannel::kNodeImage ? node_image_release(p, catalog, now)
                                                 : kubernetes_release(p, catalog, now);
}

std::string auto_run_name(std::string_view profile, std::string_view key) {
  std::string out = std::string(profile) + "-" + std::string(key);
  std::replace(out.begin(), out.end(), '.', '-');
  return out;
}

std::vector<DueRun> due_runs(const std::vector<ProfileRecord>& profiles, const VersionCatalog& catalog, TimePoint now) {
  std::vector<DueRun> out;
  for (const ProfileRecord& r : profiles) {
    if (!r.profile.enabled) continue;
    auto release = channel_release(r.profile, catalog, now);
    if (!release) continue;
    if (std::find(r.acted_on.begin(), r.acted_on.end(), release->key) != r.acted_on.end()) continue;
    DueRun due;
    due.profile = r.profile.name;
    due.key = release->key;
    due.spec.name = auto_run_name(r.profile.name, release->key);
    due.spec.target = release->target;
    due.spec.strategy_ref = r.profile.strategy_ref;
    due.spec.node_upgrade = r.profile.node_upgrade;
    due.start = r.profile.start_runs;
    out.push_back(std::move(due));
  }
  return out;
}

}  // namespace fleet::rollout
