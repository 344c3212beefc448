// fleet-sim: N simulated member clusters in one process, each a full agent (its own credential, protocol client
// and SimCluster), for the demo, the integration tests and the scale benchmark. It creates the clusters and their
// bootstrap tokens through the API with an operator token, keeps the credentials in a 0600 state file (a restart
// does not register again), and runs the agents until SIGTERM or --duration.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "agents/agent_client.hpp"
#include "agents/agent_runner.hpp"
#include "agents/agent_state.hpp"
#include "agents/fleet_spec.hpp"
#include "agents/latency_histogram.hpp"
#include "agents/secret_on_command_line.hpp"
#include "agents/sim_backend.hpp"
#include "common/log.hpp"
#include "common/stop_signals.hpp"
#include "net/http_client.hpp"

#ifndef FLEET_VERSION
#define FLEET_VERSION "0.0.0"
#endif

using namespace fleet;
using namespace fleet::agent;
using nlohmann::json;

namespace {

struct Flags {
  std::string server;
  std::string token;
  std::string ca_file;
  bool insecure_http = false;
  std::string spec_file;
  int clusters = 0;
  std::string gpu_mix = "h100:8x40%,a100:8x30%,l40s:4x30%";
  int nodes_per_cluster = 0;  // 0 → as generated
  std::uint64_t seed = 1;
  bool seed_given = false;
  double time_scale = 0;  // 0 → the spec's
  std::string state_file = "fleet-sim-state.json";
  int heartbeat_interval_seconds = 10;
  std::string long_poll = "auto";
  int duration_seconds = 0;
  int setup_threads = 8;
  int stack_kib = 256;
  int stats_interval_seconds = 30;
  int measure_after_seconds = 0;  // latency and rates count from here (a benchmark's warm-up is left out)
  double ramp_per_second = 200;   // first (full) heartbeats per second across the whole fleet, at most
  std::string shard;  // "I/K": run only the clusters whose index is I modulo K (one process holds ~4,500 agents)
  std::string report_file;
  std::string manifests_dir;  // --manifests-dir: each cluster's applied workload objects, as files
  std::string log_level = "info";
  std::string log_format = "auto";
};

// The operator-side calls fleet-sim makes (create a cluster, mint a bootstrap token). One client per thread.
class Operator {
 public:
  static Result<Operator> create(const Flags& f) {
    http::ClientOptions o;
    o.base_url = f.server;
    o.ca_file = f.ca_file;
    o.allow_plain_http = f.insecure_http;
    o.user_agent = std::string("fleet-sim/") + FLEET_VERSION;
    auto c = http::Client::create(o);
    if (!c) return c.error();
    return Operator(std::move(*c), f.token);
  }

  // Creates the cluster unless it exists (then it is left as it is: fleet-sim does not own its labels).
  Status ensure_cluster(const ClusterSpec& c) {
    json taints = json::array();
    for (const auto& t : c.taints) taints.push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
    json body = {{"name", c.name}, {"provider", c.provider}, {"labels", c.labels}, {"taints", taints}};
    if (!c.region.empty()) body["region"] = c.region;
    if (!c.update_group.empty()) body["updateGroup"] = c.update_group;
    auto r = call("POST", "/v1/clusters", body.dump());
    if (!r) return r.error();
    if (r->status == 201 || r->status == 409) return Ok{};
    return error_from_status(r->status, r->body, "POST /v1/clusters (" + c.name + ")");
  }

  Result<std::string> bootstrap_token(const std::string& cluster) {
    auto r = call("POST", "/v1/clusters/" + cluster + "/bootstrap-tokens", json{{"ttlSeconds", 600}}.dump());
    if (!r) return r.error();
    if (r->status != 201) {
      return error_from_status(r->status, r->body, "POST /v1/clusters/" + cluster + "/bootstrap-tokens");
    }
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j.contains("token") || !j["token"].is_string()) {
      return make_error(ErrorCode::kInternal, "no token in the bootstrap-token answer");
    }
    return j["token"].get<std::string>();
  }

 private:
  Operator(std::unique_ptr<http::Client> c, std::string token) : client_(std::move(c)), token_(std::move(token)) {}
  Result<http::ClientResponse> call(const std::string& method, const std::string& path, const std::string& body) {
    return client_->request(method, path, {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}},
                            body);
  }
  std::unique_ptr<http::Client> client_;
  std::string token_;
};

// One simulated cluster: its backend, its own protocol client and its runner.
struct SimAgent {
  ClusterSpec spec;
  std::unique_ptr<SimBackend> backend;
  std::unique_ptr<AgentClient> client;
  std::unique_ptr<AgentRunner> runner;
  pthread_t thread{};
};

Result<FleetSpec> load_spec(const Flags& f) {
  if (!f.spec_file.empty()) {
    std::ifstream in(f.spec_file, std::ios::binary);
    if (!in) return make_error(ErrorCode::kInvalid, "cannot read " + f.spec_file);
    std::ostringstream buf;
    buf << in.rdbuf();
    auto spec = parse_fleet_spec_text(buf.str());
    if (!spec) return make_error(ErrorCode::kInvalid, f.spec_file + ": " + spec.error().message);
    if (f.seed_given) spec->seed = f.seed;
    return spec;
  }
  auto spec = generate_fleet_spec(f.clusters, f.gpu_mix, f.seed);
  if (!spec || f.nodes_per_cluster <= 0) return spec;
  // Scale runs want a fixed cluster size: the last pool (gpu or cpu) takes whatever the system pool leaves.
  for (auto& c : spec->clusters) {
    int others = 0;
    for (std::size_t i = 0; i + 1 < c.pools.size(); ++i) others += c.pools[i].count;
    c.pools.back().count = std::max(1, f.nodes_per_cluster - others);
  }
  return spec;
}

// Registers every cluster that has no saved credential, `threads` at a time. The state file is saved once at the
// end and after every 500 registrations, so an interrupted setup keeps what it did.
Status set_up(const Flags& f, const FleetSpec& spec, AgentState& state) {
  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> registered{0};
  std::optional<Error> failure;
  auto work = [&] {
    auto op = Operator::create(f);
    if (!op) {
      std::lock_guard lock(mutex);
      failure = op.error();
      return;
    }
    auto client =
        AgentClient::create({f.server, f.ca_file, FLEET_VERSION, std::chrono::milliseconds(15000), f.insecure_http});
    if (!client) {
      std::lock_guard lock(mutex);
      failure = client.error();
      return;
    }
    for (std::size_t i = next++; i < spec.clusters.size(); i = next++) {
      {
        std::lock_guard lock(mutex);
        if (failure) return;
        if (state.credentials.count(spec.clusters[i].name)) continue;
      }
      const ClusterSpec& c = spec.clusters[i];
      Result<AgentIdentity> id = make_error(ErrorCode::kInternal, "not run");
      if (auto st = op->ensure_cluster(c); !st) {
        id = st.error();
      } else if (auto token = op->bootstrap_token(c.name); !token) {
        id = token.error();
      } else if (auto reg = (*client)->register_agent(*token); !reg) {
        id = reg.error();
      } else {
        id = reg->identity;
      }
      std::lock_guard lock(mutex);
      if (!id) {
        failure = id.error();
        return;
      }
      state.credentials[c.name] = id->credential;
      if (++registered % 500 == 0) {
        if (auto st = save_agent_state(f.state_file, state); !st) failure = st.error();
        log::info("registering", {{"registered", registered.load()}, {"clusters", spec.clusters.size()}});
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, f.setup_threads); ++i) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  if (registered > 0) {
    if (auto st = save_agent_state(f.state_file, state); !st) return st;
  }
  if (failure) return *failure;
  log::info("clusters ready",
            {{"clusters", spec.clusters.size()}, {"registeredNow", registered.load()}, {"stateFile", f.state_file}});
  return Ok{};
}

void* run_agent(void* arg) {
  static_cast<AgentRunner*>(arg)->run();
  return nullptr;
}

std::string ms(double micros) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << micros / 1000.0;
  return o.str();
}

json summary(const std::vector<std::unique_ptr<SimAgent>>& agents, const LatencyHistogram& latency,
             std::uint64_t failed_calls, double seconds) {
  std::uint64_t ok = 0, errors = 0, resyncs = 0, received = 0, finished = 0, reports = 0;
  for (const auto& a : agents) {
    const auto& c = a->runner->counters();
    ok += c.heartbeats_ok;
    errors += c.heartbeat_errors;
    resyncs += c.resyncs;
    received += c.commands_received;
    finished += c.commands_finished;
    reports += c.reports_sent;
  }
  return {{"agents", agents.size()},
          {"seconds", seconds},
          {"heartbeats", ok},
          {"heartbeatErrors", errors},
          {"failedCalls", failed_calls},
          {"resyncs", resyncs},
          {"heartbeatsPerSecond", seconds > 0 ? static_cast<double>(ok) / seconds : 0.0},
          {"latencyMs",
           {{"p50", latency.quantile_micros(0.50) / 1000.0},
            {"p90", latency.quantile_micros(0.90) / 1000.0},
            {"p99", latency.quantile_micros(0.99) / 1000.0},
            {"max", latency.quantile_micros(1.0) / 1000.0}}},
          {"latencyHistogram", latency.buckets()},
          {"commandsReceived", received},
          {"commandsFinished", finished},
          {"reportsSent", reports}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fleet-sim: runs N simulated member clusters, each a real fleet-agent protocol client"};
  app.set_version_flag("--version", std::string("fleet-sim ") + FLEET_VERSION);
  Flags f;
  app.add_option("--server", f.server, "fleetd's URL")->required();
  auto* token_opt = app.add_option("--token", f.token,
                                   "operator API token (creates clusters and bootstrap tokens; prefer FLEET_SIM_TOKEN)")
                        ->required()
                        ->envname("FLEET_SIM_TOKEN");
  app.add_option("--ca-file", f.ca_file, "PEM CA that signed fleetd's certificate");
  app.add_flag("--insecure-http", f.insecure_http, "allow a plain http:// fleetd on a non-loopback address");
  auto* spec_opt = app.add_option("--spec", f.spec_file, "fleet spec JSON (docs/fleet-spec.md)");
  auto* clusters_opt =
      app.add_option("--clusters", f.clusters, "generate a spec with N clusters")->check(CLI::Range(1, 100000));
  spec_opt->excludes(clusters_opt);
  app.add_option("--gpu-mix", f.gpu_mix, "with --clusters: model:gpusPerNode x share, …")->capture_default_str();
  app.add_option("--nodes-per-cluster", f.nodes_per_cluster, "with --clusters: resize each cluster to N nodes")
      ->check(CLI::Range(2, 5000));
  app.add_option("--seed", f.seed, "seed (overrides the spec's)");
  app.add_option("--time-scale", f.time_scale, "simulated seconds per real second (overrides the spec's)")
      ->check(CLI::Range(0.001, 1e6));
  app.add_option("--state-file", f.state_file, "credentials of the simulated agents (mode 0600)")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", f.heartbeat_interval_seconds, "seconds, until fleetd says otherwise")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--long-poll", f.long_poll,
                 "true: each agent long-polls commands (a thread and connection held each); false: poll when a "
                 "heartbeat says commands are queued; auto: true up to 2000 clusters")
      ->check(CLI::IsMember({"auto", "true", "false"}))
      ->capture_default_str();
  app.add_option("--duration", f.duration_seconds, "stop after this many seconds (0: until SIGTERM)")
      ->check(CLI::Range(0, 30 * 86400));
  app.add_option("--setup-threads", f.setup_threads, "parallel registrations")->check(CLI::Range(1, 64));
  app.add_option("--stack-kib", f.stack_kib, "stack size of each agent thread")->check(CLI::Range(64, 8192));
  app.add_option("--stats-interval", f.stats_interval_seconds, "seconds between summary log lines (0: none)")
      ->check(CLI::Range(0, 3600));
  app.add_option("--report-file", f.report_file, "write the final summary JSON here");
  app.add_option("--manifests-dir", f.manifests_dir,
                 "keep each cluster's applied workload objects in DIR/CLUSTER/WORKLOAD.json (tests, demos)");
  app.add_option("--shard", f.shard,
                 "I/K: run only clusters I, I+K, I+2K, … of the spec (split a big fleet over processes, each with "
                 "its own open-file limit)");
  app.add_option("--ramp", f.ramp_per_second,
                 "first heartbeats (full inventories) per second across the fleet, all shards together")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--measure-after", f.measure_after_seconds,
                 "seconds after the agents start before latency and rates are counted (a warm-up)")
      ->check(CLI::Range(0, 86400));
  app.add_option("--log-level", f.log_level, "debug|info|warn|error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log-format", f.log_format, "auto|console|json: auto is console on a terminal, JSON otherwise")
      ->check(CLI::IsMember({"auto", "console", "json"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
    if (!spec_opt->count() && !clusters_opt->count()) throw CLI::RequiredError("--spec or --clusters");
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  f.seed_given = app.count("--seed") > 0;
  log::set_component("fleet-sim");
  log::set_format(f.log_format);
  log::set_min_level(f.log_level);
  agent::warn_if_secret_on_command_line(*token_opt, f.token, "FLEET_SIM_TOKEN", "FLEET_SIM_TOKEN");
  sigset_t signals = block_stop_signals();

  auto spec = load_spec(f);
  if (!spec) {
    std::cerr << "fleet-sim: " << spec.error().message << "\n";
    return 2;
  }
  std::size_t fleet_clusters = spec->clusters.size();  // all shards together
  if (!f.shard.empty()) {
    unsigned index = 0, count = 0;
    char slash = 0;
    std::istringstream in(f.shard);
    if (!(in >> index >> slash >> count) || slash != '/' || count == 0 || index >= count || !in.eof()) {
      std::cerr << "fleet-sim: --shard must be I/K with 0 <= I < K, such as 0/2\n";
      return 2;
    }
    std::vector<ClusterSpec> mine;
    for (std::size_t i = index; i < spec->clusters.size(); i += count) mine.push_back(spec->clusters[i]);
    spec->clusters = std::move(mine);  // each cluster's draws come from the seed and its name, not its index
  }
  auto loaded = load_agent_state(f.state_file);
  if (!loaded) {
    std::cerr << "fleet-sim: " << loaded.error().message << "\n";
    return 2;
  }
  AgentState state{f.server, {}};
  if (*loaded) {
    if ((*loaded)->server != f.server) {
      std::cerr << "fleet-sim: " << f.state_file << " is for " << (*loaded)->server << ", not " << f.server
                << "; use another --state-file\n";
      return 2;
    }
    state = **loaded;
  }
  if (auto st = set_up(f, *spec, state); !st) {
    std::cerr << "fleet-sim: " << st.error().message << "\n";
    return 1;
  }

  const bool long_poll = f.long_poll == "true" || (f.long_poll == "auto" && spec->clusters.size() <= 2000);
  const double scale = f.time_scale > 0 ? f.time_scale : spec->time_scale;
  auto clock = scaled_steady_clock(scale);
  LatencyHistogram latency;
  std::atomic<bool> measuring{f.measure_after_seconds == 0};
  std::atomic<std::uint64_t> failed_calls{0};
  std::mutex state_mutex;
  // Each agent holds a connection and an event loop (four descriptors, eight with a long poll): raise the limit
  // to what the fleet needs (root may raise the hard limit too), or say why it will not fit.
  {
    const rlim_t need = static_cast<rlim_t>(spec->clusters.size()) * (long_poll ? 8 : 4) + 1024;
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < need) {
      rlimit want{need, std::max(need, lim.rlim_max)};
      if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
        want = {std::min(need, lim.rlim_max), lim.rlim_max};
        setrlimit(RLIMIT_NOFILE, &want);
        log::warn("the open-file limit is below what this fleet needs; agents may fail to connect",
                  {{"need", need}, {"limit", want.rlim_cur}});
      }
    }
  }
  std::vector<std::unique_ptr<SimAgent>> agents;
  agents.reserve(spec->clusters.size());
  for (std::size_t i = 0; i < spec->clusters.size(); ++i) {
    auto a = std::make_unique<SimAgent>();
    a->spec = spec->clusters[i];
    a->backend = std::make_unique<SimBackend>(SimCluster::from_fleet_spec(*spec, i), clock, scale);
    if (!f.manifests_dir.empty()) a->backend->set_manifests_dir(f.manifests_dir);
    auto client =
        AgentClient::create({f.server, f.ca_file, FLEET_VERSION, std::chrono::milliseconds(15000), f.insecure_http});
    if (!client) {
      std::cerr << "fleet-sim: " << client.error().message << "\n";
      return 2;
    }
    a->client = std::move(*client);
    AgentRunnerOptions opts;
    opts.agent_version = FLEET_VERSION;
    opts.heartbeat_interval = std::chrono::seconds(f.heartbeat_interval_seconds);
    opts.long_poll = long_poll;
    opts.seed = spec->seed * 1000003 + i;
    // Spread the first (full) heartbeats over one interval, or longer for big fleets (--ramp a second at most): no
    // thundering herd of full inventories at start.
    const double spread_seconds = std::max(static_cast<double>(f.heartbeat_interval_seconds),
                                           static_cast<double>(fleet_clusters) / f.ramp_per_second);
    opts.first_heartbeat_delay = std::chrono::milliseconds(static_cast<std::int64_t>(
        spread_seconds * 1000.0 * static_cast<double>(i) / static_cast<double>(spec->clusters.size())));
    SimBackend* backend = a->backend.get();
    BackendHints hints;
    hints.next_due = [backend, scale]() -> std::optional<std::chrono::milliseconds> {
      auto left = backend->seconds_until_due();
      if (!left) return std::nullopt;
      return std::chrono::milliseconds(static_cast<std::int64_t>(*left / scale * 1000.0));
    };
    hints.disconnected = [backend] { return backend->disconnected(); };
    // A credential fleetd forgot (the cluster was deleted and made again, say): make the cluster, register anew.
    SimAgent* raw = a.get();
    Reregister reregister = [&f, raw, &state, &state_mutex]() -> Result<AgentIdentity> {
      auto op = Operator::create(f);
      if (!op) return op.error();
      if (auto st = op->ensure_cluster(raw->spec); !st) return st.error();
      auto token = op->bootstrap_token(raw->spec.name);
      if (!token) return token.error();
      auto reg = raw->client->register_agent(*token);
      if (!reg) return reg.error();
      std::lock_guard lock(state_mutex);
      state.credentials[raw->spec.name] = reg->identity.credential;
      if (auto st = save_agent_state(f.state_file, state); !st) return st.error();
      return reg->identity;
    };
    a->runner = std::make_unique<AgentRunner>(opts, *a->client, *a->backend,
                                              AgentIdentity{a->spec.name, state.credentials.at(a->spec.name)}, hints,
                                              reregister);
    a->runner->set_latency_sink([&latency, &failed_calls, &measuring](std::int64_t micros, bool ok) {
      if (!measuring.load(std::memory_order_relaxed)) return;
      if (ok) {
        latency.record(micros);
      } else {
        failed_calls.fetch_add(1, std::memory_order_relaxed);
      }
    });
    agents.push_back(std::move(a));
  }

  // Thousands of agents: small stacks keep the process's memory in proportion to what the agents use.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, static_cast<std::size_t>(f.stack_kib) * 1024);
  for (auto& a : agents) {
    if (int rc = pthread_create(&a->thread, &attr, run_agent, a->runner.get()); rc != 0) {
      std::cerr << "fleet-sim: cannot start an agent thread (" << std::strerror(rc) << "); try a smaller "
                << "--stack-kib or fewer --clusters\n";
      std::_Exit(1);
    }
  }
  pthread_attr_destroy(&attr);
  std::cout << "fleet-sim: " << agents.size() << " simulated clusters running against " << f.server
            << (long_poll ? " (long poll)" : " (poll on hint)") << "; time scale " << scale << std::endl;

  // Start of the measured window; moved by the warm-up thread, read by the stats thread.
  std::atomic<std::chrono::steady_clock::rep> started{std::chrono::steady_clock::now().time_since_epoch().count()};
  auto elapsed = [&started] {
    auto from = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(started.load()));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
  };
  std::atomic<bool> stopping{false};
  // Counters at the start of the measured window, subtracted in the summary.
  json baseline = summary(agents, latency, failed_calls, 0);
  std::thread warmup([&] {
    for (int i = 0; i < f.measure_after_seconds * 10 && !stopping; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (stopping || f.measure_after_seconds == 0) return;
    baseline = summary(agents, latency, failed_calls, 0);
    started = std::chrono::steady_clock::now().time_since_epoch().count();
    measuring = true;
    log::info("measuring from now", {{"afterSeconds", f.measure_after_seconds}});
  });
  std::thread stats([&] {
    if (f.stats_interval_seconds <= 0) return;
    while (!stopping) {
      for (int i = 0; i < f.stats_interval_seconds * 10 && !stopping; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (stopping) break;
      log::info("summary", summary(agents, latency, failed_calls, elapsed()));
    }
  });

  if (f.duration_seconds > 0) {
    timespec timeout{f.duration_seconds, 0};
    sigtimedwait(&signals, nullptr, &timeout);
  } else {
    int sig = 0;
    sigwait(&signals, &sig);
  }
  stopping = true;
  stats.join();
  warmup.join();
  const double secs = elapsed();
  json final_summary = summary(agents, latency, failed_calls, secs);
  for (const char* key :
       {"heartbeats", "heartbeatErrors", "resyncs", "commandsReceived", "commandsFinished", "reportsSent"}) {
    final_summary[key] = final_summary[key].get<std::uint64_t>() - baseline[key].get<std::uint64_t>();
  }
  final_summary["heartbeatsPerSecond"] =
      secs > 0 ? static_cast<double>(final_summary["heartbeats"].get<std::uint64_t>()) / secs : 0.0;
  final_summary["measuredAfterSeconds"] = f.measure_after_seconds;
  log::info("stopping", final_summary);
  if (!f.report_file.empty()) {
    if (auto st = write_private_file(f.report_file, final_summary.dump(2) + "\n"); !st) {
      std::cerr << "fleet-sim: " << st.error().message << "\n";
    }
  }
  const auto& lat = final_summary["latencyMs"];
  std::cout << "heartbeats " << final_summary["heartbeats"] << " (" << final_summary["heartbeatsPerSecond"]
            << "/s), errors " << final_summary["heartbeatErrors"] << ", p50 " << ms(lat["p50"].get<double>() * 1000)
            << " ms, p99 " << ms(lat["p99"].get<double>() * 1000) << " ms" << std::endl;
  // Agents may sit in a long poll; their state is all in fleetd or re-deliverable, so exit without joining.
  std::_Exit(0);
}
