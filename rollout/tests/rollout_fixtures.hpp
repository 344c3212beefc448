#pragma once
// Shared builders for the planner and run machine tests: a small catalog of real-looking versions and images,
// clusters with pools, strategies of N stages. Built in C++ so the tests do not depend on the JSON readers.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time_format.hpp"
#include "rollout/cluster_facts.hpp"
#include "rollout/plan.hpp"
#include "rollout/run_spec.hpp"
#include "rollout/strategy.hpp"
#include "rollout/version_catalog.hpp"

namespace fleet::rollout::testing {

inline TimePoint at(const char* text) {
  return *parse_timestamp(text);
}

// "Now" for every test: mid-January 2026.
inline TimePoint test_now() {
  return at("2026-01-15T00:00:00Z");
}

inline DriverRange drivers(std::optional<std::string> min, std::optional<std::string> max = std::nullopt) {
  DriverRange r;
  if (min) r.min = *parse_driver_version(*min);
  if (max) r.max = *parse_driver_version(*max);
  return r;
}

inline CatalogEntry kube(const std::string& provider, const std::string& version, const char* released,
                         const char* end_of_support, DriverRange range = drivers("535.0.0", "580.0.0")) {
  CatalogEntry e;
  e.kind = EntryKind::kKubernetes;
  e.provider = provider;
  e.version = version;
  e.kubernetes = model::parse_kubernetes_version(version);
  e.released = at(released);
  if (end_of_support != nullptr) e.end_of_support = at(end_of_support);
  e.gpu_driver = std::move(range);
  return e;
}

inline CatalogEntry image(const std::string& provider, const std::string& version, const char* released,
                          std::vector<std::string> regions = {}, DriverRange range = {}) {
  CatalogEntry e;
  e.kind = EntryKind::kNodeImage;
  e.provider = provider;
  e.version = version;
  e.os_family = os_family_of_image(version);
  e.released = at(released);
  e.regions = std::move(regions);
  e.gpu_driver = std::move(range);
  return e;
}

inline const std::string kImageOld = "AKSUbuntu-2204gen2containerd-202509.01.0";      // everywhere
inline const std::string kImageOct = "AKSUbuntu-2204gen2containerd-202510.01.0";      // everywhere
inline const std::string kImageDec = "AKSUbuntu-2204gen2containerd-202512.01.0";      // eastus, westus
inline const std::string kImageJan = "AKSUbuntu-2204gen2containerd-202601.05.0";      // eastus, drivers >= 550
inline const std::string kImageFeb = "AKSUbuntu-2204gen2containerd-202602.01.0";      // not released yet
inline const std::string kImageAzl = "AKSAzureLinux-V3gen2-202512.01.0";              // everywhere
inline const std::string kImageAzlJan = "AKSAzureLinux-V3gen2-202601.02.0";           // everywhere, drivers >= 560
inline const std::string kImageWin = "AKSWindows-2022-containerd-20348.2966.250107";  // not in the catalog

// aks: 1.28 (out of support), 1.29 (out of support), 1.30, 1.31 (a retired and a future patch beside the newest
// supported one, 1.31.11), 1.32, 1.33 (drivers >= 550); arc: 1.30 and 1.32 only (no 1.31 to pass through).
inline VersionCatalog small_catalog() {
  VersionCatalog c;
  c.entries.push_back(kube("aks", "1.28.15", "2024-01-10T00:00:00Z", "2025-03-01T00:00:00Z"));
  c.entries.push_back(kube("aks", "1.29.9", "2024-06-01T00:00:00Z", "2025-06-01T00:00:00Z"));
  c.entries.push_back(kube("aks", "1.30.5", "2024-08-01T00:00:00Z", "2026-07-01T00:00:00Z"));
  c.entries.push_back(kube("aks", "1.30.14", "2025-06-01T00:00:00Z", "2026-07-01T00:00:00Z"));
  c.entries.push_back(kube("aks", "1.31.2", "2024-11-01T00:00:00Z", "2026-10-01T00:00:00Z"));
  c.entries.push_back(kube("aks", "1.31.11", "2025-08-01T00:00:00Z", "2026-10-01T00:00:00Z"));
  CatalogEntry retired = kube("aks", "1.31.12", "2025-09-01T00:00:00Z", "2026-10-01T00:00:00Z");
  retired.retired = true;
  c.entries.push_back(retired);
  c.entries.push_back(kube("aks", "1.31.13", "2026-06-01T00:00:00Z", "2026-10-01T00:00:00Z"));  // future
  c.entries.push_back(kube("aks", "1.32.3", "2025-04-01T00:00:00Z", "2026-12-01T00:00:00Z"));
  c.entries.push_back(kube("aks", "1.32.7", "2025-08-05T00:00:00Z", "2026-12-01T00:00:00Z"));
  c.entries.push_back(kube("aks", "1.33.3", "2025-09-01T00:00:00Z", "2027-06-01T00:00:00Z", drivers("550.0.0")));
  c.entries.push_back(kube("arc", "1.30.5", "2024-08-01T00:00:00Z", "2026-07-01T00:00:00Z"));
  c.entries.push_back(kube("arc", "1.32.7", "2025-08-05T00:00:00Z", "2026-12-01T00:00:00Z"));
  c.entries.push_back(image("aks", kImageOld, "2025-09-01T00:00:00Z"));
  c.entries.push_back(image("aks", kImageOct, "2025-10-01T00:00:00Z"));
  c.entries.push_back(image("aks", kImageDec, "2025-12-01T00:00:00Z", {"eastus", "westus"}));
  c.entries.push_back(image("aks", kImageJan, "2026-01-05T00:00:00Z", {"eastus"}, drivers("550.0.0")));
  c.entries.push_back(image("aks", kImageFeb, "2026-02-01T00:00:00Z"));
  c.entries.push_back(image("aks", kImageAzl, "2025-12-01T00:00:00Z"));
  c.entries.push_back(image("aks", kImageAzlJan, "2026-01-02T00:00:00Z", {}, drivers("560.0.0")));
  return c;
}

inline PoolFacts pool(const std::string& name, const std::string& version, int nodes = 3,
                      const std::string& node_image = kImageOld) {
  PoolFacts p;
  p.name = name;
  p.kubernetes_version = version;
  p.node_image_version = node_image;
  p.nodes = nodes;
  return p;
}

inline PoolFacts gpu_pool(const std::string& name, const std::string& version, const std::string& driver,
                          int nodes = 2) {
  PoolFacts p = pool(name, version, nodes);
  p.gpu_nodes = nodes;
  p.gpu_driver_versions = {driver};
  return p;
}

// A ready aks cluster in `group`, its control plane and one 3-node pool "system" at `version`.
inline ClusterFacts cluster(const std::string& name, const std::string& group = "wave1",
                            const std::string& version = "1.30.5", const std::string& region = "eastus") {
  ClusterFacts c;
  c.id = "id-" + name;
  c.name = name;
  c.provider = "aks";
  c.region = region;
  c.update_group = group;
  c.state = "ready";
  c.kubernetes_version = version;
  c.pools.push_back(pool("system", version));
  return c;
}

inline GroupSpec group(const std::string& name, std::optional<Budget> max_concurrency = std::nullopt) {
  GroupSpec g;
  g.name = name;
  g.max_concurrency = max_concurrency;
  return g;
}

inline StageSpec stage(const std::string& name, std::vector<GroupSpec> groups,
                       std::optional<Budget> max_concurrency = std::nullopt) {
  StageSpec s;
  s.name = name;
  s.groups = std::move(groups);
  s.max_concurrency = max_concurrency;
  return s;
}

// A stage per name, each taking the update group of the same name.
inline Strategy stages_of(const std::vector<std::string>& names, std::optional<Budget> max_concurrency = std::nullopt) {
  Strategy s;
  for (const auto& n : names) s.stages.push_back(stage(n, {group(n)}, max_concurrency));
  return s;
}

inline Gate gate(const std::string& name, GateType type) {
  Gate g;
  g.name = name;
  g.type = type;
  return g;
}

inline RunSpec full_spec(const std::string& version, Strategy strategy, TargetType type = TargetType::kFull) {
  RunSpec spec;
  spec.name = "upgrade";
  spec.target.type = type;
  if (!version.empty()) spec.target.kubernetes_version = model::parse_kubernetes_version(version);
  spec.strategy = std::move(strategy);
  return spec;
}

inline Result<Plan> try_plan(const RunSpec& spec, std::vector<ClusterFacts> clusters, const VersionCatalog& catalog,
                             StepHistory history = {}) {
  PlanInput in;
  in.spec = &spec;
  in.clusters = std::move(clusters);
  in.catalog = &catalog;
  in.history = std::move(history);
  in.now = test_now();
  return make_plan(in);
}

inline Plan plan_of(const RunSpec& spec, std::vector<ClusterFacts> clusters, const VersionCatalog& catalog,
                    StepHistory history = {}) {
  auto plan = try_plan(spec, std::move(clusters), catalog, std::move(history));
  if (!plan) FAIL("make_plan failed: " << plan.error().message);
  return std::move(plan).value();
}

inline const MemberPlan& member_of(const Plan& plan, const std::string& cluster) {
  for (const auto& m : plan.members) {
    if (m.cluster == cluster) return m;
  }
  FAIL("no member " << cluster);
  return plan.members.front();
}

}  // namespace fleet::rollout::testing
