// Planner benchmark (issue #12, "Benchmarks"): make_plan over a synthetic fleet of N clusters (mixed AKS/Arc,
// 2-3 node pools, a GPU pool on about a third, a few clusters on old versions or incompatible drivers so that the
// skip paths run), the shipped version catalog and a 3-stage strategy (canary / wave1 / wave2 by update group).
// Times make_plan, and to_json of the plan plus its serialisation, over several runs; prints a Markdown table with
// median, p90 and min per fleet size. Goal (issue #12): a plan for 10,000 clusters under 250 ms.
// Usage: rollout_plan_bench [--runs R] [N...]      (default: 1000 10000 100000, R = 9)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rollout/cluster_facts.hpp"
#include "rollout/plan.hpp"
#include "rollout/shipped_catalog.hpp"
#include "rollout/strategy_json.hpp"
#include "rollout/version_catalog.hpp"

using namespace fleet::rollout;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// A small deterministic generator (the same fleet every run).
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

std::vector<ClusterFacts> make_fleet(int n) {
  static const char* kAks[] = {"westeurope", "northeurope", "eastus", "eastus2", "westus3", "southeastasia", "uksouth"};
  static const char* kArc[] = {"eastus", "westeurope", "centralus"};
  static const char* kVersions[] = {"1.31.4", "1.31.4", "1.31.4", "1.30.9", "1.32.3"};     // 1.30: two hops
  static const char* kDrivers[] = {"550.90.07", "550.90.07", "570.124.06", "535.104.05"};  // 535.104: skipped
  Rng rng{42};
  std::vector<ClusterFacts> fleet;
  fleet.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ClusterFacts c;
    const bool arc = rng.below(4) == 0;
    c.provider = arc ? "arc" : "aks";
    c.region = arc ? kArc[rng.below(3)] : kAks[rng.below(7)];
    c.name = c.provider + "-" + c.region + "-" + std::to_string(i);
    c.id = std::to_string(100000 + i);
    c.update_group = i % 10 == 0 ? "canary" : i % 10 < 4 ? "wave1" : "wave2";
    c.labels = {{"env", c.update_group == "canary" ? "staging" : "prod"}, {"team", "t" + std::to_string(i % 17)}};
    c.state = rng.below(100) == 0 ? "unreachable" : "ready";
    c.kubernetes_version = kVersions[rng.below(5)];
    const std::string image =
        arc ? "AKSArc-AzureLinux-3.0-202510.01.0"
            : (rng.below(3) == 0 ? "AKSAzureLinux-V3gen2-202510.01.0" : "AKSUbuntu-2204gen2containerd-202510.01.0");
    auto pool = [&](std::string name, int nodes, int gpu_nodes) {
      PoolFacts p;
      p.name = std::move(name);
      p.kubernetes_version = c.kubernetes_version;
      p.node_image_version = image;
      p.nodes = nodes;
      p.gpu_nodes = gpu_nodes;
      if (gpu_nodes > 0) p.gpu_driver_versions = {kDrivers[rng.below(4)]};
      return p;
    };
    c.pools.push_back(pool("system", 3, 0));
    const int shape = rng.below(3);
    if (shape == 0) c.pools.push_back(pool("gpu", 2 + rng.below(7), 0));
    if (shape == 0)
      c.pools.back().gpu_nodes = c.pools.back().nodes, c.pools.back().gpu_driver_versions = {kDrivers[rng.below(4)]};
    if (shape >= 1) c.pools.push_back(pool("user", 3 + rng.below(8), 0));
    if (shape == 2) c.pools.push_back(pool("batch", 2 + rng.below(20), 0));
    std::sort(c.pools.begin(), c.pools.end(), [](const PoolFacts& a, const PoolFacts& b) { return a.name < b.name; });
    fleet.push_back(std::move(c));
  }
  return fleet;
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Stats {
  double median, p90, min;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  return {v[(v.size() - 1) / 2] * 0.5 + v[v.size() / 2] * 0.5, at(0.9), v.front()};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 9;
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      sizes.push_back(std::atoi(a.c_str()));
    }
  }
  if (sizes.empty()) sizes = {1000, 10000, 100000};

  auto catalog = catalog_from_json(json::parse(shipped_catalog_json()));
  if (!catalog) {
    std::fprintf(stderr, "shipped catalog: %s\n", catalog.error().message.c_str());
    return 1;
  }
  auto spec = run_spec_from_json(json::parse(R"({
    "name": "k8s-1-32",
    "target": {"type": "Full", "kubernetesVersion": "1.32.7", "nodeImageSelection": "Latest",
               "allowUnsupported": true},
    "strategy": {"stages": [
      {"name": "canary", "updateGroups": ["canary"], "maxConcurrency": "10%", "afterStageWait": "30m",
       "afterGates": [{"type": "Approval", "name": "sre-signoff"}]},
      {"name": "wave1", "updateGroups": ["wave1"], "maxConcurrency": "25%",
       "failurePolicy": {"maxFailures": "5%", "onFailure": "Pause"}},
      {"name": "wave2", "updateGroups": ["wave2"], "maxConcurrency": "50%",
       "failurePolicy": {"maxFailures": "10%", "onFailure": "Pause"}}]}})"));
  if (!spec) {
    std::fprintf(stderr, "run spec: %s\n", spec.error().message.c_str());
    return 1;
  }
  // A fixed "now" inside every target's support window: the same plan on any day.
  const TimePoint now = std::chrono::sys_days{std::chrono::year{2025} / 12 / 15};

  std::vector<std::string> skip_notes;
  std::printf(
      "| clusters | members planned / skipped / batches | make_plan median / p90 / min ms | "
      "to_json + dump median / p90 / min ms | both median / p90 ms | plan JSON MiB | goal (make_plan p90) |\n");
  std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
  for (int n : sizes) {
    PlanInput in;
    in.spec = &*spec;
    in.clusters = make_fleet(n);
    in.catalog = &*catalog;
    in.now = now;
    std::vector<double> plan_ms, json_ms, total_ms;
    std::size_t planned = 0, skipped = 0, batches = 0, bytes = 0;
    std::map<std::string, int> reasons;
    for (int r = 0; r < runs; ++r) {
      auto t0 = Clock::now();
      auto plan = make_plan(in);
      auto t1 = Clock::now();
      if (!plan) {
        std::fprintf(stderr, "make_plan: %s\n", plan.error().message.c_str());
        return 1;
      }
      std::string text = to_json(*plan, *spec).dump();
      auto t2 = Clock::now();
      plan_ms.push_back(ms(t1 - t0));
      json_ms.push_back(ms(t2 - t1));
      total_ms.push_back(ms(t2 - t0));
      planned = skipped = batches = 0;
      reasons.clear();
      for (const auto& m : plan->members) {
        (m.skip == SkipReason::kNone ? planned : skipped)++;
        if (m.skip != SkipReason::kNone) reasons[std::string(to_string(m.skip))]++;
      }
      for (const auto& s : plan->stages) batches += s.batches.size();
      bytes = text.size();
    }
    const Stats p = stats(plan_ms), j = stats(json_ms), t = stats(total_ms);
    std::printf("| %d | %zu / %zu / %zu | %.1f / %.1f / %.1f | %.1f / %.1f / %.1f | %.1f / %.1f | %.1f | %s |\n", n,
                planned, skipped, batches, p.median, p.p90, p.min, j.median, j.p90, j.min, t.median, t.p90,
                static_cast<double>(bytes) / (1 << 20),
                n == 10000 ? (p.p90 < 250 ? "< 250 ms: met" : "< 250 ms: missed") : "");
    std::string why;
    for (const auto& [r, k] : reasons) why += (why.empty() ? "" : ", ") + r + " " + std::to_string(k);
    skip_notes.push_back(std::to_string(n) + ": " + why);
    std::fflush(stdout);
  }
  std::printf("\n%d runs per size; a fixed synthetic fleet (seed 42), the shipped catalog, a 3-stage strategy.\n",
              runs);
  for (const auto& note : skip_notes) std::printf("skipped by reason, %s\n", note.c_str());
  return 0;
}
