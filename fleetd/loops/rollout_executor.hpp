#pragma once
// The rollout executor (issue #12 item 6): the loop that carries update runs forward. It decides nothing itself:
// for a run it reads the state and the observations through the stores, calls the pure run machine
// (rollout/run_machine.hpp), and writes the decision (transitions, events, agent commands) in the same
// transaction, with the run's row locked. A crash anywhere leaves either the old state or the new one; the next
// round decides again from what is stored, and the command ids derived from (run, member, step, attempt) make a
// re-issued command a no-op.
//
// Event-driven: it LISTENs on `fleet_rollouts`, which an agent's report on a rollout command (a trigger on
// agent_commands), an operator's action and a new decision notify; timers come from the decisions' wake_at
// (Wait gates, soaks, scheduled starts, health checks). A slow safety round looks at every active run.
//
// One replica executes at a time: the executor holds a session advisory lock on its own connection; another
// replica's executor waits for it and takes over within a second of the holder's connection closing (a crash
// closes it).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/duration_histogram.hpp"
#include "fleetd/loops/loop_stats.hpp"
#include "rollout/run_machine.hpp"
#include "rollout/run_state.hpp"

namespace pqxx {
class transaction_base;
class connection_base;
}  // namespace pqxx

namespace fleet {

struct RolloutExecutorStats {
  std::uint64_t rounds = 0;  // runs advanced
  std::uint64_t errors = 0;  // rounds that failed (rolled back; retried)
  std::uint64_t members_succeeded = 0;
  std::uint64_t members_failed = 0;
  std::uint64_t members_skipped = 0;
  double last_decision_seconds = 0;  // read, decide and write one run
  DurationHistogram decision_seconds{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
  // A member step's agent command, queued to finished: by step kind ("control_plane", "node_pool"), and per node of
  // a node pool step (the step's time divided by its nodes).
  std::map<std::string, DurationHistogram> step_seconds;
  DurationHistogram node_seconds{{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600}};
  std::map<std::string, std::int64_t> runs_by_state;  // every run, as of the last safety round
  bool leader = false;                                // this replica holds the executor lock
};

class RolloutExecutor {
 public:
  struct Options {
    std::string database_url;
    std::chrono::milliseconds safety_period{10000};
  };
  RolloutExecutor(Options options, const Clock& clock);
  ~RolloutExecutor();
  RolloutExecutor(const RolloutExecutor&) = delete;
  RolloutExecutor& operator=(const RolloutExecutor&) = delete;

  void start();
  void stop();
  RolloutExecutorStats stats() const;
  LoopStats::Snapshot loop_stats() const { return loop_stats_.snapshot(); }  // fleetd_loop_*

  // One run, in the caller's transaction: lock it, take its state (the one this executor kept from its last
  // decision when nobody else has written the run since, else read), advance, save. The earliest time it must be
  // looked at again (nullopt: only an event moves it).
  struct Outcome {
    std::optional<rollout::TimePoint> wake_at;
    int members_succeeded = 0, members_failed = 0, members_skipped = 0;
    bool found = false;
    bool wrote = false;  // a decision was written (the transaction has something to commit)
    std::vector<rollout::FinishedStep> finished_steps;
    std::optional<rollout::RunState> state;  // as written (kept once the transaction commits)
    std::int64_t resource_version = 0;
  };
  Outcome advance_run(pqxx::transaction_base& txn, const std::string& name, Clock::WallTime now);

 private:
  void run();
  void note(const std::string& payload);
  // The runs a round looks at: those notified (by seq), or every active run.
  void collect(pqxx::connection_base& conn, const std::set<std::string>& payloads, bool everything,
               std::set<std::string>& names);
  // One run in its own transaction; its next timer, if any, into `timers`.
  void execute(pqxx::connection_base& conn, const std::string& name, std::map<std::string, rollout::TimePoint>& timers);

  Options options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<std::string> notified_;  // payloads (run seqs, "*") since the last round
  LoopStats loop_stats_;
  // Fault injection for the crash-safety test (integration-tests/rollout_crash_test.cpp): with
  // FLEETD_FAULT_ROLLOUT_CRASH_BEFORE_COMMIT=N in the environment, the process dies (as kill -9 would) after writing
  // its N-th decision and before committing it. 0: off.
  std::uint64_t crash_before_commit_ = 0;
  // The executor thread's own copy of each run as it last wrote it, with the run's resourceVersion then.
  struct KeptRun {
    std::int64_t resource_version = 0;
    rollout::RunState state;
  };
  std::map<std::string, KeptRun> kept_;
  std::uint64_t decisions_written_ = 0;
  RolloutExecutorStats stats_;
  std::thread thread_;
};

}  // namespace fleet
