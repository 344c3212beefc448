#include "fleetd/loops/lease_sweeper.hpp"

#include <pqxx/pqxx>

#include "common/log.hpp"
#include "fleetd/db/lock_keys.hpp"
#include "fleetd/loops/control_loop.hpp"
#include "fleetd/store/command_store.hpp"

namespace fleet {

LeaseSweeper::LeaseSweeper(LeaseSweeperOptions options, const Clock& clock) : options_(std::move(options)) {
  int max_attempts = options_.max_attempts;
  // Leases are on the database's clock (lease_until is set and compared with now() in SQL), so `now` is unused:
  // every replica agrees on it without depending on their clocks.
  loop_ = std::make_unique<ControlLoop>(
      ControlLoop::Options{"command-leases", options_.database_url, lock_keys::kCommandLeases, options_.period}, clock,
      [this, max_attempts](pqxx::transaction_base& txn, Clock::WallTime) {
        for (const auto& e : store::sweep_expired_leases(txn, max_attempts)) {
          if (e.state == "failed") {
            failed_++;
            log::warn("command failed: lease expired too often",
                      {{"command", e.id}, {"cluster", e.cluster}, {"attempts", e.attempts}});
          } else {
            requeued_++;
            log::info("command lease expired; queued again",
                      {{"command", e.id}, {"cluster", e.cluster}, {"attempts", e.attempts}});
          }
        }
      });
}

LeaseSweeper::~LeaseSweeper() {
  stop();
}

void LeaseSweeper::start() {
  loop_->start();
}

void LeaseSweeper::stop() {
  loop_->stop();
}

LoopStats::Snapshot LeaseSweeper::loop_stats() const {
  return loop_->stats();
}

}  // namespace fleet
