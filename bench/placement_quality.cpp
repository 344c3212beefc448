// Placement quality against the optimum (issue #14, "Quality benchmark"). K seeded instances small enough for an
// exact solver: 4-6 clusters × 3-6 nodes × 8 GPUs of two models (some partly used), 15-40 workloads with 1/2/4/8
// GPUs a replica, 1-4 replicas, any model or one, PickN with N in {1, 2}, Divided; no affinity, no spread, no
// CPU or memory asks. Workloads are drawn until they ask for about --load times the free GPUs, so that not all
// fit and the methods differ.
//
// For each instance: the ILP below, written as a CPLEX LP file and solved by COIN-OR cbc; the engine
// (place_batch); and two baselines, first-fit and spread-only. The measure is the GPUs of workloads that are fully
// placed (a workload placed in part counts nothing) and how many workloads are fully placed.
//
//   maximize   Σ_w g_w R_w x_w
//   subject to Σ_n y_wn = R_w x_w                     every replica of a placed workload on some node
//              y_wn ≤ R_w z_wc(n)                     only on chosen clusters
//              Σ_c z_wc ≤ N_w                         at most N clusters
//              Σ_w g_w y_wn ≤ free_n                  node capacity
//              x_w, z_wc ∈ {0,1}; y_wn ∈ Z≥0, absent (0) where the node's model is not allowed or g_w > free_n
//
// Usage: placement_quality [--instances K] [--seed S] [--load L] [--time-limit SEC] [--cbc PATH] [--dir DIR]
//                          [--keep] [--show K]   (--show: print instance K and the engine's decisions)
// Exit status: 0; 1 when an engine decision over-commits a node or is invalid; 2 when cbc is missing or fails.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/placement_check.hpp"
#include "placement/engine.hpp"

using namespace fleet::placement;
using fleet::placement::bench::DecisionChecker;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;
constexpr std::array<const char*, 2> kModels = {"NVIDIA H100 80GB HBM3", "NVIDIA L40S"};
constexpr std::array<int, 2> kModelMemoryGiB = {80, 48};
constexpr int kGpusPerNode = 8;

struct Options {
  int instances = 20;
  std::uint64_t seed = 1;
  double load = 1.4;
  int time_limit = 60;
  std::string cbc = "cbc";
  std::string dir;
  bool keep = false;
  int show = 0;  // an instance to print in full
};

// ---- instances ----

struct Node {
  int cluster = 0;
  int model = 0;
  int free = 0;
};

struct Job {
  int gpus = 1;
  int replicas = 1;
  int model = -1;  // -1: any
  int clusters = 1;
  bool allows(const Node& n) const { return model < 0 || model == n.model; }
};

struct Instance {
  int clusters = 0;
  std::vector<Node> nodes;  // by cluster, then node name: the order first-fit walks
  std::vector<Job> jobs;
  int free_gpus() const {
    return std::accumulate(nodes.begin(), nodes.end(), 0, [](int s, const Node& n) { return s + n.free; });
  }
  int asked_gpus() const {
    return std::accumulate(jobs.begin(), jobs.end(), 0, [](int s, const Job& j) { return s + j.gpus * j.replicas; });
  }
};

int below(std::mt19937_64& rng, int n) {
  return static_cast<int>(rng() % static_cast<std::uint64_t>(n));
}

Instance make_instance(std::mt19937_64& rng, double load) {
  Instance in;
  in.clusters = 4 + below(rng, 3);
  for (int c = 0; c < in.clusters; ++c) {
    const int nodes = 3 + below(rng, 4);
    const int main_model = below(rng, 2);
    for (int i = 0; i < nodes; ++i) {
      Node n;
      n.cluster = c;
      n.model = below(rng, 3) == 0 ? 1 - main_model : main_model;
      n.free = below(rng, 10) < 6 ? kGpusPerNode : 1 + below(rng, kGpusPerNode - 1);
      in.nodes.push_back(n);
    }
  }
  static const std::array<int, 4> kGpus = {1, 2, 4, 8};
  static const std::array<int, 4> kWeights = {35, 30, 20, 15};  // of 100
  const int free = in.free_gpus();
  while (in.jobs.size() < 15 || (in.jobs.size() < 40 && in.asked_gpus() < load * free)) {
    Job j;
    int r = below(rng, 100), k = 0;
    while (r >= kWeights[static_cast<std::size_t>(k)]) r -= kWeights[static_cast<std::size_t>(k++)];
    j.gpus = kGpus[static_cast<std::size_t>(k)];
    j.replicas = 1 + below(rng, 4);
    j.model = below(rng, 2) == 0 ? -1 : below(rng, 2);
    j.clusters = 1 + below(rng, 2);
    in.jobs.push_back(j);
  }
  return in;
}

std::string cluster_name(int c) {
  return "c" + std::to_string(c + 1);
}
std::string node_name(int i) {
  return "n" + std::string(i < 10 ? "0" : "") + std::to_string(i);
}

Snapshot to_snapshot(const Instance& in) {
  Snapshot s;
  for (int c = 0; c < in.clusters; ++c) {
    ClusterSnapshot cs;
    cs.name = cluster_name(c);
    cs.provider = "aks";
    cs.region = "westeurope";
    s.clusters.push_back(cs);
  }
  for (std::size_t i = 0; i < in.nodes.size(); ++i) {
    const Node& n = in.nodes[i];
    NodeSnapshot ns;
    ns.name = node_name(static_cast<int>(i));
    ns.gpu_model = kModels[static_cast<std::size_t>(n.model)];
    ns.gpu_memory_bytes = kModelMemoryGiB[static_cast<std::size_t>(n.model)] * kGiB;
    ns.driver_version = *parse_dotted_version("550.90.07");
    ns.cuda_version = *parse_dotted_version("12.4");
    ns.gpus_healthy = kGpusPerNode;
    ns.gpus_used = kGpusPerNode - n.free;
    ns.cpu_allocatable_millicores = 96'000;
    ns.memory_allocatable_bytes = 1024 * kGiB;
    s.clusters[static_cast<std::size_t>(n.cluster)].nodes.push_back(std::move(ns));
  }
  return s;
}

std::vector<Workload> to_workloads(const Instance& in) {
  std::vector<Workload> out;
  for (std::size_t i = 0; i < in.jobs.size(); ++i) {
    const Job& j = in.jobs[i];
    Workload w;
    w.name = "w" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    w.replicas = j.replicas;
    w.resources.gpus = j.gpus;
    if (j.model >= 0) w.resources.gpu_models = {kModels[static_cast<std::size_t>(j.model)]};
    w.policy.type = PolicyType::kPickN;
    w.policy.number_of_clusters = j.clusters;
    w.policy.division = ReplicaDivision::kDivided;
    out.push_back(std::move(w));
  }
  return out;
}

// ---- the optimum: an LP file for cbc ----

bool has_y(const Job& j, const Node& n) {
  return j.allows(n) && j.gpus <= n.free;
}

void write_lp(const Instance& in, const fs::path& path) {
  std::ofstream f(path);
  const auto& J = in.jobs;
  const auto& N = in.nodes;
  f << "Maximize\n obj:";
  for (std::size_t w = 0; w < J.size(); ++w) f << " + " << J[w].gpus * J[w].replicas << " x_" << w;
  f << "\nSubject To\n";
  for (std::size_t w = 0; w < J.size(); ++w) {
    f << " all_" << w << ":";
    for (std::size_t n = 0; n < N.size(); ++n)
      if (has_y(J[w], N[n])) f << " + y_" << w << "_" << n;
    f << " - " << J[w].replicas << " x_" << w << " = 0\n";
    for (std::size_t n = 0; n < N.size(); ++n)
      if (has_y(J[w], N[n]))
        f << " on_" << w << "_" << n << ": y_" << w << "_" << n << " - " << J[w].replicas << " z_" << w << "_"
          << N[n].cluster << " <= 0\n";
    f << " pick_" << w << ":";
    for (int c = 0; c < in.clusters; ++c) f << " + z_" << w << "_" << c;
    f << " <= " << J[w].clusters << "\n";
  }
  for (std::size_t n = 0; n < N.size(); ++n) {
    bool any = false;
    std::ostringstream row;
    for (std::size_t w = 0; w < J.size(); ++w)
      if (has_y(J[w], N[n])) row << " + " << J[w].gpus << " y_" << w << "_" << n, any = true;
    if (any) f << " cap_" << n << ":" << row.str() << " <= " << N[n].free << "\n";
  }
  std::ostringstream generals;
  f << "Bounds\n";
  for (std::size_t w = 0; w < J.size(); ++w)
    for (std::size_t n = 0; n < N.size(); ++n)
      if (has_y(J[w], N[n])) {
        f << " 0 <= y_" << w << "_" << n << " <= " << std::min(J[w].replicas, N[n].free / J[w].gpus) << "\n";
        generals << " y_" << w << "_" << n << "\n";
      }
  f << "Generals\n" << generals.str() << "Binaries\n";
  for (std::size_t w = 0; w < J.size(); ++w) {
    f << " x_" << w << "\n";
    for (int c = 0; c < in.clusters; ++c) f << " z_" << w << "_" << c << "\n";
  }
  f << "End\n";
}

struct Optimum {
  std::string status;  // "Optimal", "Stopped on time", …; empty when cbc wrote no solution
  int gpus = 0;
  int workloads = 0;
  double seconds = 0;
};

// cbc's solution file: "Optimal - objective value 152.00000000", then "index name value cost" a variable.
Optimum solve(const Options& o, const fs::path& lp, const fs::path& sol) {
  Optimum out;
  const std::string cmd = o.cbc + " " + lp.string() + " sec " + std::to_string(o.time_limit) + " solve solu " +
                          sol.string() + " > " + (lp.string() + ".log") + " 2>&1";
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = std::system(cmd.c_str());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ifstream f(sol);
  std::string line;
  if (rc != 0 || !std::getline(f, line)) return out;
  const auto dash = line.find(" - objective value ");
  out.status = line.substr(0, dash);
  if (dash != std::string::npos) out.gpus = static_cast<int>(std::lround(std::stod(line.substr(dash + 19))));
  while (std::getline(f, line)) {
    std::istringstream row(line);
    std::string index, name;
    double value = 0;
    row >> index;
    if (index == "**") row >> index;
    if (row >> name >> value && name.rfind("x_", 0) == 0 && value > 0.5) ++out.workloads;
  }
  return out;
}

// ---- the engine and the baselines ----

struct Score {
  int gpus = 0;        // of fully placed workloads
  int workloads = 0;   // fully placed
  int gpus_bound = 0;  // all bound GPUs, partly placed workloads included (the engine only)
  int partial = 0;     // PartiallyPlaced decisions (the engine only)
};

// --show K: the instance and the engine's decisions, to reproduce a poor result by hand.
void show(const Instance& in, const std::vector<Workload>& workloads, const std::vector<Decision>& decisions) {
  for (std::size_t n = 0; n < in.nodes.size(); ++n)
    std::printf("node %s/%s %s free %d\n", cluster_name(in.nodes[n].cluster).c_str(),
                node_name(static_cast<int>(n)).c_str(), kModels[static_cast<std::size_t>(in.nodes[n].model)],
                in.nodes[n].free);
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    const Job& j = in.jobs[i];
    std::printf("%s %d×%d GPUs%s%s PickN %d Divided -> %s:", workloads[i].name.c_str(), j.replicas, j.gpus,
                j.model < 0 ? "" : " ", j.model < 0 ? "" : kModels[static_cast<std::size_t>(j.model)], j.clusters,
                std::string(to_string(decisions[i].state)).c_str());
    for (const auto& b : decisions[i].bindings)
      for (const auto& share : b.nodes) std::printf(" %s/%s×%d", b.cluster.c_str(), share.node.c_str(), share.replicas);
    std::printf("\n");
  }
}

Score run_engine(const Instance& in, bool show_it, bool& valid) {
  const Snapshot snapshot = to_snapshot(in);
  const std::vector<Workload> workloads = to_workloads(in);
  const std::vector<Decision> decisions = place_batch(snapshot, workloads);
  DecisionChecker checker(snapshot);
  Score s;
  if (show_it) show(in, workloads, decisions);
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    checker.add(workloads[i], decisions[i]);
    if (decisions[i].state == DecisionState::kPlaced) s.gpus += in.jobs[i].gpus * in.jobs[i].replicas, ++s.workloads;
    s.partial += decisions[i].state == DecisionState::kPartiallyPlaced;
  }
  s.gpus_bound = static_cast<int>(checker.gpus_bound());
  if (checker.violation_count() > 0) {
    valid = false;
    for (const auto& v : checker.first_violations()) std::fprintf(stderr, "  engine: %s\n", v.c_str());
  }
  return s;
}

// Workloads in input order, each replica onto one node; transactional (a workload that does not fully fit takes
// nothing) and at most N clusters. First-fit: the first cluster by name, then the first node by name with room.
// Spread-only (worst fit): the cluster with the most free GPUs of an allowed model, then its node with the most
// free GPUs; ties by name.
Score run_greedy(const Instance& in, bool spread) {
  std::vector<int> free(in.nodes.size());
  for (std::size_t n = 0; n < in.nodes.size(); ++n) free[n] = in.nodes[n].free;
  Score s;
  for (const Job& j : in.jobs) {
    std::vector<int> trial = free;
    std::vector<bool> used(static_cast<std::size_t>(in.clusters), false);
    int used_count = 0;
    bool fits = true;
    for (int r = 0; r < j.replicas && fits; ++r) {
      std::vector<int> room(static_cast<std::size_t>(in.clusters), 0);  // free GPUs of allowed models
      for (std::size_t n = 0; n < in.nodes.size(); ++n)
        if (j.allows(in.nodes[n])) room[static_cast<std::size_t>(in.nodes[n].cluster)] += trial[n];
      std::vector<int> order(static_cast<std::size_t>(in.clusters));
      std::iota(order.begin(), order.end(), 0);
      if (spread)
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
          return room[static_cast<std::size_t>(a)] > room[static_cast<std::size_t>(b)];
        });
      int chosen = -1;
      for (int c : order) {
        if (!used[static_cast<std::size_t>(c)] && used_count == j.clusters) continue;
        for (std::size_t n = 0; n < in.nodes.size(); ++n) {
          if (in.nodes[n].cluster != c || !j.allows(in.nodes[n]) || trial[n] < j.gpus) continue;
          if (chosen < 0 || (spread && trial[n] > trial[static_cast<std::size_t>(chosen)]))
            chosen = static_cast<int>(n);
          if (!spread) break;
        }
        if (chosen >= 0) break;
      }
      if (chosen < 0) {
        fits = false;
        break;
      }
      trial[static_cast<std::size_t>(chosen)] -= j.gpus;
      const auto c = static_cast<std::size_t>(in.nodes[static_cast<std::size_t>(chosen)].cluster);
      if (!used[c]) used[c] = true, ++used_count;
    }
    if (!fits) continue;
    free = std::move(trial);
    s.gpus += j.gpus * j.replicas;
    ++s.workloads;
  }
  return s;
}

// ---- the run ----

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--keep") {
      o.keep = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: placement_quality [--instances K] [--seed S] [--load L] [--time-limit SEC] [--cbc PATH] "
                   "[--dir DIR] [--keep] [--show K]\n");
      std::exit(2);
    }
    const char* v = argv[++i];
    if (a == "--instances")
      o.instances = std::max(1, std::atoi(v));
    else if (a == "--seed")
      o.seed = std::strtoull(v, nullptr, 10);
    else if (a == "--load")
      o.load = std::max(0.1, std::atof(v));
    else if (a == "--time-limit")
      o.time_limit = std::max(1, std::atoi(v));
    else if (a == "--cbc")
      o.cbc = v;
    else if (a == "--dir")
      o.dir = v;
    else if (a == "--show")
      o.show = std::atoi(v);
    else {
      std::fprintf(stderr, "placement_quality: unknown argument %s\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

bool cbc_found(const std::string& cbc) {
  if (cbc.find('/') != std::string::npos) return access(cbc.c_str(), X_OK) == 0;
  return std::system(("command -v " + cbc + " > /dev/null 2>&1").c_str()) == 0;
}

std::string cell(const Score& s) {
  return std::to_string(s.gpus) + " (" + std::to_string(s.workloads) + ")";
}
double pct(int part, int whole) {
  return whole > 0 ? 100.0 * part / whole : 100.0;
}

struct Sums {
  double engine = 0, first_fit = 0, spread = 0, engine_bound = 0, engine_wl = 0, first_fit_wl = 0, spread_wl = 0;
  double engine_min = 1e9;
  int counted = 0, not_optimal = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  if (!cbc_found(o.cbc)) {
    std::fprintf(stderr, "placement_quality: cbc not found (%s); install it: apt-get install coinor-cbc\n",
                 o.cbc.c_str());
    return 2;
  }
  const fs::path dir =
      o.dir.empty() ? fs::temp_directory_path() / ("placement-quality-" + std::to_string(getpid())) : fs::path(o.dir);
  fs::create_directories(dir);
  std::mt19937_64 rng(o.seed);
  bool valid = true;
  Sums sum;
  std::printf(
      "| # | clusters / nodes / free GPUs | workloads / GPUs asked | optimum GPUs (workloads) | engine | "
      "first-fit | spread-only | engine %% of opt. | engine partly placed | cbc |\n");
  std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
  for (int k = 1; k <= o.instances; ++k) {
    const Instance in = make_instance(rng, o.load);
    const fs::path lp = dir / ("inst" + std::to_string(k) + ".lp");
    write_lp(in, lp);
    const Optimum opt = solve(o, lp, dir / ("inst" + std::to_string(k) + ".sol"));
    if (opt.status.empty()) {
      std::fprintf(stderr, "placement_quality: cbc wrote no solution for %s (log: %s.log)\n", lp.c_str(), lp.c_str());
      return 2;
    }
    const Score engine = run_engine(in, k == o.show, valid);
    const Score first_fit = run_greedy(in, false);
    const Score spread = run_greedy(in, true);
    const int best = std::max({opt.gpus, engine.gpus, first_fit.gpus, spread.gpus});  // a time-limited cbc
    std::printf("| %d | %d / %zu / %d | %zu / %d | %d (%d) | %s | %s | %s | %.1f%% | %d | %s %.1f s |\n", k,
                in.clusters, in.nodes.size(), in.free_gpus(), in.jobs.size(), in.asked_gpus(), opt.gpus, opt.workloads,
                cell(engine).c_str(), cell(first_fit).c_str(), cell(spread).c_str(), pct(engine.gpus, best),
                engine.partial, opt.status.c_str(), opt.seconds);
    sum.not_optimal += opt.status != "Optimal";
    sum.engine += pct(engine.gpus, best);
    sum.engine_min = std::min(sum.engine_min, pct(engine.gpus, best));
    sum.engine_bound += pct(engine.gpus_bound, best);
    sum.first_fit += pct(first_fit.gpus, best);
    sum.spread += pct(spread.gpus, best);
    sum.engine_wl += pct(engine.workloads, opt.workloads);
    sum.first_fit_wl += pct(first_fit.workloads, opt.workloads);
    sum.spread_wl += pct(spread.workloads, opt.workloads);
    ++sum.counted;
  }
  const double n = sum.counted;
  std::printf("\n| %d instances, seed %llu, load %.2f | engine | first-fit | spread-only |\n", o.instances,
              static_cast<unsigned long long>(o.seed), o.load);
  std::printf("| --- | ---: | ---: | ---: |\n");
  std::printf(
      "| GPUs of fully placed workloads, mean %% of optimum (goal for the engine ≥ 97%%) | %.1f%% | %.1f%% | "
      "%.1f%% |\n",
      sum.engine / n, sum.first_fit / n, sum.spread / n);
  std::printf("| the same, worst instance | %.1f%% | | |\n", sum.engine_min);
  std::printf("| workloads fully placed, mean %% of the optimum's count | %.1f%% | %.1f%% | %.1f%% |\n",
              sum.engine_wl / n, sum.first_fit_wl / n, sum.spread_wl / n);
  std::printf("| GPUs bound including partly placed workloads, mean %% of optimum | %.1f%% | | |\n",
              sum.engine_bound / n);
  std::printf("| instances cbc did not prove optimal (time limit %d s) | %d | | |\n", o.time_limit, sum.not_optimal);
  std::printf("| engine decisions: no node over-committed, bindings valid | %s | | |\n", valid ? "OK" : "FAIL");
  if (o.keep)
    std::printf("\nLP files, solutions and cbc logs kept in %s\n", dir.c_str());
  else
    fs::remove_all(dir);
  return valid ? 0 : 1;
}
