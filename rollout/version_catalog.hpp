#pragma once
// The version catalog (issue #12 item 1, DESIGN §3 `versions`): the Kubernetes versions and node images each
// provider offers, with their support windows and the GPU driver range the fleet has qualified for each. The
// planner reads it (rollout/plan.hpp) to resolve targets and to skip clusters whose drivers or support dates rule
// a target out. fleetd loads the shipped catalog (rollout/catalog/versions.json) into its `versions` table at
// first start; admins add and retire entries through /v1/versions.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/version.hpp"

namespace fleet::rollout {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr std::size_t kMaxCatalogEntries = 10000;

// An NVIDIA driver version ("550.90.07", "570.124.06", "535"): up to three dot-separated numbers, compared as
// numbers component by component (a missing component is 0).
struct DriverVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const DriverVersion&) const = default;
};
std::optional<DriverVersion> parse_driver_version(std::string_view text);
std::string to_string(const DriverVersion& v);

// Inclusive bounds; an absent bound is open.
struct DriverRange {
  std::optional<DriverVersion> min;
  std::optional<DriverVersion> max;
  bool contains(const DriverVersion& v) const;
  bool operator==(const DriverRange&) const = default;
};
std::string to_string(const DriverRange& r);  // ">= 535.0.0, <= 580.0.0", "any"

enum class EntryKind { kKubernetes, kNodeImage };

struct CatalogEntry {
  EntryKind kind = EntryKind::kKubernetes;
  std::string provider;  // "aks" | "arc"
  // Kubernetes entries: the version ("1.32.7"); node images: the image version as the provider names it
  // ("AKSUbuntu-2204gen2containerd-202511.03.0").
  std::string version;
  std::optional<model::KubernetesVersion> kubernetes;  // parsed `version`, Kubernetes entries only
  std::string os_family;                               // node images only: "Ubuntu" | "AzureLinux" | …
  TimePoint released{};
  std::optional<TimePoint> end_of_support;  // absent: no announced end
  // Node images: the regions where the image has rolled out; empty means every region.
  std::vector<std::string> regions;
  DriverRange gpu_driver;
  bool retired = false;  // an admin withdrew it: never a target, still shown
  std::string notes;
  bool operator==(const CatalogEntry&) const = default;

  bool supported_at(TimePoint now) const {
    return !retired && released <= now && (!end_of_support || now < *end_of_support);
  }
  bool available_in(std::string_view region) const;
};

struct VersionCatalog {
  std::vector<CatalogEntry> entries;

  // The Kubernetes entry for (provider, version), or null.
  const CatalogEntry* kubernetes(std::string_view provider, const model::KubernetesVersion& version) const;
  // The node image entry for (provider, version), or null.
  const CatalogEntry* node_image(std::string_view provider, std::string_view version) const;
  // The newest (by release date, then version text) non-retired node image of (provider, os family) released at
  // or before `now`, available in every one of `regions` (empty: no constraint), or null.
  // `line` non-empty: only images of that line (image_line), so a pool stays on its OS SKU and VM generation.
  const CatalogEntry* newest_node_image(std::string_view provider, std::string_view os_family,
                                        const std::vector<std::string>& regions, TimePoint now,
                                        std::string_view line = {}) const;
};

// The OS family a node image name implies: "AKSUbuntu-…" → "Ubuntu", "AKSAzureLinux-…"/"AKSCBLMariner-…" →
// "AzureLinux", "AKSWindows-…" → "Windows"; otherwise the text before the first '-' (empty when none).
std::string os_family_of_image(std::string_view image);

// The image line: the name without its date version ("AKSUbuntu-2204gen2containerd-202510.01.0" →
// "AKSUbuntu-2204gen2containerd"); "" when there is no '-'. A node-image update stays within a line: moving from
// Ubuntu 22.04 to 24.04, or from a gen1 to a gen2 VM image, is an OS SKU change, not an image update.
std::string image_line(std::string_view image);

// The wire/file form, one object per entry:
//   {"kind": "kubernetes"|"nodeImage", "provider", "version", "osFamily"?, "released": RFC 3339 or "YYYY-MM-DD",
//    "endOfSupport"?, "regions"?: [...], "gpuDriver"?: {"min"?, "max"?}, "retired"?: bool, "notes"?}
// Errors are kInvalid and name the member under `path`.
Result<CatalogEntry> catalog_entry_from_json(const nlohmann::json& j, const std::string& path);
nlohmann::json to_json(const CatalogEntry& entry);
// {"entries": [...]}: the shipped file's shape. Duplicate (kind, provider, version) is kInvalid.
Result<VersionCatalog> catalog_from_json(const nlohmann::json& j);
nlohmann::json to_json(const VersionCatalog& catalog);

}  // namespace fleet::rollout
