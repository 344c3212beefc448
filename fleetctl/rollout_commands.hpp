#pragma once
// Staged upgrades from the command line (issue #12): `rollout plan|create|start|pause|resume|abort|skip|approve|
// retry|events|status`, `get rollouts`, `get strategies`, `create strategy`, `delete strategy`, and auto-upgrade
// profiles (`get auto-upgrade-profiles`, `delete auto-upgrade-profile`; issue #13). Each command
// returns the process exit code.
#include <cstddef>
#include <optional>
#include <string>

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

// What the rollout commands read from the command line; each command uses the fields it documents.
struct RolloutOptions {
  std::string name;
  std::string file;  // -f: a run spec or strategy, JSON or YAML; "-" reads stdin
  std::string output;
  std::string reason;
  std::string idempotency_key;  // create: sent as Idempotency-Key; empty → a random one
  // skip: exactly one target. approve: `gate` is the gate to approve.
  std::string member, group, stage, gate, wait;
  std::string cluster;  // rollback: only this member's blue-green pool (empty: every one in its soak)
  std::optional<std::size_t> limit;
  bool watch = false;
  ListOptions list;  // get rollouts|strategies: -o, --no-headers, --sort-by
};

// `rollout plan NAME` (POST /v1/rollouts/{name}:plan) or `rollout plan -f SPEC` (POST /v1/rollouts:plan).
int rollout_plan(Session& session, const RolloutOptions& options);
// POST /v1/rollouts with the spec of -f and an Idempotency-Key.
int rollout_create(Session& session, const RolloutOptions& options);

enum class RolloutAction { kStart, kPause, kResume, kAbort, kRetry };
// POST /v1/rollouts/{name}:start|:pause|:resume|:abort (with the reason, if any) or :retry (no body).
int rollout_action(Session& session, RolloutAction action, const RolloutOptions& options);
// POST /v1/rollouts/{name}:rollback {"cluster"?, "reason"?}: blue-green pools in their soak put back (issue #13).
int rollout_rollback(Session& session, const RolloutOptions& options);
// POST /v1/rollouts/{name}:skip with exactly one of member, group (STAGE/GROUP), stage, gate or wait.
int rollout_skip(Session& session, const RolloutOptions& options);
// POST /v1/rollouts/{name}:approve {"gate"}.
int rollout_approve(Session& session, const RolloutOptions& options);
// GET /v1/rollouts/{name}/events, every page unless --limit.
int rollout_events(Session& session, const RolloutOptions& options);
// GET /v1/rollouts/{name} as a summary; with `watch`, re-read every 2 s until Completed (exit 0), Failed or
// Aborted (exit 7).
int rollout_status(Session& session, const RolloutOptions& options);

// `get rollouts [NAME]`, `get strategies [NAME]`.
int get_rollouts(Session& session, const RolloutOptions& options);
int get_strategies(Session& session, const RolloutOptions& options);
// `get auto-upgrade-profiles [NAME]`, `delete auto-upgrade-profile NAME` (profiles are created and changed with
// `apply -f`).
int get_auto_upgrade_profiles(Session& session, const RolloutOptions& options);
int delete_auto_upgrade_profile(Session& session, const std::string& name);
// `create strategy -f FILE` (POST /v1/strategies), `delete strategy NAME`.
int create_strategy(Session& session, const RolloutOptions& options);
int delete_strategy(Session& session, const std::string& name);

}  // namespace fleet::ctl
