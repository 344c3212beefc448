#include "fleetd/loops/auto_upgrade_loop.hpp"

#include <pqxx/pqxx>
#include <utility>

#include "common/log.hpp"
#include "fleetd/db/lock_keys.hpp"
#include "fleetd/loops/control_loop.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/auto_upgrade_store.hpp"
#include "fleetd/store/rollout_creation.hpp"
#include "fleetd/store/version_store.hpp"
#include "rollout/auto_upgrade.hpp"
#include "rollout/run_machine.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet {
namespace {

// Creates one due run, and starts it when its profile says so. False when it could not be created (recorded on the
// profile, tried again next round).
bool create_due_run(pqxx::transaction_base& txn, rollout::DueRun due, Clock::WallTime now) {
  const std::string actor = "fleetd (auto-upgrade profile " + due.profile + ")";
  // First the release, then the run: a concurrent round (a replica without the loop's lock, in theory) waits on the
  // release's key and then finds it taken.
  if (!store::record_auto_upgrade_release(txn, due.profile, due.key, due.spec.name)) return false;
  Result<store::CreatedRun> created = [&]() -> Result<store::CreatedRun> {
    if (auto resolved = store::resolve_strategy_ref(txn, due.spec); !resolved) return resolved.error();
    return store::create_run(txn, due.spec, actor, now);
  }();
  if (!created) {
    store::forget_auto_upgrade_release(txn, due.profile, due.key);
    const std::string error =
        "release " + due.key + ": run " + due.spec.name + " not created: " + created.error().message;
    if (store::set_auto_upgrade_error(txn, due.profile, error)) {
      log::warn("auto-upgrade run not created", {{"profile", due.profile}, {"release", due.key}, {"error", error}});
    }
    return false;
  }
  store::set_auto_upgrade_error(txn, due.profile, "");
  store::AuditEntry entry;
  entry.actor = "fleetd";
  entry.action = "rollout.create";
  entry.object_kind = "rollout";
  entry.object_name = due.spec.name;
  entry.outcome = "success";
  entry.detail = {{"autoUpgradeProfile", due.profile},
                  {"release", due.key},
                  {"members", created->to_upgrade},
                  {"target", rollout::to_json(due.spec.target)},
                  {"started", due.start}};
  store::write_audit(txn, entry);
  if (due.start) {
    rollout::RunState& state = created->run.state;
    auto decision = rollout::apply_action(state, {rollout::ActionKind::kStart, {}, "", actor, "auto-upgrade"}, now);
    if (decision) {
      store::save_decision(txn, state, *decision);
      store::notify_rollout(txn, state.seq);
    } else {
      log::warn("auto-upgrade run not started", {{"rollout", due.spec.name}, {"error", decision.error().message}});
    }
  }
  log::info("auto-upgrade run created", entry.detail);
  return true;
}

}  // namespace

AutoUpgradeLoop::AutoUpgradeLoop(AutoUpgradeLoopOptions options, const Clock& clock) {
  loop_ = std::make_unique<ControlLoop>(
      ControlLoop::Options{"auto-upgrade", std::move(options.database_url), lock_keys::kAutoUpgrade, options.period},
      clock, [this](pqxx::transaction_base& txn, Clock::WallTime now) {
        const auto profiles = store::auto_upgrade_profiles_with_releases(txn);
        if (profiles.empty()) return;
        const rollout::VersionCatalog catalog = store::load_catalog(txn);
        for (rollout::DueRun& due : rollout::due_runs(profiles, catalog, now)) {
          if (create_due_run(txn, std::move(due), now)) ++created_;
        }
      });
}

AutoUpgradeLoop::~AutoUpgradeLoop() {
  stop();
}

void AutoUpgradeLoop::start() {
  loop_->start();
}

void AutoUpgradeLoop::stop() {
  loop_->stop();
}

LoopStats::Snapshot AutoUpgradeLoop::loop_stats() const {
  return loop_->stats();
}

}  // namespace fleet
