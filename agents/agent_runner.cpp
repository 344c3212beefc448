#include "agents/agent_runner.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>
#include <utility>

#include "admission/admission_policy_json.hpp"
#include "common/log.hpp"

namespace fleet::agent {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// 12 hex digits from the wall clock and the random device: unique across the runs of one cluster's agent.
std::string make_run_id() {
  std::random_device device;
  const auto now = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  const std::uint64_t mixed = now ^ (static_cast<std::uint64_t>(device()) << 20U) ^ device();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(mixed & 0xffffffffffffULL));
  return buf;
}

}  // namespace

AgentRunner::AgentRunner(AgentRunnerOptions options, AgentClient& client, ClusterBackend& backend,
                         AgentIdentity identity, BackendHints hints, Reregister reregister)
    : options_(std::move(options)),
      client_(client),
      backend_(backend),
      identity_(std::move(identity)),
      hints_(std::move(hints)),
      reregister_(std::move(reregister)),
      sender_(options_.agent_version),
      backoff_(options_.backoff_base, options_.backoff_cap, options_.seed),
      run_id_(make_run_id()) {
  counters_.heartbeat_interval_ms = options_.heartbeat_interval.count();
}

void AgentRunner::stop() {
  std::lock_guard lock(stop_mutex_);
  stopping_ = true;
  stop_cv_.notify_all();
}

void AgentRunner::sleep_for(milliseconds d) {
  std::unique_lock lock(stop_mutex_);
  stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

void AgentRunner::run() {
  const auto start = Clock::now();
  next_heartbeat_ = start + options_.first_heartbeat_delay;
  next_lease_renewal_ = start + lease_renewal_every_;
  next_policy_read_ = start;
  log::info("agent started", {{"cluster", identity_.cluster}, {"backend", backend_.name()}});
  while (true) {
    {
      std::lock_guard lock(stop_mutex_);
      if (stopping_) break;
    }
    collect_progress();
    if (hints_.disconnected && hints_.disconnected()) {
      // The simulated cut-off: the cluster's work goes on, but nothing reaches fleetd.
      sleep_for(milliseconds(200));
      continue;
    }
    bool ok = flush_reports();
    auto now = Clock::now();
    if (ok && now >= next_heartbeat_) {
      ok = send_heartbeat();
      next_heartbeat_ = Clock::now() + options_.heartbeat_interval;
    }
    if (ok && now >= next_policy_read_) refresh_admission_policy(now);
    if (ok && now >= next_lease_renewal_) {
      renew_leases(now);
      ok = flush_reports();
    }
    if (!ok) {
      auto wait = backoff_.next();
      // The heartbeat schedule restarts when fleetd answers again; until then the backoff decides.
      next_heartbeat_ = std::min(next_heartbeat_, Clock::now() + wait);
      sleep_for(wait);
      continue;
    }
    backoff_.reset();
    // The heartbeat moved the backend forward too (the sim's inventory and probe results advance its clock): what
    // happened meanwhile is collected now, or the wait below would not know of it and the agent would sleep on a
    // finished step until its next heartbeat (5 s late at 1,000 clusters, issue #12 benchmark (b)).
    collect_progress();
    auto wait = next_wakeup(Clock::now());
    if (options_.long_poll) {
      if (!hold_poll(wait)) sleep_for(backoff_.next());
    } else if (poll_now_) {
      poll_now_ = false;
      if (!poll_commands()) sleep_for(backoff_.next());
    } else if (wait.count() > 0) {
      sleep_for(wait);
    }
  }
  log::info("agent stopped", {{"cluster", identity_.cluster}});
}

milliseconds AgentRunner::next_wakeup(Clock::time_point now) const {
  milliseconds wait = std::chrono::duration_cast<milliseconds>(next_heartbeat_ - now);
  wait = std::min(wait, options_.poll_wait);
  wait = std::min(wait, std::chrono::duration_cast<milliseconds>(next_lease_renewal_ - now));
  if (hints_.next_due) {
    // A floor against spinning, small enough that a fast-forwarded simulation (fleet-sim with a large timeScale,
    // where a node's drain, upgrade and probe are each due within microseconds) is not paced by it: at 50 ms a
    // node took 0.2 s of wall time whatever the scale, and a staged run over 100 clusters seconds.
    if (auto due = hints_.next_due()) wait = std::min(wait, std::max(*due, milliseconds(5)));
  }
  for (const auto& [id, pending] : pending_reports_) {
    wait = std::min(wait, std::chrono::ceil<milliseconds>(pending.due - now));
  }
  return std::max(wait, milliseconds(0));
}

void AgentRunner::collect_progress() {
  for (const protocol::CommandEvent& event : backend_.poll()) {
    json line = to_json(event);
    line["cluster"] = identity_.cluster;
    if (protocol::is_finish_event(event)) {
      counters_.commands_finished.fetch_add(1);
      log::info("command finished", line);
    } else {
      log::info("step", line);
    }
    if (event.command_id.empty()) continue;
    if (auto status = backend_.status(event.command_id)) queue_report(*status);
  }
}

void AgentRunner::queue_report(const protocol::CommandStatus& status) {
  const auto now = Clock::now();
  const Clock::time_point last = in_flight_.try_emplace(status.id, now).first->second;
  auto due = report_due(status, last, now, options_.progress_report_interval);
  // A report already waiting keeps its place (a lease renewal may have made it due now).
  if (auto it = pending_reports_.find(status.id); it != pending_reports_.end()) due = std::min(due, it->second.due);
  pending_reports_[status.id] = PendingReport{protocol::report_for(status), due};
}

// A running command's lease must outlive the work: each renewal is a "running" report.
void AgentRunner::renew_leases(Clock::time_point now) {
  next_lease_renewal_ = now + lease_renewal_every_;
  for (const auto& entry : in_flight_) {
    const std::string& id = entry.first;
    if (auto waiting = pending_reports_.find(id); waiting != pending_reports_.end()) {
      waiting->second.due = std::min(waiting->second.due, now);  // paced progress goes now: it renews the lease
      continue;
    }
    if (auto status = backend_.status(id)) pending_reports_[id] = PendingReport{protocol::report_for(*status), now};
  }
}

bool AgentRunner::flush_reports() {
  const auto now = Clock::now();
  for (auto it = pending_reports_.begin(); it != pending_reports_.end();) {
    if (it->second.due > now) {
      ++it;
      continue;
    }
    auto sent = client_.report(identity_, it->second.report);
    if (!sent) {
      const Error& e = sent.error();
      if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kInternal) {
        log::warn("cannot report a command; keeping it",
                  {{"cluster", identity_.cluster}, {"command", it->first}, {"error", e.message}});
        return false;
      }
      if (e.code == ErrorCode::kUnauthenticated) {
        on_unauthenticated(e);
        return false;
      }
      // fleetd refuses this report for good (the command was deleted, or the report is invalid): drop it.
      log::warn("fleetd refused a command report",
                {{"cluster", identity_.cluster}, {"command", it->first}, {"error", e.message}});
    } else {
      counters_.reports_sent.fetch_add(1);
    }
    if (protocol::is_final(it->second.report.state)) {
      in_flight_.erase(it->first);
    } else {
      in_flight_[it->first] = now;
    }
    it = pending_reports_.erase(it);
  }
  return true;
}

bool AgentRunner::send_heartbeat() {
  auto inventory = backend_.inventory();
  if (!inventory) {
    // Nothing trustworthy to report; fleetd will see the silence and mark the cluster unreachable.
    log::warn("cannot read the cluster's inventory",
              {{"cluster", identity_.cluster}, {"error", inventory.error().message}});
    return true;
  }
  for (auto& r : backend_.take_probe_results()) {
    // Backends number probes from 1 when they start; fleetd keeps results once per (cluster, probe id), so the id
    // it sees carries this run's id too: a restarted agent's first probe is not taken for a repeat.
    r.probe_id = run_id_ + "." + r.probe_id;
    if (r.probe_id.size() > protocol::kMaxProbeIdLength) r.probe_id.resize(protocol::kMaxProbeIdLength);
    pending_probe_results_.push_back(std::move(r));
  }
  while (pending_probe_results_.size() > options_.max_pending_probe_results) {
    pending_probe_results_.pop_front();
    counters_.probe_results_dropped.fetch_add(1);
  }
  for (auto& u : backend_.take_unguarded_nodes()) pending_unguarded_.push_back(std::move(u));
  while (pending_unguarded_.size() > options_.max_pending_probe_results) pending_unguarded_.pop_front();
  for (auto& w : backend_.take_workload_statuses()) pending_workload_statuses_[w.workload] = std::move(w);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt > 0) {
      inventory = backend_.inventory();  // the first one was moved into the sender
      if (!inventory) return true;
    }
    protocol::HeartbeatEnvelope envelope = sender_.next(std::move(*inventory));
    const std::size_t carried = std::min(pending_probe_results_.size(), protocol::kMaxProbeResultsPerHeartbeat);
    envelope.probe_results.assign(pending_probe_results_.begin(),
                                  pending_probe_results_.begin() + static_cast<std::ptrdiff_t>(carried));
    const std::size_t unguarded = std::min(pending_unguarded_.size(), protocol::kMaxUnguardedPerHeartbeat);
    envelope.unguarded_nodes.assign(pending_unguarded_.begin(),
                                    pending_unguarded_.begin() + static_cast<std::ptrdiff_t>(unguarded));
    for (const auto& [name, status] : pending_workload_statuses_) {
      if (envelope.workload_statuses.size() == protocol::kMaxWorkloadStatusesPerHeartbeat) break;
      envelope.workload_statuses.push_back(status);
    }
    const auto t0 = Clock::now();
    auto reply = client_.heartbeat(identity_, to_json(envelope));
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    if (latency_sink_) latency_sink_(micros, reply.ok());
    if (!reply) {
      counters_.heartbeat_errors.fetch_add(1);
      // Send the same base again under the same sequence. fleetd refused it (an HTTP answer: it applied nothing),
      // or it never got there (connection refused while fleetd restarts), or it is unknown whether it arrived
      // (a timeout): if it was applied, fleetd sees the sequence again and asks for a full inventory (a repeat
      // is a gap); if not, the delta simply applies. Either way no full inventory is sent unless fleetd asks,
      // so thousands of agents coming back from an outage do not all send one.
      sender_.not_applied();
      if (reply.error().code == ErrorCode::kUnauthenticated) {
        on_unauthenticated(reply.error());
      } else {
        log::warn("heartbeat failed", {{"cluster", identity_.cluster}, {"error", reply.error().message}});
      }
      return false;
    }
    // fleetd stored the results before anything else (it answers 2xx only after committing them).
    pending_probe_results_.erase(pending_probe_results_.begin(),
                                 pending_probe_results_.begin() + static_cast<std::ptrdiff_t>(carried));
    counters_.probe_results_sent.fetch_add(carried);
    pending_unguarded_.erase(pending_unguarded_.begin(),
                             pending_unguarded_.begin() + static_cast<std::ptrdiff_t>(unguarded));
    for (const protocol::WorkloadStatus& sent : envelope.workload_statuses)
      pending_workload_statuses_.erase(sent.workload);
    if (reply->heartbeat_interval_seconds && *reply->heartbeat_interval_seconds > 0) {
      options_.heartbeat_interval = std::chrono::seconds(*reply->heartbeat_interval_seconds);
    }
    counters_.heartbeat_interval_ms = options_.heartbeat_interval.count();
    counters_.last_heartbeat_answered_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    if (reply->commands_pending) poll_now_ = true;
    if (!reply->resync) {
      counters_.heartbeats_ok.fetch_add(1);
      return true;
    }
    counters_.resyncs.fetch_add(1);
    log::info("fleetd asked for a full inventory", {{"cluster", identity_.cluster}, {"reason", reply->reason}});
    sender_.request_full();
  }
  return true;
}

bool AgentRunner::poll_commands() {
  return take_commands(client_.poll_commands(identity_));
}

// One long poll is held across the loop's rounds: sent once, then awaited until the loop's next wake-up each round.
// The agent's own timers (a heartbeat due, a step of its cluster due) so cost no request. When each wake-up ended
// the poll and sent a new one, 1,000 fleet-sim clusters sent fleetd 400 polls a second, twice their heartbeats,
// in bursts whenever a staged run moved their nodes in step (issue #12 benchmark (b)).
bool AgentRunner::hold_poll(milliseconds wait) {
  if (!client_.holding_poll()) {
    if (auto sent = client_.start_poll(identity_, options_.poll_wait); !sent) return take_commands(sent.error());
  }
  auto answer = client_.await_poll(Clock::now() + wait);
  if (!answer) return true;  // fleetd holds it still
  return take_commands(*answer);
}

bool AgentRunner::take_commands(const Result<CommandPoll>& polled) {
  if (!polled) {
    if (polled.error().code == ErrorCode::kUnauthenticated) {
      on_unauthenticated(polled.error());
    } else {
      log::warn("command poll failed", {{"cluster", identity_.cluster}, {"error", polled.error().message}});
    }
    return false;
  }
  if (polled->lease_seconds && *polled->lease_seconds > 0) {
    // Renew at a third of the lease, so one lost renewal does not lose the lease.
    lease_renewal_every_ = std::max(milliseconds(500), milliseconds(*polled->lease_seconds * 1000 / 3));
  }
  for (const auto& leased : polled->commands) accept(leased);
  return true;
}

void AgentRunner::accept(const LeasedCommand& leased) {
  counters_.commands_received.fetch_add(1);
  json fields = {
      {"cluster", identity_.cluster}, {"command", leased.id}, {"kind", leased.kind}, {"attempt", leased.attempt}};
  auto refuse = [&](const Error& error) {
    fields["error"] = error.message;
    log::warn("command rejected", fields);
    protocol::CommandStatus failed;
    failed.id = leased.id;
    failed.kind = leased.kind;
    failed.state = protocol::CommandState::kFailed;
    failed.message = error.message;
    queue_report(failed);
  };
  // fleetd checked the payload when it was queued; a newer fleetd may still send what this agent cannot read.
  auto command = protocol::parse_command(leased.id, leased.kind, leased.payload);
  if (!command) return refuse(command.error());
  auto started = backend_.start(*command);
  if (!started) return refuse(started.error());
  if (started->started) {
    log::info("command accepted", fields);
  } else {
    // Delivered again (a lease expired while fleetd or this agent was away): never run twice, report what we have.
    fields["state"] = to_string(started->status.state);
    log::info("command already known; reporting its state again", fields);
  }
  queue_report(started->status);
  collect_progress();  // commands that finish at once (cordon_cluster) report in the same round
}

// A policy that does not read (a newer fleetd's) leaves the one in force: admission goes on as it was.
void AgentRunner::refresh_admission_policy(Clock::time_point now) {
  next_policy_read_ = now + options_.admission_policy_interval;
  auto reply = client_.admission_policy(identity_);
  if (!reply) {
    log::warn("cannot read the admission policy", {{"cluster", identity_.cluster}, {"error", reply.error().message}});
    return;
  }
  json settings = *reply;
  const json name = settings.value("policy", json(nullptr));
  settings.erase("policy");
  std::string text = settings.dump();
  if (text == admission_policy_text_) return;
  auto policy = admission::admission_policy_from_json(settings, "policy");
  if (!policy) {
    log::warn("fleetd's admission policy does not read; keeping the one in force",
              {{"cluster", identity_.cluster}, {"error", policy.error().message}});
    return;
  }
  backend_.set_admission_policy(*policy);
  admission_policy_text_ = std::move(text);
  log::info("admission policy applied", {{"cluster", identity_.cluster}, {"policy", name}, {"settings", settings}});
}

void AgentRunner::on_unauthenticated(const Error& error) {
  log::error("fleetd does not know this agent's credential",
             {{"cluster", identity_.cluster}, {"error", error.message}});
  if (!reregister_) return;
  auto fresh = reregister_();
  if (!fresh) {
    log::error("cannot register again", {{"cluster", identity_.cluster}, {"error", fresh.error().message}});
    return;
  }
  identity_ = *fresh;
  client_.abandon_poll();  // held under the old credential: its answer would be one more 401
  sender_.request_full();
  log::info("registered again", {{"cluster", identity_.cluster}});
}

}  // namespace fleet::agent
