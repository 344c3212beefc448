// fleet-agent: one per member cluster. Registers once (bootstrap token → credential, kept in a 0600 state file),
// then runs the protocol loop (agent_runner.hpp) against the chosen backend until SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "agents/agent_client.hpp"
#include "agents/agent_runner.hpp"
#include "agents/agent_state.hpp"
#include "agents/fleet_spec.hpp"
#include "agents/health_server.hpp"
#include "agents/secret_on_command_line.hpp"
#include "agents/sim_backend.hpp"
#include "common/log.hpp"
#include "common/stop_signals.hpp"
#ifdef FLEET_WITH_KUBE_BACKEND
#include "agents/kube/kubernetes_backend.hpp"
#endif

#ifndef FLEET_VERSION
#define FLEET_VERSION "0.0.0"
#endif

using namespace fleet;
using namespace fleet::agent;

namespace {

struct Flags {
  std::string server;
  std::string ca_file;
  bool insecure_http = false;
  std::string bootstrap_token;
  std::string bootstrap_token_file;
  std::string backend = "sim";
  std::string state_file = "fleet-agent-state.json";
  std::string sim_spec;
  std::string sim_cluster;
  double time_scale = 0;  // 0 → the spec's
  std::string kubeconfig;
  std::string kube_context;
  int drain_timeout_seconds = 600;
  int workload_status_interval_seconds = 10;
  bool gpu_admission = true;
  std::string probe_namespace = "fleet-system";
  std::string probe_image;
  std::string upgrade_driver = "auto";
  std::string aks_cluster_id;
  std::string aksarc_cluster_id;
  std::string aks_arm_endpoint = "https://management.azure.com";
  std::string aks_ca_file;
  bool aks_disable_auto_upgrade = false;
  bool aks_ignore_planned_maintenance = false;
  std::string suc_namespace = "system-upgrade";
  std::string suc_upgrade_image = "rancher/k3s-upgrade";
  std::string suc_version_suffix = "+k3s1";
  double suc_poll_interval_seconds = 10;
  int heartbeat_interval_seconds = 10;
  std::string log_level = "info";
  std::string log_format = "auto";
  std::string health_listen;
};

Result<std::string> read_text_file(const std::string& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kInvalid, "cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > limit) return make_error(ErrorCode::kInvalid, path + " is larger than its limit");
  return text;
}

// The bootstrap token from --bootstrap-token or, re-read on every call, --bootstrap-token-file (a mounted Secret
// an operator can refresh).
Result<std::string> bootstrap_token(const Flags& f) {
  if (!f.bootstrap_token.empty()) return f.bootstrap_token;
  if (f.bootstrap_token_file.empty()) {
    return make_error(ErrorCode::kInvalid,
                      "no state file and no bootstrap token: pass --bootstrap-token or --bootstrap-token-file "
                      "(an operator makes one with `fleetctl create bootstrap-token --cluster NAME`)");
  }
  auto text = read_text_file(f.bootstrap_token_file, 4096);
  if (!text) return text.error();
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r' || text->back() == ' ')) text->pop_back();
  if (text->empty()) return make_error(ErrorCode::kInvalid, f.bootstrap_token_file + " is empty");
  return *text;
}

Result<AgentIdentity> register_and_save(AgentClient& client, const Flags& f) {
  auto token = bootstrap_token(f);
  if (!token) return token.error();
  auto reg = client.register_agent(*token);
  if (!reg) return reg.error();
  AgentState state{f.server, {{reg->identity.cluster, reg->identity.credential}}};
  if (auto st = save_agent_state(f.state_file, state); !st) return st.error();
  log::info("registered", {{"cluster", reg->identity.cluster}, {"stateFile", f.state_file}});
  return reg->identity;
}

// The saved identity, or a registration. Registration is retried with backoff while fleetd is unreachable; a
// refused token is final (exit 1), since retrying a used token cannot succeed.
Result<AgentIdentity> obtain_identity(AgentClient& client, const Flags& f) {
  auto saved = load_agent_state(f.state_file);
  if (!saved) return saved.error();
  if (*saved) {
    const AgentState& st = **saved;
    if (st.server != f.server) {
      return make_error(ErrorCode::kInvalid, "the state file " + f.state_file + " is for " + st.server + ", not " +
                                                 f.server + "; remove it to register with this server");
    }
    if (st.credentials.size() != 1) {
      return make_error(ErrorCode::kInvalid, "the state file " + f.state_file + " must hold exactly one agent");
    }
    log::info("using the saved credential", {{"cluster", st.credentials.begin()->first}});
    return AgentIdentity{st.credentials.begin()->first, st.credentials.begin()->second};
  }
  Backoff backoff(std::chrono::milliseconds(500), std::chrono::milliseconds(30000), std::random_device{}());
  while (true) {
    auto id = register_and_save(client, f);
    if (id || (id.error().code != ErrorCode::kUnavailable && id.error().code != ErrorCode::kInternal)) return id;
    auto wait = backoff.next();
    log::warn("cannot register yet; retrying", {{"error", id.error().message}, {"retryInMs", wait.count()}});
    std::this_thread::sleep_for(wait);
  }
}

struct Backend {
  std::unique_ptr<ClusterBackend> backend;
  BackendHints hints;
};

Result<Backend> make_sim_backend(const Flags& f, const std::string& cluster) {
  if (f.sim_spec.empty()) return make_error(ErrorCode::kInvalid, "--backend sim needs --sim-spec FILE (a fleet spec)");
  auto text = read_text_file(f.sim_spec, 16 * 1024 * 1024);
  if (!text) return text.error();
  auto spec = parse_fleet_spec_text(*text);
  if (!spec) return make_error(ErrorCode::kInvalid, f.sim_spec + ": " + spec.error().message);
  const std::string want = f.sim_cluster.empty() ? cluster : f.sim_cluster;
  std::size_t index = spec->clusters.size();
  for (std::size_t i = 0; i < spec->clusters.size(); ++i) {
    if (spec->clusters[i].name == want) index = i;
  }
  if (index == spec->clusters.size()) {
    if (spec->clusters.size() != 1) {
      return make_error(ErrorCode::kInvalid, f.sim_spec + " has no cluster named \"" + want + "\"");
    }
    index = 0;  // a one-cluster spec describes this cluster whatever its name
    spec->clusters[0].name = cluster;
  }
  double scale = f.time_scale > 0 ? f.time_scale : spec->time_scale;
  auto sim = std::make_unique<SimBackend>(SimCluster::from_fleet_spec(*spec, index), scaled_steady_clock(scale), scale);
  Backend out;
  SimBackend* raw = sim.get();
  out.hints.next_due = [raw, scale]() -> std::optional<std::chrono::milliseconds> {
    auto left = raw->seconds_until_due();
    if (!left) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(*left / scale * 1000.0));
  };
  out.hints.disconnected = [raw] { return raw->disconnected(); };
  out.backend = std::move(sim);
  return out;
}

Result<Backend> make_backend(const Flags& f, const std::string& cluster) {
  if (f.backend == "sim") return make_sim_backend(f, cluster);
#ifdef FLEET_WITH_KUBE_BACKEND
  KubernetesBackendOptions opts;
  opts.kubeconfig = f.kubeconfig;
  opts.context = f.kube_context;
  opts.drain_timeout = std::chrono::seconds(f.drain_timeout_seconds);
  opts.workload_status_interval = std::chrono::seconds(f.workload_status_interval_seconds);
  opts.gpu_admission = f.gpu_admission;
  opts.probe_namespace = f.probe_namespace;
  opts.probe_image = f.probe_image;
  opts.upgrade_driver = f.upgrade_driver;
  opts.aks.cluster_id = f.aks_cluster_id;
  opts.aks.arc_cluster_id = f.aksarc_cluster_id;
  opts.aks.arm_endpoint = f.aks_arm_endpoint;
  opts.aks.ca_file = f.aks_ca_file;
  opts.aks.disable_auto_upgrade = f.aks_disable_auto_upgrade;
  opts.aks.honor_planned_maintenance = !f.aks_ignore_planned_maintenance;
  opts.suc.namespace_ = f.suc_namespace;
  opts.suc.upgrade_image = f.suc_upgrade_image;
  opts.suc.version_suffix = f.suc_version_suffix;
  opts.suc.poll_interval =
      std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(f.suc_poll_interval_seconds * 1000)));
  opts.cluster_name = cluster;  // seeds generated GPU uuids: two clusters with the same node names must differ
  auto kube = make_kubernetes_backend(opts);
  if (!kube) return kube.error();
  Backend out;
  const ClusterBackend* raw = kube->get();
  // A step a worker finished is collected within progress_check, not at the end of a long poll (up to the
  // heartbeat interval later).
  out.hints.next_due = [raw] { return kubernetes_progress_due(*raw); };
  out.backend = std::move(*kube);
  return out;
#else
  return make_error(ErrorCode::kInvalid, "this fleet-agent was built without the kubernetes backend");
#endif
}

// What the health port reports: the runner's counters once it exists, the process alone before (registration).
// The cluster is passed in rather than read from the runner, whose identity its own thread may replace.
AgentHealthSnapshot health_snapshot(const Flags& f, const std::string& cluster, const AgentRunner* runner) {
  AgentHealthSnapshot s;
  s.version = FLEET_VERSION;
  s.backend = f.backend;
  if (runner == nullptr) return s;
  const AgentCounters& c = runner->counters();
  s.cluster = cluster;
  if (const auto ms = c.last_heartbeat_answered_ms.load(); ms > 0) {
    s.last_heartbeat_answered = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  }
  s.heartbeat_interval = std::chrono::milliseconds(c.heartbeat_interval_ms.load());
  s.heartbeats_ok = c.heartbeats_ok;
  s.heartbeat_errors = c.heartbeat_errors;
  s.resyncs = c.resyncs;
  s.commands_received = c.commands_received;
  s.commands_finished = c.commands_finished;
  s.reports_sent = c.reports_sent;
  s.probe_results_sent = c.probe_results_sent;
  s.probe_results_dropped = c.probe_results_dropped;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fleet-agent: connects one member cluster to fleetd (inventory heartbeats, commands)"};
  app.set_version_flag("--version", std::string("fleet-agent ") + FLEET_VERSION);
  Flags f;
  app.add_option("--server", f.server, "fleetd's URL, https://host:port (http only for loopback)")->required();
  app.add_option("--ca-file", f.ca_file, "PEM CA that signed fleetd's certificate (fleetd --tls auto prints it)");
  app.add_flag("--insecure-http", f.insecure_http,
               "allow a plain http:// fleetd on a non-loopback address (the credential travels unencrypted)");
  auto* token_opt =
      app.add_option("--bootstrap-token", f.bootstrap_token,
                     "one-time token for the first registration (visible to local users: prefer the file or "
                     "FLEET_BOOTSTRAP_TOKEN)")
          ->envname("FLEET_BOOTSTRAP_TOKEN");
  app.add_option("--bootstrap-token-file", f.bootstrap_token_file, "file holding the bootstrap token (a Secret)");
  app.add_option("--backend", f.backend, "kubernetes|sim")
      ->check(CLI::IsMember({"kubernetes", "sim"}))
      ->capture_default_str();
  app.add_option("--state-file", f.state_file, "where the credential is kept (mode 0600)")->capture_default_str();
  app.add_option("--sim-spec", f.sim_spec, "sim backend: fleet spec JSON (docs/fleet-spec.md)");
  app.add_option("--sim-cluster", f.sim_cluster, "sim backend: the spec cluster to simulate (default: ours)");
  app.add_option("--time-scale", f.time_scale, "sim backend: simulated seconds per real second (default: spec's)")
      ->check(CLI::Range(0.001, 1e6));
  app.add_option("--kubeconfig", f.kubeconfig, "kubernetes backend: kubeconfig path (default: in-cluster)");
  app.add_option("--kube-context", f.kube_context, "kubernetes backend: kubeconfig context");
  app.add_option("--workload-status-interval", f.workload_status_interval_seconds,
                 "kubernetes backend: seconds between read-backs of the applied workloads' status")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--drain-timeout", f.drain_timeout_seconds, "kubernetes backend: seconds a drain may take")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--gpu-admission", f.gpu_admission,
                 "kubernetes backend: prove GPU nodes with gpu-probe before they take work (true|false)")
      ->capture_default_str();
  app.add_option("--probe-namespace", f.probe_namespace, "kubernetes backend: namespace of the gpu-probe Jobs")
      ->capture_default_str();
  app.add_option("--probe-image", f.probe_image,
                 "kubernetes backend: gpu-probe image (default ghcr.io/fleetd/gpu-probe:<version>)");
  app.add_option("--upgrade-driver", f.upgrade_driver,
                 "kubernetes backend: who carries out upgrade_control_plane / upgrade_node_pool: auto (aks when "
                 "--aks-cluster-id is set, aksarc when --aksarc-cluster-id is), aks, aksarc (AKS on Azure Local), "
                 "system-upgrade-controller (k3s / RKE2), none")
      ->check(CLI::IsMember({"auto", "aks", "aksarc", "system-upgrade-controller", "none"}))
      ->capture_default_str();
  app.add_option("--aks-cluster-id", f.aks_cluster_id,
                 "aks upgrade driver: the managed cluster's ARM resource id (az aks show --query id); the agent "
                 "authenticates with Azure workload identity (AZURE_CLIENT_ID, AZURE_TENANT_ID, "
                 "AZURE_FEDERATED_TOKEN_FILE)");
  app.add_option("--aksarc-cluster-id", f.aksarc_cluster_id,
                 "aksarc upgrade driver (AKS enabled by Azure Arc, AKS on Azure Local): the Arc connected cluster's "
                 "ARM resource id (az connectedk8s show --query id); the same workload identity as aks");
  app.add_option("--aks-arm-endpoint", f.aks_arm_endpoint,
                 "aks and aksarc upgrade drivers: Azure Resource Manager endpoint")
      ->capture_default_str();
  app.add_option("--aks-ca-file", f.aks_ca_file,
                 "aks and aksarc upgrade drivers: PEM CA for the ARM endpoint and the Entra authority, where they "
                 "use a private one (Azure Stack, a disconnected Azure Local, a test double); default: the system's");
  app.add_flag("--aks-disable-auto-upgrade", f.aks_disable_auto_upgrade,
               "aks upgrade driver: set the cluster's own auto-upgrade channel to none instead of failing upgrades "
               "while it is on (the fleet is the one upgrade authority)");
  app.add_flag("--aks-ignore-planned-maintenance", f.aks_ignore_planned_maintenance,
               "aks upgrade driver: upgrade outside the cluster's AKS planned maintenance windows "
               "(aksManagedAutoUpgradeSchedule, aksManagedNodeOSUpgradeSchedule) too; by default an upgrade waits "
               "for its window");
  app.add_option("--suc-namespace", f.suc_namespace, "system-upgrade-controller driver: namespace of the Plans")
      ->capture_default_str();
  app.add_option("--suc-upgrade-image", f.suc_upgrade_image,
                 "system-upgrade-controller driver: the upgrade image (rancher/rke2-upgrade for RKE2)")
      ->capture_default_str();
  app.add_option("--suc-version-suffix", f.suc_version_suffix,
                 "system-upgrade-controller driver: appended to the Kubernetes version (+rke2r1 for RKE2)")
      ->capture_default_str();
  app.add_option("--suc-poll-interval", f.suc_poll_interval_seconds,
                 "system-upgrade-controller driver: seconds between reads of a Plan's status (and its Jobs)")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  app.add_option("--heartbeat-interval", f.heartbeat_interval_seconds,
                 "seconds between heartbeats until fleetd says otherwise")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "debug|info|warn|error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--health-listen", f.health_listen,
                 "HOST:PORT to serve /healthz, /readyz and /metrics on (plain HTTP; off when empty), e.g. "
                 "0.0.0.0:9400 for the kubelet's probes");
  app.add_option("--log-format", f.log_format, "auto|console|json: auto is console on a terminal, JSON otherwise")
      ->check(CLI::IsMember({"auto", "console", "json"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  log::set_component("fleet-agent");
  log::set_format(f.log_format);
  log::set_min_level(f.log_level);
  agent::warn_if_secret_on_command_line(*token_opt, f.bootstrap_token, "FLEET_BOOTSTRAP_TOKEN",
                                        "--bootstrap-token-file or FLEET_BOOTSTRAP_TOKEN");
  sigset_t signals = block_stop_signals();

  // Before registration, so that the liveness probe answers while the agent still waits for fleetd.
  std::atomic<const AgentRunner*> running{nullptr};
  std::string cluster;  // written once, before `running` is set
  std::unique_ptr<HealthServer> health;
  if (!f.health_listen.empty()) {
    auto started = HealthServer::start(
        f.health_listen, [&f, &cluster, &running] { return health_snapshot(f, cluster, running.load()); });
    if (!started) {
      std::cerr << "fleet-agent: " << started.error().message << "\n";
      return 2;
    }
    health = std::move(*started);
  }

  auto client =
      AgentClient::create({f.server, f.ca_file, FLEET_VERSION, std::chrono::milliseconds(15000), f.insecure_http});
  if (!client) {
    std::cerr << "fleet-agent: " << client.error().message << "\n";
    return 2;
  }
  auto identity = obtain_identity(**client, f);
  if (!identity) {
    std::cerr << "fleet-agent: " << identity.error().message << "\n";
    return 1;
  }
  auto backend = make_backend(f, identity->cluster);
  if (!backend) {
    std::cerr << "fleet-agent: " << backend.error().message << "\n";
    return 2;
  }
  AgentRunnerOptions opts;
  opts.agent_version = FLEET_VERSION;
  opts.heartbeat_interval = std::chrono::seconds(f.heartbeat_interval_seconds);
  opts.seed = std::random_device{}();
  AgentRunner runner(opts, **client, *backend->backend, *identity, backend->hints,
                     [&] { return register_and_save(**client, f); });

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::info("stopping", {{"signal", sig}});
    runner.stop();
    // A long poll in flight ends within its wait; nothing is lost by not waiting for it: fleetd re-delivers an
    // unreported command when its lease expires.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::_Exit(0);
  });
  signal_thread.detach();
  cluster = identity->cluster;
  running = &runner;
  runner.run();
  running = nullptr;  // the health port outlives the runner by a moment
  return 0;
}
