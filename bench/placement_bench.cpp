// Placement engine benchmark (issue #14, "Benchmarks"): a synthetic fleet of 1,000 clusters × 100 nodes × 8 GPUs
// (2-3 GPU pools a cluster, one model a pool: H100, A100, L40S, L4; drivers 535/550/560; 10 regions; env and tier
// labels; a few clusters tainted, unreachable or cordoned; ~2% of nodes pending probe or quarantined, some
// cordoned, draining or with an unhealthy GPU; a third partly used) and 10,000 workloads of mixed shapes (1/2/4/8
// GPUs a replica, 1-8 replicas; PickN 1-3 Divided or Duplicated, PickAll with a narrow required selector,
// PickFixed; model lists, GPU memory and driver minimums, region spread, preferences, tolerations).
//
// Measures, per run: building a PlacementEngine from the snapshot; place_batch over all workloads (goal: under
// 2 s on one core); and a loop of PlacementEngine::place in input order, each call timed, for p50/p90/p99/max and
// decisions per second. Prints medians over the runs as a Markdown table. Outside the timed parts every decision
// is checked against the input snapshot (bench/placement_check.hpp): any over-commit or invalid binding prints
// FAIL and exits 1. A digest of every decision (bindings with their nodes, every rejection's cluster, code and
// reason text) is printed too: a change to the engine that should not change what it decides must leave it equal.
// Usage: placement_bench [--clusters N] [--nodes N] [--gpus-per-node N] [--workloads N] [--seed S] [--runs R]
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/placement_check.hpp"
#include "model/inventory.hpp"
#include "model/label_selector.hpp"
#include "placement/engine.hpp"

using namespace fleet::placement;
using fleet::placement::bench::DecisionChecker;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

struct Options {
  int clusters = 1000;
  int nodes = 100;
  int gpus_per_node = 8;
  int workloads = 10000;
  std::uint64_t seed = 20261203;
  int runs = 3;
};

// Node shapes after the cloud SKUs that carry these GPUs (ND H100 v5, ND A100 v4, 8× L40S, 8× L4).
struct GpuShape {
  const char* model;
  int memory_gib;
  int node_cores;
  int node_memory_gib;
};
constexpr std::array<GpuShape, 4> kShapes = {{
    {"NVIDIA H100 80GB HBM3", 80, 96, 1900},
    {"NVIDIA A100-SXM4-80GB", 80, 96, 1900},
    {"NVIDIA L40S", 48, 192, 1536},
    {"NVIDIA L4", 24, 96, 384},
}};
constexpr std::array<const char*, 10> kRegions = {"eastus",        "eastus2",     "westus3", "centralus",
                                                  "westeurope",    "northeurope", "uksouth", "swedencentral",
                                                  "southeastasia", "japaneast"};
constexpr int kTeams = 40;

struct Rng {
  std::mt19937_64 engine;
  int below(int n) { return static_cast<int>(engine() % static_cast<std::uint64_t>(n)); }
  bool chance(double p) { return static_cast<double>(engine() >> 11) * 0x1.0p-53 < p; }
  // An index drawn with the given weights.
  template <std::size_t N>
  int weighted(const std::array<int, N>& weights) {
    int total = 0;
    for (int w : weights) total += w;
    int r = below(total);
    for (std::size_t i = 0; i < N; ++i) {
      if (r < weights[i]) return static_cast<int>(i);
      r -= weights[i];
    }
    return static_cast<int>(N) - 1;
  }
};

std::string padded(int value, int width) {
  std::string s = std::to_string(value);
  return std::string(static_cast<std::size_t>(std::max(0, width - static_cast<int>(s.size()))), '0') + s;
}

DottedVersion version(const char* text) {
  return *parse_dotted_version(text);
}

// ---- the fleet ----

void set_node_state(Rng& rng, NodeSnapshot& node) {
  if (rng.chance(0.02)) {
    const bool quarantined = rng.chance(0.3);
    node.admission = quarantined ? fleet::model::Admission::kQuarantined : fleet::model::Admission::kPendingProbe;
    node.taints.push_back({std::string(fleet::model::kTaintGpuUnverified), "", "NoSchedule"});
    if (quarantined) node.taints.push_back({std::string(fleet::model::kTaintGpuQuarantined), "", "NoSchedule"});
  }
  if (rng.chance(0.005)) node.schedulable = false;
  if (rng.chance(0.003)) node.draining = true;
  if (rng.chance(0.01)) node.gpus_healthy -= 1, node.gpus_unhealthy = 1;
  if (rng.chance(0.35)) {
    node.gpus_used = 1 + rng.below(node.gpus_healthy);
    node.cpu_used_millicores = node.cpu_allocatable_millicores * node.gpus_used / (node.gpus_healthy + 2);
    node.memory_used_bytes = node.memory_allocatable_bytes / 16 * node.gpus_used;
  }
}

void add_pool(Rng& rng, const Options& o, ClusterSnapshot& c, int pool, int shape_index, int nodes) {
  static const std::array<const char*, 3> kDrivers = {"535.183.01", "550.127.05", "560.35.03"};
  static const std::array<const char*, 3> kCuda = {"12.2", "12.4", "12.6"};
  const GpuShape& shape = kShapes[static_cast<std::size_t>(shape_index)];
  const auto driver = static_cast<std::size_t>(rng.weighted(std::array<int, 3>{25, 50, 25}));
  for (int i = 0; i < nodes; ++i) {
    NodeSnapshot n;
    n.name = "gpu" + std::to_string(pool) + "-vm" + padded(i, 5);
    n.gpu_model = shape.model;
    n.gpu_memory_bytes = shape.memory_gib * kGiB;
    n.driver_version = version(kDrivers[driver]);
    n.cuda_version = version(kCuda[driver]);
    n.gpus_healthy = o.gpus_per_node;
    n.cpu_allocatable_millicores = shape.node_cores * 1000 - 2000;
    n.memory_allocatable_bytes = (shape.node_memory_gib - 16) * kGiB;
    set_node_state(rng, n);
    c.nodes.push_back(std::move(n));
  }
}

ClusterSnapshot make_cluster(Rng& rng, const Options& o, int index) {
  ClusterSnapshot c;
  c.provider = rng.chance(0.8) ? "aks" : "arc";
  c.name = c.provider + "-" + padded(index, 4);
  c.region = kRegions[static_cast<std::size_t>(rng.below(static_cast<int>(kRegions.size())))];
  c.labels["env"] = rng.chance(0.7) ? "prod" : "staging";
  c.labels["tier"] = std::array<const char*, 3>{
      "gold", "silver", "bronze"}[static_cast<std::size_t>(rng.weighted(std::array<int, 3>{20, 40, 40}))];
  c.labels["team"] = "t" + padded(rng.below(kTeams), 2);
  if (rng.chance(0.01)) c.state = "unreachable";
  if (rng.chance(0.005)) c.state = "cordoned";
  if (rng.chance(0.03)) c.taints.push_back({"gpu", "reserved", "NoSchedule"});
  if (rng.chance(0.02)) c.taints.push_back({"maintenance", "planned", "PreferNoSchedule"});
  // 2 or 3 GPU pools of distinct models; H100 and A100 more common than L40S and L4.
  const int pools = 2 + rng.below(2);
  std::vector<int> models;
  while (static_cast<int>(models.size()) < pools) {
    const int m = rng.weighted(std::array<int, 4>{30, 25, 25, 20});
    if (std::find(models.begin(), models.end(), m) == models.end()) models.push_back(m);
  }
  int left = o.nodes;
  for (int p = 0; p < pools; ++p) {
    const int share = p + 1 == pools ? left : std::max(1, left * (30 + rng.below(40)) / 100);
    add_pool(rng, o, c, p + 1, models[static_cast<std::size_t>(p)], share);
    left -= share;
  }
  return c;
}

Snapshot make_fleet(const Options& o) {
  Rng rng{std::mt19937_64(o.seed)};
  Snapshot s;
  s.clusters.reserve(static_cast<std::size_t>(o.clusters));
  for (int i = 0; i < o.clusters; ++i) s.clusters.push_back(make_cluster(rng, o, i));
  return s;
}

// ---- the workloads ----

enum class Kind { kPickN, kPickNSpread, kPickAll, kPickFixed };
constexpr std::array<const char*, 4> kKindNames = {"PickN", "PickN + region spread", "PickAll (narrow selector)",
                                                   "PickFixed"};

fleet::model::LabelSelector selector(const std::string& text) {
  return *fleet::model::parse_label_selector(text);
}

void set_resources(Rng& rng, Workload& w) {
  static const std::array<int, 4> kGpus = {1, 2, 4, 8};
  w.resources.gpus = kGpus[static_cast<std::size_t>(rng.weighted(std::array<int, 4>{45, 30, 15, 10}))];
  w.replicas = 1 + rng.weighted(std::array<int, 8>{30, 20, 15, 10, 8, 7, 5, 5});
  w.resources.cpu_millicores = w.resources.gpus * (4 + rng.below(9)) * 1000;
  w.resources.memory_bytes = w.resources.gpus * (16 + rng.below(49)) * kGiB;
  const int models = rng.below(100);
  if (models < 20) {
    w.resources.gpu_models = {kShapes[static_cast<std::size_t>(rng.below(4))].model};
  } else if (models < 35) {
    const std::size_t pair = static_cast<std::size_t>(rng.below(2)) * 2;
    w.resources.gpu_models = {kShapes[pair].model, kShapes[pair + 1].model};
    std::sort(w.resources.gpu_models.begin(), w.resources.gpu_models.end());
  }
  const int memory = rng.below(100);
  if (memory < 10)
    w.resources.min_gpu_memory_bytes = 80 * kGiB;
  else if (memory < 15)
    w.resources.min_gpu_memory_bytes = 48 * kGiB;
  const int driver = rng.below(100);
  if (driver < 10)
    w.min_driver_version = version("550");
  else if (driver < 15)
    w.min_driver_version = version("560.35");
}

void set_preferences(Rng& rng, Policy& p) {
  const int r = rng.below(100);
  if (r < 10)
    p.preferred.push_back({20 + rng.below(61), {selector("tier=gold"), {}}});
  else if (r < 20)
    p.preferred.push_back({20 + rng.below(61), {selector("env=prod"), {}}});
  else if (r < 25)
    p.preferred.push_back({50, {selector("region in (westeurope,northeurope,uksouth)"), {}}});
  else if (r < 30)
    p.preferred.push_back({-40, {selector("env=staging"), {}}});
  if (rng.chance(0.05)) p.tolerations.push_back({"gpu", Toleration::Op::kEqual, "reserved", "NoSchedule"});
}

Kind set_policy(Rng& rng, const Options& o, Workload& w) {
  Policy& p = w.policy;
  const int r = rng.below(100);
  Kind kind = Kind::kPickN;
  if (r < 85) {
    p.type = PolicyType::kPickN;
    p.number_of_clusters = 1 + rng.weighted(std::array<int, 3>{50, 30, 20});
    p.division = rng.chance(0.6) ? ReplicaDivision::kDivided : ReplicaDivision::kDuplicated;
    if (rng.chance(0.2)) p.required = ClusterTerm{selector("env=prod"), {}};
    if (p.number_of_clusters >= 2 && rng.chance(0.25)) {
      p.spread.push_back({"region", 1, WhenUnsatisfiable::kDoNotSchedule});
      kind = Kind::kPickNSpread;
    }
  } else if (r < 95) {
    p.type = PolicyType::kPickAll;
    p.division = ReplicaDivision::kDuplicated;
    w.replicas = 1 + rng.below(2);
    const std::string team = "team=t" + padded(rng.below(kTeams), 2);
    p.required = ClusterTerm{selector(rng.chance(0.5) ? team + ",env=prod" : team), {}};
    kind = Kind::kPickAll;
  } else {
    p.type = PolicyType::kPickFixed;
    p.division = rng.chance(0.5) ? ReplicaDivision::kDivided : ReplicaDivision::kDuplicated;
    const int names = 1 + rng.below(3);
    for (int i = 0; i < names; ++i) {
      const int c = rng.below(o.clusters);
      p.cluster_names.push_back((rng.chance(0.8) ? "aks-" : "arc-") + padded(c, 4));  // some name no cluster
    }
    std::sort(p.cluster_names.begin(), p.cluster_names.end());
    p.cluster_names.erase(std::unique(p.cluster_names.begin(), p.cluster_names.end()), p.cluster_names.end());
    kind = Kind::kPickFixed;
  }
  set_preferences(rng, p);
  return kind;
}

struct Workloads {
  std::vector<Workload> list;
  std::vector<Kind> kinds;
};

Workloads make_workloads(const Options& o) {
  Rng rng{std::mt19937_64(o.seed ^ 0x5bd1e995ULL)};
  Workloads out;
  for (int i = 0; i < o.workloads; ++i) {
    Workload w;
    w.name = "wl-" + padded(i, 5);
    set_resources(rng, w);
    out.kinds.push_back(set_policy(rng, o, w));
    out.list.push_back(std::move(w));
  }
  return out;
}

// ---- measuring ----

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// This thread's CPU seconds: on a shared machine wall time includes waiting for a core, CPU time does not.
double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}

// A hash of what a decision says, field by field (each text hashed whole, then mixed in FNV-1a style: the order of
// fields counts). std::hash of a string is the same for a given standard library, so compare digests from builds
// on one machine.
class Digest {
 public:
  void add(std::string_view text) {
    hash_ ^= std::hash<std::string_view>{}(text);
    hash_ *= 0x100000001b3ULL;
  }
  void add(long long number) {
    hash_ ^= static_cast<std::uint64_t>(number);
    hash_ *= 0x100000001b3ULL;
  }
  void add(const Decision& d) {
    add(static_cast<long long>(d.state));
    add(d.replicas_wanted);
    add(d.replicas_bound);
    for (const ClusterBinding& b : d.bindings) {
      add(b.cluster);
      add(b.replicas);
      for (const NodeShare& share : b.nodes) {
        add(share.node);
        add(share.replicas);
      }
    }
    for (const Rejection& r : d.rejected) {
      add(r.cluster);
      add(static_cast<long long>(r.code));
      add(r.reason);
    }
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

struct Outcome {
  std::uint64_t digest = 0;     // Digest of every decision in input order
  std::array<int, 3> states{};  // Placed, PartiallyPlaced, Unplaceable
  std::int64_t gpus_bound = 0;
  std::int64_t rejections = 0;
  std::int64_t violations = 0;
  std::vector<std::string> first_violations;
};

struct Run {
  double build_ms = 0;
  double batch_s = 0;
  double batch_cpu_s = 0;
  double loop_s = 0;
  double loop_cpu_s = 0;
  std::vector<double> call_ms;      // per workload, input order
  std::vector<double> call_cpu_ms;  // the same, CPU time
  Outcome batch, loop;
};

class Tally {
 public:
  explicit Tally(const Snapshot& s) : checker_(s) {}
  void add(const Workload& w, const Decision& d) {
    ++outcome_.states[static_cast<std::size_t>(d.state)];
    outcome_.rejections += static_cast<std::int64_t>(d.rejected.size());
    checker_.add(w, d);
    digest_.add(d);
  }
  Outcome finish() {
    outcome_.digest = digest_.value();
    outcome_.gpus_bound = checker_.gpus_bound();
    outcome_.violations = checker_.violation_count();
    outcome_.first_violations = checker_.first_violations();
    return std::move(outcome_);
  }

 private:
  DecisionChecker checker_;
  Digest digest_;
  Outcome outcome_;
};

Run measure(const Snapshot& snapshot, const std::vector<Workload>& workloads) {
  Run run;
  {
    Snapshot copy = snapshot;
    const auto t0 = Clock::now();
    PlacementEngine engine(std::move(copy));
    run.build_ms = ms(Clock::now() - t0);
  }
  {
    const double cpu0 = thread_cpu_s();
    const auto t0 = Clock::now();
    std::vector<Decision> decisions = place_batch(snapshot, workloads);
    run.batch_s = ms(Clock::now() - t0) / 1000;
    run.batch_cpu_s = thread_cpu_s() - cpu0;
    Tally tally(snapshot);
    for (std::size_t i = 0; i < workloads.size(); ++i) tally.add(workloads[i], decisions[i]);
    run.batch = tally.finish();
  }
  Tally tally(snapshot);
  PlacementEngine engine{Snapshot(snapshot)};
  run.call_ms.reserve(workloads.size());
  run.call_cpu_ms.reserve(workloads.size());
  Clock::duration total{};
  double cpu = 0;
  for (const Workload& w : workloads) {
    const double cpu0 = thread_cpu_s();
    const auto t0 = Clock::now();
    Decision d = engine.place(w);
    const auto took = Clock::now() - t0;
    const double call_cpu = thread_cpu_s() - cpu0;
    cpu += call_cpu;
    run.call_cpu_ms.push_back(call_cpu * 1000);
    total += took;
    run.call_ms.push_back(ms(took));
    tally.add(w, d);
  }
  run.loop_s = ms(total) / 1000;
  run.loop_cpu_s = cpu;
  run.loop = tally.finish();
  return run;
}

// ---- reporting ----

struct FleetFacts {
  std::int64_t gpus = 0, free = 0, nodes = 0, nodes_unavailable = 0;
  int clusters_not_ready = 0, clusters_tainted = 0;
};

FleetFacts facts(const Snapshot& s) {
  FleetFacts f;
  for (const auto& c : s.clusters) {
    f.clusters_not_ready += c.state != "ready";
    f.clusters_tainted += !c.taints.empty();
    for (const auto& n : c.nodes) {
      ++f.nodes;
      f.gpus += n.gpus_healthy + n.gpus_unhealthy;
      const bool usable =
          c.state == "ready" && n.schedulable && !n.draining && n.admission == fleet::model::Admission::kAdmitted;
      f.nodes_unavailable += !usable;
      if (usable) f.free += std::max(0, n.gpus_healthy - n.gpus_used);
    }
  }
  return f;
}

std::int64_t demand(const std::vector<Workload>& workloads) {
  std::int64_t sum = 0;
  for (const auto& w : workloads) {
    const std::int64_t clusters = w.policy.division == ReplicaDivision::kDivided ? 1
                                  : w.policy.type == PolicyType::kPickN          ? w.policy.number_of_clusters
                                  : w.policy.type == PolicyType::kPickFixed
                                      ? static_cast<std::int64_t>(w.policy.cluster_names.size())
                                      : 0;  // PickAll: as many clusters as match
    sum += clusters * w.replicas * w.resources.gpus;
  }
  return sum;
}

long peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

std::string states(const Outcome& o) {
  return std::to_string(o.states[0]) + " / " + std::to_string(o.states[1]) + " / " + std::to_string(o.states[2]);
}

void print_tables(const Options& o, const Snapshot& snapshot, const Workloads& w, const std::vector<Run>& runs,
                  bool ok) {
  const FleetFacts f = facts(snapshot);
  auto med = [&](auto get) {
    std::vector<double> v;
    for (const Run& r : runs) v.push_back(get(r));
    return median(v);
  };
  const double batch_s = med([](const Run& r) { return r.batch_s; });
  const double loop_s = med([](const Run& r) { return r.loop_s; });
  auto pct = [&](double q) { return med([&](const Run& r) { return percentile(r.call_ms, q); }); };
  auto cpu_pct = [&](double q) { return med([&](const Run& r) { return percentile(r.call_cpu_ms, q); }); };
  const Run& last = runs.back();  // the decisions are the same every run (the engine is deterministic)
  std::printf("| %d clusters × %d nodes × %d GPUs, %d workloads, seed %llu, %d runs (medians) | value | goal |\n",
              o.clusters, o.nodes, o.gpus_per_node, o.workloads, static_cast<unsigned long long>(o.seed), o.runs);
  std::printf("| --- | ---: | --- |\n");
  std::printf(
      "| fleet: GPUs / free on usable nodes / nodes not usable / clusters not ready / tainted | %lld / %lld "
      "/ %lld / %d / %d | |\n",
      static_cast<long long>(f.gpus), static_cast<long long>(f.free), static_cast<long long>(f.nodes_unavailable),
      f.clusters_not_ready, f.clusters_tainted);
  std::printf("| workloads: GPUs asked (PickAll not counted) | %lld | |\n", static_cast<long long>(demand(w.list)));
  std::printf("| PlacementEngine built from the snapshot, ms | %.1f | |\n",
              med([](const Run& r) { return r.build_ms; }));
  const double batch_cpu_s = med([](const Run& r) { return r.batch_cpu_s; });
  std::printf("| place_batch, all %d workloads: wall s | %.3f | |\n", o.workloads, batch_s);
  std::printf("| place_batch: CPU s of the bench's one thread | %.3f | < 2 s on one core: %s |\n", batch_cpu_s,
              batch_cpu_s < 2 ? "**met**" : "**missed**");
  std::printf("| place_batch decisions/s | %.0f | |\n", o.workloads / batch_s);
  std::printf("| place, one call a workload in input order: decisions/s (by CPU time) | %.0f (%.0f) | |\n",
              o.workloads / loop_s, o.workloads / med([](const Run& r) { return r.loop_cpu_s; }));
  std::printf(
      "| place per decision p50 / p90 / p99 / max ms | %.3f / %.3f / %.3f / %.3f | Karmada p99 32 ms "
      "(100 clusters) |\n",
      pct(0.5), pct(0.9), pct(0.99), pct(1.0));
  std::printf("| the same by CPU time, ms | %.3f / %.3f / %.3f / %.3f | |\n", cpu_pct(0.5), cpu_pct(0.9), cpu_pct(0.99),
              cpu_pct(1.0));
  std::printf("| place_batch: Placed / PartiallyPlaced / Unplaceable | %s | |\n", states(last.batch).c_str());
  std::printf("| place_batch: GPUs bound (%% of free) | %lld (%.1f%%) | |\n",
              static_cast<long long>(last.batch.gpus_bound), 100.0 * last.batch.gpus_bound / f.free);
  std::printf("| place loop: Placed / PartiallyPlaced / Unplaceable; GPUs bound | %s; %lld | |\n",
              states(last.loop).c_str(), static_cast<long long>(last.loop.gpus_bound));
  std::printf("| rejections returned by place_batch | %lld | |\n", static_cast<long long>(last.batch.rejections));
  const bool same = std::all_of(runs.begin(), runs.end(), [&](const Run& r) {
    return r.batch.digest == last.batch.digest && r.loop.digest == last.loop.digest;
  });
  std::printf("| digest of every decision: place_batch / place loop | %016llx / %016llx%s | |\n",
              static_cast<unsigned long long>(last.batch.digest), static_cast<unsigned long long>(last.loop.digest),
              same ? "" : " (**differs between runs**)");
  std::printf("| peak RSS MiB | %ld | |\n", peak_rss_mib());
  std::printf("| no node over-committed, every binding valid (all runs, batch and loop) | %s | |\n\n",
              ok ? "OK" : "FAIL");

  std::printf(
      "| policy (place loop, CPU time per decision) | workloads | p50 ms | p99 ms | max ms |\n"
      "| --- | ---: | ---: | ---: | ---: |\n");
  for (std::size_t k = 0; k < kKindNames.size(); ++k) {
    auto of_kind = [&](const Run& r) {
      std::vector<double> v;
      for (std::size_t i = 0; i < r.call_cpu_ms.size(); ++i)
        if (static_cast<std::size_t>(w.kinds[i]) == k) v.push_back(r.call_cpu_ms[i]);
      return v;
    };
    const auto count = of_kind(last).size();
    std::printf("| %s | %zu | %.3f | %.3f | %.3f |\n", kKindNames[k], count,
                med([&](const Run& r) { return percentile(of_kind(r), 0.5); }),
                med([&](const Run& r) { return percentile(of_kind(r), 0.99); }),
                med([&](const Run& r) { return percentile(of_kind(r), 1.0); }));
  }
}

bool report_violations(const char* what, int run, const Outcome& o) {
  if (o.violations == 0) return true;
  std::fprintf(stderr, "FAIL: run %d, %s: %lld violations; the first:\n", run, what,
               static_cast<long long>(o.violations));
  for (const auto& v : o.first_violations) std::fprintf(stderr, "  %s\n", v.c_str());
  return false;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (v == nullptr) {
      std::fprintf(stderr, "placement_bench: %s needs a value\n", a.c_str());
      std::exit(2);
    }
    ++i;
    if (a == "--clusters")
      o.clusters = std::max(1, std::atoi(v));
    else if (a == "--nodes")
      o.nodes = std::max(2, std::atoi(v));
    else if (a == "--gpus-per-node")
      o.gpus_per_node = std::clamp(std::atoi(v), 1, 16);
    else if (a == "--workloads")
      o.workloads = std::max(1, std::atoi(v));
    else if (a == "--seed")
      o.seed = std::strtoull(v, nullptr, 10);
    else if (a == "--runs")
      o.runs = std::max(1, std::atoi(v));
    else {
      std::fprintf(stderr,
                   "usage: placement_bench [--clusters N] [--nodes N] [--gpus-per-node N] [--workloads N] "
                   "[--seed S] [--runs R]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  const Snapshot snapshot = make_fleet(o);
  const Workloads workloads = make_workloads(o);
  std::vector<Run> runs;
  bool ok = true;
  for (int r = 0; r < o.runs; ++r) {
    runs.push_back(measure(snapshot, workloads.list));
    const Run& run = runs.back();
    std::fprintf(stderr, "run %d: build %.1f ms, place_batch %.3f s (CPU %.3f s), place loop %.3f s (CPU %.3f s)\n",
                 r + 1, run.build_ms, run.batch_s, run.batch_cpu_s, run.loop_s, run.loop_cpu_s);
    ok = report_violations("place_batch", r + 1, runs.back().batch) && ok;
    ok = report_violations("place loop", r + 1, runs.back().loop) && ok;
  }
  print_tables(o, snapshot, workloads, runs, ok);
  std::printf("%s\n", ok ? "OK: no node over-committed" : "FAIL: see the violations above");
  return ok ? 0 : 1;
}
