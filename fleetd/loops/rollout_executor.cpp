#include "fleetd/loops/rollout_executor.hpp"

#include <cstdlib>
#include <pqxx/pqxx>

#include "common/log.hpp"
#include "fleetd/db/lock_keys.hpp"
#include "fleetd/store/drain_hold_store.hpp"
#include "fleetd/store/rollout_store.hpp"
#include "rollout/run_machine.hpp"

namespace fleet {
namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, std::function<void(const std::string&)> on)
      : pqxx::notification_receiver(conn, store::kRolloutChannel), on_(std::move(on)) {}
  void operator()(const std::string& payload, int) override { on_(payload); }

 private:
  std::function<void(const std::string&)> on_;
};

// A decision can open the way for another at the same instant (a member done → its group done → the next stage
// starts): advance until nothing changes, with a bound in case of a bug that flips a state back and forth.
constexpr int kMaxPasses = 16;

}  // namespace

RolloutExecutor::RolloutExecutor(Options options, const Clock& clock) : options_(std::move(options)), clock_(clock) {
  if (const char* n = std::getenv("FLEETD_FAULT_ROLLOUT_CRASH_BEFORE_COMMIT")) {
    crash_before_commit_ = std::strtoull(n, nullptr, 10);
    log::warn("fault injection on: the process dies before committing a rollout decision",
              {{"afterDecisions", crash_before_commit_}});
  }
}

RolloutExecutor::~RolloutExecutor() {
  stop();
}

void RolloutExecutor::start() {
  thread_ = std::thread([this] { run(); });
}

void RolloutExecutor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

RolloutExecutorStats RolloutExecutor::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void RolloutExecutor::note(const std::string& payload) {
  std::lock_guard lock(mutex_);
  notified_.insert(payload);
}

RolloutExecutor::Outcome RolloutExecutor::advance_run(pqxx::transaction_base& txn, const std::string& name,
                                                      Clock::WallTime now) {
  Outcome out;
  const auto version = store::lock_rollout(txn, name);
  if (!version) {
    kept_.erase(name);
    return out;
  }
  out.found = true;
  out.resource_version = *version;
  // A copy: if this transaction fails, what the executor keeps must still be what is stored.
  auto kept = kept_.find(name);
  if (kept != kept_.end() && kept->second.resource_version == *version) {
    out.state = kept->second.state;
  } else {
    auto stored = store::load_rollout(txn, name, false);
    if (!stored) return out;
    out.state = std::move(stored->state);
  }
  rollout::RunState& st = *out.state;
  std::vector<rollout::HeldDrain> held;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    const auto obs = store::observe(txn, st);
    rollout::Decision d = rollout::advance(st, obs, now);
    held = d.held_drains;  // each look lists every held drain: the last one is the run's
    out.wake_at = d.wake_at;
    const bool changed = d.run_changed || !d.events.empty() || !d.commands.empty() || !d.changed_members.empty();
    out.finished_steps.insert(out.finished_steps.end(), d.finished_steps.begin(), d.finished_steps.end());
    for (const auto& e : d.events) {
      if (e.scope != "member") continue;
      out.members_succeeded += e.to == "Succeeded";
      out.members_failed += e.to == "Failed";
      out.members_skipped += e.to == "Skipped";
    }
    if (!changed) break;
    if (auto v = store::save_decision(txn, st, d)) out.resource_version = *v;
    out.wrote = true;
    // advance() carries a run as far as one look allows (a member done, its group, its stage, the next stage
    // starting); only a run-level change is worth a second look at the same instant.
    if (!d.run_changed) break;
  }
  // The placement loop counts held pools as draining, and moves their replicas (issue #15 item 1).
  store::save_held_drains(txn, name, held);
  return out;
}

void RolloutExecutor::collect(pqxx::connection_base& conn, const std::set<std::string>& payloads, bool everything,
                              std::set<std::string>& names) {
  if (everything) {
    pqxx::read_transaction txn(conn);
    for (auto& n : store::runs_to_execute(txn)) names.insert(n);
    auto by_state = store::rollouts_by_state(txn);
    std::lock_guard lock(mutex_);
    stats_.runs_by_state = std::move(by_state);
  }
  if (!payloads.empty()) {
    pqxx::read_transaction txn(conn);
    for (const auto& p : payloads) {
      if (p == "*" || p.empty() || p.size() > 18 || p.find_first_not_of("0123456789") != std::string::npos) continue;
      if (auto n = store::rollout_name_by_seq(txn, std::stoll(p))) names.insert(*n);
    }
  }
}

void RolloutExecutor::execute(pqxx::connection_base& conn, const std::string& name,
                              std::map<std::string, rollout::TimePoint>& timers) {
  using namespace std::chrono;
  const auto started = steady_clock::now();
  pqxx::work txn(conn);
  auto out = advance_run(txn, name, clock_.wall_now());
  if (out.wrote && crash_before_commit_ > 0 && ++decisions_written_ >= crash_before_commit_) {
    log::warn("fault injection: dying before the commit of a rollout decision", {{"rollout", name}});
    std::_Exit(137);
  }
  txn.commit();
  // A finished run with nothing in flight is not looked at again: keep nothing of it.
  const bool done = out.state && rollout::is_final(out.state->phase) &&
                    rollout::count_members(*out.state).upgrading + rollout::count_members(*out.state).probing == 0;
  if (out.state && !done) {
    kept_.insert_or_assign(name, KeptRun{out.resource_version, std::move(*out.state)});
  } else {
    kept_.erase(name);
  }
  timers.erase(name);
  if (out.wake_at) timers[name] = *out.wake_at;
  std::lock_guard lock(mutex_);
  stats_.rounds++;
  stats_.members_succeeded += out.members_succeeded;
  stats_.members_failed += out.members_failed;
  stats_.members_skipped += out.members_skipped;
  stats_.last_decision_seconds = duration<double>(steady_clock::now() - started).count();
  stats_.decision_seconds.observe(stats_.last_decision_seconds);
  for (const auto& f : out.finished_steps) {
    const bool pool = f.kind == rollout::StepKind::kNodePool;
    auto [it, added] =
        stats_.step_seconds.try_emplace(pool ? "node_pool" : "control_plane",
                                        std::vector<double>{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200});
    it->second.observe(f.seconds);
    if (pool && f.succeeded && f.nodes > 0) stats_.node_seconds.observe(f.seconds / f.nodes);
  }
}

namespace {

// The runs whose timers are due at `now` join `names`, their timers removed.
void take_due(std::map<std::string, rollout::TimePoint>& timers, rollout::TimePoint now, std::set<std::string>& names) {
  for (auto it = timers.begin(); it != timers.end();) {
    if (it->second <= now) {
      names.insert(it->first);
      it = timers.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

void RolloutExecutor::run() {
  using namespace std::chrono;
  auto backoff = milliseconds(250);
  std::map<std::string, rollout::TimePoint> timers;  // run → when to look again
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    try {
      pqxx::connection conn(options_.database_url);
      Receiver receiver(conn, [this](const std::string& p) { note(p); });
      // The lock is the executor's: held for as long as this connection lives.
      auto try_lock = [&conn] {
        pqxx::nontransaction txn(conn);
        return txn.exec_params("SELECT pg_try_advisory_lock($1)", lock_keys::kRolloutExecutor)[0][0].as<bool>();
      };
      while (!try_lock()) {
        conn.await_notification(1, 0);
        std::lock_guard lock(mutex_);
        notified_.clear();
        if (stopping_) return;
      }
      {
        std::lock_guard lock(mutex_);
        stats_.leader = true;
      }
      log::info("rollout executor: running update runs on this replica");
      backoff = milliseconds(250);
      auto next_safety = steady_clock::now();  // the first round looks at every run
      for (;;) {
        std::set<std::string> names;
        std::set<std::string> payloads;
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return;
          payloads.swap(notified_);
        }
        const bool everything = steady_clock::now() >= next_safety || payloads.count("*") > 0;
        collect(conn, payloads, everything, names);
        if (everything) next_safety = steady_clock::now() + options_.safety_period;
        take_due(timers, clock_.wall_now(), names);
        const auto round_started = steady_clock::now();
        for (const auto& name : names) execute(conn, name, timers);
        if (everything || !names.empty()) {
          loop_stats_.ran(clock_.wall_now(), duration<double>(steady_clock::now() - round_started).count());
        }
        // Sleep until a notification, the next timer or the safety round, whichever is first.
        auto wait = duration_cast<microseconds>(next_safety - steady_clock::now());
        const auto wall_now = clock_.wall_now();
        for (const auto& [n, at] : timers) {
          wait = std::min(wait, duration_cast<microseconds>(at - wall_now));
        }
        {
          std::lock_guard lock(mutex_);
          if (!notified_.empty()) continue;
        }
        // At most 250 ms, so stop() is not kept waiting and an injected clock that jumps is seen soon.
        wait = std::clamp(wait, microseconds(0), microseconds(250000));
        if (wait.count() > 0) conn.await_notification(0, static_cast<long>(wait.count()));
        conn.get_notifs();
      }
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mutex_);
        stats_.errors++;
        stats_.leader = false;
      }
      loop_stats_.failed();
      log::warn("rollout executor: round failed; reconnecting", {{"error", e.what()}, {"retryMs", backoff.count()}});
    }
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    backoff = std::min(std::chrono::milliseconds(5000), backoff * 2);
  }
}

}  // namespace fleet
