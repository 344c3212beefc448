#pragma once
// One agent's protocol loop, the same for every backend: heartbeat the inventory (full on connect, deltas after),
// long-poll commands, start them on the backend, log each step and report progress and results until fleetd has
// them. While fleetd is away it keeps the work in hand going, backs off with jitter, and keeps unreported results
// in memory; when fleetd returns it resends the full inventory and every pending report.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "agents/agent_client.hpp"
#include "agents/backoff.hpp"
#include "agents/cluster_backend.hpp"
#include "agents/report_pacing.hpp"
#include "protocol/heartbeat_sender.hpp"

namespace fleet::agent {

struct AgentRunnerOptions {
  std::string agent_version = "0.0.0";
  std::chrono::milliseconds heartbeat_interval{10000};  // until fleetd says otherwise
  std::chrono::milliseconds poll_wait{30000};           // the longest long poll
  // false: no long poll; poll once (wait 0) after a heartbeat whose reply says commands are queued. For running
  // thousands of simulated agents in one process, where a held request per agent would cost a thread each.
  bool long_poll = true;
  std::chrono::milliseconds first_heartbeat_delay{0};  // spreads the first heartbeats of many agents
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
  std::uint64_t seed = 1;  // jitter
  // How often the agent reads its cluster's admission policy from fleetd (and once at start).
  std::chrono::milliseconds admission_policy_interval{60000};
  // Probe results kept while fleetd is away; beyond this the oldest are dropped (and counted).
  std::size_t max_pending_probe_results = 10000;
  // A running command's progress goes to fleetd at most this often, its outcome at once (report_pacing.hpp).
  std::chrono::milliseconds progress_report_interval{5000};
};

// Optional knowledge from the backend that the loop uses when present (the sim has both).
struct BackendHints {
  std::function<std::optional<std::chrono::milliseconds>()> next_due;  // when progress is next expected
  std::function<bool()> disconnected;                                  // the agentDisconnect fault
};

// Called when fleetd no longer knows the credential (401): a fresh identity, or an Error to keep retrying later.
using Reregister = std::function<Result<AgentIdentity>()>;

struct AgentCounters {
  std::atomic<std::uint64_t> heartbeats_ok{0};
  std::atomic<std::uint64_t> heartbeat_errors{0};
  std::atomic<std::uint64_t> resyncs{0};
  std::atomic<std::uint64_t> commands_received{0};
  std::atomic<std::uint64_t> commands_finished{0};
  std::atomic<std::uint64_t> reports_sent{0};
  std::atomic<std::uint64_t> probe_results_sent{0};
  std::atomic<std::uint64_t> probe_results_dropped{0};
  // Unix milliseconds of the last heartbeat fleetd answered (0: none yet) and the interval in effect, for the
  // health port's readiness and metrics (agent_health.hpp), read from another thread.
  std::atomic<std::int64_t> last_heartbeat_answered_ms{0};
  std::atomic<std::int64_t> heartbeat_interval_ms{0};
};

class AgentRunner {
 public:
  AgentRunner(AgentRunnerOptions options, AgentClient& client, ClusterBackend& backend, AgentIdentity identity,
              BackendHints hints = {}, Reregister reregister = {});

  // Runs until stop() (from any thread). Never throws for network trouble.
  void run();
  void stop();

  const AgentIdentity& identity() const { return identity_; }
  const AgentCounters& counters() const { return counters_; }
  // Latency of each successful heartbeat call, for fleet-sim's summary (microseconds).
  void set_latency_sink(std::function<void(std::int64_t micros, bool ok)> sink) { latency_sink_ = std::move(sink); }

 private:
  using Clock = std::chrono::steady_clock;

  void collect_progress();
  bool send_heartbeat();
  bool flush_reports();
  bool poll_commands();  // at once, on the heartbeat's hint
  bool hold_poll(std::chrono::milliseconds wait);
  bool take_commands(const Result<CommandPoll>& polled);
  void accept(const LeasedCommand& leased);
  void queue_report(const protocol::CommandStatus& status);
  void renew_leases(Clock::time_point now);
  void on_unauthenticated(const Error& error);
  void refresh_admission_policy(Clock::time_point now);
  void sleep_for(std::chrono::milliseconds d);
  std::chrono::milliseconds next_wakeup(Clock::time_point now) const;

  AgentRunnerOptions options_;
  AgentClient& client_;
  ClusterBackend& backend_;
  AgentIdentity identity_;
  BackendHints hints_;
  Reregister reregister_;
  protocol::HeartbeatSender sender_;
  Backoff backoff_;
  AgentCounters counters_;
  std::function<void(std::int64_t, bool)> latency_sink_;

  Clock::time_point next_heartbeat_;
  Clock::time_point next_lease_renewal_;
  std::chrono::milliseconds lease_renewal_every_{20000};
  struct PendingReport {
    protocol::CommandReport report;
    Clock::time_point due;  // report_pacing.hpp
  };
  bool poll_now_ = false;                                 // a heartbeat reply said commands are queued
  std::map<std::string, PendingReport> pending_reports_;  // by command id; the newest state wins
  // Commands this agent received whose outcome fleetd does not have yet, each with when fleetd last heard of it
  // (or when it was received): what lease renewals cover and progress is paced from.
  std::map<std::string, Clock::time_point> in_flight_;
  std::deque<protocol::ProbeResult> pending_probe_results_;  // until a heartbeat carrying them is answered
  std::deque<protocol::UnguardedNode> pending_unguarded_;    // the same
  // The latest read-back state of each workload not yet sent, by name: a newer one replaces an unsent older one.
  std::map<std::string, protocol::WorkloadStatus> pending_workload_statuses_;
  Clock::time_point next_policy_read_;
  std::string admission_policy_text_;  // the last policy applied, to apply a change once
  std::string run_id_;                 // this run's prefix of reported probe ids

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace fleet::agent
